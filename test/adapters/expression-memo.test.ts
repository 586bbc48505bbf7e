import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import {
  keepParsedExpressions,
  parsedExpressionStats,
} from '../../functions/adapters/local/expression-memo';

/**
 * The embedded store keeps dynalite's parsed expressions (expression-memo.ts). The same calls,
 * with and without the memo, must answer the same (items, errors and their messages, cancellation
 * reasons) and leave the same items: conditions that hold and that fail, updates of every kind,
 * key conditions, filters and projections, the same expression with values of another type, and
 * invalid expressions.
 */
let dynamo: EmbeddedDynamo;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.client, 'memo-off');
  await ensureTable(dynamo.client, 'memo-on');
});
afterAll(async () => {
  keepParsedExpressions(true);
  await dynamo.close();
});

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });

/** Round `i` of the calls on `table`: the same expressions each round, other values. */
function calls(table: string, i: number) {
  const key = (id: string) => ({ pk: S(`THING#${id}`), sk: S('META') });
  const k = key(`a${i % 2}`);
  return [
    new PutItemCommand({
      TableName: table,
      Item: { ...k, n: N(i), tags: { SS: ['x', `t${i}`] }, list: { L: [N(i)] }, name: S(`n${i}`) },
      ConditionExpression: 'attribute_not_exists(pk) OR #n < :max',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':max': N(2) },
    }),
    new UpdateItemCommand({
      TableName: table,
      Key: k,
      UpdateExpression:
        'SET #name = :name, #list = list_append(#list, :more), #m = if_not_exists(#m, :zero) ADD #n :by, #tags :tag REMOVE #gone',
      ConditionExpression: 'attribute_exists(pk) AND (#n >= :min OR begins_with(#name, :p))',
      ExpressionAttributeNames: {
        '#name': 'name',
        '#list': 'list',
        '#m': 'm',
        '#n': 'n',
        '#tags': 'tags',
        '#gone': 'gone',
      },
      ExpressionAttributeValues: {
        ':name': S(`renamed ${i}`),
        ':more': { L: [S(`m${i}`)] },
        ':zero': N(0),
        ':by': N(i + 1),
        ':tag': { SS: [`u${i}`] },
        ':min': N(i * 2),
        ':p': S(i % 3 === 0 ? 'n' : 'zz'),
      },
      ReturnValues: 'ALL_NEW',
    }),
    // The same expression with a value of another type: refused (ADD takes a number or a set).
    new UpdateItemCommand({
      TableName: table,
      Key: k,
      UpdateExpression: 'ADD #n :by',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':by': i % 2 === 0 ? N(1) : S('one') },
      ReturnValues: 'UPDATED_NEW',
    }),
    // begins_with takes a string: a number is refused by the parser.
    new UpdateItemCommand({
      TableName: table,
      Key: k,
      UpdateExpression: 'SET #c = :c',
      ConditionExpression: 'begins_with(#name, :p)',
      ExpressionAttributeNames: { '#c': 'c', '#name': 'name' },
      ExpressionAttributeValues: { ':c': N(i), ':p': i % 2 === 0 ? S('ren') : N(7) },
    }),
    // Values that decide the parse itself: BETWEEN's bounds, attribute_type's type name.
    new UpdateItemCommand({
      TableName: table,
      Key: k,
      UpdateExpression: 'SET #c = :c',
      ConditionExpression: '#n BETWEEN :lo AND :hi AND attribute_type(#name, :t)',
      ExpressionAttributeNames: { '#c': 'c', '#n': 'n', '#name': 'name' },
      ExpressionAttributeValues: {
        ':c': N(i),
        ':lo': N(i % 2 === 0 ? 0 : 100),
        ':hi': N(50),
        ':t': S(i % 3 === 0 ? 'S' : 'XX'),
      },
    }),
    // Invalid: a value not defined, a value not used, a syntax error, a name not defined.
    new UpdateItemCommand({
      TableName: table,
      Key: k,
      UpdateExpression: 'SET #c = :c',
      ExpressionAttributeNames: { '#c': 'c' },
      ExpressionAttributeValues: i % 2 === 0 ? { ':d': N(1) } : { ':c': N(1), ':d': N(2) },
    }),
    new PutItemCommand({
      TableName: table,
      Item: key(`b${i}`),
      ConditionExpression:
        i % 2 === 0 ? 'attribute_not_exists(pk) AND' : 'attribute_not_exists(#x)',
      ...(i % 2 === 0 ? {} : { ExpressionAttributeNames: { '#y': 'y' } }),
    }),
    // A transaction whose condition holds or fails by round.
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: table,
            Item: { ...key(`c${i}`), n: N(i) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: table,
            Key: key('counter'),
            UpdateExpression: 'SET #kind = :kind ADD #count :one',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
            ExpressionAttributeNames: { '#kind': 'kind', '#count': 'count' },
            ExpressionAttributeValues: { ':kind': S('counter'), ':one': N(1), ':limit': N(3) },
          },
        },
        {
          ConditionCheck: {
            TableName: table,
            Key: k,
            ConditionExpression: 'contains(#tags, :tag) AND size(#list) > :size',
            ExpressionAttributeNames: { '#tags': 'tags', '#list': 'list' },
            ExpressionAttributeValues: { ':tag': S('x'), ':size': N(i % 2) },
          },
        },
      ],
    }),
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      FilterExpression: '#n IN (:a, :b) OR #name = :name',
      ProjectionExpression: '#n, #name, pk',
      ExpressionAttributeNames: { '#n': 'n', '#name': 'name' },
      ExpressionAttributeValues: {
        ':pk': S(`THING#a${i % 2}`),
        ':sk': S('ME'),
        ':a': N(i),
        ':b': N(i + 1),
        ':name': S(`renamed ${i}`),
      },
      ConsistentRead: true,
    }),
    new GetItemCommand({
      TableName: table,
      Key: k,
      ProjectionExpression: '#list[0], tags',
      ExpressionAttributeNames: { '#list': 'list' },
      ConsistentRead: true,
    }),
  ];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any command of the client
