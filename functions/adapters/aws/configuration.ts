import { readFileSync } from 'node:fs';
import { parseConfig, type MeshgateConfig } from '../../../config/schema';

// The deployment configuration at run time: the file the CDK app deployed from (bundled with the
// functions) or the one `MESHGATE_BACKEND=aws npm start` was given. What it registers in the
// store is usecases/configuration.ts.

export function readConfigFile(path: string | undefined): MeshgateConfig {
  if (!path)
    throw new Error(
      'MESHGATE_BACKEND=aws needs MESHGATE_CONFIG, the path of the configuration file (see config/example.json).',
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(json, path);
}
