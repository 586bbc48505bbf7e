import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import type { AccessRequest } from '../../functions/domain/model';
import { embeddedTables, pendingRequest } from '../support/embedded-tables';

// The index of pending requests by their next deadline (adapters/aws/pending-due.ts) against the
// embedded DynamoDB-compatible server: what the sweeper's one Query finds, and when a request
// leaves it.

const TABLE = 'pending-due-test';
const db = embeddedTables(TABLE);
let store: DynamoStore;
beforeAll(() => {
  store = new DynamoStore(TABLE, db.client);
});

const T0 = '2026-03-01T10:00:00.000Z';
const plus = (hours: number) => new Date(Date.parse(T0) + hours * 3_600_000).toISOString();

let seq = 0;
const waiting = (over: Partial<AccessRequest> = {}): AccessRequest =>
  pendingRequest('sales', `req_${String(++seq).padStart(6, '0')}`, T0, {
    stages: [
      { name: 'owner', required: 1, approvals: [], rule: null, escalatesAt: plus(48) },
      { name: 'compliance', required: 1, approvals: [], rule: null },
    ],
    timesOutAt: plus(14 * 24),
    ...over,
  });

const ids = async (at: string) =>
  (await store.listPendingDue(at, { limit: 100 })).items.map((r) => r.id);

test('a pending request is found once its next deadline has come, with the item as stored', async () => {
  const r = waiting();
  const legacy = pendingRequest('sales', 'req_legacy', T0); // no deadlines: never in the index
  await store.createRequest(r, []);
  await store.createRequest(legacy, []);
  expect(await ids(plus(47))).toEqual([]);
  expect(await ids(plus(48))).toEqual([r.id]); // a deadline of exactly `at` is due
  const [found] = (await store.listPendingDue(plus(48), { limit: 10 })).items;
  expect(found).toEqual(r); // no key attributes leak out
  expect(await ids(plus(1000))).not.toContain(legacy.id);

  // Escalated: the next deadline is the timeout.
  const escalated: AccessRequest = {
    ...r,
    stages: r.stages.map((s, i) => (i === 0 ? { ...s, escalatedAt: plus(49) } : s)),
    version: 2,
  };
  await store.updateRequest(escalated, { status: 'PENDING', version: 1 }, []);
  expect(await ids(plus(100))).toEqual([]);
  expect(await ids(plus(14 * 24))).toEqual([r.id]);

  // No longer pending: out of the index.
  await store.updateRequest(
    { ...escalated, status: 'CANCELLED', version: 3 },
    { status: 'PENDING', version: 2 },
    [],
  );
  expect(await ids(plus(10_000))).toEqual([]);
  const raw = await db.doc.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: 'gsi5',
      KeyConditionExpression: 'gsi5pk = :p',
      ExpressionAttributeValues: { ':p': 'PENDINGDUE' },
    }),
  );
  expect(raw.Items).toEqual([]);
});

test('earliest deadline first, a page at a time', async () => {
  const late = waiting({ timesOutAt: plus(5) }); // times out before its stage escalates
  const early = waiting({ timesOutAt: plus(3) });
  const third = waiting();
  for (const r of [late, early, third]) await store.createRequest(r, []);
  const first = await store.listPendingDue(plus(100), { limit: 2 });
  expect(first.items.map((r) => r.id)).toEqual([early.id, late.id]);
  expect(first.cursor).toBeDefined();
  const second = await store.listPendingDue(plus(100), { limit: 2, cursor: first.cursor });
  expect(second.items.map((r) => r.id)).toEqual([third.id]);
  await expect(
    store.listPendingDue(plus(100), { limit: 2, cursor: 'bm9wZQ' }),
  ).rejects.toMatchObject({
    code: 'BAD_CURSOR',
  });
  for (const r of [late, early, third])
    await store.updateRequest(
      { ...r, status: 'DENIED', version: 2 },
      { status: 'PENDING', version: 1 },
      [],
    );
});
