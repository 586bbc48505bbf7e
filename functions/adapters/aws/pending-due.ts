import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccessRequest } from '../../domain/model';
import { nextDeadline } from '../../domain/lifecycle';
import { validation } from '../../domain/errors';
import type { Page, PageRequest } from '../../ports/store';

/*
 * Pending requests by their next deadline (the current stage's escalation or the request's
 * timeout, see nextDeadline): a sparse index of its own, so that the sweeper finds what is due
 * with one Query however many requests wait, and a request drops out of it as soon as nothing
 * more is due (decided, cancelled, timed out; escalated with no timeout). Kept apart from the
 * table's other keys: only the request item's mapping (requestItem) and the table definition
 * refer to it.
 *
 *   item        gsi5pk       gsi5sk
 *   request     PENDINGDUE   <next deadline>#<id>   (while PENDING with a deadline)
 */
export const PENDING_DUE_INDEX = 'gsi5';
export const PENDING_DUE_KEYS = ['gsi5pk', 'gsi5sk'] as const;
const PARTITION = 'PENDINGDUE';

/** The index attributes of a request item: present only while it has a deadline to come. */
export function pendingDueKeys(r: AccessRequest): Record<string, string> {
  const due = nextDeadline(r);
  return due ? { gsi5pk: PARTITION, gsi5sk: `${due}#${r.id}` } : {};
}

const KEY_ATTRIBUTE = /^(pk|sk|gsi\d+(pk|sk))$/;

function toRequest(item: Record<string, unknown>): AccessRequest {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item))
    if (k !== 'kind' && !KEY_ATTRIBUTE.test(k)) copy[k] = v;
  return copy as unknown as AccessRequest;
}

const encode = (key: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

function decode(cursor: string): Record<string, string> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const names = ['pk', 'sk', ...PENDING_DUE_KEYS];
  const ok =
    typeof key === 'object' &&
    key !== null &&
    Object.keys(key).length === names.length &&
    names.every((n) => typeof (key as Record<string, unknown>)[n] === 'string') &&
    (key as Record<string, string>).gsi5pk === PARTITION;
  if (!ok) throw validation('BAD_CURSOR', 'The cursor is not one this listing handed out.');
  return key as Record<string, string>;
}

/**
 * One page of the pending requests whose next deadline is at or before `at`, earliest first. Read
 * from the index (eventually consistent): the sweeper reads each request again before changing
 * it, conditionally on the version it read.
 */
export async function listPendingDue(
  doc: DynamoDBDocumentClient,
  tableName: string,
  at: string,
  page: PageRequest,
): Promise<Page<AccessRequest>> {
  const out = await doc.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: PENDING_DUE_INDEX,
      KeyConditionExpression: 'gsi5pk = :p AND gsi5sk <= :at',
      // '~' sorts after every id character: a deadline of exactly `at` is due.
      ExpressionAttributeValues: { ':p': PARTITION, ':at': `${at}#~` },
      Limit: page.limit,
      ExclusiveStartKey: page.cursor ? decode(page.cursor) : undefined,
    }),
  );
  const items = (out.Items ?? []).map(toRequest);
  return out.LastEvaluatedKey ? { items, cursor: encode(out.LastEvaluatedKey) } : { items };
}
