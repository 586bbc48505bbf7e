import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LakeFormationClient,
  ListPermissionsCommand,
  type ListPermissionsCommandOutput,
} from '@aws-sdk/client-lakeformation';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsLakeFormation } from '../../functions/adapters/aws/lakeformation';
import { activeRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';

// Reconciliation against Lake Formation's own answers: the recorded ListPermissions pages of
// test/fixtures/lakeformation, read through the AWS adapter (pages followed by NextToken), for the
// grants Meshgate made in the embedded portal. Grants and revokes go to the embedded ledger.

const lf = mockClient(LakeFormationClient);
const role = (name: string) => `arn:aws:iam::555555555555:role/listed-${name}`;

let p: TestPortal;
/** What reconciliation sends to Lake Formation (the embedded ledger, which really grants and revokes). */
let grants: jest.SpiedFunction<TestPortal['ledger']['grant']>;
let revokes: jest.SpiedFunction<TestPortal['ledger']['revoke']>;
const sentOf = () => [
  ...grants.mock.calls.map(([g]) => ({ action: 'grant', g })),
  ...revokes.mock.calls.map(([g]) => ({ action: 'revoke', g })),
];

beforeAll(async () => {
  p = await startPortal();
  const aws = new AwsLakeFormation({
    clientFor: (a) =>
      new LakeFormationClient({
        region: a.region,
        credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
      }),
    sleep: async () => {},
  });
  // The app and the worker share the ledger: what it lists is what Lake Formation answers.
  jest.spyOn(p.ledger, 'listPermissions').mockImplementation((a) => aws.listPermissions(a));
  grants = jest.spyOn(p.ledger, 'grant');
  revokes = jest.spyOn(p.ledger, 'revoke');
});
afterAll(async () => {
  jest.restoreAllMocks();
  lf.restore();
  await p.close();
});
beforeEach(() => {
  lf.reset();
});
const clearSent = () => {
  grants.mockClear();
  revokes.mockClear();
};

/** alice's request, approved by bob, granted by the worker; its id. */
const granted = async (principal: string, scope: Record<string, unknown>): Promise<string> =>
  (await activeRequest(p, 'sales/orders', { principal, scope })).id as string;

/** A recorded ListPermissions page, its placeholders filled in. */
function page(n: number, vars: Record<string, string>): ListPermissionsCommandOutput {
  const text = readFileSync(
    join(__dirname, `../fixtures/lakeformation/list-permissions.page${n}.json`),
    'utf8',
  ).replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k]!);
  return { ...JSON.parse(text), $metadata: { httpStatusCode: 200 } };
}

/** The principals of the healthy grants, and the request that names their filter. */
const vars = {
  whole: role('whole'),
  wholeSelect: role('whole-select'),
  include: role('include'),
  exclude: role('exclude'),
  filter: role('filter'),
  filterRequest: '',
};
/** Both recorded pages for the healthy grants (granted by the first test), as one listing. */
const healthy = () => [
  ...page(1, vars).PrincipalResourcePermissions!,
  ...page(2, vars).PrincipalResourcePermissions!,
];
/** The recorded whole-table rows (SELECT as TableWithColumns, DESCRIBE as Table) for `principal`. */
const wholeTable = (principal: string) =>
  page(1, { ...vars, whole: principal }).PrincipalResourcePermissions!.slice(0, 2);

/** What the grants still ACTIVE after the first two tests hold. */
const live = () => [...healthy(), ...wholeTable(role('half'))];

async function reconcile() {
  const res = await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/reconcile');
  expect(res.status).toBe(200);
  return res.body;
}

