import { Logger } from '@aws-lambda-powertools/logger';
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { z } from 'zod';
import type { SQSBatchResponse, SQSEvent } from './lambda-types';
import { createApp } from '../../http/app';
import { loadPolicyInForce } from '../policy-loader';
import { runJob, expireDue } from '../../usecases/fulfilment';
import { runForEveryDomain, type OperationsDeps } from '../../usecases/operations';
import type { Job } from '../../ports/queue';
import { systemClock, ulidIds } from '../runtime';
import { awsAdapters } from './adapters';
import { awsConfig } from './config';
import { readConfigFile, registerFromConfig } from './configuration';
import { apiGatewayJwtAuth } from './jwt-claims-auth';
import { SqsQueue } from './sqs-queue';

/** Structured JSON logs; every line of one invocation carries its correlation id. */
export const logger = new Logger({ serviceName: 'meshgate' });
const logError = (message: string, err?: unknown) =>
  logger.error(message, err instanceof Error ? err : String(err));

/**
 * Everything a Meshgate Lambda needs, from its environment (set by the CDK stack). `decides`: the
 * API records its bundled policy as in force and checks it before every call; the worker and the
 * schedules make no decision, and do neither.
 */
async function awsDeps(
  env: Record<string, string | undefined>,
  decides: boolean,
): Promise<OperationsDeps> {
  const config = awsConfig(env);
  const aws = awsAdapters({ tableName: config.tableName, eventBusName: config.eventBusName });
  // The configured domains (with their brokers), owners and global roles exist before any call.
  if (config.configFile)
    await registerFromConfig(aws.store, readConfigFile(config.configFile), () => systemClock.now());
  const policy = await loadPolicyInForce(
    config.policyDir,
    { store: aws.store, clock: systemClock, ids: ulidIds() },
    { watch: false, record: decides },
  );
  return {
    ...aws,
    policy,
    queue: new SqsQueue(config.queueUrl),
    clock: systemClock,
    ids: ulidIds(),
    log: logError,
  };
}

/**
 * The API on Lambda: callers from API Gateway's Cognito JWT authorizer. There is no local sign-in
 * here (`/auth/dev-login` answers 403).
 */
export async function createLambdaHandler(env: Record<string, string | undefined>) {
  const h = handle(
    createApp({ ...(await awsDeps(env, true)), authenticate: apiGatewayJwtAuth, log: logError }),
  );
  return (event: LambdaEvent, context?: LambdaContext) => {
    logger.resetKeys();
    logger.appendKeys({
      correlationId: (event as { requestContext?: { requestId?: string } }).requestContext
        ?.requestId,
    });
    return h(event, context);
  };
}

/**
 * The fulfilment worker on SQS. A job that throws is reported as a batch item failure, so SQS
 * delivers it again (and, after the queue's maxReceiveCount, moves it to the dead-letter queue)
 * without redelivering the jobs that succeeded.
 */
export async function createWorkerHandler(env: Record<string, string | undefined>) {
  const deps = await awsDeps(env, false);
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      logger.resetKeys();
      logger.appendKeys({ correlationId: record.messageId, messageId: record.messageId });
      try {
        await runJob(deps, parseJob(record.body));
      } catch (err) {
        logError('job failed', err);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

const JobSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('grant'), requestId: z.string().min(1) }),
  z.strictObject({ kind: z.literal('revoke'), requestId: z.string().min(1) }),
]);

/** A message that is not a job fails (and ends in the dead-letter queue) rather than vanish. */
function parseJob(body: string): Job {
  return JobSchema.parse(JSON.parse(body));
}

/** The scheduled tasks (EventBridge Scheduler): `{"task": "sweep" | "sync" | "reconcile"}`. */
export async function createScheduledHandler(env: Record<string, string | undefined>) {
  const deps = await awsDeps(env, false);
  return async (event: { task: 'sweep' | 'sync' | 'reconcile' }) => {
    if (event.task === 'sweep') return { expired: await expireDue(deps) };
    return runForEveryDomain(deps, event.task);
  };
}
