import { build, type Metafile } from 'esbuild';
import { lambdaBuildOptions } from '../../bench/bundles';
import { BUNDLING, functionEntry } from '../../infra/constructs/meshgate-function';

export interface BuiltBundle {
  meta: Metafile;
  text: string;
}

const built = new Map<string, Promise<BuiltBundle>>();

/**
 * The Lambda entry `name` bundled in memory as the stacks bundle it (the CDK's esbuild options,
 * without the source map), once per test file.
 */
export function lambdaBundle(name: string): Promise<BuiltBundle> {
  let b = built.get(name);
  if (!b) {
    b = build({
      ...lambdaBuildOptions(BUNDLING),
      sourcemap: false,
      entryPoints: [functionEntry(name)],
      outfile: `${name}.js`,
      write: false,
    }).then((out) => ({
      meta: out.metafile!,
      text: out.outputFiles.find((f) => f.path.endsWith('.js'))!.text,
    }));
    built.set(name, b);
  }
  return b;
}
