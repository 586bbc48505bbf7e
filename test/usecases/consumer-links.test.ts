// The consumer's last mile through the embedded portal: a grant to a role of a registered
// consumer account gets its resource link and DESCRIBE there, recorded on the grant and named by
// the access block; revoking and expiry remove them, reconcile makes a missing one again.

import { LINK_GRACE_MS } from '../../functions/domain/consumer';
import { LinkNameTakenError, withLinkEntries } from '../../functions/ports/consumer-links';
import { LakeFormationError } from '../../functions/ports/lakeformation';
import type { Store } from '../../functions/ports/store';
import { runJob } from '../../functions/usecases/fulfilment';
import { reconcileDomain } from '../../functions/usecases/operations';
import { movingClock } from '../support/clock';
import {
  activeRequest as activeRequestOf,
  newRequest,
  startPortal,
  type TestPortal,
} from '../support/portal';
import { viaWorker } from '../support/operations';

let p: TestPortal;
const clock = movingClock();
beforeAll(async () => {
  p = await startPortal({ clock });
});
afterAll(() => p.close());

const CONSUMER = '777777777777'; // the demo's analytics account
let n = 0;
const role = (account = CONSUMER) => `arn:aws:iam::${account}:role/links-${++n}`;

/** alice's request for `principal`, approved by `approvers`, ACTIVE. */
const activeRequest = (
  principal: string,
  productId = 'sales/orders',
  over = {},
  approvers = ['bob'],
) => activeRequestOf(p, productId, { principal, ...over }, approvers);

/** The resource link `name` in the consumer account's link database of `domain`. */
const link = async (name = 'sales_gold__orders', domain = 'sales') =>
  (await p.consumerLinks.list(CONSUMER)).find(
    (l) => l.database === `meshgate_${domain}` && l.name === name,
  );

/** Runs the grant job of `id` with a worker that stops after making the links, before ACTIVE. */
async function crashAfterLinking(id: string) {
  const crashing: Store = Object.create(p.store, {
    updateRequest: {
      value: async (...args: Parameters<Store['updateRequest']>) => {
        if (args[0].id === id && args[0].status === 'ACTIVE') throw new Error('worker crashed');
        return p.store.updateRequest(...args);
      },
    },
  });
  await expect(
    runJob({ ...p.deps, ...p.broker, store: crashing }, { kind: 'grant', requestId: id }),
  ).rejects.toThrow('worker crashed');
}

test('a grant to a role of a registered consumer account gets its link and DESCRIBE, recorded and queried', async () => {
  const principal = role();
  const r = await activeRequest(principal, 'sales/orders', {
    scope: {
      permissions: ['SELECT'],
      columns: { mode: 'include', columns: ['order_id', 'amount'] },
    },
  });
  const grant = await p.call('alice', 'GET', `/v1/grants/${r.grantId}`);
  expect(grant.status).toBe(200);
  expect(grant.body.consumerLink).toMatchObject({
    account: CONSUMER,
    database: 'meshgate_sales',
    table: 'sales_gold__orders',
    describeGranted: true,
    invitationAccepted: false,
  });
  expect(await link()).toMatchObject({
    target: { CatalogId: '111111111111', DatabaseName: 'sales_gold', Name: 'orders' },
    describe: expect.arrayContaining([principal]),
  });
  // The request and the grant say how to use it: the query names the link and the granted columns.
  for (const body of [r, grant.body])
    expect(body.access).toMatchObject({
      account: '111111111111',
      database: 'sales_gold',
      table: 'orders',
      principal,
      expiresAt: grant.body.expiresAt,
      link: { account: CONSUMER, database: 'meshgate_sales', table: 'sales_gold__orders' },
      query: 'SELECT "order_id", "amount" FROM "meshgate_sales"."sales_gold__orders" LIMIT 10',
    });
  expect(r.access.setup).toBeUndefined();

  const revoked = await p.call('alice', 'POST', `/v1/grants/${r.grantId}/revoke`, {
    reason: 'done',
  });
  expect(revoked.status).toBe(202);
  await p.queue.onIdle();
  expect((await p.call('alice', 'GET', `/v1/requests/${r.id}`)).body).toMatchObject({
    status: 'REVOKED',
  });
  expect(await link()).toBeUndefined();
  expect((await p.call('alice', 'GET', `/v1/grants/${r.grantId}`)).body.access).toBeUndefined();
});

