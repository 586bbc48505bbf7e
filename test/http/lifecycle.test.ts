import { newRequest, startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

test('alice requests, bob approves, the grant becomes ACTIVE in the ledger, bob revokes it', async () => {
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('PENDING');
  expect(created.body.stages.map((s: { name: string }) => s.name)).toEqual(['owner']);

  const approved = await p.call('bob', 'POST', `/v1/requests/${created.body.id}/approve`, {
    comment: 'for Q3',
  });
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe('APPROVED');
  await p.queue.onIdle();

  const active = await p.call('alice', 'GET', `/v1/requests/${created.body.id}`);
  expect(active.body.status).toBe('ACTIVE');
  expect(active.body.history.map((e: { type: string }) => e.type)).toEqual([
    'REQUEST_CREATED',
    'APPROVAL_RECORDED',
    'REQUEST_APPROVED',
    'FULFILMENT_STARTED',
    'GRANT_ACTIVE',
  ]);
  const ledger = await p.ledger.list('111111111111');
  expect(ledger).toHaveLength(1);
  expect(ledger[0]).toMatchObject({
    principal: created.body.principal,
    grantId: created.body.id,
    permissions: ['SELECT'],
  });

  const grants = await p.call('alice', 'GET', '/v1/grants');
  const grant = grants.body.items.find(
    (g: { requestId: string }) => g.requestId === created.body.id,
  );
  expect(grant.status).toBe('ACTIVE');

  const revoke = await p.call('bob', 'POST', `/v1/grants/${grant.id}/revoke`, {
    reason: 'project finished',
  });
  expect(revoke.status).toBe(202);
  await p.queue.onIdle();
  expect((await p.call('alice', 'GET', `/v1/requests/${created.body.id}`)).body.status).toBe(
    'REVOKED',
  );
  expect(await p.ledger.list('111111111111')).toHaveLength(0);
});

test('a restricted hr product needs its owner (grace) and then compliance (carol)', async () => {
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('hr/employees', { duration: { value: 3, unit: 'days' } }),
  );
  expect(created.status).toBe(201);
  expect(created.body.stages.map((s: { name: string }) => s.name)).toEqual(['owner', 'compliance']);

  // carol cannot go first: the owner stage is the current one.
  expect(
    (await p.call('carol', 'POST', `/v1/requests/${created.body.id}/approve`, { comment: 'ok' }))
      .status,
  ).toBe(403);
  // bob owns sales, not hr: he cannot even see the request.
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${created.body.id}/approve`, { comment: 'ok' }))
      .status,
  ).toBe(404);

  const first = await p.call('grace', 'POST', `/v1/requests/${created.body.id}/approve`, {
    comment: 'owner ok',
  });
  expect(first.body.status).toBe('PENDING');
  const second = await p.call('carol', 'POST', `/v1/requests/${created.body.id}/approve`, {
    comment: 'compliance ok',
  });
  expect(second.body.status).toBe('APPROVED');
  await p.queue.onIdle();
  expect((await p.call('alice', 'GET', `/v1/requests/${created.body.id}`)).body.status).toBe(
    'ACTIVE',
  );
});

test('a restricted sales request needs bob and carol', async () => {
  // The demo's restricted products live in hr; register one in sales, which bob owns.
  await p.store.putProduct({
    id: 'sales/customer_contacts',
    domain: 'sales',
    name: 'customer_contacts',
    title: 'Customer contacts',
    description: 'Names and e-mail addresses of customer contacts.',
    owner: 'bob',
    classification: 'restricted',
    tags: ['pii'],
    location: { catalogId: '111111111111', database: 'sales_gold', table: 'customer_contacts' },
    columns: [
      { name: 'contact_id', type: 'string', pii: false },
      { name: 'email', type: 'string', pii: true },
    ],
    freshness: 'Daily',
    status: 'ACTIVE',
  });
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/customer_contacts'),
  );
  expect(
    (
      await p.call('bob', 'POST', `/v1/requests/${created.body.id}/approve`, {
        comment: 'owner ok',
      })
    ).body.status,
  ).toBe('PENDING');
  expect(
    (
      await p.call('carol', 'POST', `/v1/requests/${created.body.id}/approve`, {
        comment: 'compliance ok',
      })
    ).body.status,
  ).toBe('APPROVED');
  await p.queue.onIdle();
  expect((await p.call('alice', 'GET', `/v1/requests/${created.body.id}`)).body.status).toBe(
    'ACTIVE',
  );
});

test('a public product within policy is approved automatically and granted', async () => {
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest('finance/fx_rates'));
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('APPROVED');
  expect(created.body.stages).toEqual([]);
  await p.queue.onIdle();
  const r = await p.call('alice', 'GET', `/v1/requests/${created.body.id}`);
  expect(r.body.status).toBe('ACTIVE');
  expect(r.body.history.find((e: { type: string }) => e.type === 'REQUEST_APPROVED').actor).toBe(
    'meshgate',
  );
});

test('bob denies with a reason and alice sees it', async () => {
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/leads'));
  const denied = await p.call('bob', 'POST', `/v1/requests/${created.body.id}/deny`, {
    reason: 'use the aggregated view',
  });
  expect(denied.status).toBe(200);
  const seen = await p.call('alice', 'GET', `/v1/requests/${created.body.id}`);
  expect(seen.body.status).toBe('DENIED');
  expect(seen.body.denial).toMatchObject({ by: 'bob', reason: 'use the aggregated view' });
});
