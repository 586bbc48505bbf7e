import { DeleteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { documentClient } from '../../functions/adapters/aws/dynamo/table';
import {
  INDEX_ATTRIBUTES,
  judge,
  migrateTable,
  type MigrationProgress,
} from '../../functions/adapters/aws/dynamo/migration';
import { migrateCommand, resumeToken } from '../../scripts/migrate-table';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

// `npm run table:migrate`: a table written by an earlier version (index attributes missing, in
// other partitions, no holder items) is brought to exactly what today's builders write, on the
// embedded store. The data is the demo mesh plus requests in every state, made through the API.

const TABLE = 'meshgate';
type Item = Record<string, unknown>;

let p: TestPortal;
let today: Map<string, Item>;

const keyOf = (i: Item) => `${String(i.pk)}\u0000${String(i.sk)}`;

async function scanAll(): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  let after: Record<string, AttributeValue> | undefined;
  do {
    const page = await p.client.send(
      new ScanCommand({ TableName: TABLE, ExclusiveStartKey: after }),
    );
    for (const raw of page.Items ?? []) {
      const i = unmarshall(raw);
      items.set(keyOf(i), i);
    }
    after = page.LastEvaluatedKey;
  } while (after);
  return items;
}

/** Writes `items` as the table's whole content (the table holds no other keys before). */
async function restore(items: Map<string, Item>) {
  const doc = documentClient(p.client);
  for (const k of (await scanAll()).keys())
    if (!items.has(k)) {
      const [pk, sk] = k.split('\u0000');
      await p.client.send(
        new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: pk! }, sk: { S: sk! } } }),
      );
    }
  const all = [...items.values()];
  for (let i = 0; i < all.length; i += 25)
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [TABLE]: all.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
}

/** The table as an earlier version wrote it (see the top of migration.ts). */
function asEarlierVersion(items: Map<string, Item>): Map<string, Item> {
  const old = new Map<string, Item>();
  for (const [k, item] of items) {
    const i = { ...item };
    if (i.kind === 'holder') continue;
    if (i.kind === 'request' || i.kind === 'grant' || i.kind === 'audit') {
      delete i.gsi4pk;
      delete i.gsi4sk;
      delete i.gsi5pk;
      delete i.gsi5sk;
    }
    if (i.kind === 'request' && i.status === 'PENDING') i.gsi3pk = `PENDING#${String(i.domain)}`;
    if (i.kind === 'audit') {
      i.gsi3pk = `AUDITDAY#${String(i.at).slice(0, 10)}`;
    }
    if (i.kind === 'chainhead') {
      delete i.gsi2pk;
      delete i.gsi2sk;
    }
    old.set(k, i);
  }
  return old;
}

async function request(productId: string, principal: string): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId, { principal }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}
const ok = async (who: string, path: string, body: unknown) =>
  expect([200, 202]).toContain((await p.call(who, 'POST', path, body)).status);

beforeAll(async () => {
  p = await startPortal();
  const role = (n: string) => `arn:aws:iam::555555555555:role/migration-${n}`;
  const active = await request('sales/orders', role('active'));
  await ok('bob', `/v1/requests/${active}/approve`, { comment: 'ok' });
  const twoStage = await request('sales/leads', role('two-stage'));
  await ok('bob', `/v1/requests/${twoStage}/approve`, { comment: 'owner ok' });
  await request('sales/orders', role('pending'));
  const denied = await request('sales/orders', role('denied'));
  await ok('bob', `/v1/requests/${denied}/deny`, { reason: 'use the aggregate' });
  const revoked = await request('sales/orders', role('revoked'));
  await ok('bob', `/v1/requests/${revoked}/approve`, { comment: 'ok' });
  await p.queue.onIdle();
  const grantId = (await p.call('alice', 'GET', `/v1/requests/${revoked}`)).body.grantId;
  await ok('bob', `/v1/grants/${grantId}/revoke`, { reason: 'done' });
  await request('finance/fx_rates', role('auto'));
  await p.queue.onIdle();
  today = await scanAll();
}, 60_000);
afterAll(() => p.close());

