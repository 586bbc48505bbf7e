import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

interface Page {
  items: Array<{ id: string; access: boolean; pii: boolean }>;
  cursor?: string;
  total: number;
  facets: Record<string, Array<{ value: string; count: number }>>;
}
const search = async (user: string, query = '') => {
  const res = await p.call(user, 'GET', `/v1/products${query ? `?${query}` : ''}`);
  return res as { status: number; body: Page };
};
const count = (facet: Array<{ value: string; count: number }>, value: string) =>
  facet.find((f) => f.value === value)?.count ?? 0;

test('a typo finds hr/employees first', async () => {
  const { status, body } = await search('alice', 'q=emplyee');
  expect(status).toBe(200);
  expect(body.items[0]?.id).toBe('hr/employees');
});

test('the facets count the catalog as it is', async () => {
  const { body } = await search('alice');
  expect(body.total).toBe(DEMO_PRODUCTS.length);
  for (const d of new Set(DEMO_PRODUCTS.map((x) => x.domain)))
    expect(count(body.facets.domain!, d)).toBe(DEMO_PRODUCTS.filter((x) => x.domain === d).length);
  for (const c of new Set(DEMO_PRODUCTS.map((x) => x.classification)))
    expect(count(body.facets.classification!, c)).toBe(
      DEMO_PRODUCTS.filter((x) => x.classification === c).length,
    );
  const withPii = DEMO_PRODUCTS.filter((x) => x.columns.some((c) => c.pii)).length;
  expect(count(body.facets.pii!, 'true')).toBe(withPii);
  expect(count(body.facets.pii!, 'false')).toBe(DEMO_PRODUCTS.length - withPii);
  const tag = DEMO_PRODUCTS[0]!.tags[0]!;
  expect(count(body.facets.tag!, tag)).toBe(
    DEMO_PRODUCTS.filter((x) => x.tags.includes(tag)).length,
  );

  // A filter narrows the items; its own facet still shows the other values.
  const hr = (await search('alice', 'domain=hr&pii=true')).body;
  expect(hr.items.map((i) => i.id).sort()).toEqual(
    DEMO_PRODUCTS.filter((x) => x.domain === 'hr' && x.columns.some((c) => c.pii))
      .map((x) => x.id)
      .sort(),
  );
  expect(hr.total).toBe(hr.items.length);
  expect(count(hr.facets.domain!, 'sales')).toBe(
    DEMO_PRODUCTS.filter((x) => x.domain === 'sales' && x.columns.some((c) => c.pii)).length,
  );
});

