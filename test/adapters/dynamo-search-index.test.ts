import { DeleteCommand, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { gzipSync } from 'node:zlib';
import {
  DynamoSearchIndex,
  gunzipWhole,
  ORPHAN_GRACE_MS,
} from '../../functions/adapters/aws/dynamo-search-index';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { MiniSearchCatalog } from '../../functions/adapters/search/minisearch-catalog';
import { BUILD_REQUEST_EVERY_MS } from '../../functions/ports/search';
import type { AuditEvent, DataProduct } from '../../functions/domain/model';
import { embeddedTables } from '../support/embedded-tables';

const TABLE = 'search-index-test';
const db = embeddedTables(TABLE);
let store: DynamoStore;
beforeAll(async () => {
  store = new DynamoStore(TABLE, db.client);
  for (const id of ['sales', 'hr'])
    await store.putDomain({ id, name: id, accountId: '111111111111', region: 'eu-west-1' });
});

const product = (id: string, title: string): DataProduct => {
  const [domain, name] = id.split('/') as [string, string];
  return {
    id,
    domain,
    name,
    title,
    description: `All about ${title.toLowerCase()}, ${'with a long description '.repeat(20)}`,
    owner: 'bob',
    classification: 'internal',
    tags: ['gold'],
    location: { catalogId: '111111111111', database: domain, table: name },
    columns: [{ name: 'id', type: 'string', pii: false }],
    freshness: 'daily',
    status: 'ACTIVE',
  };
};

const version = async () =>
  ((await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'CATALOG', sk: 'VERSION' } })))
    .Item?.version as number | undefined) ?? 0;

const chunkPartitions = async (id: string) =>
  (
    await db.doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `SEARCHINDEX#${id}` },
      }),
    )
  ).Items ?? [];

const published = async () =>
  (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'CATALOG', sk: 'VERSION' } })))
    .Item?.index as { id: string; version: number; chunks: number };

let n = 0;
const audit = (productId: string): AuditEvent => ({
  id: `evt_${String(++n).padStart(26, '0')}`,
  at: '2026-12-01T10:00:00.000Z',
  type: 'PRODUCT_UPDATED',
  actor: 'erin',
  domain: productId.split('/')[0]!,
  productId,
  detail: {},
});

test('every product write moves the catalog version, in its transaction', async () => {
  const v0 = await version();
  await store.putProduct(product('sales/orders', 'Orders'));
  expect(await version()).toBe(v0 + 1);
  await store.saveProduct(product('sales/orders', 'Orders and returns'), audit('sales/orders'));
  expect(await version()).toBe(v0 + 2);
});

test('the index is built when the catalog moved past it, stored in chunks, and loaded by another process', async () => {
  await store.putProduct(product('hr/employees', 'Employees'));
  const builder = new DynamoSearchIndex(TABLE, db.client, store, { chunkBytes: 100 });
  const built = await builder.refresh();
  expect(built).toMatchObject({ rebuilt: true, version: await version(), products: 2 });
  const first = await published();
  expect(first.chunks).toBeGreaterThan(1);
  expect(await chunkPartitions(first.id)).toHaveLength(first.chunks);
  // Nothing changed: no build.
  expect((await builder.refresh()).rebuilt).toBe(false);

  let now = 0;
  const api = new DynamoSearchIndex(TABLE, db.client, store, { maxAgeMs: 1000, now: () => now });
  const index = await api.current();
  expect(index.version).toBe(first.version);
  expect(index.search({ q: 'employes' }, new Set()).matches.map((m) => m.id)).toEqual([
    'hr/employees',
  ]);

  // A write and a new build: the API sees it once its version check is due, not before.
  await store.putProduct(product('hr/payroll', 'Payroll'));
  await builder.refresh();
  const second = await published();
  expect(second.version).toBe(first.version + 1);
  expect((await api.current()).version).toBe(first.version);
  now = 1000;
  const reloaded = await api.current();
  expect(reloaded.version).toBe(second.version);
  expect(reloaded.search({ q: 'payroll' }, new Set()).matches.map((m) => m.id)).toEqual([
    'hr/payroll',
  ]);
  // The previous build's chunks are gone.
  expect(await chunkPartitions(first.id)).toHaveLength(0);
});

