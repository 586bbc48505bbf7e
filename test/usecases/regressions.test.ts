import { expireDue } from '../../functions/usecases/fulfilment';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';

// Behaviour found wanting in review, kept by a test each.

const clock = {
  t: new Date('2026-11-21T10:00:00Z'),
  now() {
    return this.t;
  },
};
let p: TestPortal;
beforeAll(async () => {
  p = await startPortal({ clock });
});
afterAll(() => p.close());

test('local sign-in expires by the portal clock, not the wall clock', async () => {
  expect((await p.call('alice', 'GET', '/v1/me')).status).toBe(200); // 2026-11-21, whatever today is
  clock.t = new Date(clock.t.getTime() + 12 * 3600_000 + 1000);
  expect((await p.call('alice', 'GET', '/v1/me')).status).toBe(401);
  p.resetTokens();
  expect((await p.call('alice', 'GET', '/v1/me')).status).toBe(200);
});

test('a product re-saved with its fields in another order is unchanged for the sync', async () => {
  const orders = (await p.store.getProduct('sales/orders'))!;
  const { location, ...rest } = orders;
  await p.store.putProduct({
    location: { table: location.table, database: location.database, catalogId: location.catalogId },
    ...rest,
  });
  const report = (await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/sync')).body;
  expect(report.updated).toEqual([]);
  expect(report.added).toEqual([]);
});

test('revoking a grant on a product that shares a table with another active grant keeps that permission', async () => {
  await p.store.putProduct({
    ...(await p.store.getProduct('sales/orders'))!,
    id: 'sales/orders_bundle',
    name: 'orders_bundle',
    title: 'Orders and leads',
    classification: 'confidential',
    location: {
      catalogId: '111111111111',
      database: 'sales_gold',
      table: 'orders',
      tables: ['orders', 'leads'],
    },
  });
  const principal = 'arn:aws:iam::555555555555:role/two-products';
  const ids: string[] = [];
  for (const productId of ['sales/orders', 'sales/orders_bundle']) {
    const r = (await p.call('alice', 'POST', '/v1/requests', newRequest(productId, { principal })))
      .body;
    await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, { comment: 'ok' });
    ids.push(r.id);
  }
  await p.queue.onIdle();
  const held = async () =>
    (await p.ledger.list('111111111111'))
      .filter((e) => e.principal === principal)
      .map((e) => e.table)
      .sort();
  expect(await held()).toEqual(['leads', 'orders']);
  const bundleGrant = (await p.store.listGrantsByDomain('sales')).find(
    (g) => g.requestId === ids[1],
  )!;
  await p.call('alice', 'POST', `/v1/grants/${bundleGrant.id}/revoke`, {
    reason: 'only need orders',
  });
  await p.queue.onIdle();
  expect(await held()).toEqual(['orders']); // sales/orders is still ACTIVE and still has its permission
  const reconciled = (
    await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/reconcile')
  ).body;
  expect(reconciled.missing).toEqual([]);
});

test('the sweeper hands grants stuck in REVOKING back to the worker', async () => {
  const send = jest.spyOn(p.queue, 'send');
  const r = (await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'))).body;
  await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, { comment: 'ok' });
  await p.queue.onIdle();
  const grant = (await p.store.listGrantsByDomain('sales')).find((g) => g.requestId === r.id)!;
  const req = (await p.store.getRequest(r.id))!;
  // As if the revoke job had been lost: REVOKING in the store, nothing on the queue.
  await p.store.updateRequest(
    { ...req, status: 'REVOKING', version: req.version + 1 },
    { status: 'ACTIVE', version: req.version },
    [],
    { ...grant, status: 'REVOKING', ending: 'REVOKED', endReason: 'lost job' },
  );
  send.mockClear();
  await expireDue(p.deps);
  expect(send).toHaveBeenCalledWith({ kind: 'revoke', requestId: r.id });
  await p.queue.onIdle();
  expect((await p.store.getRequest(r.id))!.status).toBe('REVOKED');
  send.mockRestore();
});

test('a grant job lost on the way to the queue is handed to the worker again by a later sweep', async () => {
  const r = (await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'))).body;
  const req = (await p.store.getRequest(r.id))!;
  // APPROVED in the store, but the job never reached the queue.
  await p.store.updateRequest(
    { ...req, status: 'APPROVED', version: 2, updatedAt: clock.now().toISOString() },
    { status: 'PENDING', version: 1 },
    [],
  );
  await expireDue(p.deps);
  await p.queue.onIdle();
  expect((await p.store.getRequest(r.id))!.status).toBe('APPROVED'); // too recent: a worker may still be on it
  clock.t = new Date(clock.t.getTime() + 11 * 60_000);
  p.resetTokens();
  await expireDue(p.deps);
  await p.queue.onIdle();
  expect((await p.store.getRequest(r.id))!.status).toBe('ACTIVE');
});

test('an audit window given to the second includes events later in that second', async () => {
  const at = new Date(clock.t.getTime() + 500).toISOString();
  await p.store.appendAudit({
    id: 'evt_01window000000000000000000',
    at,
    type: 'DOMAIN_SYNCED',
    actor: 'meshgate',
    domain: 'sales',
    detail: {},
  });
  const from = at.slice(0, 19) + 'Z'; // whole second, no milliseconds
  const to = new Date(clock.t.getTime() + 2000).toISOString().slice(0, 19) + 'Z';
  const page = await p.store.queryAudit({ from, to, domain: 'sales', limit: 100 });
  expect(page.items.map((e) => e.id)).toContain('evt_01window000000000000000000');
});
