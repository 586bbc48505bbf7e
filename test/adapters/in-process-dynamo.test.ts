import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { InProcessDynamoHandler } from '../../functions/adapters/local/in-process-dynamo';

/**
 * The embedded store's client calls dynalite in process (in-process-dynamo.ts). Whatever it sends,
 * it must get what a client reaching the same server over HTTP (as AWS mode reaches DynamoDB) gets:
 * the same items, and the same errors with the same names, messages and cancellation reasons.
 */
let dynamo: EmbeddedDynamo;
let http: DynamoDBClient;
const TABLE = 'inproc';

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.client, TABLE);
  http = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  http.destroy();
  await dynamo.close();
});

/** What a command answers through a client: its output without metadata, or its error's name, message and reasons. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any command of the client
async function outcome(client: DynamoDBClient, command: any) {
  try {
    const { $metadata: _, ...out } = (await client.send(command)) as { $metadata: unknown };
    return { ok: out };
  } catch (err) {
    const e = err as Error & {
      CancellationReasons?: unknown;
      $metadata?: { httpStatusCode?: number };
    };
    return {
      error: e.name,
      message: e.message,
      reasons: e.CancellationReasons,
      status: e.$metadata?.httpStatusCode,
    };
  }
}

const key = (id: string) => ({ pk: { S: `THING#${id}` }, sk: { S: 'META' } });

test("the embedded client is served in process, and answers as the server's HTTP clients are answered", async () => {
  expect(dynamo.client.config.requestHandler).toBeInstanceOf(InProcessDynamoHandler);
  let n = 0;
  // Each case runs through both clients, on an item of its own per client.
  const cases = (id: string) => [
    new PutItemCommand({ TableName: TABLE, Item: { ...key(id), n: { N: '1' } } }),
    new PutItemCommand({
      TableName: TABLE,
      Item: { ...key(id), n: { N: '2' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
    new UpdateItemCommand({
      TableName: TABLE,
      Key: key(id),
      UpdateExpression: 'ADD n :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
      ReturnValues: 'ALL_NEW',
    }),
    new GetItemCommand({ TableName: TABLE, Key: key(id), ConsistentRead: true }),
    new GetItemCommand({ TableName: 'no-such-table', Key: key(id) }),
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'x' } } }),
    new PutItemCommand({
      TableName: TABLE,
      Item: key(id),
      ConditionExpression: 'this is not an expression',
    }),
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: TABLE, Item: { ...key(`${id}-t`), n: { N: '1' } } } },
        {
          ConditionCheck: {
            TableName: TABLE,
            Key: key(id),
            ConditionExpression: 'n = :five',
            ExpressionAttributeValues: { ':five': { N: '5' } },
          },
        },
      ],
    }),
    new GetItemCommand({ TableName: TABLE, Key: key(`${id}-t`), ConsistentRead: true }),
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: TABLE, Item: { ...key(`${id}-t`), n: { N: '1' } } } },
        { Delete: { TableName: TABLE, Key: key(id) } },
      ],
    }),
    new GetItemCommand({ TableName: TABLE, Key: key(`${id}-t`), ConsistentRead: true }),
  ];
  const local = cases(`local-${++n}`);
  const remote = cases(`http-${n}`);
  const errors: unknown[] = [];
  for (let i = 0; i < local.length; i++) {
    const mine = await outcome(dynamo.client, local[i]!);
    errors.push(mine.error);
    const theirs = await outcome(http, remote[i]!);
    const same = (v: unknown) => JSON.stringify(v).replaceAll(/local-1|http-1/g, 'ID');
    expect([i, same(mine)]).toEqual([i, same(theirs)]);
  }
  // Both kinds happened: answers and refusals.
  expect(errors).toEqual([
    undefined,
    'ConditionalCheckFailedException',
    undefined,
    undefined,
    'ResourceNotFoundException',
    'ValidationException',
    'ValidationException',
    'TransactionCanceledException',
    undefined,
    undefined,
    undefined,
  ]);
});

test('a table made again with another key is read with its new key at once', async () => {
  const t = 'remade';
  const create = (attr: string) =>
    new CreateTableCommand({
      TableName: t,
      KeySchema: [{ AttributeName: attr, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: attr, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  await dynamo.client.send(create('a'));
  await ensureTable(dynamo.client, t);
  await dynamo.client.send(new PutItemCommand({ TableName: t, Item: { a: { S: '1' } } }));
  await dynamo.client.send(new DeleteTableCommand({ TableName: t }));
  for (let gone = false; !gone; await new Promise((r) => setTimeout(r, 10)))
    gone = await dynamo.client.send(new DescribeTableCommand({ TableName: t })).then(
      () => false,
      () => true,
    );
  await dynamo.client.send(create('b'));
  await ensureTable(dynamo.client, t);
  // Keyed by `b` now: an item with `b` is taken, one with only `a` is refused.
  await dynamo.client.send(new PutItemCommand({ TableName: t, Item: { b: { S: '1' } } }));
  await expect(
    dynamo.client.send(new PutItemCommand({ TableName: t, Item: { a: { S: '2' } } })),
  ).rejects.toThrow(/key/i);
});

test('an item read is kept until a write of it, by any client, single or in a transaction', async () => {
  const k = key('kept');
  const read = async () =>
    (
      await dynamo.client.send(
        new GetItemCommand({ TableName: TABLE, Key: k, ConsistentRead: true }),
      )
    ).Item?.n?.N;
  const add = (client: DynamoDBClient) =>
    client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: k,
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
  await add(dynamo.client);
  expect(await read()).toBe('1');
  expect(await read()).toBe('1'); // kept
  await add(http); // through the server, over HTTP
  expect(await read()).toBe('2');
  await dynamo.client.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Update: {
            TableName: TABLE,
            Key: k,
            UpdateExpression: 'ADD n :ten',
            ExpressionAttributeValues: { ':ten': { N: '10' } },
          },
        },
      ],
    }),
  );
  expect(await read()).toBe('12');
  // Reads and writes interleaved: every write answered is seen by the reads after it (a read
  // never answers less than the value the same task's write just returned).
  await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const written = await (i % 2 ? http : dynamo.client).send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: k,
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      expect(Number(await read())).toBeGreaterThanOrEqual(Number(written.Attributes!.n!.N));
    }),
  );
  expect(await read()).toBe('52');
  await dynamo.client.send(new DeleteItemCommand({ TableName: TABLE, Key: k }));
  expect(await read()).toBeUndefined();
});

test('a kept item written is kept with the value written: the next read does not go to LevelDB', async () => {
  const k = key('written-through');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- dynalite's store, untyped
  const db = (dynamo.client.config.requestHandler as any).store.db;
  const fromLevel = jest.spyOn(db, '_get');
  const read = async () =>
    (
      await dynamo.client.send(
        new GetItemCommand({ TableName: TABLE, Key: k, ConsistentRead: true }),
      )
    ).Item?.n?.N;
  const add = (by: string) => ({
    TableName: TABLE,
    Key: k,
    UpdateExpression: 'ADD n :by',
    ExpressionAttributeValues: { ':by': { N: by } },
  });
  try {
    await dynamo.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { ...k, n: { N: '1' } } }),
    );
    expect(await read()).toBe('1'); // read from LevelDB, then kept
    const reads = fromLevel.mock.calls.length;
    await dynamo.client.send(new UpdateItemCommand(add('2'))); // single write
    expect(await read()).toBe('3');
    await dynamo.client.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Update: add('4') }] }),
    );
    expect(await read()).toBe('7');
    expect(fromLevel.mock.calls.length).toBe(reads);
    // Two clients writing it at once: the read after both sees both.
    await Promise.all([
      dynamo.client.send(new UpdateItemCommand(add('1'))),
      http.send(new UpdateItemCommand(add('1'))),
    ]);
    expect(await read()).toBe('9');
    await dynamo.client.send(new DeleteItemCommand({ TableName: TABLE, Key: k }));
    expect(await read()).toBeUndefined();
  } finally {
    fromLevel.mockRestore();
  }
});