test('a process with nothing published answers 503 SEARCH_INDEX_BUILDING, and builds nothing in the call', async () => {
  // Building in an API call reads every product (26 s at 100,000 products, against the API's
  // 29 s): the sweep or a sync builds it, and the search answers once it is published.
  const other = 'search-index-empty';
  const { ensureTable } = await import('../../functions/adapters/local/embedded-dynamo');
  await ensureTable(db.client, other);
  const otherStore = new DynamoStore(other, db.client);
  await otherStore.putDomain({ id: 'sales', name: 'sales', accountId: '1', region: 'eu-west-1' });
  await otherStore.putProduct(product('sales/leads', 'Leads'));
  const read = jest.spyOn(otherStore, 'listProducts');
  const api = new DynamoSearchIndex(other, db.client, otherStore, { maxAgeMs: 0 });
  await expect(api.current()).rejects.toMatchObject({
    kind: 'unavailable',
    code: 'SEARCH_INDEX_BUILDING',
  });
  expect(read).not.toHaveBeenCalled();
  await new DynamoSearchIndex(other, db.client, otherStore).refresh(); // the sweep
  const index = await api.current();
  expect(index.size).toBe(1);
});

test('an index published in the first form (MiniSearch JSON, no format) is rebuilt, and its chunks deleted', async () => {
  const { PutCommand, UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  const { gzipSync } = await import('node:zlib');
  const data = gzipSync(JSON.stringify({ format: 1, version: await version(), summaries: [] }));
  await db.doc.send(
    new PutCommand({
      TableName: TABLE,
      Item: { pk: 'SEARCHINDEX#old-1', sk: '000000', kind: 'searchindex', data },
    }),
  );
  const old = {
    id: 'old-1',
    version: await version(),
    chunks: 1,
    bytes: data.length,
    products: 3,
    at: '2026-12-01T00:00:00.000Z',
  };
  await db.doc.send(
    new UpdateCommand({
      TableName: TABLE,
      Key: { pk: 'CATALOG', sk: 'VERSION' },
      UpdateExpression: 'SET #index = :p',
      ExpressionAttributeNames: { '#index': 'index' },
      ExpressionAttributeValues: { ':p': old },
    }),
  );
  const api = new DynamoSearchIndex(TABLE, db.client, store);
  // Not loadable by this code: refused until rebuilt (by the sweep or a sync), never built here.
  await expect(api.current()).rejects.toMatchObject({ code: 'SEARCH_INDEX_BUILDING' });
  expect((await new DynamoSearchIndex(TABLE, db.client, store).refresh()).rebuilt).toBe(true);
  const index = await api.current();
  expect(index.search({ q: 'payroll' }, new Set()).matches.map((m) => m.id)).toEqual([
    'hr/payroll',
  ]);
  expect(await published()).toMatchObject({ format: 2, version: old.version });
  expect(await chunkPartitions('old-1')).toHaveLength(0);
});

test('an index blob unzips whole (one buffer of its recorded size) to what zlib unzips', () => {
  const data = Buffer.from(
    Array.from({ length: 300_000 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26))).join(''),
  );
  const blob = gzipSync(data);
  const whole = gunzipWhole(blob);
  expect(whole.equals(data)).toBe(true);
  // Two members (the size recorded is the last one's): still all of it.
  const two = Buffer.concat([gzipSync(data), gzipSync(Buffer.from('tail'))]);
  expect(gunzipWhole(two).equals(Buffer.concat([data, Buffer.from('tail')]))).toBe(true);
  expect(gunzipWhole(gzipSync(Buffer.alloc(0))).length).toBe(0);
});

test('an index loaded while a newer one was built does not replace it', async () => {
  // Loading the published index is slow at 100,000 products (seconds, in a worker thread); a
  // refresh of this process that builds and holds a newer one meanwhile must keep it: a search
  // after the sync sees it, and a cursor handed out on it stays valid.
  await store.putProduct(product('sales/race_orders', 'Race orders'));
  await new DynamoSearchIndex(TABLE, db.client, store).refresh(); // another process publishes
  let loaded!: () => void;
  const loading = new Promise<void>((r) => (loaded = r));
  let finish!: () => void;
  const slow = new Promise<void>((r) => (finish = r));
  const mine = new DynamoSearchIndex(TABLE, db.client, store, {
    unzip: async (parts) => {
      const index = MiniSearchCatalog.load(gunzipWhole(Buffer.concat(parts)));
      loaded();
      await slow;
      return index;
    },
  });
  const searching = mine.current(); // loads the published index
  await loading;
  await store.putProduct(product('sales/race_leads', 'Race leads'));
  const report = await mine.refresh(); // builds and holds a newer one
  expect(report.rebuilt).toBe(true);
  finish();
  await searching;
  const held = await mine.current();
  expect(held.version).toBe(report.version);
  expect(held.size).toBe(report.products);
});