const kindsOf = (items: Map<string, Item>) =>
  [...items.values()].reduce<Record<string, number>>((acc, i) => {
    acc[String(i.kind)] = (acc[String(i.kind)] ?? 0) + 1;
    return acc;
  }, {});

test('a table this version wrote is current: nothing to rewrite, no holder missing', async () => {
  // The data covers each kind the migration judges.
  expect(kindsOf(today)).toMatchObject({
    request: 6,
    grant: 3,
    holder: 2,
    chainhead: expect.any(Number),
    audit: expect.any(Number),
    product: expect.any(Number),
    membership: expect.any(Number),
    domain: expect.any(Number),
  });
  for (const item of today.values()) expect(judge(item).kind).not.toBe('fix');
  const done = await migrateTable(p.client, TABLE);
  expect(done).toMatchObject({ rewritten: 0, holders: 0, raced: 0, scanned: today.size });
  expect(await scanAll()).toEqual(today);
});

test("an earlier version's table becomes exactly today's, and a second run changes nothing", async () => {
  const old = asEarlierVersion(today);
  await restore(old);
  expect(await scanAll()).not.toEqual(today);

  const dry = await migrateTable(p.client, TABLE, { dryRun: true });
  expect(await scanAll()).toEqual(old);
  expect(dry.holders).toBe(2);

  const pages: number[] = [];
  const done = await migrateTable(p.client, TABLE, {
    pageSize: 25,
    onPage: (x) => pages.push(x.scanned),
  });
  expect(done).toMatchObject({ rewritten: dry.rewritten, holders: 2, raced: 0 });
  expect(done.byKind).toEqual(dry.byKind);
  expect(Object.keys(done.byKind).sort()).toEqual(['audit', 'chainhead', 'grant', 'request']);
  expect(pages.length).toBeGreaterThan(2);
  expect(await scanAll()).toEqual(today);

  // The listings that read the new partitions see the old items again.
  const inbox = await p.call('carol', 'GET', '/v1/approvals');
  expect(inbox.body.items.map((r: { productId: string }) => r.productId)).toContain('sales/leads');
  const audit = await p.call('dave', 'GET', '/v1/audit');
  expect(audit.status).toBe(200);
  expect(audit.body.items.length).toBeGreaterThan(0);

  const again = await migrateTable(p.client, TABLE);
  expect(again).toMatchObject({ rewritten: 0, holders: 0 });
});