test('walking every page gives every product once, by id, and the last page has no cursor', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { status, body } = await search(
      'alice',
      `limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(status).toBe(200);
    expect(body.items.length).toBeLessThanOrEqual(5);
    seen.push(...body.items.map((i) => i.id));
    cursor = body.cursor;
    pages++;
  } while (cursor);
  expect(pages).toBe(Math.ceil(DEMO_PRODUCTS.length / 5));
  expect(seen).toEqual(DEMO_PRODUCTS.map((x) => x.id).sort());
});

test('a forged, foreign or oversized request is a 400', async () => {
  const first = (await search('alice', 'limit=2')).body;
  expect(first.cursor).toBeDefined();
  const [body, mac] = first.cursor!.split('.');
  const forged = `${Buffer.from(JSON.stringify({ o: 0, v: 999 })).toString('base64url')}.${mac}`;
  for (const query of [
    `limit=2&cursor=${forged}`,
    `limit=2&cursor=${body}.AAAA`,
    'limit=2&cursor=garbage',
    `limit=2&domain=hr&cursor=${encodeURIComponent(first.cursor!)}`, // other filters
  ]) {
    const res = await search('alice', query);
    expect(res.status).toBe(400);
    expect((res.body as unknown as { error: { code: string } }).error.code).toBe('BAD_CURSOR');
  }
  // Another caller's cursor.
  expect((await search('bob', `limit=2&cursor=${encodeURIComponent(first.cursor!)}`)).status).toBe(
    400,
  );
  expect((await search('alice', 'limit=501')).status).toBe(400);
  expect((await search('alice', 'limit=0')).status).toBe(400);
});

test('"I already have access" counts the caller\'s active grants: alice with one, bob without', async () => {
  const r = (await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'))).body;
  await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, { comment: 'ok' });
  await p.queue.onIdle();
  expect((await p.call('alice', 'GET', `/v1/requests/${r.id}`)).body.status).toBe('ACTIVE');

  const alice = (await search('alice')).body;
  expect(count(alice.facets.access!, 'true')).toBe(1);
  expect(alice.items.find((i) => i.id === 'sales/orders')?.access).toBe(true);
  expect((await search('alice', 'access=true')).body.items.map((i) => i.id)).toEqual([
    'sales/orders',
  ]);

  const bob = (await search('bob')).body;
  expect(count(bob.facets.access!, 'true')).toBe(0);
  expect(count(bob.facets.access!, 'false')).toBe(DEMO_PRODUCTS.length);
  expect((await search('bob', 'access=true')).body.items).toEqual([]);
});

test('a catalog change moves the version; the next search sees it, and a cursor handed out before resumes on the new index', async () => {
  const before = (await search('alice', 'limit=2')).body;
  const ranked = (await search('alice', 'q=currency&limit=1')).body;
  expect(ranked.total).toBeGreaterThan(1);
  const version = async () =>
    (
      await p.client.send(
        new (await import('@aws-sdk/client-dynamodb')).GetItemCommand({
          TableName: 'meshgate',
          Key: { pk: { S: 'CATALOG' }, sk: { S: 'VERSION' } },
          ConsistentRead: true,
        }),
      )
    ).Item!.version!.N;
  const v0 = Number(await version());

  const fresh = {
    ...structuredClone(DEMO_PRODUCTS.find((x) => x.id === 'finance/fx_rates')!),
    id: 'finance/zanzibar_tariffs',
    name: 'zanzibar_tariffs',
    title: 'Zanzibar tariffs',
  };
  p.catalog.set([...DEMO_PRODUCTS, fresh]);
  const sync = await viaWorker(p, () => p.queue.onIdle(), 'erin', '/v1/domains/finance/sync');
  expect(sync.status).toBe(200);
  expect(Number(await version())).toBe(v0 + 1);

  const found = (await search('alice', 'q=zanzibr')).body;
  expect(found.items.map((i) => i.id)).toEqual(['finance/zanzibar_tariffs']);
  expect((await search('alice')).body.total).toBe(DEMO_PRODUCTS.length + 1);

  // Page 2 of a listing begun on the older index continues after its last item, by id, on the
  // new one (which holds the new product in its place).
  const ids = [...DEMO_PRODUCTS.map((x) => x.id), fresh.id].sort();
  const next = await search('alice', `limit=2&cursor=${encodeURIComponent(before.cursor!)}`);
  expect(next.status).toBe(200);
  const lastBefore = before.items[1]!.id;
  expect(next.body.items.map((i) => i.id)).toEqual(
    ids.slice(ids.indexOf(lastBefore) + 1, ids.indexOf(lastBefore) + 3),
  );
  // And a ranked search's: after its first match, the rest in the new ranking, that one not again.
  const rest = await search(
    'alice',
    `q=currency&limit=50&cursor=${encodeURIComponent(ranked.cursor!)}`,
  );
  expect(rest.status).toBe(200);
  const all = (await search('alice', 'q=currency&limit=50')).body.items.map((i) => i.id);
  expect(all).toContain(fresh.id);
  expect(rest.body.items.map((i) => i.id)).toEqual(all.slice(all.indexOf(ranked.items[0]!.id) + 1));
  p.catalog.set(DEMO_PRODUCTS);
});
