import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { conflict, fail } from '../../domain/errors';
import type { AuditEvent } from '../../domain/model';
import { isFinished, type Operation, type OperationProgress } from '../../domain/operations';
import type { OperationPage, OperationStore } from '../../ports/operations';
import { documentClient } from './dynamo-store';
import type { DynamoAuditLog } from './dynamo/audit-log';

/**
 * Domain operations in the single table, beside the store's items (same table, same document
 * client settings; see dynamo-store.ts for the other items):
 *
 *   item       pk                 sk        gsi2 (pk / sk)                 gsi3 (pk / sk)
 *   operation  OPERATION#<id>     META      OPDOMAIN#<d> / <createdAt>#<id> OPUNFINISHED / <updatedAt>#<id> (while QUEUED|RUNNING)
 *   op lock    OPLOCK#<domain>    <kind>    (operationId: the one QUEUED or RUNNING)
 *
 * The lock item is what keeps one operation of a kind per domain at a time: it is put, on the
 * condition that it does not exist, in the transaction that creates the operation, and deleted in
 * the one that finishes it. Both transactions carry the change's audit events, sealed into their
 * chain by the store's audit log (writeAudited), so no operation is queued or finished without
 * its record.
 */
const opKey = (id: string) => ({ pk: `OPERATION#${id}`, sk: 'META' });
const lockKey = (op: Pick<Operation, 'domain' | 'kind'>) => ({
  pk: `OPLOCK#${op.domain}`,
  sk: op.kind,
});
const UNFINISHED = 'OPUNFINISHED';

const operationItem = (op: Operation): Record<string, unknown> => ({
  ...op,
  kind: 'operation',
  opKind: op.kind,
  ...opKey(op.id),
  gsi2pk: `OPDOMAIN#${op.domain}`,
  gsi2sk: `${op.createdAt}#${op.id}`,
  ...(isFinished(op) ? {} : { gsi3pk: UNFINISHED, gsi3sk: `${op.updatedAt}#${op.id}` }),
});