/** The build ids whose chunks are in the table. */
const storedBuilds = async () => {
  const items =
    (await db.doc.send(new ScanCommand({ TableName: TABLE, ProjectionExpression: 'pk' }))).Items ??
    [];
  return [
    ...new Set(
      items
        .map((i) => String(i.pk))
        .filter((pk) => pk.startsWith('SEARCHINDEX#'))
        .map((pk) => pk.slice('SEARCHINDEX#'.length)),
    ),
  ];
};

/** The builds stored now that were not `before` (one test above orphans a build on purpose). */
const newBuilds = async (before: string[]) =>
  (await storedBuilds()).filter((id) => !before.includes(id));

/**
 * The transaction that names a build in the catalog version item (its Update of the version item,
 * beside the check of the build's marker), as the client's stack sees it.
 */
const isPublish = (command: string | undefined, input: unknown) => {
  const items = (input as { TransactItems?: Array<{ Update?: Record<string, unknown> }> })
    .TransactItems;
  return (
    (command ?? '').startsWith('TransactWriteItems') &&
    (items ?? []).some((t) => {
      const u = t.Update as { Key?: { pk?: unknown }; UpdateExpression?: string } | undefined;
      const pk = u?.Key?.pk as string | { S?: string } | undefined;
      return (
        (pk === 'CATALOG' || (typeof pk === 'object' && pk?.S === 'CATALOG')) &&
        (u?.UpdateExpression?.includes('#index') ?? false)
      );
    })
  );
};

test('two processes refreshing at once leave the chunks of the named build only', async () => {
  // Two syncs finishing together on two worker instances: both read the same published build and
  // both build. Only one is named; the other deletes its own chunks (~36 MB per race at 100,000
  // products were left in the table for good).
  await store.putProduct(product('sales/concurrent_orders', 'Concurrent orders'));
  const before = await storedBuilds();
  const a = new DynamoSearchIndex(TABLE, db.client, store);
  const b = new DynamoSearchIndex(TABLE, db.client, store);
  const reports = await Promise.all([a.refresh(), b.refresh()]);
  expect(reports.filter((r) => r.rebuilt)).toHaveLength(1);
  const named = await published();
  expect(named.version).toBe(await version());
  expect(await newBuilds(before)).toEqual([named.id]);
  expect(await chunkPartitions(named.id)).toHaveLength(named.chunks);
  // Both processes hold the named build.
  for (const p of [a, b]) expect((await p.current()).version).toBe(named.version);
});

// A publish is a transaction on the version item, which every product write's transaction also
// writes: DynamoDB cancels one of two such transactions (TransactionConflict), or a throttled one,
// and the SDK does not retry a cancelled transaction.
const cancelled = (code: string) =>
  Object.assign(
    new Error(`Transaction cancelled, please refer cancellation reasons [None, ${code}]`),
    {
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: code }],
    },
  );
