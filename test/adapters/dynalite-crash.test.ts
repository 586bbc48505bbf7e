import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { CRASH_TABLE, ITEMS, WRITERS, pad } from '../support/transaction-crash-child';

/**
 * An embedded TransactWriteItems is all or nothing, whenever the process stops: its items and
 * their index entries are all on disk, or none is.
 */

type Item = Record<string, unknown>;

async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const out: Item[] = [];
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    out.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

async function count(doc: DynamoDBDocumentClient, table: string, index?: string): Promise<number> {
  let n = 0;
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: table, IndexName: index, Select: 'COUNT', ExclusiveStartKey }),
    );
    n += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return n;
}

describe('a failure between two writes of a transaction', () => {
  // The store dynalite keeps to itself, caught as embedded-dynamo catches it, so that the test can
  // make its root LevelDB database fail a write.
  let store: { db: Record<'put' | 'del' | 'batch', (...args: unknown[]) => unknown> };
  let dynamo: EmbeddedDynamo;
  let doc: DynamoDBDocumentClient;
  /** When armed, the `at`-th write to the root database and every later one fail unwritten. */
  const fault = { armed: false, at: 0, writes: 0 };
  const TABLE = 'fault';

  beforeAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dbModule = require('dynalite/db') as { create: (o: unknown) => unknown };
    const create = dbModule.create;
    dbModule.create = (o) => (store = create(o) as typeof store);
    try {
      dynamo = await startEmbeddedDynamo();
    } finally {
      dbModule.create = create;
    }
    for (const method of ['put', 'del', 'batch'] as const) {
      const real = store.db[method];
      store.db[method] = (...args: unknown[]) => {
        if (fault.armed && ++fault.writes >= fault.at) {
          // As if the process had stopped here: this write and all after it never land.
          const cb = args[args.length - 1] as (err: Error) => void;
          setImmediate(cb, new Error('injected failure'));
          return;
        }
        return real.apply(store.db, args);
      };
    }
    await ensureTable(dynamo.client, TABLE);
    doc = documentClient(dynamo.client);
  });
  afterAll(() => dynamo?.close());

  /** What GetItem and the gsi1/gsi2 Queries show of round `p`'s keys, with `p` stripped. */
  async function view(p: string) {
    const strip = (items: Item[]) => items.map((i) => String(i.pk).slice(p.length)).sort();
    const item = async (k: string) =>
      (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: p + k, sk: 'META' } }))).Item;
    const gsi = async (n: 1 | 2, key: string) =>
      strip(
        await queryAll(doc, {
          TableName: TABLE,
          IndexName: `gsi${n}`,
          KeyConditionExpression: `gsi${n}pk = :k`,
          ExpressionAttributeValues: { ':k': p + key },
        }),
      );
    return {
      A: !!(await item('A')),
      B: !!(await item('B')),
      U: (await item('U'))?.v,
      D: !!(await item('D')),
      gsi1old: await gsi(1, 'old'),
      gsi1new: await gsi(1, 'new'),
      gsi1del: await gsi(1, 'del'),
      gsi2: await gsi(2, 'log'),
    };
  }
  const BEFORE = {
    ...{ A: false, B: false, U: 0, D: true },
    ...{ gsi1old: ['U'], gsi1new: [], gsi1del: ['D'], gsi2: ['D'] },
  };
  const AFTER = {
    ...{ A: true, B: true, U: 1, D: false },
    ...{ gsi1old: [], gsi1new: ['A', 'B', 'U'], gsi1del: [], gsi2: ['A', 'B'] },
  };

  test('a failure at any write of a Put+Put+Update+Delete transaction leaves all of it or none of it (items and GSI entries)', async () => {
    const outcomes: string[] = [];
    for (let at = 1; ; at++) {
      const p = `R${at}#`;
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: `${p}U`, sk: 'META', v: 0, gsi1pk: `${p}old`, gsi1sk: 'u' },
        }),
      );
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: {
            ...{ pk: `${p}D`, sk: 'META', gsi1pk: `${p}del`, gsi1sk: 'd' },
            ...{ gsi2pk: `${p}log`, gsi2sk: 'd' },
          },
        }),
      );
      expect(await view(p)).toEqual(BEFORE);
      const put = (k: string) => ({
        Put: {
          TableName: TABLE,
          Item: {
            ...{ pk: p + k, sk: 'META', gsi1pk: `${p}new`, gsi1sk: k },
            ...{ gsi2pk: `${p}log`, gsi2sk: k },
          },
        },
      });
      Object.assign(fault, { armed: true, at, writes: 0 });
      const ok = await doc
        .send(
          new TransactWriteCommand({
            TransactItems: [
              put('A'),
              put('B'),
              {
                Update: {
                  TableName: TABLE,
                  Key: { pk: `${p}U`, sk: 'META' },
                  UpdateExpression: 'SET v = :one, gsi1pk = :new',
                  ExpressionAttributeValues: { ':one': 1, ':new': `${p}new` },
                },
              },
              {
                Delete: {
                  TableName: TABLE,
                  Key: { pk: `${p}D`, sk: 'META' },
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
            ],
          }),
        )
        .then(
          () => true,
          () => false,
        );
      fault.armed = false;
      const seen = await view(p);
      outcomes.push(`${at}: ${ok ? 'committed' : 'failed'}`);
      // The answer and the data agree: committed means all of it, failed means none of it.
      expect({ at, seen }).toEqual({ at, seen: ok ? AFTER : BEFORE });
      if (ok) break;
      await doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: `${p}U`, sk: 'META' } }));
    }
    // The failure was injected at the first write, then the transaction went through.
    expect(outcomes).toEqual(['1: failed', '2: committed']);
  });
});

