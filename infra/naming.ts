import type { MeshgateConfig } from '../config/schema';

// Names both sides of the account boundary must agree on. The domain-account stacks trust the
// governance functions' roles by ARN, so those roles get fixed names derived from the stage.

/** The Lambda functions of the governance stack that run the application (table, queue, bus). */
export const APP_FUNCTIONS = ['api', 'worker', 'scheduled'] as const;
export type AppFunction = (typeof APP_FUNCTIONS)[number];

/**
 * The Lambda functions of the governance stack that reach into domain accounts: the worker alone.
 * The API and the schedules queue jobs for it (grants, revokes, syncs, reconciliations), so the
 * internet-facing function's role can assume no broker role.
 */
export const BROKER_CALLERS = ['worker'] as const satisfies readonly AppFunction[];
export type BrokerCaller = (typeof BROKER_CALLERS)[number];

export const functionRoleName = (stage: string, fn: string) => `meshgate-${stage}-${fn}`;

/** The roles a domain's broker role trusts: the governance functions that assume it. */
export const trustedRoleArns = (config: MeshgateConfig): string[] =>
  BROKER_CALLERS.map(
    (fn) =>
      `arn:${partitionOf(config)}:iam::${config.governance.account}:role/${functionRoleName(config.stage, fn)}`,
  );

/** The partition (aws, aws-cn, aws-us-gov) the deployment lives in, read from its broker role ARNs. */
export const partitionOf = (config: MeshgateConfig): string =>
  config.domains[0]?.brokerRoleArn.split(':')[1] ?? 'aws';

/** The broker role's name inside a domain account (its ARN is in the configuration). */
export const brokerRoleName = (roleArn: string) => roleArn.split(':role/')[1]!.split('/').pop()!;

export const stackName = (stage: string, part: string) => `Meshgate-${stage}-${part}`;
