import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import {
  ensureTable,
  LEVEL_OPEN_OPTIONS,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { keepItemReads } from '../../functions/adapters/local/in-process-dynamo';

/* eslint-disable @typescript-eslint/no-require-imports -- dynalite's LevelDB, as it loads it */
const { ClassicLevel } = require('classic-level') as {
  ClassicLevel: { prototype: { _open(o: object): Promise<void> } };
};
const { AbstractIterator } = require('abstract-level') as {
  AbstractIterator: { prototype: object };
};
/** What every level iterator (entries, keys, values) closes with. */
const CommonIterator = Object.getPrototypeOf(AbstractIterator.prototype) as {
  close(): Promise<void>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The embedded store's memory in the server's process (docs/benchmarks.md, "Scale"): LevelDB is
 * opened with its table cache and block cache bounded, and no Query or Scan leaves its LevelDB
 * iterator open (an open iterator pins the tables it read, each mapped into the process).
 */
const TABLE = 'memory';
let dir: string;
let dynamo: EmbeddedDynamo | undefined;

beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'meshgate-memory-'))));
afterEach(async () => {
  jest.restoreAllMocks();
  await dynamo?.close();
  dynamo = undefined;
  rmSync(dir, { recursive: true, force: true });
});

test('a store on disk opens LevelDB once, with the bounded table cache and block cache', async () => {
  const open = jest.spyOn(ClassicLevel.prototype, '_open');
  dynamo = await startEmbeddedDynamo({ path: join(dir, 'dynamodb') });
  await ensureTable(dynamo.client, TABLE);
  expect(open).toHaveBeenCalledTimes(1);
  expect(open.mock.calls[0]![0]).toMatchObject({
    maxOpenFiles: LEVEL_OPEN_OPTIONS.maxOpenFiles,
    cacheSize: LEVEL_OPEN_OPTIONS.cacheSize,
  });
  expect(LEVEL_OPEN_OPTIONS.maxOpenFiles).toBeLessThan(1000);
});

test.each([
  ['in memory', false],
  ['on disk', true],
])(
  'every Query and Scan closes its LevelDB iterator once it has answered (%s)',
  async (_, onDisk) => {
    dynamo = await startEmbeddedDynamo(onDisk ? { path: join(dir, 'dynamodb') } : {});
    await ensureTable(dynamo.client, TABLE);
    const doc = documentClient(dynamo.client);
    const items = Array.from({ length: 25 }, (_, i) => ({
      pk: 'P',
      sk: String(i).padStart(3, '0'),
      gsi1pk: 'G',
      gsi1sk: String(i).padStart(3, '0'),
    }));
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [TABLE]: items.map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    const close = jest.spyOn(CommonIterator, 'close');
    const query = (index?: string, limit?: number) =>
      doc.send(
        new QueryCommand({
          TableName: TABLE,
          ...(index
            ? { IndexName: index, KeyConditionExpression: 'gsi1pk = :p' }
            : { KeyConditionExpression: 'pk = :p' }),
          ExpressionAttributeValues: { ':p': index ? 'G' : 'P' },
          ...(limit ? { Limit: limit } : {}),
        }),
      );
    // Stopped by its Limit, read to the end of its range, through an index, a scan.
    expect((await query(undefined, 5)).Items).toHaveLength(5);
    expect((await query()).Items).toHaveLength(25);
    expect((await query('gsi1', 7)).Items).toHaveLength(7);
    expect((await doc.send(new ScanCommand({ TableName: TABLE, Limit: 3 }))).Items).toHaveLength(3);
    // Each answered: its iterator closed (a close is asynchronous; the answers came first).
    await new Promise((r) => setTimeout(r, 10));
    expect(close.mock.calls.length).toBeGreaterThanOrEqual(4);
    // And the answers page as before: the next page starts after the last key handed out.
    const first = await query(undefined, 10);
    const next = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': 'P' },
        ExclusiveStartKey: first.LastEvaluatedKey,
      }),
    );
    expect(next.Items!.map((i) => i.sk)).toEqual(items.slice(10).map((i) => i.sk));
  },
);

test('the item reads kept in memory are bounded by their text as well as their number', async () => {
  const values = new Map(
    ['a', 'b', 'c', 'd', 'e'].map((k) => [k, { key: k, pad: 'x'.repeat(280) }] as const),
  );
  const reads: string[] = [];
  const db = {
    get: (key: string, cb: (err: unknown, value?: unknown) => void) => {
      reads.push(key);
      setImmediate(() => cb(null, values.get(key)));
    },
    put: jest.fn(),
    del: jest.fn(),
    batch: jest.fn(),
  };
  const size = JSON.stringify(values.get('a')).length;
  // Room for 3 values' text, and many more by count.
  keepItemReads({ db }, 1000, size * 3);
  const get = (key: string) =>
    new Promise<unknown>((resolve, reject) =>
      db.get(key, (err, value) => (err ? reject(err) : resolve(value))),
    );
  for (const k of ['a', 'b', 'c', 'd', 'e']) await get(k);
  expect(reads).toEqual(['a', 'b', 'c', 'd', 'e']);
  // The last three are kept; the first two were let go and are read again.
  for (const k of ['c', 'd', 'e']) expect(await get(k)).toEqual(values.get(k));
  expect(reads).toEqual(['a', 'b', 'c', 'd', 'e']);
  await get('a');
  expect(reads).toEqual(['a', 'b', 'c', 'd', 'e', 'a']);
});

test('an item kept again with the value written counts in the bound on text', async () => {
  const small = (k: string) => ({ key: k, pad: 'x'.repeat(280) });
  const values = new Map<string, unknown>(['a', 'b', 'c'].map((k) => [k, small(k)]));
  const reads: string[] = [];
  const db = {
    get: (key: string, cb: (err: unknown, value?: unknown) => void) => {
      reads.push(key);
      setImmediate(() => cb(null, values.get(key)));
    },
    put: (key: string, value: unknown, cb: (err?: unknown) => void) => {
      values.set(key, value);
      setImmediate(() => cb());
    },
    del: jest.fn(),
    batch: jest.fn(),
  };
  const size = JSON.stringify(small('a')).length;
  keepItemReads({ db }, 1000, size * 3);
  const get = (key: string) =>
    new Promise<unknown>((resolve, reject) =>
      db.get(key, (err, value) => (err ? reject(err) : resolve(value))),
    );
  for (const k of ['a', 'b', 'c']) await get(k);
  // 'a' is written again, twice its size: kept with its new value, it leaves room for one more.
  const big = { key: 'a', pad: 'y'.repeat(2 * size) };
  await new Promise<void>((resolve) => db.put('a', big, () => resolve()));
  expect(await get('a')).toEqual(big);
  expect(reads).toEqual(['a', 'b', 'c']);
  await get('b');
  await get('c');
  // Not all three fit any more: at least one of them was read from the database again.
  expect(reads.length).toBeGreaterThan(3);
});