test('a link another active grant needs stays when one of them is revoked; only its DESCRIBE goes', async () => {
  const [a, b] = [role(), role()];
  const ra = await activeRequest(a);
  await activeRequest(b);
  await p.call('alice', 'POST', `/v1/grants/${ra.grantId}/revoke`, { reason: 'done' });
  await p.queue.onIdle();
  const l = await link();
  expect(l?.describe).toContain(b);
  expect(l?.describe).not.toContain(a);
});

test('reconcile makes a missing link again', async () => {
  const principal = role();
  const r = await activeRequest(principal, 'sales/regional_targets');
  const name = 'sales_gold__regional_targets';
  // Someone deletes the link (and its DESCRIBE) in the consumer account.
  await p.consumerLinks.unlink(
    {
      consumer: { accountId: CONSUMER, region: 'eu-west-1' },
      producer: { accountId: '111111111111', region: 'eu-west-1' },
      database: 'meshgate_sales',
      links: [{ name, targetDatabase: 'sales_gold', targetTable: 'regional_targets' }],
      principal,
    },
    [name],
  );
  expect(await link(name)).toBeUndefined();
  const reconcile = () =>
    viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/reconcile');
  const report = await reconcile();
  expect(report.status).toBe(200);
  expect(report.body.links).toEqual([
    expect.objectContaining({ grantId: r.grantId, account: CONSUMER, result: 'ok' }),
  ]);
  expect(await link(name)).toMatchObject({ describe: [principal] });
  // A second run finds nothing to repair.
  expect((await reconcile()).body.links).toEqual([]);
});

test('reconcile removes the link and DESCRIBE an ended grant left behind; the next run finds nothing', async () => {
  // finance: no other test here links its tables, so the link is this grant's alone.
  const principal = role();
  const r = await activeRequest(principal, 'finance/invoices', {}, ['fiona']);
  const name = 'finance_gold__invoices';
  const invoices = () => link(name, 'finance');
  expect(await invoices()).toMatchObject({ describe: [principal] });
  const revoked = await p.call('fiona', 'POST', `/v1/grants/${r.grantId}/revoke`, {
    reason: 'done',
  });
  expect(revoked.status).toBe(202);
  await p.queue.onIdle();
  expect(await invoices()).toBeUndefined();
  // The link and DESCRIBE are back: made by hand, or by a worker that stopped before removing them.
  await p.consumerLinks.link({
    consumer: { accountId: CONSUMER, region: 'eu-west-1' },
    producer: { accountId: '333333333333', region: 'eu-west-1' },
    database: 'meshgate_finance',
    links: [{ name, targetDatabase: 'finance_gold', targetTable: 'invoices' }],
    principal,
  });
  expect(await invoices()).toMatchObject({ describe: [principal] });
  const reconcile = () =>
    viaWorker(p, () => p.queue.onIdle(), 'fiona', '/v1/domains/finance/reconcile');
  // Just made: within the grace period, not a leftover yet.
  const early = await reconcile();
  expect(early.status).toBe(200);
  expect(early.body.leftoverLinks).toEqual([]);
  expect(await invoices()).toMatchObject({ describe: [principal] });
  clock.advance(LINK_GRACE_MS);
  const report = await reconcile();
  expect(report.status).toBe(200);
  expect(
    report.body.leftoverLinks.map((l: Record<string, unknown>) => [
      l.what,
      l.table,
      l.principal,
      l.grantId,
      l.result,
    ]),
  ).toEqual([
    ['describe', name, principal, r.grantId, 'ok'],
    ['link', name, undefined, r.grantId, 'ok'],
  ]);
  expect(await invoices()).toBeUndefined();
  expect((await reconcile()).body.leftoverLinks).toEqual([]);
});

