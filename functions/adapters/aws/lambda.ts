import { Logger } from '@aws-lambda-powertools/logger';
import type { Env, Hono, Schema } from 'hono';
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { z } from 'zod';
import type { SQSBatchResponse, SQSEvent } from './lambda-types';
import type { Job } from '../../ports/queue';

// The Lambda side of the runtimes: events in, answers out, one log line per failure. What runs
// inside (the app, a job, a task) comes from the core (functions/wiring/).

/** Structured JSON logs; every line of one invocation carries its correlation id. */
export const logger = new Logger({ serviceName: 'meshgate' });
export const logError = (message: string, err?: unknown) =>
  logger.error(message, err instanceof Error ? err : String(err));

/** The API behind API Gateway: each invocation's logs carry the API Gateway request id. */
export function apiHandler<E extends Env, S extends Schema, B extends string>(app: Hono<E, S, B>) {
  const h = handle(app);
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
export function sqsJobHandler(run: (job: Job) => Promise<unknown>) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      logger.resetKeys();
      logger.appendKeys({ correlationId: record.messageId, messageId: record.messageId });
      try {
        await run(parseJob(record.body));
      } catch (err) {
        logError('job failed', err);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

// Built at the first job, not at load: every function loads this file, only the worker reads jobs.
let jobSchema: z.ZodType<Job> | undefined;
const JobSchema = () =>
  (jobSchema ??= z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('grant'), requestId: z.string().min(1) }),
    z.strictObject({ kind: z.literal('revoke'), requestId: z.string().min(1) }),
    z.strictObject({ kind: z.literal('operation'), operationId: z.string().min(1) }),
    z.strictObject({ kind: z.literal('searchindex') }),
  ]));

/** A message that is not a job fails (and ends in the dead-letter queue) rather than vanish. */
function parseJob(body: string): Job {
  return JobSchema().parse(JSON.parse(body));
}

/** The scheduled tasks (EventBridge Scheduler): `{"task": "sweep" | "sync" | "reconcile"}`. */
export function scheduledHandler<T extends string>(tasks: Record<T, () => Promise<unknown>>) {
  return async (event: { task: T }) => {
    if (!Object.hasOwn(tasks, event.task)) throw new Error(`No scheduled task ${event.task}`);
    return tasks[event.task]();
  };
}

/**
 * The notifier, behind an EventBridge rule on the bus: one lifecycle event per invocation (a
 * status change, or a request awaiting a stage's approval; `detail` as in ports/events.ts). A failure throws, so EventBridge retries
 * it; the sweep's catch-up notifies whatever is still missed.
 */
export function notifierHandler(notify: (changed: { requestId: string }) => Promise<unknown>) {
  return async (event: { id?: string; detail?: unknown }) => {
    logger.resetKeys();
    logger.appendKeys({ correlationId: event.id });
    const detail = z.object({ requestId: z.string().min(1) }).parse(event.detail);
    return { notified: await notify(detail) };
  };
}
