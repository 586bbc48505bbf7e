// How `npm start` starts the server process, read from package.json's `start` script: the
// benchmarks that measure the server's own process (bench/scale.ts) start it the same way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The entry `npm start` runs. */
export const START_ENTRY = 'functions/entry/local.ts';

/** The environment and node flags `npm start` gives the server process. */
export interface StartCommand {
  env: Record<string, string>;
  nodeFlags: string[];
}

/**
 * How a `start` script starts the server process: the environment and the node flags it gives
 * tsx before the entry (its last command: `[cross-env] [NAME=value...] tsx [--flag...]
 * functions/entry/local.ts`; cross-env sets the variables on every system, Windows' cmd too).
 * Each size's server process is started with exactly these, so that its memory is that of
 * `npm start`'s process; a start script of another shape is an error, not a silent difference.
 */
export function startCommand(script: string): StartCommand {
  const words = (script.split('&&').at(-1) ?? '').trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = words[0] === 'cross-env' ? 1 : 0;
  for (; i < words.length && /^[A-Za-z_]\w*=/.test(words[i]!); i++) {
    const at = words[i]!.indexOf('=');
    env[words[i]!.slice(0, at)] = words[i]!.slice(at + 1);
  }
  const rest = words.slice(i);
  const nodeFlags = rest.slice(1, -1);
  if (rest[0] !== 'tsx' || rest.at(-1) !== START_ENTRY || nodeFlags.some((f) => !f.startsWith('-')))
    throw new Error(
      `npm start's script is not "[cross-env] [NAME=value] tsx [node flags] ${START_ENTRY}": ${script}`,
    );
  return { env, nodeFlags };
}

/** How `npm start` starts the server process (package.json's `start` script). */
export function npmStart(): StartCommand {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return startCommand(pkg.scripts.start);
}