test('reconcile leaves alone the links of a request still being granted (its worker stopped after linking)', async () => {
  const principal = role();
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('finance/invoices', { principal }),
  );
  const id = created.body.id as string;
  const { approveRequest } = await import('../../functions/usecases/requests');
  await approveRequest(
    { ...p.deps, queue: { send: async () => undefined } },
    { userId: 'fiona', name: 'fiona' },
    id,
    { comment: 'ok' },
  );
  await crashAfterLinking(id);
  expect((await p.store.getRequest(id))?.status).toBe('GRANTING');
  const invoices = async () =>
    (await p.consumerLinks.list(CONSUMER)).find(
      (l) => l.database === 'meshgate_finance' && l.name === 'finance_gold__invoices',
    );
  expect(await invoices()).toMatchObject({ describe: [principal] });
  // Past the grace period: what keeps the links is the request still in flight.
  clock.advance(LINK_GRACE_MS);

  const report = await viaWorker(
    p,
    () => p.queue.onIdle(),
    'fiona',
    '/v1/domains/finance/reconcile',
  );
  expect(report.body.leftoverLinks).toEqual([]);
  expect(await invoices()).toMatchObject({ describe: [principal] });
  await runJob({ ...p.deps, ...p.broker }, { kind: 'grant', requestId: id });
  expect((await p.store.getRequest(id))?.status).toBe('ACTIVE');
});

test('reconcile makes again, after the removal, the links of a grant the first reads of the grants missed', async () => {
  // A grant made ACTIVE a while ago, that the lagging index the reconciliation reads first does
  // not show yet: its link looks left over and is removed; the grants read afresh after the
  // removal show it, and its link is made again.
  const principal = role();
  // Public: approved as it is made.
  const r = await activeRequest(principal, 'finance/fx_rates', {}, []);
  const name = 'finance_gold__fx_rates';
  const fxRates = () => link(name, 'finance');
  expect(await fxRates()).toMatchObject({ describe: [principal] });
  clock.advance(LINK_GRACE_MS);
  let caughtUp = false;
  const lagging: Store = Object.create(p.store, {
    listGrantsByDomain: {
      value: async (d: string) =>
        (await p.store.listGrantsByDomain(d)).filter((g) => caughtUp || g.id !== r.grantId),
    },
  });
  const consumerLinks = Object.create(p.consumerLinks, {
    unlink: {
      value: async (...args: Parameters<typeof p.consumerLinks.unlink>) => {
        const out = await p.consumerLinks.unlink(...args);
        if (args[1].includes(name)) caughtUp = true;
        return out;
      },
    },
  });
  const domain = (await p.store.getDomain('finance'))!;
  const report = await reconcileDomain(
    { ...p.deps, ...p.broker, store: lagging, consumerLinks },
    'fiona',
    domain,
  );
  expect(report.leftoverLinks.filter((l) => l.table === name).map((l) => l.what)).toEqual([
    'describe',
    'link',
  ]);
  expect(report.links).toEqual([
    expect.objectContaining({ grantId: r.grantId, account: CONSUMER, result: 'ok' }),
  ]);
  expect(await fxRates()).toMatchObject({ describe: [principal] });
});

test('a role of an account Meshgate does not manage gets the steps for its administrator', async () => {
  const principal = role('888888888888');
  const r = await activeRequest(principal);
  const grant = await p.call('alice', 'GET', `/v1/grants/${r.grantId}`);
  expect(grant.body.consumerLink).toBeUndefined();
  expect(r.access.link).toBeUndefined();
  expect(r.access.setup.account).toBe('888888888888');
  const commands = r.access.setup.steps.map((s: { command: string }) => s.command).join('\n');
  expect(commands).toContain('aws ram accept-resource-share-invitation');
  expect(commands).toContain(
    'aws glue create-table --region eu-west-1 --catalog-id 888888888888 --database-name meshgate_sales --table-input \'{"Name":"sales_gold__orders","TargetTable":{"CatalogId":"111111111111","DatabaseName":"sales_gold","Name":"orders"}}\'',
  );
  expect(commands).toContain('--permissions DESCRIBE');
});

test('a worker that crashed after making the links makes them again harmlessly, and the grant records them', async () => {
  const principal = role();
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/leads', { principal }),
  );
  const id = created.body.id as string;
  // Approved in the store as the approvers would, without handing the job to the worker.
  // bob, then carol (restricted): the second approval queues the grant; run the job by hand.
  const pausedQueue = { send: async () => undefined };
  const deps = { ...p.deps, queue: pausedQueue };
  const { approveRequest } = await import('../../functions/usecases/requests');
  await approveRequest(deps, { userId: 'bob', name: 'bob' }, id, { comment: 'ok' });
  await approveRequest(deps, { userId: 'carol', name: 'carol' }, id, { comment: 'ok' });
  await crashAfterLinking(id);
  expect(await link('sales_gold__leads')).toMatchObject({ describe: [principal] });
  expect((await p.store.getRequest(id))?.status).toBe('GRANTING');

  await runJob({ ...p.deps, ...p.broker }, { kind: 'grant', requestId: id });
  const r = await p.call('alice', 'GET', `/v1/requests/${id}`);
  expect(r.body.status).toBe('ACTIVE');
  const active = r.body.history.find((e: { type: string }) => e.type === 'GRANT_ACTIVE');
  // The second run found the database and the link made, and granted DESCRIBE again.
  expect(
    (active.detail.entries as { action: string; result: string }[])
      .filter((e) => e.action === 'create-database' || e.action === 'create-link')
      .map((e) => e.result),
  ).toEqual(['already', 'already']);
  expect(active.detail.consumerLink).toMatchObject({ table: 'sales_gold__leads' });
  expect(await link('sales_gold__leads')).toMatchObject({ describe: [principal] });
});