async function outcome(client: DynamoDBClient, command: any) {
  try {
    const { $metadata: _, ...out } = (await client.send(command)) as { $metadata: unknown };
    return { ok: out };
  } catch (err) {
    const e = err as Error & { CancellationReasons?: unknown };
    return { error: e.name, message: e.message, reasons: e.CancellationReasons };
  }
}

async function run(table: string) {
  const out: unknown[] = [];
  for (let i = 0; i < 6; i++)
    for (const command of calls(table, i)) out.push(await outcome(dynamo.client, command));
  const items = await dynamo.client.send(new ScanCommand({ TableName: table }));
  return { answers: JSON.stringify(out).replaceAll(table, 'TABLE'), items: items.Items };
}

test('the same calls answer the same and leave the same items with and without the memo', async () => {
  keepParsedExpressions(false);
  const before = parsedExpressionStats();
  const without = await run('memo-off');
  expect(parsedExpressionStats().hits).toBe(before.hits);

  keepParsedExpressions(true);
  const withMemo = await run('memo-on');
  const after = parsedExpressionStats();

  expect(withMemo.answers).toEqual(without.answers);
  expect(withMemo.items).toEqual(without.items);
  // Every kind of answer happened: items, failed conditions, cancelled transactions, refusals.
  const answers = JSON.parse(without.answers) as Array<{ error?: string }>;
  const kinds = new Set(answers.map((a) => a.error ?? 'ok'));
  expect([...kinds].sort()).toEqual([
    'ConditionalCheckFailedException',
    'TransactionCanceledException',
    'ValidationException',
    'ok',
  ]);
  // And the memo answered most parses (rounds after the first), not dynalite's parser.
  expect(after.hits - before.hits).toBeGreaterThan(after.misses - before.misses);
});