describe('kill -9 of the server process during transactions', () => {
  const KILLS = 3;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshgate-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Starts the writing child on the folder and kills it `ms` after it is ready (every writer has
   * committed once in this run), while its writers are in the middle of transactions.
   */
  function runAndKill(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(__dirname, '../support/transaction-crash-child.ts'), dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', (d) => {
        if (String(d).includes('ready')) setTimeout(() => child.kill('SIGKILL'), ms);
      });
      child.on('exit', (code, signal) =>
        signal === 'SIGKILL'
          ? resolve()
          : reject(new Error(`the child stopped by itself (${code}): ${stderr}`)),
      );
    });
  }

  /**
   * Opens the folder and checks that every transaction is all there or not at all: for each
   * writer, its head's seq H, its state's seq and gsi3 entry, its H×ITEMS events and their gsi1 and
   * gsi2 entries agree, and nothing of transaction H+1 exists. Returns the heads.
   */
  async function check(): Promise<number[]> {
    const dynamo = await startEmbeddedDynamo({ path: dir });
    try {
      const doc = documentClient(dynamo.client);
      const heads: number[] = [];
      for (let w = 0; w < WRITERS; w++) {
        const get = async (sk: string) =>
          (await doc.send(new GetCommand({ TableName: CRASH_TABLE, Key: { pk: `W${w}`, sk } })))
            .Item;
        const h = ((await get('HEAD'))?.seq as number | undefined) ?? 0;
        heads.push(h);
        expect({ w, state: (await get('STATE'))?.seq }).toEqual({ w, state: h || undefined });
        const stateIndex = await queryAll(doc, {
          TableName: CRASH_TABLE,
          IndexName: 'gsi3',
          KeyConditionExpression: 'gsi3pk = :s AND begins_with(gsi3sk, :w)',
          ExpressionAttributeValues: { ':s': 'STATE', ':w': `${w}#` },
        });
        expect({ w, stateIndex: stateIndex.map((i) => i.gsi3sk) }).toEqual({
          w,
          stateIndex: h ? [`${w}#${pad(h)}`] : [],
        });
        const log = await queryAll(doc, {
          TableName: CRASH_TABLE,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :l',
          ExpressionAttributeValues: { ':l': `LOG#${w}` },
        });
        const expected = Array.from({ length: h * ITEMS }, (_, k) =>
          [pad(Math.floor(k / ITEMS) + 1), k % ITEMS].join('#'),
        );
        expect({ w, log: log.map((i) => i.gsi2sk) }).toEqual({ w, log: expected });
        for (const n of [h, h + 1].filter((n) => n > 0)) {
          const events = await queryAll(doc, {
            TableName: CRASH_TABLE,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': `W${w}#T${n}` },
          });
          const index = await queryAll(doc, {
            TableName: CRASH_TABLE,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :p',
            ExpressionAttributeValues: { ':p': `TX#${w}#${n}` },
          });
          const want = n <= h ? ITEMS : 0;
          expect({ w, n, events: events.length, gsi1: index.length }).toEqual({
            w,
            n,
            events: want,
            gsi1: want,
          });
        }
      }
      // Nothing anywhere beyond that: no stray item or index entry of a transaction cut short.
      const total = heads.reduce((a, h) => a + h * ITEMS, 0);
      const started = heads.filter((h) => h > 0).length;
      expect({
        items: await count(doc, CRASH_TABLE),
        gsi1: await count(doc, CRASH_TABLE, 'gsi1'),
        gsi2: await count(doc, CRASH_TABLE, 'gsi2'),
        gsi3: await count(doc, CRASH_TABLE, 'gsi3'),
      }).toEqual({ items: total + 2 * started, gsi1: total, gsi2: total, gsi3: started });
      return heads;
    } finally {
      await dynamo.close();
    }
  }

  test(`${KILLS} kills at random moments under ${WRITERS} concurrent transaction writers: every transaction is all there or absent after each restart`, async () => {
    let before = 0;
    for (let k = 0; k < KILLS; k++) {
      await runAndKill(150 + Math.floor(Math.random() * 250));
      const heads = await check();
      const done = heads.reduce((a, b) => a + b, 0);
      // Each run got transactions through, so the kills landed among them.
      expect(done).toBeGreaterThan(before);
      before = done;
    }
  }, 60_000);
});