const KEYS = ['pk', 'sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'kind', 'opKind'];
function operationOf(item: Record<string, unknown>): Operation {
  const copy: Record<string, unknown> = { ...item };
  for (const k of KEYS) delete copy[k];
  return { ...copy, kind: item.opKind } as Operation;
}

const isConditionFailure = (err: unknown) =>
  err instanceof TransactionCanceledException ||
  (err as { name?: string })?.name === 'ConditionalCheckFailedException' ||
  (err as { name?: string })?.name === 'TransactionCanceledException';
const reasonsOf = (err: unknown) =>
  (err as { CancellationReasons?: Array<{ Code?: string }> })?.CancellationReasons;

export class DynamoOperationStore implements OperationStore {
  private readonly doc: DynamoDBDocumentClient;

  /**
   * `client`: the DynamoDB client the store uses (one per process), so both share its settings;
   * `audit`: the store's audit log, whose per-chain queue of writers the operations join.
   */
  constructor(
    private readonly tableName: string,
    client: DynamoDBClient,
    private readonly audit: Pick<DynamoAuditLog, 'writeAudited'>,
  ) {
    this.doc = documentClient(client);
  }

  async create(op: Operation, event: AuditEvent): Promise<void> {
    // Twice at most: the running one may finish between our failed write and the read of its id.
    for (let attempt = 0; ; attempt++) {
      try {
        // The lock first: a cancellation reason at index 0 is the lock's condition.
        await this.audit.writeAudited(
          [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...lockKey(op), kind: 'oplock', operationId: op.id, at: op.createdAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: operationItem(op),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
          [event],
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err) || reasonsOf(err)?.[0]?.Code !== 'ConditionalCheckFailed')
          throw err;
      }
      // Only to name the running one in the answer: the decision was the conditional write's.
      const lock = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: lockKey(op), ConsistentRead: true }),
      );
      const running = lock.Item?.operationId as string | undefined;
      if (running || attempt >= 1)
        throw fail(
          'OPERATION_RUNNING',
          `A ${op.kind} of domain ${op.domain} is already queued or running${running ? ` (${running})` : ''}; follow it at /v1/operations/${running ?? ''}.`,
          { details: { operationId: running ?? null, kind: op.kind, domain: op.domain } },
        );
    }
  }

  async get(id: string): Promise<Operation | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: opKey(id), ConsistentRead: true }),
    );
    return out.Item ? operationOf(out.Item) : undefined;
  }

  async update(
    next: Operation,
    expected: Pick<Operation, 'status' | 'version'>,
    events: AuditEvent[] = [],
  ): Promise<void> {
    const put = {
      Put: {
        TableName: this.tableName,
        Item: operationItem(next),
        ConditionExpression: '#status = :status AND #version = :version',
        ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
        ExpressionAttributeValues: { ':status': expected.status, ':version': expected.version },
      },
    };
    // A finished operation frees its domain and kind, in the same transaction.
    const release = isFinished(next)
      ? [
          {
            Delete: {
              TableName: this.tableName,
              Key: lockKey(next),
              ConditionExpression: 'attribute_not_exists(pk) OR operationId = :id',
              ExpressionAttributeValues: { ':id': next.id },
            },
          },
        ]
      : [];
    try {
      await this.audit.writeAudited([put, ...release], events);
    } catch (err) {
      // Only the operation's own items (its version, its lock) failing their condition, or another
      // transaction writing them at the same time, mean it moved on; a cancellation for throttling
      // or a too-large item is an error to retry, not a lost operation.
      const reasons = reasonsOf(err);
      const ours = reasons
        ? reasons
            .slice(0, 1 + release.length)
            .some((r) => r?.Code === 'ConditionalCheckFailed' || r?.Code === 'TransactionConflict')
        : isConditionFailure(err);
      if (ours)
        throw conflict(
          'STALE_OPERATION',
          `Operation ${next.id} changed since it was read (expected ${expected.status} v${expected.version}).`,
          err,
        );
      throw err;
    }
  }

  async recordProgress(id: string, attempt: number, progress: OperationProgress): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: opKey(id),
          UpdateExpression: 'SET #progress = :progress, updatedAt = :at, gsi3sk = :sk',
          ConditionExpression: '#status = :running AND attempts = :attempt',
          ExpressionAttributeNames: { '#progress': 'progress', '#status': 'status' },
          ExpressionAttributeValues: {
            ':progress': progress,
            ':at': progress.at,
            ':sk': `${progress.at}#${id}`,
            ':running': 'RUNNING',
            ':attempt': attempt,
          },
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false; // finished or taken over meanwhile: not this attempt's to note
    }
  }

  async listByDomain(
    domain: string,
    page: { limit: number; after?: Record<string, string> },
  ): Promise<OperationPage> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :p',
        ExpressionAttributeValues: { ':p': `OPDOMAIN#${domain}` },
        ScanIndexForward: false,
        // One more than the page: the last page says so (no cursor to an empty page).
        Limit: page.limit + 1,
        ExclusiveStartKey: page.after,
      }),
    );
    const read = out.Items ?? [];
    const taken = read.slice(0, page.limit);
    const items = taken.map(operationOf);
    const last = taken[taken.length - 1];
    if (read.length <= page.limit || !last) return { items };
    // Where the page ends, as DynamoDB would name it: the table key and the index key.
    const after = Object.fromEntries(
      ['pk', 'sk', 'gsi2pk', 'gsi2sk'].map((k) => [k, last[k] as string]),
    );
    return { items, after };
  }

  async listUnfinishedSince(before: string, limit: number): Promise<Operation[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :p AND gsi3sk < :before',
        ExpressionAttributeValues: { ':p': UNFINISHED, ':before': before },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(operationOf);
  }
}
