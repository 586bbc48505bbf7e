import { awsAdapters } from '../adapters/aws/adapters';
import { awsConfig } from '../adapters/aws/config';
import { readDeployedConfig } from '../adapters/aws/deployed-config';
import { logError } from '../adapters/aws/lambda';
import { SqsQueue } from '../adapters/aws/sqs-queue';
import type { NotificationSender } from '../ports/notifications';
import { webhooksOf } from '../../config/webhooks';
import { buildCore } from './core';

export type Env = Record<string, string | undefined>;

/**
 * The core of a Meshgate Lambda, from its environment (set by the CDK stack). `decides`: the API
 * records its bundled policy as in force and checks it before every call; the worker and the
 * schedules make no decision, and do neither. No broker adapters here (see lambda-worker.ts).
 * `sender`: how the function sends e-mail from the configured identity, if it sends any.
 */
export function lambdaCore(
  env: Env,
  decides: boolean,
  sender?: (emailFrom: string | undefined) => NotificationSender,
) {
  const config = awsConfig(env);
  const configuration = config.configFile ? readDeployedConfig(config.configFile) : undefined;
  return buildCore({
    ...awsAdapters({
      tableName: config.tableName,
      eventBusName: config.eventBusName,
    }),
    sender: sender?.(configuration?.notifications?.emailFrom),
    webhooks: configuration ? webhooksOf(configuration) : undefined,
    webUrl: configuration?.web.urls[0],
    queue: new SqsQueue(config.queueUrl),
    log: logError,
    policy: { dir: config.policyDir, watch: false, record: decides },
    configuration,
    stalledAfterMs: config.stalledAfterMs,
  });
}