test('healthy whole-table, include, exclude and filter grants, as Lake Formation lists them: nothing missing, nothing foreign, twice', async () => {
  await granted(vars.whole, { permissions: ['SELECT', 'DESCRIBE'], columns: { mode: 'all' } });
  await granted(vars.wholeSelect, { permissions: ['SELECT'], columns: { mode: 'all' } });
  await granted(vars.include, {
    permissions: ['SELECT'],
    columns: { mode: 'include', columns: ['order_id', 'region', 'amount'] },
  });
  await granted(vars.exclude, {
    permissions: ['SELECT'],
    columns: { mode: 'exclude', columns: ['amount_eur', 'customer_id'] },
  });
  vars.filterRequest = await granted(vars.filter, {
    permissions: ['SELECT'],
    columns: { mode: 'all' },
    rowFilter: "region = 'EMEA'",
  });
  clearSent();

  for (let run = 0; run < 2; run++) {
    lf.on(ListPermissionsCommand).resolvesOnce(page(1, vars)).resolvesOnce(page(2, vars));
    const report = await reconcile();
    expect(lf.commandCalls(ListPermissionsCommand).map((c) => c.args[0].input)).toEqual([
      { CatalogId: '111111111111' },
      { CatalogId: '111111111111', NextToken: page(1, vars).NextToken },
    ]);
    lf.reset();
    expect(report.missing).toEqual([]);
    expect(report.foreign).toEqual([]);
    expect(report.stray).toEqual([]);
    expect(report.unresolved).toEqual([]);
    expect(report.checked.permissions).toBe(6);
    expect(sentOf()).toEqual([]);
  }
});

test('a whole-table grant listed without its DESCRIBE is missing and granted again; the run after has nothing to do', async () => {
  const principal = role('half');
  await granted(principal, { permissions: ['SELECT', 'DESCRIBE'], columns: { mode: 'all' } });
  clearSent();
  // Only the SELECT row of the whole-table grant is listed: DESCRIBE was revoked by hand.
  const [select] = wholeTable(principal);
  lf.on(ListPermissionsCommand).resolves({
    PrincipalResourcePermissions: [...healthy(), select!],
  });
  const report = await reconcile();
  expect(report.missing).toEqual([
    expect.objectContaining({
      principal,
      table: 'orders',
      action: 'granted again',
      result: 'ok',
      resource: {
        Table: { CatalogId: '111111111111', DatabaseName: 'sales_gold', Name: 'orders' },
      },
    }),
  ]);
  expect(report.foreign).toEqual([]);
  expect(report.stray).toEqual([]);
  expect(sentOf().map((s) => s.action)).toEqual(['grant']);

  // Granted again, Lake Formation lists both rows once more: the next run has nothing to do.
  clearSent();
  lf.on(ListPermissionsCommand).resolves({
    PrincipalResourcePermissions: [...healthy(), ...wholeTable(principal)],
  });
  const again = await reconcile();
  expect([again.missing, again.stray, again.foreign]).toEqual([[], [], []]);
  expect(sentOf()).toEqual([]);
});

test('a whole-table permission of an ended grant, listed as TableWithColumns, is stray and revoked; one nobody made is foreign', async () => {
  const principal = role('ended');
  const id = await granted(principal, { permissions: ['SELECT'], columns: { mode: 'all' } });
  const grantId = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body.grantId as string;
  lf.on(ListPermissionsCommand).resolves({ PrincipalResourcePermissions: live() });
  expect(
    (await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' })).status,
  ).toBe(202);
  await p.queue.onIdle();
  clearSent();
  const [select] = wholeTable(principal);
  const [foreign] = wholeTable(role('dba'));
  lf.on(ListPermissionsCommand).resolves({
    PrincipalResourcePermissions: [...live(), select!, foreign!],
  });
  const report = await reconcile();
  expect(report.stray).toEqual([
    expect.objectContaining({ principal, grantId, action: 'revoked', result: 'ok' }),
  ]);
  expect(sentOf().map((s) => [s.action, s.g.principal, s.g.permissions])).toEqual([
    ['revoke', principal, ['SELECT']],
  ]);
  expect(report.foreign).toEqual([
    {
      kind: 'foreign',
      principal: role('dba'),
      resource: foreign!.Resource,
      permissions: ['SELECT'],
      action: 'reported only',
    },
  ]);
  expect(report.missing).toEqual([]);
});
