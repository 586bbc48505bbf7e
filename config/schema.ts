import { z } from 'zod';

// The deployment configuration: one typed file (named by MESHGATE_CONFIG) read by the CDK app
// and by `MESHGATE_BACKEND=aws npm start`. It sits outside infra/ and functions/ so that both
// can use it without depending on each other.

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and - (at most 64)');
const account = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');

export const DomainConfig = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  accountId: account,
  region,
  /** The broker role Meshgate assumes in the domain account. */
  brokerRoleArn: z
    .string()
    .regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN'),
  /** Required by the broker role's trust policy (sts:ExternalId): 2 to 1224 characters. */
  externalId: z
    .string()
    .regex(/^[\w+=,.@:/-]{2,1224}$/, '2 to 1224 characters of [A-Za-z0-9+=,.@:/-_]'),
  owners: z.array(id).min(1, 'every domain needs at least one owner'),
  /** Backup approvers: asked too when a stage of the domain's requests waits too long (escalation). */
  backups: z.array(id).default([]),
  description: z.string().max(2000).optional(),
  /**
   * A Slack or Microsoft Teams incoming webhook told of the domain's notifications. The URL is a
   * credential: it stays in this file and the notifier's memory (never stored, logged or answered).
   */
  notify: z.strictObject({ webhookUrl: z.url({ protocol: /^https$/ }) }).optional(),
});

/** Someone who signs in, with nothing to hold yet (a consumer): their user record. */
export const UserConfig = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  title: z.string().min(1).max(200).optional(),
  email: z.email().max(320).optional(),
});

/**
 * An account where consumers query from (the same small stack as a domain account): Meshgate makes
 * the resource links of grants to its principals there, through its broker role.
 */
export const ConsumerAccountConfig = z.strictObject({
  id,
  name: z.string().min(1).max(200).optional(),
  accountId: account,
  region,
  brokerRoleArn: DomainConfig.shape.brokerRoleArn,
  externalId: DomainConfig.shape.externalId,
});

export const MeshgateConfig = z
  .strictObject({
    stage: id,
    governance: z.strictObject({ account, region }),
    /** The DynamoDB table (created by the governance stack; its name for `npm start` against AWS). */
    tableName: z
      .string()
      .regex(/^[\w.-]{3,255}$/)
      .default('meshgate'),
    /** An EventBridge bus for lifecycle events; without it, events are only logged. */
    eventBusName: z.string().min(1).max(256).optional(),
    /**
     * Consumers in other accounts than the data (the usual case): the broker roles then also get
     * what Lake Formation needs to share through AWS RAM.
     */
    crossAccountSharing: z.boolean().default(true),
    /** Users who administer Meshgate (platform admins), and compliance officers and auditors. */
    admins: z.array(id).default([]),
    compliance: z.array(id).default([]),
    auditors: z.array(id).default([]),
    domains: z.array(DomainConfig).min(1, 'register at least one domain'),
    consumerAccounts: z.array(ConsumerAccountConfig).default([]),
    /**
     * People's user records (name, title, email): consumers such as analysts, who hold no role,
     * and anyone named above who should show a name rather than an id. Written once per version.
     */
    users: z.array(UserConfig).max(1000).default([]),
    /**
     * Where people open the web UI (its CloudFront URL or custom domain): Cognito sends them back
     * there after signing in and out, and only there.
     */
    /** Notification e-mail through Amazon SES: the verified identity it is sent from. */
    notifications: z
      .strictObject({
        /** A verified SES identity (an address, or an address of a verified domain). */
        emailFrom: z.email(),
      })
      .optional(),
    web: z
      .strictObject({
        urls: z
          .array(z.url({ protocol: /^https$/ }))
          .max(20)
          .default([]),
      })
      .default({ urls: [] }),
  })
  .superRefine((c, ctx) => {
    const users = new Set<string>();
    c.users.forEach((u, i) => {
      if (users.has(u.id))
        ctx.addIssue({
          code: 'custom',
          path: ['users', i, 'id'],
          message: `user ${u.id} is listed twice`,
        });
      users.add(u.id);
    });
    const consumers = new Set<string>();
    c.consumerAccounts.forEach((a, i) => {
      if (consumers.has(a.accountId))
        ctx.addIssue({
          code: 'custom',
          path: ['consumerAccounts', i, 'accountId'],
          message: `account ${a.accountId} is listed twice`,
        });
      consumers.add(a.accountId);
      if (a.brokerRoleArn.split(':')[4] !== a.accountId)
        ctx.addIssue({
          code: 'custom',
          path: ['consumerAccounts', i, 'brokerRoleArn'],
          message: `the broker role must be in the consumer account ${a.accountId}`,
        });
      // Lake Formation shares with another account through AWS RAM, which the domain brokers may
      // do only with crossAccountSharing (AWSLakeFormationCrossAccountManager): without it, every
      // grant to this account's principals from another account's domain would be refused.
      const elsewhere = c.domains.find((d) => d.accountId !== a.accountId);
      if (!c.crossAccountSharing && elsewhere)
        ctx.addIssue({
          code: 'custom',
          path: ['consumerAccounts', i, 'accountId'],
          message: `account ${a.accountId} receives grants from domain ${elsewhere.id} in account ${elsewhere.accountId}, which needs crossAccountSharing: true`,
        });
    });
    const seen = new Set<string>();
    c.domains.forEach((d, i) => {
      if (seen.has(d.id))
        ctx.addIssue({
          code: 'custom',
          path: ['domains', i, 'id'],
          message: `domain ${d.id} is listed twice`,
        });
      seen.add(d.id);
      if (d.brokerRoleArn.split(':')[4] !== d.accountId) {
        ctx.addIssue({
          code: 'custom',
          path: ['domains', i, 'brokerRoleArn'],
          message: `the broker role must be in the domain's account ${d.accountId}`,
        });
      }
    });
  });

export type MeshgateConfig = z.infer<typeof MeshgateConfig>;

/** Parses a configuration, with every problem named by its path. */
export function parseConfig(json: unknown, source = 'configuration'): MeshgateConfig {
  const parsed = MeshgateConfig.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid ${source}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export { webhooksOf } from './webhooks';
