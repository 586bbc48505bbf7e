// Apart from schema.ts so that the Lambda functions can use it without loading the configuration's
// schema (functions/adapters/aws/deployed-config.ts says why they need not).

/** The chat webhook of each domain that has one (for the notifier only). */
export const webhooksOf = (c: {
  domains: ReadonlyArray<{ id: string; notify?: { webhookUrl: string } }>;
}): Record<string, string> =>
  Object.fromEntries(
    c.domains.flatMap((d) => (d.notify ? [[d.id, d.notify.webhookUrl] as const] : [])),
  );
