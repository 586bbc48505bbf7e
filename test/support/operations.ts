import type { ErrorCode } from '../../functions/domain/errors';
import { statusOf } from '../../functions/http/errors';

type Call = (user: string, method: string, path: string) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Starts a sync or reconcile (`POST /v1/domains/{id}/sync|reconcile`) as `user`, lets the worker
 * run it (`idle`: the queue drained) and reads it back as the caller would poll it
 * (`GET /v1/operations/{id}`). A refused start (403, 404, 409) is answered as it is; a started
 * one must be a 202 with a QUEUED operation, and is answered as what it finished with: 200 and
 * its report, or its error's status and `{ error }` (BROKER_UNAVAILABLE: 502). `operation` is the
 * finished operation.
 */
export async function viaWorker(
  p: { call: Call },
  idle: () => Promise<void>,
  user: string,
  path: string,
) {
  const start = await p.call(user, 'POST', path);
  if (start.status !== 202) return { ...start, operation: undefined };
  if (start.body?.operation?.status !== 'QUEUED')
    throw new Error(`202 without a QUEUED operation: ${JSON.stringify(start.body)}`);
  await idle();
  const read = await p.call(user, 'GET', `/v1/operations/${start.body.operation.id}`);
  if (read.status !== 200)
    throw new Error(`GET operation: ${read.status} ${JSON.stringify(read.body)}`);
  const op = read.body.operation;
  if (op.status === 'SUCCEEDED') return { status: 200, body: op.report, operation: op };
  if (op.status === 'FAILED')
    return {
      status: statusOf(op.error.code as ErrorCode) ?? 500,
      body: { error: op.error },
      operation: op,
    };
  throw new Error(`operation still ${op.status} after the queue drained`);
}
