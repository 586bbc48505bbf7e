import { z } from 'zod';

const Env = z.object({
  MESHGATE_TABLE_NAME: z.string().min(3),
  MESHGATE_QUEUE_URL: z.url(),
  MESHGATE_EVENT_BUS_NAME: z.string().min(1),
  MESHGATE_POLICY_DIR: z.string().min(1).default('./policies'),
  /** The deployment configuration, bundled with the function: domains, brokers, owners, global roles. */
  MESHGATE_CONFIG: z.string().min(1).optional(),
  /** The sweeper's stall threshold; the core's default (2 minutes) when unset. */
  MESHGATE_STALLED_AFTER_SECONDS: z.coerce.number().int().min(1).optional(),
});

/** Settings of the AWS runtime, from the Lambda environment (set by the CDK stack). */
export function awsConfig(env: Record<string, string | undefined>) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return {
    tableName: parsed.data.MESHGATE_TABLE_NAME,
    queueUrl: parsed.data.MESHGATE_QUEUE_URL,
    eventBusName: parsed.data.MESHGATE_EVENT_BUS_NAME,
    policyDir: parsed.data.MESHGATE_POLICY_DIR,
    configFile: parsed.data.MESHGATE_CONFIG,
    stalledAfterMs:
      parsed.data.MESHGATE_STALLED_AFTER_SECONDS === undefined
        ? undefined
        : parsed.data.MESHGATE_STALLED_AFTER_SECONDS * 1000,
  };
}
