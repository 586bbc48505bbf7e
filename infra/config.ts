import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type MeshgateConfig } from '../config/schema';

/**
 * The configuration the app deploys: the file named by MESHGATE_CONFIG (or cdk context `config`),
 * else the example, so that `npx cdk synth` works on a fresh clone.
 */
export function loadConfig(contextPath?: string): { config: MeshgateConfig; path: string } {
  const path =
    process.env.MESHGATE_CONFIG ?? contextPath ?? join(__dirname, '..', 'config', 'example.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the configuration ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { config: parseConfig(json, path), path };
}