test.each([
  [
    'TransactionConflictException',
    () =>
      Object.assign(new Error('Transaction is ongoing for the item'), {
        name: 'TransactionConflictException',
      }),
  ],
  ['a cancellation for TransactionConflict', () => cancelled('TransactionConflict')],
  ['a cancellation for ThrottlingError', () => cancelled('ThrottlingError')],
])(
  'a publish refused with %s (a product write on the version item, throttling) is tried again',
  async (label, refusal) => {
    await store.putProduct(product(`sales/conflicted_${label.length}`, 'Conflicted'));
    const before = await storedBuilds();
    let conflicts = 2;
    const name = 'injectTransactionConflict';
    db.client.middlewareStack.add(
      (next, ctx) => async (args) => {
        if (isPublish(ctx.commandName, args.input) && conflicts-- > 0) throw refusal();
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      const report = await new DynamoSearchIndex(TABLE, db.client, store).refresh();
      expect(report).toMatchObject({ rebuilt: true, version: await version() });
      expect(conflicts).toBeLessThan(0);
    } finally {
      db.client.middlewareStack.remove(name);
    }
    const named = await published();
    expect(named.version).toBe(await version());
    expect(await newBuilds(before)).toEqual([named.id]);
  },
);

test('a publish that keeps failing deletes the chunks it wrote', async () => {
  await store.putProduct(product('sales/refused', 'Refused'));
  const before = await published();
  const stored = await storedBuilds();
  const name = 'refusePublish';
  db.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (isPublish(ctx.commandName, args.input))
        throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await expect(new DynamoSearchIndex(TABLE, db.client, store).refresh()).rejects.toThrow(
      'throttled',
    );
  } finally {
    db.client.middlewareStack.remove(name);
  }
  expect(await published()).toEqual(before);
  expect(await storedBuilds()).toEqual(stored);
});

test('a publish whose answer was lost and that the SDK sends again keeps its build named and its chunks', async () => {
  // The UpdateItem lands, its answer does not (a timeout, a reset): the SDK sends it again, and
  // the build must not count itself as lost to another (it would delete the chunks it just named).
  await store.putProduct(product('sales/lost_answer', 'Lost answer'));
  let lost = false;
  const name = 'loseOnePublishAnswer';
  db.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      const out = await next(args);
      if (!lost && isPublish(ctx.commandName, args.input)) {
        lost = true;
        // As the SDK's retry does: the same command sent again.
        return next(args);
      }
      return out;
    },
    { step: 'initialize', name },
  );
  try {
    const report = await new DynamoSearchIndex(TABLE, db.client, store).refresh();
    expect(report).toMatchObject({ rebuilt: true, version: await version() });
  } finally {
    db.client.middlewareStack.remove(name);
  }
  expect(lost).toBe(true);
  const named = await published();
  expect(await chunkPartitions(named.id)).toHaveLength(named.chunks);
  expect((await new DynamoSearchIndex(TABLE, db.client, store).current()).version).toBe(
    named.version,
  );
});

test('a process that holds no index catches up without loading it; one whose chunks are gone is built again', async () => {
  await store.putProduct(product('sales/catch_up', 'Catch up'));
  await new DynamoSearchIndex(TABLE, db.client, store).refresh();
  const named = await published();
  const commands: string[] = [];
  const name = 'countCatchUp';
  db.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      commands.push(ctx.commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    // A worker after a sync, the sweep: current, nothing loaded (the version and the last chunk),
    // and the builds' markers looked at (none left behind).
    const cold = new DynamoSearchIndex(TABLE, db.client, store);
    expect(await cold.refresh()).toMatchObject({ rebuilt: false, version: named.version });
    expect(commands).toEqual(['GetItemCommand', 'GetItemCommand', 'QueryCommand']);
    // The named build's chunks lost: the next catch-up builds it again rather than leave every
    // process failing to load it.
    await db.doc.send(
      new DeleteCommand({
        TableName: TABLE,
        Key: { pk: `SEARCHINDEX#${named.id}`, sk: String(named.chunks - 1).padStart(6, '0') },
      }),
    );
    expect(await new DynamoSearchIndex(TABLE, db.client, store).refresh()).toMatchObject({
      rebuilt: true,
      version: named.version,
    });
  } finally {
    db.client.middlewareStack.remove(name);
  }
  const rebuilt = await published();
  expect(rebuilt.id).not.toBe(named.id);
  expect((await new DynamoSearchIndex(TABLE, db.client, store).current()).version).toBe(
    rebuilt.version,
  );
});

test('a publish that landed but whose answer and the state after it were both lost keeps its chunks', async () => {
  await store.putProduct(product('sales/lost_twice', 'Lost twice'));
  let phase: 'publish' | 'state' | 'done' = 'publish';
  const name = 'loseAnswerAndState';
  db.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (phase === 'publish' && isPublish(ctx.commandName, args.input)) {
        await next(args); // it lands
        phase = 'state';
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      }
      if (phase === 'state' && (ctx.commandName ?? '').startsWith('Get')) {
        phase = 'done';
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await expect(new DynamoSearchIndex(TABLE, db.client, store).refresh()).rejects.toThrow(
      'socket hang up',
    );
  } finally {
    db.client.middlewareStack.remove(name);
  }
  expect(phase).toBe('done');
  const named = await published();
  expect(named.version).toBe(await version());
  expect(await chunkPartitions(named.id)).toHaveLength(named.chunks);
});