type Entry = { action: string; result: string; table?: string; error?: { code: string } };
const held = async (account: string, principal: string) =>
  (await p.ledger.list(account)).filter((e) => e.principal === principal);

test('a failure in the consumer account after the Lake Formation grant fails the request holding nothing: the grant revoked, the links made removed', async () => {
  const principal = role();
  const name = 'marketing_gold__web_traffic';
  const link0 = p.consumerLinks.link.bind(p.consumerLinks);
  // The links and DESCRIBE are made, then the consumer account fails the call.
  // As the adapters do, the error carries the entries of what the call made.
  const linkCall = jest.spyOn(p.consumerLinks, 'link').mockImplementationOnce(async (spec) => {
    const made = await link0(spec);
    throw withLinkEntries(
      new LakeFormationError('ThrottlingException', 'rate exceeded', false),
      made.entries,
    );
  });
  try {
    const created = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      newRequest('marketing/web_traffic', { principal }),
    );
    expect(created.status).toBe(201);
    await p.queue.onIdle();
    const r = await p.call('henry', 'GET', `/v1/requests/${created.body.id}`);
    expect(r.body.status).toBe('FAILED');
    expect(r.body.failure.code).toBe('ThrottlingException');
    expect(linkCall).toHaveBeenCalledTimes(1);
    // No Lake Formation permission without a live grant, and no link nor DESCRIBE left.
    expect(await held('222222222222', principal)).toEqual([]);
    expect(await link(name, 'marketing')).toBeUndefined();
    const failed = r.body.history.find((e: { type: string }) => e.type === 'FULFILMENT_FAILED');
    expect((failed.detail.revoked as Entry[]).map((e) => [e.action, e.result])).toEqual([
      ['revoke', 'ok'],
    ]);
    expect((failed.detail.linksRemoved as Entry[]).map((e) => [e.action, e.result])).toEqual([
      ['revoke-describe', 'ok'],
      ['delete-link', 'ok'],
    ]);
    // Reconciliation finds nothing of it: nothing foreign, nothing stray.
    const report = await viaWorker(
      p,
      () => p.queue.onIdle(),
      'henry',
      '/v1/domains/marketing/reconcile',
    );
    expect(report.status).toBe(200);
    const about = (fs: { principal?: string }[]) => fs.filter((f) => f.principal === principal);
    expect(about(report.body.foreign)).toEqual([]);
    expect(about(report.body.stray)).toEqual([]);
  } finally {
    linkCall.mockRestore();
  }
});

test('a link name taken by a link to another table fails the request, and that link is left as it is', async () => {
  const principal = role();
  const name = 'finance_gold__general_ledger';
  // Someone's link of that name, to another table.
  const theirs = {
    consumer: { accountId: CONSUMER, region: 'eu-west-1' },
    producer: { accountId: '333333333333', region: 'eu-west-1' },
    database: 'meshgate_finance',
    links: [{ name, targetDatabase: 'finance', targetTable: 'gold__general_ledger' }],
    principal: 'arn:aws:iam::777777777777:role/someone-else',
  };
  await p.consumerLinks.link(theirs);
  const linkCall = jest
    .spyOn(p.consumerLinks, 'link')
    .mockRejectedValueOnce(new LinkNameTakenError(name, `${name} is taken`));
  try {
    const r = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      newRequest('finance/general_ledger', { principal }),
    );
    expect(
      (await p.call('fiona', 'POST', `/v1/requests/${r.body.id}/approve`, { comment: 'ok' }))
        .status,
    ).toBe(200);
    await p.queue.onIdle();
    const failed = await p.call('fiona', 'GET', `/v1/requests/${r.body.id}`);
    expect(failed.body.status).toBe('FAILED');
    expect(failed.body.failure.code).toBe('LINK_NAME_TAKEN');
    expect(await held('333333333333', principal)).toEqual([]);
    // Not this request's link: neither it nor DESCRIBE on it is touched.
    expect(await link(name, 'finance')).toMatchObject({
      target: { DatabaseName: 'finance', Name: 'gold__general_ledger' },
      describe: [theirs.principal],
    });
  } finally {
    linkCall.mockRestore();
    await p.consumerLinks.unlink(theirs, [name]);
  }
});

