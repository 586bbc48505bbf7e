import { brokerClientInputs, brokerClientMarkers } from '../../bench/bundles';
import { lambdaBundle } from '../support/bundle';

// The Lambda bundles as the stacks build them (the CDK's esbuild options), without timing: the
// API and the scheduled function reach no domain account, so neither may carry the Glue, Lake
// Formation or STS client (issue 16); the worker does (loaded at its first job).

const bundle = (name: 'api' | 'scheduled' | 'worker') => lambdaBundle(name);

test.each(['api', 'scheduled'] as const)(
  'the %s bundle has no input of @aws-sdk/client-glue, client-lakeformation or client-sts, nor their code',
  async (name) => {
    const { meta, text } = await bundle(name);
    expect(brokerClientInputs(meta)).toEqual([]);
    const markers = brokerClientMarkers(text);
    expect(markers['@aws-sdk/client-glue']).toBe(0);
    expect(markers['@aws-sdk/client-lakeformation']).toBe(0);
    // Nor Meshgate's broker adapters.
    const inputs = Object.keys(meta.inputs);
    for (const adapter of ['glue-catalog', 'lakeformation', 'sts-credentials', 'broker-adapters'])
      expect(inputs.filter((i) => i.endsWith(`adapters/aws/${adapter}.ts`))).toEqual([]);
  },
);

test('the worker bundle carries them (the check above finds what it looks for)', async () => {
  const { meta, text } = await bundle('worker');
  const packages = new Set(
    brokerClientInputs(meta).map((i) =>
      i.split('node_modules/')[1]!.split('/').slice(0, 2).join('/'),
    ),
  );
  expect([...packages].sort()).toEqual([
    '@aws-sdk/client-glue',
    '@aws-sdk/client-lakeformation',
    '@aws-sdk/client-sts',
  ]);
  expect(brokerClientMarkers(text)['@aws-sdk/client-lakeformation']).toBeGreaterThan(0);
});

// BUNDLING takes packages' ES-module builds first: the CommonJS build of an AWS SDK client is one
// file with every operation of its service, which esbuild cannot trim, so each function would
// compile them all at every cold start (about a fifth of its load, `npm run bench -- bundles`).
test.each(['api', 'worker', 'scheduled', 'notifier', 'archiver'])(
  'the %s bundle takes the AWS SDK from its ES-module builds, with only the operations Meshgate sends',
  async (name) => {
    const { meta, text } = await lambdaBundle(name);
    const commonJs = Object.keys(meta.inputs).filter(
      (i) => /node_modules\/@(aws-sdk|smithy)\//.test(i) && i.includes('/dist-cjs/'),
    );
    expect(commonJs).toEqual([]);
    expect(
      Object.keys(meta.inputs).some((i) => i.includes('@aws-sdk/client-dynamodb/dist-es/')),
    ).toBe(true);
    // A DynamoDB operation no function sends (PartiQL batches): absent, where the CommonJS
    // build would bring its name, schema and command.
    expect(text.includes('BatchExecuteStatement')).toBe(false);
  },
);

// The clients loaded at first use are aliased to modules naming what is sent (LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts): reached by import() alone, a package kept every command
// of its service (Glue's some 250 in the worker). Each bundle holds exactly these commands.
const DYNAMODB = [
  'BatchGetItem',
  'BatchWriteItem',
  'DeleteItem', // the search index's build markers (adapters/aws/dynamo-search-index.ts)
  'DescribeEndpoints', // the client's endpoint discovery
  'GetItem',
  'PutItem',
  'Query',
  'Scan', // the table's layout migration (adapters/aws/dynamo/migration.ts)
  'TransactWriteItems',
  'UpdateItem',
].map((c) => `dynamodb:${c}`);
const EVENTS = ['eventbridge:PutEvents', 'sqs:SendMessage'];
test.each([
  ['api', [...DYNAMODB, ...EVENTS]],
  [
    'worker',
    [
      ...DYNAMODB,
      ...EVENTS,
      'glue:CreateDatabase',
      'glue:CreateTable',
      'glue:DeleteTable',
      'glue:GetDatabases',
      'glue:GetTable',
      'glue:GetTables',
      'lakeformation:BatchGrantPermissions',
      'lakeformation:BatchRevokePermissions',
      'lakeformation:CreateDataCellsFilter',
      'lakeformation:DeleteDataCellsFilter',
      'lakeformation:GrantPermissions',
      'lakeformation:ListPermissions',
      'lakeformation:RevokePermissions',
      'ram:AcceptResourceShareInvitation',
      'ram:GetResourceShareInvitations',
      'sts:AssumeRole',
    ],
  ],
  ['scheduled', [...DYNAMODB, ...EVENTS, 'sesv2:SendEmail']],
  ['notifier', [...DYNAMODB, ...EVENTS, 'sesv2:SendEmail']],
  [
    'archiver',
    [
      'dynamodb:DescribeEndpoints',
      'dynamodb:Query',
      'dynamodb:Scan',
      's3:CreateSession',
      's3:PutObject',
    ],
  ],
])('the %s bundle holds only the AWS SDK commands Meshgate sends', async (name, expected) => {
  const { meta } = await lambdaBundle(name);
  const commands = Object.values(meta.outputs)
    .flatMap((o) => Object.entries(o.inputs))
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([input]) => /@aws-sdk\/client-([\w-]+)\/dist-es\/commands\/(\w+)Command\.js$/.exec(input))
    .filter((m) => m !== null)
    .map((m) => `${m[1]}:${m[2]}`);
  expect(commands.sort()).toEqual([...expected].sort());
});
