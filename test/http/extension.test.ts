import { newRequest, startPortal, type TestPortal } from '../support/portal';

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

const ledgerOf = async (principal: string) =>
  (await p.ledger.list('111111111111')).filter((e) => e.principal === principal);

test('an extension is decided like a new request, runs on from the old expiry, and keeps the one permission', async () => {
  const body = newRequest('sales/orders');
  const first = (await p.call('alice', 'POST', '/v1/requests', body)).body;
  await p.call('bob', 'POST', `/v1/requests/${first.id}/approve`, { comment: 'ok' });
  await p.queue.onIdle();
  const grant = (await p.call('alice', 'GET', '/v1/grants')).body.items.find(
    (g: { requestId: string }) => g.requestId === first.id,
  );
  expect(grant.expiresAt).toBe('2026-11-28T10:00:00.000Z');

  clock.t = new Date('2026-11-27T10:00:00Z');
  p.resetTokens();
  const ext = await p.call('alice', 'POST', `/v1/grants/${grant.id}/extend`, {
    duration: { value: 3, unit: 'days' },
    purpose: 'the study runs longer',
  });
  expect(ext.status).toBe(201);
  expect(ext.body).toMatchObject({
    status: 'PENDING',
    extendsGrantId: grant.id,
    principal: body.principal,
    scope: grant.scope,
  });
  // Same approval as a new request: the owner decides; the requester cannot.
  expect(
    (await p.call('alice', 'POST', `/v1/requests/${ext.body.id}/approve`, { comment: 'mine' }))
      .status,
  ).toBe(403);
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${ext.body.id}/approve`, { comment: 'fine' })).body
      .status,
  ).toBe('APPROVED');
  await p.queue.onIdle();

  const extended = (await p.call('alice', 'GET', `/v1/requests/${ext.body.id}`)).body;
  expect(extended.status).toBe('ACTIVE');
  const newGrant = (await p.call('alice', 'GET', '/v1/grants')).body.items.find(
    (g: { requestId: string }) => g.requestId === ext.body.id,
  );
  expect(newGrant.expiresAt).toBe('2026-12-01T10:00:00.000Z'); // old expiry + 3 days

  const old = (await p.call('alice', 'GET', `/v1/requests/${first.id}`)).body;
  expect(old.status).toBe('REVOKED');
  expect(
    old.history.find((e: { type: string }) => e.type === 'REVOKE_REQUESTED').detail.reason,
  ).toBe(`replaced by extension ${ext.body.id}`);
  // One principal, one resource: one permission, still there for the extension.
  expect(await ledgerOf(body.principal)).toHaveLength(1);

  await p.call('alice', 'POST', `/v1/grants/${newGrant.id}/revoke`, { reason: 'done early' });
  await p.queue.onIdle();
  expect(await ledgerOf(body.principal)).toHaveLength(0);
});

test('revoking one of two active grants for the same principal and product keeps the permission', async () => {
  const body = newRequest('sales/orders');
  const ids: string[] = [];
  for (const who of ['alice', 'henry']) {
    const r = (await p.call(who, 'POST', '/v1/requests', body)).body;
    await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, { comment: 'ok' });
    ids.push(r.id);
  }
  await p.queue.onIdle();
  const grants = (await p.call('bob', 'GET', '/v1/grants?domain=sales')).body.items.filter(
    (g: { requestId: string }) => ids.includes(g.requestId),
  );
  expect(grants).toHaveLength(2);
  await p.call('bob', 'POST', `/v1/grants/${grants[0].id}/revoke`, { reason: 'one of two' });
  await p.queue.onIdle();
  expect(await ledgerOf(body.principal)).toHaveLength(1);
  await p.call('bob', 'POST', `/v1/grants/${grants[1].id}/revoke`, { reason: 'the other' });
  await p.queue.onIdle();
  expect(await ledgerOf(body.principal)).toHaveLength(0);
});

test('if ending the replaced grant fails, the job comes back and finishes it', async () => {
  const body = newRequest('sales/orders');
  const first = (await p.call('alice', 'POST', '/v1/requests', body)).body;
  await p.call('bob', 'POST', `/v1/requests/${first.id}/approve`, { comment: 'ok' });
  await p.queue.onIdle();
  const grant = (await p.store.listGrantsByDomain('sales')).find((g) => g.requestId === first.id)!;
  const ext = (
    await p.call('alice', 'POST', `/v1/grants/${grant.id}/extend`, {
      duration: { value: 1, unit: 'days' },
      purpose: 'more',
    })
  ).body;

  // The first attempt to end the old grant fails (a storage hiccup); the queue delivers the job again.
  const update = p.store.updateRequest.bind(p.store);
  const spy = jest
    .spyOn(p.store, 'updateRequest')
    .mockImplementation(async (next, expected, audit, g) => {
      if (
        next.id === first.id &&
        next.status === 'REVOKING' &&
        spy.mock.calls.filter((c) => c[0].id === first.id).length === 1
      )
        throw new Error('storage hiccup');
      return update(next, expected, audit, g);
    });
  const log = jest.spyOn(console, 'error').mockImplementation(() => {});
  await p.call('bob', 'POST', `/v1/requests/${ext.id}/approve`, { comment: 'fine' });
  await p.queue.onIdle();
  spy.mockRestore();
  log.mockRestore();

  expect((await p.store.getRequest(ext.id))!.status).toBe('ACTIVE');
  expect((await p.store.getRequest(first.id))!.status).toBe('REVOKED');
  expect(await ledgerOf(body.principal)).toHaveLength(1); // the extension's permission is intact
});
