import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { MeshgateError } from '../../functions/domain/errors';
import { queueOperation, startRun, succeedRun } from '../../functions/domain/operations';
import { DynamoOperationStore } from '../../functions/adapters/aws/operation-store';

// The operation's write is one transaction: the operation (index 0), its lock's release when it
// finishes (index 1), then the audit events and the chain head. Only a failed condition of the
// operation's own items means another worker moved it on (409 STALE_OPERATION, which a worker
// takes as "not mine any more" and drops its outcome); a cancellation for throttling or an
// item too large must surface as the error it is, or the outcome would be dropped in silence.

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

function storeThrowing(err: unknown) {
  return new DynamoOperationStore('meshgate-test', new DynamoDBClient({ region: 'eu-west-1' }), {
    writeAudited: async () => {
      throw err;
    },
  });
}

const at = new Date('2026-12-06T10:00:00Z');
const running = startRun(
  queueOperation({ id: 'op-1', kind: 'sync', domain: 'sales', requestedBy: 'bob' }, at),
  at,
  at,
)!;
const succeeded = succeedRun(running, { domain: 'sales' }, at);

test.each([
  ['the operation changed', ['ConditionalCheckFailed', 'None', 'None', 'None']],
  ['its lock is another operation’s', ['None', 'ConditionalCheckFailed', 'None', 'None']],
  ['another worker writes it at the same time', ['TransactionConflict', 'None', 'None', 'None']],
])('%s: 409 STALE_OPERATION', async (_, codes) => {
  const err = await storeThrowing(cancelled(...codes))
    .update(succeeded, running, [])
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MeshgateError);
  expect(err).toMatchObject({ code: 'STALE_OPERATION', kind: 'conflict' });
});

test.each([
  ['throttled', ['None', 'None', 'ThrottlingError', 'None']],
  ['an item too large', ['None', 'None', 'ValidationError', 'None']],
  ['the chain head moved', ['None', 'None', 'None', 'ConditionalCheckFailed']],
])('%s: the error itself, not a lost operation', async (_, codes) => {
  const thrown = cancelled(...codes);
  const err = await storeThrowing(thrown)
    .update(succeeded, running, [])
    .catch((e: unknown) => e);
  expect(err).toBe(thrown);
});
