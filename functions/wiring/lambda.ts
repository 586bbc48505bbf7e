import { awsAdapters } from '../adapters/aws/adapters';
import { awsConfig } from '../adapters/aws/config';
import { readConfigFile } from '../adapters/aws/configuration';
import { apiGatewayJwtAuth } from '../adapters/aws/jwt-claims-auth';
import {
  apiHandler,
  logError,
  notifierHandler,
  scheduledHandler,
  sqsJobHandler,
} from '../adapters/aws/lambda';
import { SqsQueue } from '../adapters/aws/sqs-queue';
import { webhooksOf } from '../../config/schema';
import { buildCore } from './core';

type Env = Record<string, string | undefined>;

/**
 * The core of a Meshgate Lambda, from its environment (set by the CDK stack). `decides`: the API
 * records its bundled policy as in force and checks it before every call; the worker and the
 * schedules make no decision, and do neither.
 */
function lambdaCore(env: Env, decides: boolean) {
  const config = awsConfig(env);
  const configuration = config.configFile ? readConfigFile(config.configFile) : undefined;
  return buildCore({
    ...awsAdapters({
      tableName: config.tableName,
      eventBusName: config.eventBusName,
      emailFrom: configuration?.notifications?.emailFrom,
    }),
    webhooks: configuration ? webhooksOf(configuration) : undefined,
    webUrl: configuration?.web.urls[0],
    queue: new SqsQueue(config.queueUrl),
    log: logError,
    policy: { dir: config.policyDir, watch: false, record: decides },
    configuration,
    stalledAfterMs: config.stalledAfterMs,
  });
}

/**
 * The API on Lambda: callers from API Gateway's Cognito JWT authorizer. There is no local sign-in
 * here (`/auth/dev-login` answers 403).
 */
export async function createLambdaHandler(env: Env) {
  return apiHandler((await lambdaCore(env, true)).app({ authenticate: apiGatewayJwtAuth }));
}

/** The fulfilment worker on SQS. */
export async function createWorkerHandler(env: Env) {
  return sqsJobHandler((await lambdaCore(env, false)).runJob);
}

/** The scheduled tasks: expiry sweep, catalog sync, reconciliation. */
export async function createScheduledHandler(env: Env) {
  return scheduledHandler((await lambdaCore(env, false)).schedules);
}

/** The notifier: the status-changed events of the bus (an EventBridge rule), each notified. */
export async function createNotifierHandler(env: Env) {
  return notifierHandler((await lambdaCore(env, false)).notify);
}
