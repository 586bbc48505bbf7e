import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { embeddedTables } from '../support/embedded-tables';

const TABLE = 'tx-test';
const OTHER = 'tx-other';

const db = embeddedTables(TABLE, OTHER);

type Item = Record<string, unknown>;
type TransactItems = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>;

let seq = 0;
/** A partition key no other test uses. */
const fresh = (label: string) => `${label}#${++seq}`;

const get = async (pk: string, sk = 'META', table = TABLE): Promise<Item | undefined> =>
  (await db.doc.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true })))
    .Item;

const put = (item: Item, table = TABLE) =>
  db.doc.send(new PutCommand({ TableName: table, Item: item }));

const transact = (items: TransactItems) =>
  db.doc.send(new TransactWriteCommand({ TransactItems: items }));

/** Runs `fn`, which must fail; returns what it failed with. */
async function failure(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

const codes = (err: Record<string, unknown>) =>
  ((err.CancellationReasons ?? []) as Array<{ Code?: string }>).map((r) => r.Code);

const queryGsi1 = async (gsi1pk: string): Promise<Item[]> =>
  (
    await db.doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': gsi1pk },
      }),
    )
  ).Items ?? [];

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms} ms (deadlock?)`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('commit and cancel', () => {
  test('a transaction of three Puts commits all three', async () => {
    const pks = [fresh('A'), fresh('B'), fresh('C')];
    await transact(
      pks.map((pk, i) => ({ Put: { TableName: TABLE, Item: { pk, sk: 'META', n: i } } })),
    );
    for (const [i, pk] of pks.entries()) expect(await get(pk)).toEqual({ pk, sk: 'META', n: i });
  });

  test('Puts may span two tables', async () => {
    const pk = fresh('X');
    await transact([
      { Put: { TableName: TABLE, Item: { pk, sk: 'META', where: 'main' } } },
      { Put: { TableName: OTHER, Item: { pk, sk: 'META', where: 'other' } } },
    ]);
    expect((await get(pk))?.where).toBe('main');
    expect((await get(pk, 'META', OTHER))?.where).toBe('other');
  });

  test('when the second item’s condition fails, nothing is written and every item gets a reason', async () => {
    const [a, b, c] = [fresh('A'), fresh('B'), fresh('C')];
    await put({ pk: b, sk: 'META', v: 'existing' });
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META', v: 'new' } } },
        {
          Put: {
            TableName: TABLE,
            Item: { pk: b, sk: 'META', v: 'new' },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        { Put: { TableName: TABLE, Item: { pk: c, sk: 'META', v: 'new' } } },
      ]),
    );
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect(err.name).toBe('TransactionCanceledException');
    expect(err.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
    ]);
    expect(err.message).toMatch(/cancel/i);
    expect(await get(a)).toBeUndefined();
    expect(await get(b)).toEqual({ pk: b, sk: 'META', v: 'existing' });
    expect(await get(c)).toBeUndefined();
  });

  test('a failing condition that compares values (not only existence) also cancels', async () => {
    const [a, b] = [fresh('A'), fresh('B')];
    await put({ pk: b, sk: 'META', version: 3 });
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        {
          Put: {
            TableName: TABLE,
            Item: { pk: b, sk: 'META', version: 3 },
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': 2 },
          },
        },
      ]),
    );
    expect(codes(err)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(await get(a)).toBeUndefined();
  });

  test('several failing conditions are each reported', async () => {
    const [a, b, c] = [fresh('A'), fresh('B'), fresh('C')];
    await put({ pk: a, sk: 'META' });
    await put({ pk: c, sk: 'META' });
    const err = await failure(() =>
      transact(
        [a, b, c].map((pk) => ({
          Put: {
            TableName: TABLE,
            Item: { pk, sk: 'META', touched: true },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      ),
    );
    expect(codes(err)).toEqual(['ConditionalCheckFailed', 'None', 'ConditionalCheckFailed']);
    expect(await get(b)).toBeUndefined();
    expect((await get(a))?.touched).toBeUndefined();
  });

  test('a Delete with attribute_exists on a missing item cancels the transaction', async () => {
    const [missing, other] = [fresh('M'), fresh('O')];
    const err = await failure(() =>
      transact([
        {
          Delete: {
            TableName: TABLE,
            Key: { pk: missing, sk: 'META' },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        { Put: { TableName: TABLE, Item: { pk: other, sk: 'META' } } },
      ]),
    );
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect(codes(err)).toEqual(['ConditionalCheckFailed', 'None']);
    expect(await get(other)).toBeUndefined();
  });

  test('a Delete of an existing item commits with the rest', async () => {
    const [gone, added] = [fresh('G'), fresh('N')];
    await put({ pk: gone, sk: 'META' });
    await transact([
      {
        Delete: {
          TableName: TABLE,
          Key: { pk: gone, sk: 'META' },
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      { Put: { TableName: TABLE, Item: { pk: added, sk: 'META' } } },
    ]);
    expect(await get(gone)).toBeUndefined();
    expect(await get(added)).toBeDefined();
  });

  test('an unconditional Delete of a missing item is not an error', async () => {
    const [missing, added] = [fresh('M'), fresh('N')];
    await transact([
      { Delete: { TableName: TABLE, Key: { pk: missing, sk: 'META' } } },
      { Put: { TableName: TABLE, Item: { pk: added, sk: 'META' } } },
    ]);
    expect(await get(missing)).toBeUndefined();
    expect(await get(added)).toBeDefined();
  });

  test('a failing ConditionCheck alone cancels the Puts, and leaves the checked item as it was', async () => {
    const [guard, a, b] = [fresh('G'), fresh('A'), fresh('B')];
    await put({ pk: guard, sk: 'META', open: false });
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        {
          ConditionCheck: {
            TableName: TABLE,
            Key: { pk: guard, sk: 'META' },
            ConditionExpression: '#o = :t',
            ExpressionAttributeNames: { '#o': 'open' },
            ExpressionAttributeValues: { ':t': true },
          },
        },
        { Put: { TableName: TABLE, Item: { pk: b, sk: 'META' } } },
      ]),
    );
    expect(codes(err)).toEqual(['None', 'ConditionalCheckFailed', 'None']);
    expect(await get(a)).toBeUndefined();
    expect(await get(b)).toBeUndefined();
    expect(await get(guard)).toEqual({ pk: guard, sk: 'META', open: false });
  });

  test('a passing ConditionCheck lets the Puts commit and writes nothing itself', async () => {
    const [guard, a] = [fresh('G'), fresh('A')];
    await put({ pk: guard, sk: 'META', open: true });
    await transact([
      {
        ConditionCheck: {
          TableName: TABLE,
          Key: { pk: guard, sk: 'META' },
          ConditionExpression: '#o = :t',
          ExpressionAttributeNames: { '#o': 'open' },
          ExpressionAttributeValues: { ':t': true },
        },
      },
      { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
    ]);
    expect(await get(a)).toBeDefined();
    expect(await get(guard)).toEqual({ pk: guard, sk: 'META', open: true });
  });
});

describe('refused transactions', () => {
  test('two operations on one item are a ValidationException, and nothing is written', async () => {
    const [a, b] = [fresh('A'), fresh('B')];
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: b, sk: 'META' } } },
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META', n: 1 } } },
        { Delete: { TableName: TABLE, Key: { pk: a, sk: 'META' } } },
      ]),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/multiple operations on one item/);
    expect(await get(a)).toBeUndefined();
    expect(await get(b)).toBeUndefined();
  });

  test('the same key in two different tables is two items, not one', async () => {
    const pk = fresh('S');
    await transact([
      { Put: { TableName: TABLE, Item: { pk, sk: 'META' } } },
      { Put: { TableName: OTHER, Item: { pk, sk: 'META' } } },
    ]);
    expect(await get(pk)).toBeDefined();
    expect(await get(pk, 'META', OTHER)).toBeDefined();
  });

  test('an Update applies its expression with the Puts, creating the item from its key when missing', async () => {
    const [a, b, c] = [fresh('A'), fresh('B'), fresh('C')];
    await put({ pk: b, sk: 'META', n: 1, keep: 'yes', gone: 'soon' });
    await transact([
      { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
      {
        Update: {
          TableName: TABLE,
          Key: { pk: b, sk: 'META' },
          UpdateExpression:
            'SET #label = :label, tally = if_not_exists(tally, :zero) + :n REMOVE gone ADD n :n, tags :tags',
          ConditionExpression: 'n = :one',
          ExpressionAttributeNames: { '#label': 'label' },
          ExpressionAttributeValues: {
            ':label': 'updated',
            ':zero': 0,
            ':n': 2,
            ':one': 1,
            ':tags': new Set(['x']),
          },
        },
      },
      {
        Update: {
          TableName: TABLE,
          Key: { pk: c, sk: 'META' },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ]);
    expect(await get(a)).toBeDefined();
    expect(await get(b)).toEqual({
      pk: b,
      sk: 'META',
      n: 3,
      keep: 'yes',
      label: 'updated',
      tally: 2,
      tags: new Set(['x']),
    });
    expect(await get(c)).toEqual({ pk: c, sk: 'META', n: 1 });
  });

  test("an Update whose condition fails cancels the transaction, and an Update's index keys are maintained", async () => {
    const [a, b] = [fresh('A'), fresh('B')];
    await put({ pk: b, sk: 'META', n: 1 });
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        {
          Update: {
            TableName: TABLE,
            Key: { pk: b, sk: 'META' },
            UpdateExpression: 'SET n = :n',
            ConditionExpression: 'n = :two',
            ExpressionAttributeValues: { ':n': 5, ':two': 2 },
          },
        },
      ]),
    );
    expect(err.name).toBe('TransactionCanceledException');
    expect(codes(err)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(await get(a)).toBeUndefined();
    expect((await get(b))?.n).toBe(1);

    const index = fresh('IDX');
    await transact([
      {
        Update: {
          TableName: TABLE,
          Key: { pk: b, sk: 'META' },
          UpdateExpression: 'SET gsi1pk = :p, gsi1sk = :s',
          ExpressionAttributeValues: { ':p': index, ':s': '1' },
        },
      },
    ]);
    expect((await queryGsi1(index)).map((i) => i.pk)).toEqual([b]);
  });

  test('an Update that cannot apply, or that uses AttributeUpdates, is refused and nothing is written', async () => {
    const [a, b] = [fresh('A'), fresh('B')];
    await put({ pk: b, sk: 'META', n: 'not a number' });
    const typeErr = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        {
          Update: {
            TableName: TABLE,
            Key: { pk: b, sk: 'META' },
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ]),
    );
    expect(typeErr.name).toBe('ValidationException');
    expect(await get(a)).toBeUndefined();
    expect((await get(b))?.n).toBe('not a number');

    const legacy = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        {
          Update: {
            TableName: TABLE,
            Key: { pk: b, sk: 'META' },
            AttributeUpdates: { n: { Action: 'PUT', Value: 2 } },
          } as never,
        },
      ]),
    );
    expect(legacy.name).toBe('ValidationException');
    expect(legacy.message).toMatch(/UpdateExpression/);
    expect(await get(a)).toBeUndefined();

    const keyErr = await failure(() =>
      transact([
        {
          Update: {
            TableName: TABLE,
            Key: { pk: b, sk: 'META' },
            UpdateExpression: 'SET sk = :s',
            ExpressionAttributeValues: { ':s': 'OTHER' },
          },
        },
      ]),
    );
    expect(keyErr.name).toBe('ValidationException');
    expect(await get(b, 'OTHER')).toBeUndefined();
  });

  test('SET arithmetic and list_append check both operands: a wrong type is refused and nothing is written', async () => {
    const b = fresh('B');
    await put({ pk: b, sk: 'META', n: 1, s: 'text', l: ['a'] });
    const update = (UpdateExpression: string, values: Record<string, unknown>) =>
      transact([
        {
          Update: {
            TableName: TABLE,
            Key: { pk: b, sk: 'META' },
            UpdateExpression,
            ExpressionAttributeValues: values,
          },
        },
      ]);
    await update('SET n = n - :one, l = list_append(l, :more)', { ':one': 1, ':more': ['b'] });
    expect(await get(b)).toMatchObject({ n: 0, l: ['a', 'b'] });
    for (const [expression, values] of [
      ['SET n = s + :one', { ':one': 1 }],
      ['SET n = :one + s', { ':one': 1 }],
      ['SET l = list_append(s, :more)', { ':more': ['c'] }],
      ['SET l = list_append(:more, n)', { ':more': ['c'] }],
    ] as const) {
      const err = await failure(() => update(expression, values));
      expect(err.name).toBe('ValidationException');
      expect(err.message).toMatch(/incorrect data type/);
    }
    expect(await get(b)).toMatchObject({ n: 0, s: 'text', l: ['a', 'b'] });
  });

  test('an empty transaction is a ValidationException', async () => {
    const err = await failure(() => transact([]));
    expect(err.name).toBe('ValidationException');
  });

  test('an item without its key attributes is refused, and nothing is written', async () => {
    const a = fresh('A');
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        { Put: { TableName: TABLE, Item: { pk: fresh('B') } } },
      ]),
    );
    expect(err.name).toBe('ValidationException');
    expect(await get(a)).toBeUndefined();
  });

  test('a missing table is a ResourceNotFoundException, and nothing is written', async () => {
    const a = fresh('A');
    const err = await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk: a, sk: 'META' } } },
        { Put: { TableName: 'no-such-table', Item: { pk: a, sk: 'META' } } },
      ]),
    );
    expect(err.name).toBe('ResourceNotFoundException');
    expect(await get(a)).toBeUndefined();
  });
});

describe('secondary indexes', () => {
  test('a transactional Put writes the GSI entry and a transactional Delete removes it', async () => {
    const pk = fresh('I');
    const gsi1pk = fresh('OWNER');
    await transact([
      { Put: { TableName: TABLE, Item: { pk, sk: 'META', gsi1pk, gsi1sk: '1', label: 'first' } } },
    ]);
    expect(await queryGsi1(gsi1pk)).toEqual([
      { pk, sk: 'META', gsi1pk, gsi1sk: '1', label: 'first' },
    ]);

    await transact([
      {
        Delete: {
          TableName: TABLE,
          Key: { pk, sk: 'META' },
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
    ]);
    expect(await queryGsi1(gsi1pk)).toEqual([]);
  });

  test('replacing an item moves its GSI entry, and dropping the attributes removes it (sparse index)', async () => {
    const pk = fresh('I');
    const [before, after] = [fresh('OWNER'), fresh('OWNER')];
    await transact([
      { Put: { TableName: TABLE, Item: { pk, sk: 'META', gsi1pk: before, gsi1sk: '1' } } },
    ]);
    await transact([
      { Put: { TableName: TABLE, Item: { pk, sk: 'META', gsi1pk: after, gsi1sk: '1' } } },
    ]);
    expect(await queryGsi1(before)).toEqual([]);
    expect((await queryGsi1(after)).map((i) => i.pk)).toEqual([pk]);

    await transact([{ Put: { TableName: TABLE, Item: { pk, sk: 'META' } } }]);
    expect(await queryGsi1(after)).toEqual([]);
  });

  test('a cancelled transaction leaves the GSI untouched', async () => {
    const [pk, taken] = [fresh('I'), fresh('T')];
    const gsi1pk = fresh('OWNER');
    await put({ pk: taken, sk: 'META' });
    await failure(() =>
      transact([
        { Put: { TableName: TABLE, Item: { pk, sk: 'META', gsi1pk, gsi1sk: '1' } } },
        {
          Put: {
            TableName: TABLE,
            Item: { pk: taken, sk: 'META' },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]),
    );
    expect(await queryGsi1(gsi1pk)).toEqual([]);
  });
});

describe('concurrency', () => {
  /** Reads the counter, then writes version+1 on condition that nobody did so first. */
  async function tryIncrement(pk: string, attempt: string): Promise<number | undefined> {
    const v = (await get(pk))!.version as number;
    try {
      await transact([
        {
          Put: {
            TableName: TABLE,
            Item: { pk, sk: 'META', version: v + 1, by: attempt },
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': v },
          },
        },
        { Put: { TableName: TABLE, Item: { pk, sk: `LOG#${attempt}`, version: v + 1 } } },
      ]);
      return v + 1;
    } catch (err) {
      if (err instanceof TransactionCanceledException) return undefined;
      throw err;
    }
  }

  const logOf = async (pk: string) =>
    (
      await db.doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :l)',
          ExpressionAttributeValues: { ':p': pk, ':l': 'LOG#' },
        }),
      )
    ).Items ?? [];

  test('50 concurrent conditional increments: exactly one wins per version', async () => {
    const pk = fresh('COUNTER');
    const initial = 10;
    await put({ pk, sk: 'META', version: initial });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => tryIncrement(pk, `a${i}`)),
    );
    const won = results.filter((v): v is number => v !== undefined);
    const final = (await get(pk))!.version as number;

    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(won.length).toBe(final - initial);
    expect(new Set(won).size).toBe(won.length);
    expect([...won].sort((x, y) => x - y)).toEqual(
      Array.from({ length: won.length }, (_, i) => initial + 1 + i),
    );
    // The log item of a transaction is written exactly when its counter write is.
    const log = await logOf(pk);
    expect(log).toHaveLength(won.length);
    expect(log.map((l) => l.version).sort((x, y) => (x as number) - (y as number))).toEqual(
      [...won].sort((x, y) => x - y),
    );
  });

  test('30 writers retrying until they win produce versions 1..30, each exactly once', async () => {
    const pk = fresh('COUNTER');
    await put({ pk, sk: 'META', version: 0 });
    let losses = 0;
    const writer = async (id: string): Promise<number> => {
      for (;;) {
        const v = await tryIncrement(pk, id);
        if (v !== undefined) return v;
        losses++;
      }
    };
    const won = await withTimeout(
      Promise.all(Array.from({ length: 30 }, (_, i) => writer(`w${i}`))),
      20_000,
      'the retrying writers',
    );
    expect([...won].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await get(pk))!.version).toBe(30);
    expect(await logOf(pk)).toHaveLength(30);
    expect(losses).toBeGreaterThan(0); // the race was real
  });

  test('transactions over overlapping items in opposite orders all complete (no deadlock)', async () => {
    const keys = Array.from({ length: 5 }, () => fresh('K'));
    const other = fresh('K');
    const txs = Array.from({ length: 60 }, (_, i) => {
      const order = i % 2 === 0 ? keys : [...keys].reverse();
      const items: TransactItems = order.map((pk) => ({
        Put: { TableName: TABLE, Item: { pk, sk: 'META', by: i } },
      }));
      // Some also touch a second table, some a key only they share.
      if (i % 3 === 0)
        items.push({ Put: { TableName: OTHER, Item: { pk: keys[0], sk: 'META', by: i } } });
      if (i % 5 === 0)
        items.unshift({ Put: { TableName: TABLE, Item: { pk: other, sk: 'META', by: i } } });
      return transact(items);
    });
    await withTimeout(Promise.all(txs), 10_000, 'the overlapping transactions');
    // Every key holds the write of one and the same transaction: none was applied half-way
    // over another.
    const bys = await Promise.all(keys.map(async (pk) => (await get(pk))!.by));
    expect(new Set(bys).size).toBe(1);
  });

  test('overlapping conditional transactions in opposite orders: each is all or nothing', async () => {
    const [x, y] = [fresh('P'), fresh('Q')];
    await put({ pk: x, sk: 'META', version: 0 });
    await put({ pk: y, sk: 'META', version: 0 });
    const bump = async (first: string, second: string): Promise<boolean> => {
      const [vx, vy] = [
        (await get(first))!.version as number,
        (await get(second))!.version as number,
      ];
      const cond = (v: number) => ({
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': v },
      });
      try {
        await transact([
          {
            Put: {
              TableName: TABLE,
              Item: { pk: first, sk: 'META', version: vx + 1 },
              ...cond(vx),
            },
          },
          {
            Put: {
              TableName: TABLE,
              Item: { pk: second, sk: 'META', version: vy + 1 },
              ...cond(vy),
            },
          },
        ]);
        return true;
      } catch (err) {
        if (err instanceof TransactionCanceledException) return false;
        throw err;
      }
    };
    const results = await withTimeout(
      Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? bump(x, y) : bump(y, x)))),
      10_000,
      'the conditional transactions',
    );
    const wins = results.filter(Boolean).length;
    expect(wins).toBeGreaterThanOrEqual(1);
    // Both counters moved together, once per winning transaction.
    expect((await get(x))!.version).toBe(wins);
    expect((await get(y))!.version).toBe(wins);
  });

  test('a single-item write waits for a transaction holding its lock, and is not lost', async () => {
    const pk = fresh('L');
    const writes = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? transact([
            { Put: { TableName: TABLE, Item: { pk, sk: 'META', n: i } } },
            { Put: { TableName: TABLE, Item: { pk, sk: `T#${i}` } } },
          ])
        : put({ pk, sk: `S#${i}` }),
    );
    await withTimeout(Promise.all(writes), 10_000, 'the mixed writes');
    const all = (
      await db.doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': pk },
        }),
      )
    ).Items!;
    expect(all).toHaveLength(21); // META + 10 T# + 10 S#
  });
});