test('a catch-up that finds the named build gone because another build replaced it meanwhile builds nothing', async () => {
  await store.putProduct(product('sales/replaced_meanwhile', 'Replaced meanwhile'));
  await new DynamoSearchIndex(TABLE, db.client, store).refresh();
  const first = await published();
  let replaced = false;
  const name = 'replaceDuringCatchUp';
  db.client.middlewareStack.add(
    (next) => async (args) => {
      const key = (args.input as { Key?: { pk?: unknown } }).Key?.pk;
      const pk = typeof key === 'object' && key !== null ? (key as { S?: string }).S : key;
      if (!replaced && pk === `SEARCHINDEX#${first.id}`) {
        // Another process publishes a newer build (deleting this one) just before the look.
        replaced = true;
        await store.putProduct(product('sales/replaced_meanwhile_2', 'Replaced meanwhile 2'));
        await new DynamoSearchIndex(TABLE, db.client, store).refresh();
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  let report;
  try {
    report = await new DynamoSearchIndex(TABLE, db.client, store).refresh();
  } finally {
    db.client.middlewareStack.remove(name);
  }
  expect(replaced).toBe(true);
  const now = await published();
  expect(now.id).not.toBe(first.id);
  expect(report).toMatchObject({ rebuilt: false, version: now.version });
  expect(await published()).toEqual(now);
});

/** The builds' markers (`SEARCHINDEX` / `BUILD#<id>`). */
const markers = async () =>
  (
    (
      await db.doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :build)',
          ExpressionAttributeValues: { ':pk': 'SEARCHINDEX', ':build': 'BUILD#' },
        }),
      )
    ).Items ?? []
  ).map((i) => String(i.sk).slice('BUILD#'.length));

/**
 * Runs a refresh in a process that stops at `point`: every command from then on fails (it is
 * gone), so nothing after it runs, cleanup included.
 */
async function crashedRefresh(point: 'before naming' | 'after naming') {
  let dead = false;
  const name = `crash ${point}`;
  db.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      const publish = isPublish(ctx.commandName, args.input);
      if (publish && point === 'before naming') dead = true;
      if (dead) throw Object.assign(new Error('process gone'), { name: 'ProcessGone' });
      const out = await next(args);
      if (publish) dead = true;
      return out;
    },
    { step: 'initialize', name },
  );
  try {
    await expect(new DynamoSearchIndex(TABLE, db.client, store).refresh()).rejects.toThrow(
      'process gone',
    );
  } finally {
    db.client.middlewareStack.remove(name);
  }
}