test('a consumer account refusing the removal of the links never holds up the revoke: REVOKED, the Lake Formation permission gone, the failure recorded', async () => {
  const principal = role();
  const r = await activeRequest(principal, 'marketing/customer_segments', {}, ['henry']);
  const name = 'marketing_gold__customer_segments';
  expect(await link(name, 'marketing')).toMatchObject({ describe: [principal] });
  const unlink = jest
    .spyOn(p.consumerLinks, 'unlink')
    .mockRejectedValue(
      new LakeFormationError('AccessDeniedException', 'consumer broker role deleted', true),
    );
  try {
    const res = await p.call('henry', 'POST', `/v1/grants/${r.grantId}/revoke`, {
      reason: 'done',
    });
    expect(res.status).toBe(202);
    await p.queue.onIdle();
  } finally {
    unlink.mockRestore();
  }
  const after = await p.call('henry', 'GET', `/v1/requests/${r.id}`);
  expect(after.body.status).toBe('REVOKED');
  expect(await held('222222222222', principal)).toEqual([]);
  const revoked = after.body.history.find((e: { type: string }) => e.type === 'GRANT_REVOKED');
  expect(
    (revoked.detail.entries as Entry[]).map((e) => [e.action, e.result, e.error !== undefined]),
  ).toEqual([
    ['revoke', 'ok', false],
    ['remove-links', 'failed', true],
  ]);
  // The link it left is reconciliation's to remove.
  expect(await link(name, 'marketing')).toMatchObject({ describe: [principal] });
  clock.advance(LINK_GRACE_MS);
  const report = await viaWorker(
    p,
    () => p.queue.onIdle(),
    'henry',
    '/v1/domains/marketing/reconcile',
  );
  expect(report.status).toBe(200);
  expect(await link(name, 'marketing')).toBeUndefined();
});

test('the OpenAPI document declares the access block and the grant route', async () => {
  const doc = (await (await p.app.request('/openapi.json')).json()) as {
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    paths: Record<string, Record<string, unknown>>;
  };
  expect(Object.keys(doc.components.schemas.Access!.properties!)).toEqual(
    expect.arrayContaining([
      'account',
      'region',
      'catalogId',
      'database',
      'table',
      'link',
      'query',
      'expiresAt',
      'principal',
    ]),
  );
  expect(doc.paths['/v1/grants/{id}']?.get).toBeDefined();
  expect(doc.paths['/v1/consumer-accounts']?.post).toBeDefined();
});

test("a failed attempt's undo never deletes a table of a link's name it did not make", async () => {
  const principal = role();
  const name = 'marketing_gold__web_traffic';
  const link0 = p.consumerLinks.link.bind(p.consumerLinks);
  // The name is held before the attempt, by a table the attempt never made.
  await link0({
    consumer: { accountId: CONSUMER, region: 'eu-west-1' },
    producer: { accountId: '222222222222', region: 'eu-west-1' },
    database: 'meshgate_marketing',
    links: [{ name, targetDatabase: 'elsewhere', targetTable: 'other_table' }],
    principal: role(),
  });
  // The consumer account fails the attempt before it makes anything.
  jest.spyOn(p.consumerLinks, 'link').mockImplementationOnce(async () => {
    throw withLinkEntries(
      new LakeFormationError('ThrottlingException', 'rate exceeded', false),
      [],
    );
  });
  try {
    const created = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      newRequest('marketing/web_traffic', { principal }),
    );
    expect(created.status).toBe(201);
    await p.queue.onIdle();
    const r = await p.call('henry', 'GET', `/v1/requests/${created.body.id}`);
    expect(r.body.status).toBe('FAILED');
    expect(await link(name, 'marketing')).toMatchObject({
      target: { DatabaseName: 'elsewhere', Name: 'other_table' },
    });
  } finally {
    jest.restoreAllMocks();
  }
});
