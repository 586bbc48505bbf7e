import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteTableCommand,
  GetTablesCommand,
  GlueClient,
  type GetTablesCommandOutput,
} from '@aws-sdk/client-glue';
import {
  LakeFormationClient,
  ListPermissionsCommand,
  RevokePermissionsCommand,
  type ListPermissionsCommandOutput,
  type PrincipalResourcePermissions,
} from '@aws-sdk/client-lakeformation';
import { RAMClient } from '@aws-sdk/client-ram';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsConsumerLinks } from '../../functions/adapters/aws/consumer-links';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { consumerAccountItem } from '../../functions/adapters/aws/dynamo/keys';
import { activeRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';

// Reconciliation of the consumer side against Glue's and Lake Formation's answers as their
// shapes are: the GetTables and ListPermissions page templates of test/fixtures/consumer-links
// (written by hand, not recorded; see its README), read through the
// AWS adapter (pages followed by NextToken), for the grants Meshgate made in the embedded portal.
// What reconciliation removes goes through the AWS adapter too, to the mocked clients, which then
// list what is left, as the services would.

const glue = mockClient(GlueClient);
const lf = mockClient(LakeFormationClient);

const CONSUMER = '777777777777';
const BROKER = `arn:aws:iam::${CONSUMER}:role/meshgate-broker`;
const role = (name: string) => `arn:aws:iam::${CONSUMER}:role/listed-links-${name}`;
const vars: Record<string, string> = {
  active: role('active'),
  endedOrders: role('ended-orders'),
  ended: role('ended'),
  stray: role('stray'),
};

const fixture = <T>(file: string): T =>
  JSON.parse(
    readFileSync(join(__dirname, '../fixtures/consumer-links', file), 'utf8').replace(
      /\{\{(\w+)\}\}/g,
      (_, k: string) => vars[k]!,
    ),
  ) as T;

/** The consumer account as the services hold it: the recorded pages, less what was removed. */
let deleted: Set<string>;
let revoked: Set<string>;
const tableKey = (db?: string, name?: string) => `${db}.${name}`;
const rowKey = (p: PrincipalResourcePermissions) =>
  `${p.Principal?.DataLakePrincipalIdentifier}|${tableKey(p.Resource?.Table?.DatabaseName, p.Resource?.Table?.Name)}`;

function installServices() {
  deleted = new Set();
  revoked = new Set();
  const tables = [1, 2].map((n) => fixture<GetTablesCommandOutput>(`get-tables.page${n}.json`));
  const perms = [1, 2].map((n) =>
    fixture<ListPermissionsCommandOutput>(`list-permissions.page${n}.json`),
  );
  glue.on(GetTablesCommand).callsFake((input: { NextToken?: string }) => {
    const page = input.NextToken === tables[0]!.NextToken ? tables[1]! : tables[0]!;
    return {
      ...page,
      TableList: page.TableList!.filter((t) => !deleted.has(tableKey(t.DatabaseName, t.Name))),
    };
  });
  lf.on(ListPermissionsCommand).callsFake((input: { NextToken?: string }) => {
    const page = input.NextToken === perms[0]!.NextToken ? perms[1]! : perms[0]!;
    return {
      ...page,
      // A deleted table takes its permissions with it.
      PrincipalResourcePermissions: page.PrincipalResourcePermissions!.filter(
        (p) =>
          !revoked.has(rowKey(p)) &&
          !deleted.has(tableKey(p.Resource?.Table?.DatabaseName, p.Resource?.Table?.Name)),
      ),
    };
  });
  glue.on(DeleteTableCommand).callsFake((input: { DatabaseName: string; Name: string }) => {
    deleted.add(tableKey(input.DatabaseName, input.Name));
    return {};
  });
  lf.on(RevokePermissionsCommand).callsFake((input: PrincipalResourcePermissions) => {
    revoked.add(rowKey(input));
    return {};
  });
}

let p: TestPortal;
const grantIds: Record<string, string> = {};

beforeAll(async () => {
  p = await startPortal();
  // The demo's analytics account, with the broker role that makes its links.
  await documentClient(p.client).send(
    new PutCommand({
      TableName: 'meshgate',
      Item: consumerAccountItem({
        id: 'analytics',
        name: 'Analytics',
        accountId: CONSUMER,
        region: 'eu-west-1',
        broker: { roleArn: BROKER, externalId: 'analytics-external-id' },
      }),
    }),
  );
  // An ACTIVE grant on orders; ended grants on orders and on regional_targets.
  grantIds.active = await granted(vars.active!, 'sales/orders');
  grantIds.endedOrders = await granted(vars.endedOrders!, 'sales/orders');
  grantIds.ended = await granted(vars.ended!, 'sales/regional_targets');
  for (const g of [grantIds.endedOrders, grantIds.ended]) {
    const res = await p.call('bob', 'POST', `/v1/grants/${g}/revoke`, { reason: 'done' });
    expect(res.status).toBe(202);
  }
  await p.queue.onIdle();

  const aws = new AwsConsumerLinks({
    clientsFor: (a) => ({
      ram: new RAMClient({ region: a.region }),
      glue: new GlueClient({ region: a.region }),
      lakeFormation: new LakeFormationClient({ region: a.region }),
    }),
  });
  // From here on the consumer account is the recorded one: listed and changed through the AWS
  // adapter (links of ACTIVE grants are still made in the embedded stand-in, where they are).
  jest.spyOn(p.consumerLinks, 'listLinks').mockImplementation((c, db) => aws.listLinks(c, db));
  jest.spyOn(p.consumerLinks, 'unlink').mockImplementation((s, d) => aws.unlink(s, d));
});
afterAll(async () => {
  jest.restoreAllMocks();
  glue.restore();
  lf.restore();
  await p.close();
});

/** alice's request for `principal`, approved by bob, granted by the worker; its grant's id. */
const granted = async (principal: string, productId: string): Promise<string> =>
  (await activeRequest(p, productId, { principal })).grantId as string;

async function reconcile() {
  const res = await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/reconcile');
  expect(res.status).toBe(200);
  return res.body;
}

const describeOn = (principal: string, table: string) => ({
  CatalogId: CONSUMER,
  Principal: { DataLakePrincipalIdentifier: principal },
  Resource: { Table: { CatalogId: CONSUMER, DatabaseName: 'meshgate_sales', Name: table } },
  Permissions: ['DESCRIBE'],
});

test('leftover DESCRIBE and resource links of ended grants are reported and removed, every page read; the next run finds nothing', async () => {
  installServices();
  const report = await reconcile();

  // Both listings followed through NextToken, in the consumer account, for the sales database.
  expect(glue.commandCalls(GetTablesCommand).map((c) => c.args[0].input)).toEqual([
    { CatalogId: CONSUMER, DatabaseName: 'meshgate_sales' },
    {
      CatalogId: CONSUMER,
      DatabaseName: 'meshgate_sales',
      NextToken: fixture<GetTablesCommandOutput>('get-tables.page1.json').NextToken,
    },
  ]);
  expect(lf.commandCalls(ListPermissionsCommand).map((c) => c.args[0].input)).toEqual([
    { CatalogId: CONSUMER, ResourceType: 'TABLE' },
    {
      CatalogId: CONSUMER,
      ResourceType: 'TABLE',
      NextToken: fixture<ListPermissionsCommandOutput>('list-permissions.page1.json').NextToken,
    },
  ]);

  const leftover = { kind: 'leftover', account: CONSUMER, database: 'meshgate_sales' };
  expect(report.leftoverLinks).toEqual([
    {
      ...leftover,
      what: 'describe',
      table: 'sales_gold__orders',
      principal: vars.endedOrders,
      grantId: grantIds.endedOrders,
      action: 'removed',
      result: 'ok',
    },
    {
      ...leftover,
      what: 'describe',
      table: 'sales_gold__regional_targets',
      principal: vars.ended,
      grantId: grantIds.ended,
      action: 'removed',
      result: 'ok',
    },
    {
      ...leftover,
      what: 'describe',
      table: 'sales_gold__leads',
      principal: vars.stray,
      action: 'removed',
      result: 'ok',
    },
    {
      ...leftover,
      what: 'link',
      table: 'sales_gold__regional_targets',
      target: 'sales_gold.regional_targets',
      grantId: grantIds.ended,
      action: 'removed',
      result: 'ok',
    },
    {
      ...leftover,
      what: 'link',
      table: 'sales_gold__leads',
      target: 'sales_gold.leads',
      action: 'removed',
      result: 'ok',
    },
  ]);
  expect(report.linkFailures).toBeUndefined();
  // Exactly these calls: the ACTIVE grant's DESCRIBE and link, the broker role's own permissions,
  // the table that is no link and the other database are left alone.
  expect(lf.commandCalls(RevokePermissionsCommand).map((c) => c.args[0].input)).toEqual([
    describeOn(vars.endedOrders!, 'sales_gold__orders'),
    describeOn(vars.ended!, 'sales_gold__regional_targets'),
    describeOn(vars.stray!, 'sales_gold__leads'),
  ]);
  expect(glue.commandCalls(DeleteTableCommand).map((c) => c.args[0].input)).toEqual([
    { CatalogId: CONSUMER, DatabaseName: 'meshgate_sales', Name: 'sales_gold__regional_targets' },
    { CatalogId: CONSUMER, DatabaseName: 'meshgate_sales', Name: 'sales_gold__leads' },
  ]);
  // The ACTIVE grant's link needed no repair, and Lake Formation's side is clean too.
  expect(report.links).toEqual([]);
  expect([report.missing, report.stray, report.foreign]).toEqual([[], [], []]);

  // A second run right after: the listings are read again and nothing is left to remove.
  glue.resetHistory();
  lf.resetHistory();
  const again = await reconcile();
  expect(again.leftoverLinks).toEqual([]);
  expect(glue.commandCalls(GetTablesCommand)).toHaveLength(2);
  expect(glue.commandCalls(DeleteTableCommand)).toHaveLength(0);
  expect(lf.commandCalls(RevokePermissionsCommand)).toHaveLength(0);
});

test('a consumer account whose listing fails is named, and the reconciliation still succeeds', async () => {
  glue.reset();
  lf.reset();
  installServices();
  glue.on(GetTablesCommand).rejects(
    Object.assign(new Error('User is not authorized to perform: glue:GetTables'), {
      name: 'AccessDeniedException',
      $metadata: {},
    }),
  );
  const report = await reconcile();
  expect(report.leftoverLinks).toEqual([]);
  expect(report.linkFailures).toEqual([
    {
      account: CONSUMER,
      database: 'meshgate_sales',
      error: expect.stringContaining('GetTables meshgate_sales in consumer account 777777777777'),
    },
  ]);
  expect(glue.commandCalls(DeleteTableCommand)).toHaveLength(0);
});
