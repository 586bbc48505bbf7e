// What "My access" and "My requests" read: the caller's own grants only (`mine=true`), and each
// listed request with its terms as narrowed by approvers (what is or will be granted).
import { newRequest, startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

async function active(user: string, productId: string, approvers: string[] = []) {
  const created = await p.call(user, 'POST', '/v1/requests', newRequest(productId));
  expect(created.status).toBe(201);
  for (const a of approvers)
    expect((await p.call(a, 'POST', `/v1/requests/${created.body.id}/approve`, {})).status).toBe(
      200,
    );
  await p.queue.onIdle();
  const r = (await p.call(user, 'GET', `/v1/requests/${created.body.id}`)).body;
  expect(r.status).toBe('ACTIVE');
  return r.grantId as string;
}

test("GET /v1/grants?mine=true answers the caller's own grants, not those of domains they read", async () => {
  const alices = await active('alice', 'finance/fx_rates');
  const bobs = await active('bob', 'finance/fx_rates');
  // fiona owns finance: she reads both, but holds neither.
  const all = (await p.call('fiona', 'GET', '/v1/grants?status=ACTIVE')).body.items.map(
    (g: { id: string }) => g.id,
  );
  expect(all).toEqual(expect.arrayContaining([alices, bobs]));
  expect((await p.call('fiona', 'GET', '/v1/grants?mine=true')).body.items).toEqual([]);
  const mine = await p.call('bob', 'GET', '/v1/grants?mine=true&status=ACTIVE');
  expect(mine.status).toBe(200);
  expect(mine.body.items.map((g: { id: string }) => g.id)).toEqual([bobs]);
  expect(
    (await p.call('alice', 'GET', '/v1/grants?mine=true')).body.items.map(
      (g: { requester: string }) => g.requester,
    ),
  ).toEqual(['alice']);
});

test('each request in a listing carries its terms as narrowed by approvers', async () => {
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  const narrowedScope = {
    permissions: ['SELECT'],
    columns: { mode: 'include', columns: ['order_id', 'amount'] },
  };
  expect(
    (
      await p.call('bob', 'POST', `/v1/requests/${created.body.id}/approve`, {
        narrowedScope,
      })
    ).status,
  ).toBe(200);
  const listed = (await p.call('alice', 'GET', '/v1/requests?mine=true')).body.items.find(
    (r: { id: string }) => r.id === created.body.id,
  );
  expect(listed.scope.columns).toEqual({ mode: 'all' });
  expect(listed.terms.scope).toEqual(narrowedScope);
  expect(listed.terms.duration).toEqual({ value: 7, unit: 'days' });
});