test('property: any mix of missing, stale and foreign index attributes is repaired exactly', async () => {
  const keys = [...today.keys()];
  const damage = fc.record({
    // Per item: for each index attribute, keep it (0), remove it (1) or make it stale (2).
    attrs: fc.array(
      fc.array(fc.integer({ min: 0, max: 2 }), {
        minLength: INDEX_ATTRIBUTES.length,
        maxLength: INDEX_ATTRIBUTES.length,
      }),
      { minLength: keys.length, maxLength: keys.length },
    ),
    dropHolders: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(damage, async ({ attrs, dropHolders }) => {
      const damaged = new Map<string, Item>();
      keys.forEach((k, n) => {
        const item = { ...today.get(k)! };
        if (item.kind === 'holder' && dropHolders) return;
        if (
          ['request', 'grant', 'audit', 'chainhead', 'product', 'holder'].includes(
            String(item.kind),
          )
        )
          INDEX_ATTRIBUTES.forEach((a, j) => {
            if (attrs[n]![j] === 1) delete item[a];
            if (attrs[n]![j] === 2) item[a] = `STALE#${a}`;
          });
        damaged.set(k, item);
      });
      await restore(damaged);
      await migrateTable(p.client, TABLE, { pageSize: 40 });
      expect(await scanAll()).toEqual(today);
    }),
    { numRuns: 8 },
  );
}, 120_000);

test('a write by the running portal between the read and the rewrite wins; the item is judged again', async () => {
  await restore(asEarlierVersion(today));
  const doc = documentClient(p.client);
  const send = DynamoDBDocumentClient.prototype.send;
  let raced: string | undefined;
  // Before the first rewrite of a request, the portal writes that request with today's keys.
  const spy = jest
    .spyOn(DynamoDBDocumentClient.prototype, 'send')
    .mockImplementation(async function (this: DynamoDBDocumentClient, command: unknown) {
      const input = (command as UpdateCommand).input;
      if (
        !raced &&
        command instanceof UpdateCommand &&
        String(input.Key?.pk).startsWith('REQUEST#') &&
        input.Key?.sk === 'META'
      ) {
        raced = String(input.Key.pk);
        const current = today.get(`${raced}\u0000META`)!;
        const set = INDEX_ATTRIBUTES.filter((a) => current[a] !== undefined);
        await doc.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: { pk: current.pk, sk: current.sk },
            UpdateExpression: `SET ${set.map((_, i) => `#a${i} = :v${i}`).join(', ')}`,
            ExpressionAttributeNames: Object.fromEntries(set.map((a, i) => [`#a${i}`, a])),
            ExpressionAttributeValues: Object.fromEntries(
              set.map((a, i) => [`:v${i}`, current[a]]),
            ),
          }),
        );
      }
      return (send as (c: unknown) => Promise<unknown>).call(this, command);
    } as never);
  let done: MigrationProgress;
  try {
    done = await migrateTable(p.client, TABLE);
  } finally {
    spy.mockRestore();
  }
  expect(raced).toMatch(/^REQUEST#/);
  expect(done!.raced).toBe(1);
  // The raced request, read again, had nothing left to rewrite: the table is today's all the same.
  expect(await scanAll()).toEqual(today);
});

describe('npm run table:migrate', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        out: (l: string) => out.push(l),
        err: (l: string) => err.push(l),
        env: {},
        client: () => p.client,
      },
    };
  };

  test('migrates, prints progress with a resume token, and resumes from it', async () => {
    await restore(asEarlierVersion(today));
    const first = io();
    // The command destroys its client when done: give it one that outlives it.
    const keep = p.client.destroy;
    p.client.destroy = () => {};
    try {
      expect(await migrateCommand(['--table', TABLE, '--dry-run'], first.io)).toBe(0);
      expect(first.out[0]).toMatch(/^Dry run: migrating table meshgate in /);
      expect(first.out.at(-1)).toMatch(/^Dry run done: scanned \d[\d,]*: would rewrite \d/);
      expect(await scanAll()).not.toEqual(today);

      const run = io();
      expect(await migrateCommand(['--table', TABLE], run.io)).toBe(0);
      expect(run.out.at(-1)).toMatch(/^Done: scanned .*holders put 2,/);
      expect(await scanAll()).toEqual(today);

      const resumed = io();
      const token = resumeToken({ pk: 'PRODUCT#sales/orders', sk: 'META' });
      expect(await migrateCommand(['--table', TABLE, '--resume', token], resumed.io)).toBe(0);
      expect(resumed.out.at(-1)).toMatch(/rewritten 0/);

      const bad = io();
      expect(await migrateCommand(['--table', TABLE, '--resume', 'nonsense'], bad.io)).toBe(2);
      expect(bad.err[0]).toMatch(/--resume nonsense is not a token this command printed/);
      const unknown = io();
      expect(await migrateCommand(['--tabel', TABLE], unknown.io)).toBe(2);
      expect(unknown.err[0]).toMatch(/^table:migrate: unknown argument --tabel/);
      const help = io();
      expect(await migrateCommand(['--help'], help.io)).toBe(0);
      expect(help.out[0]).toContain('npm run table:migrate -- --table NAME');
    } finally {
      p.client.destroy = keep;
    }
  });
});
