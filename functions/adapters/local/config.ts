import { z } from 'zod';
import { batchedLines } from './line-log';

const Env = z.object({
  MESHGATE_BACKEND: z.enum(['embedded', 'aws']).default('embedded'),
  MESHGATE_CONFIG: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  MESHGATE_DATA_DIR: z.string().min(1).default('./.meshgate-data'),
  MESHGATE_POLICY_DIR: z.string().min(1).default('./policies'),
  MESHGATE_WEB_DIR: z.string().min(1).default('./web/dist'),
  MESHGATE_SWEEP_SECONDS: z.coerce.number().int().min(1).default(60),
  MESHGATE_SYNC_MINUTES: z.coerce.number().int().min(1).default(60),
  MESHGATE_RECONCILE_MINUTES: z.coerce.number().int().min(1).default(60),
  /** A request in flight untouched this long is handed to the worker again by the sweeper. */
  MESHGATE_STALLED_AFTER_SECONDS: z.coerce.number().int().min(1).default(120),
  // Where people reach the server when not through localhost (a proxy, a tunnel, another machine):
  // its host and origin are answered besides the loopback names.
  MESHGATE_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional(),
});

/** Settings of the embedded default, from the environment. `MESHGATE_DATA_DIR=:memory:` keeps nothing. */
export function localConfig(env: Record<string, string | undefined>) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  // Local sign-in has no password: against real AWS it must not be reachable from the network.
  if (e.MESHGATE_BACKEND === 'aws' && !['127.0.0.1', 'localhost', '::1'].includes(e.HOST)) {
    throw new Error(
      `Invalid configuration: HOST must be a loopback address with MESHGATE_BACKEND=aws (local sign-in has no password), not ${e.HOST}`,
    );
  }
  return {
    backend: e.MESHGATE_BACKEND,
    configFile: e.MESHGATE_CONFIG,
    port: e.PORT,
    host: e.HOST,
    dataDir: e.MESHGATE_DATA_DIR === ':memory:' ? undefined : e.MESHGATE_DATA_DIR,
    policyDir: e.MESHGATE_POLICY_DIR,
    webDir: e.MESHGATE_WEB_DIR,
    publicUrl: e.MESHGATE_PUBLIC_URL && new URL(e.MESHGATE_PUBLIC_URL).origin,
    schedules: {
      sweepSeconds: e.MESHGATE_SWEEP_SECONDS,
      syncMinutes: e.MESHGATE_SYNC_MINUTES,
      reconcileMinutes: e.MESHGATE_RECONCILE_MINUTES,
    },
    stalledAfterSeconds: e.MESHGATE_STALLED_AFTER_SECONDS,
    eventLog: batchedLines(),
    // Notified after the response, from an in-process queue, as the bus does on AWS.
    notifyAfterResponse: true,
  };
}
