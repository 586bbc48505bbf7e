import { readFileSync } from 'node:fs';
import type { MeshgateConfig } from '../../../config/schema';

/**
 * The deployment configuration as the Lambda functions read it: the file the CDK app bundled with
 * them (infra/stacks/api-stack.ts), which is the configuration as the app parsed it at synth time
 * (`parseConfig` of config/schema.ts, with its defaults filled in), so it is not parsed again here.
 * Parsing it again would build and run the configuration's whole zod schema at every cold start
 * of the API and the schedules (issue 16, `npm run bench -- bundles`) to find what synth checked;
 * parsing a parsed configuration gives it back unchanged (test/unit/config.test.ts). A file given
 * by hand (`MESHGATE_BACKEND=aws npm start`) is read by readConfigFile (configuration.ts), which
 * parses it.
 */
export function readDeployedConfig(path: string): MeshgateConfig {
  let config: MeshgateConfig;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as MeshgateConfig;
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  // Not its schema: only what parsing fills in, so that a file that never went through synth (a
  // hand-edited asset) fails here, naming the field, rather than somewhere in the wiring.
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new Error(`${path} is not a configuration as synth parsed it (not an object).`);
  const lists = ['admins', 'compliance', 'auditors', 'domains', 'consumerAccounts', 'users'];
  const missing = [
    ...lists.filter((k) => !Array.isArray((config as unknown as Record<string, unknown>)[k])),
    ...(Array.isArray(config.domains)
      ? config.domains.flatMap((d, i) =>
          ['owners', 'backups']
            .filter((k) => !Array.isArray((d as unknown as Record<string, unknown> | null)?.[k]))
            .map((k) => `domains[${i}].${k}`),
        )
      : []),
  ];
  if (missing.length > 0)
    throw new Error(
      `${path} is not a configuration as synth parsed it (${missing.join(', ')} missing): deploy it with the CDK app, which parses and bundles it.`,
    );
  return config;
}