test.each(['before naming', 'after naming'] as const)(
  'a build left by a process that stopped %s is collected by a refresh once it is older than the grace period, never before',
  async (point) => {
    // Tests above leave builds behind too (a build unnamed by hand, a refresh that failed after
    // naming): collected first, by a refresh whose clock is past their grace period.
    await new DynamoSearchIndex(TABLE, db.client, store, {
      now: () => Date.now() + ORPHAN_GRACE_MS + 60_000,
    }).refresh();
    expect(await markers()).toEqual([(await published()).id]);
    const start = await published();
    await store.putProduct(product(`sales/crash_${point.replace(' ', '_')}`, 'Crash'));
    const stored = await storedBuilds();
    await crashedRefresh(point);
    const left = await newBuilds(stored);
    const named = await published();
    // Before naming: its own chunks are left, unnamed. After: the build it replaced is left.
    const orphan = point === 'before naming' ? left[0]! : start.id;
    if (point === 'before naming') {
      expect(named).toEqual(start);
      expect(left).toHaveLength(1);
    } else {
      expect(left).toEqual([named.id]);
      expect(named.id).not.toBe(start.id);
    }
    expect(await chunkPartitions(orphan)).not.toHaveLength(0);
    expect(await markers()).toContain(orphan);

    // Within the grace period it may be a build under way in another process: left alone (the
    // refresh builds when the catalog is ahead of the named build: stopped before naming).
    const at = Date.now();
    const soon = new DynamoSearchIndex(TABLE, db.client, store, { now: () => at + 60_000 });
    expect((await soon.refresh()).rebuilt).toBe(point === 'before naming');
    expect(await chunkPartitions(orphan)).not.toHaveLength(0);

    // Past it: collected, the named build's chunks kept. Counted: the sweep's refresh of a
    // current index, the Query of the markers, then per build left its claim, one BatchWriteItem
    // of its chunks (25 a batch) and one DeleteItem of its marker.
    const current = await version();
    const commands: string[] = [];
    const count = 'countCollect';
    db.client.middlewareStack.add(
      (next, ctx) => async (args) => {
        commands.push(ctx.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: count },
    );
    try {
      const later = new DynamoSearchIndex(TABLE, db.client, store, {
        now: () => at + ORPHAN_GRACE_MS + 60_000,
      });
      expect(await later.refresh()).toMatchObject({ rebuilt: false, version: current });
      expect(commands).toEqual([
        'GetItemCommand',
        'GetItemCommand',
        'QueryCommand',
        'TransactWriteItemsCommand', // the claim: not named, so never to be
        'BatchWriteItemCommand',
        'DeleteItemCommand',
      ]);
    } finally {
      db.client.middlewareStack.remove(count);
    }
    expect(await chunkPartitions(orphan)).toHaveLength(0);
    const now = await published();
    expect(await newBuilds(stored)).toEqual([now.id]);
    expect(await chunkPartitions(now.id)).toHaveLength(now.chunks);
    expect(await markers()).toEqual([now.id]);
  },
);

test('a build is asked of the worker once a minute at most, across processes', async () => {
  let now = Date.now() + 10 * ORPHAN_GRACE_MS;
  const a = new DynamoSearchIndex(TABLE, db.client, store, { now: () => now });
  const b = new DynamoSearchIndex(TABLE, db.client, store, { now: () => now });
  expect(await a.claimBuildRequest()).toBe(true);
  expect(await b.claimBuildRequest()).toBe(false);
  now += BUILD_REQUEST_EVERY_MS - 1;
  expect(await a.claimBuildRequest()).toBe(false);
  expect(await b.claimBuildRequest()).toBe(false);
  // A minute on: one of them again.
  now += 1;
  expect(await b.claimBuildRequest()).toBe(true);
  expect(await a.claimBuildRequest()).toBe(false);
});

test('a build collected while it is being written (by a collector whose clock is past the grace period) is never named with chunks missing', async () => {
  // The catalog at the named build: the collector then has nothing to build, and collects.
  await new DynamoSearchIndex(TABLE, db.client, store).refresh();
  const before = await published();
  const stored = await storedBuilds();
  let release!: () => void;
  const resume = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const paused = new Promise<void>((r) => (reached = r));
  let puts = 0;
  const name = 'pauseBuilder';
  db.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      // The builder stops after its first batch of chunks (its marker written).
      if (
        ctx.commandName === 'BatchWriteItemCommand' &&
        JSON.stringify(args.input).includes('PutRequest') &&
        ++puts === 2
      ) {
        reached();
        await resume;
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  const builder = new DynamoSearchIndex(TABLE, db.client, store, { chunkBytes: 4 });
  const building = builder.refresh(true);
  let report;
  try {
    await paused;
    await new DynamoSearchIndex(TABLE, db.client, store, {
      now: () => Date.now() + ORPHAN_GRACE_MS + 60_000,
    }).refresh();
  } finally {
    release();
    report = await building;
    db.client.middlewareStack.remove(name);
  }
  // The builder lost: the build named is still the complete one, and it loads.
  expect(report).toMatchObject({ rebuilt: false });
  const named = await published();
  expect(named).toEqual(before);
  expect(await chunkPartitions(named.id)).toHaveLength(named.chunks);
  const fresh = new DynamoSearchIndex(TABLE, db.client, store);
  expect((await fresh.current()).version).toBe(named.version);
  expect(await markers()).toEqual([named.id]);
  // The chunks the builder wrote after the collection are deleted by the builder.
  expect(await newBuilds(stored)).toEqual([]);
});
