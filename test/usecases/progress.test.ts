// Fulfilment progress: a grant over many tables notes how far it has come on the request while
// it runs (what the UI shows live), in a bounded number of writes, and never after it ends.
import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import type { DataProduct, FulfilmentProgress } from '../../functions/domain/model';
import type { GrantProgress, LakeFormationPort } from '../../functions/ports/lakeformation';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';

const TABLES = Array.from({ length: 45 }, (_, i) => `events_${String(i).padStart(2, '0')}`);
const EVENTS: DataProduct = {
  id: 'sales/web_events',
  domain: 'sales',
  name: 'web_events',
  title: 'Web events, one table per site',
  description: 'Click stream per site.',
  owner: 'bob',
  classification: 'internal',
  tags: ['events'],
  location: {
    catalogId: '111111111111',
    database: 'sales_events',
    table: TABLES[0]!,
    tables: TABLES,
  },
  columns: [{ name: 'event_id', type: 'string', pii: false }],
  freshness: 'Hourly',
  status: 'ACTIVE',
};

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
  p.catalog.set([...DEMO_PRODUCTS, EVENTS]);
  expect((await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/sync')).status).toBe(
    200,
  );
});
afterAll(() => p.close());

test('a 45-table grant shows its progress on the request while it runs, then ends ACTIVE without it', async () => {
  const seen: (FulfilmentProgress | undefined)[] = [];
  let heard = 0;
  let id = '';
  const real = p.broker.lakeFormation;
  const watching: LakeFormationPort = {
    listPermissions: (a) => real.listPermissions(a),
    revoke: (g) => real.revoke(g),
    grant: (g, progress?: GrantProgress) =>
      real.grant(g, async (done, total) => {
        heard++;
        await progress?.(done, total);
        seen.push((await p.store.getRequest(id))?.progress);
      }),
  };
  p.broker.lakeFormation = watching;
  try {
    const created = await p.call('alice', 'POST', '/v1/requests', newRequest(EVENTS.id));
    expect(created.status).toBe(201);
    id = created.body.id;
    expect((await p.call('bob', 'POST', `/v1/requests/${id}/approve`, {})).status).toBe(200);
    await p.queue.onIdle();
  } finally {
    p.broker.lakeFormation = real;
  }
  expect(heard).toBe(45);
  const notes = [...new Map(seen.filter(Boolean).map((s) => [s!.done, s!])).values()];
  // The attempt's own note before its first call (done 0), then one per 3 tables (45 / 20,
  // rounded up), and the last: 16 writes for 45 tables, all naming the one attempt.
  expect(notes.map((n) => n.done)).toEqual(Array.from({ length: 16 }, (_, i) => i * 3));
  expect(notes.every((n) => n.total === 45)).toBe(true);
  expect(new Set(notes.map((n) => n.attempt)).size).toBe(1);
  expect(notes.some((n) => n.earlier)).toBe(false);
  const done = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body;
  expect(done.status).toBe('ACTIVE');
  expect(done.progress).toBeUndefined();
});

test('a progress note for a request that is no longer GRANTING changes nothing', async () => {
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  const before = await p.store.getRequest(created.body.id);
  await p.store.recordProgress(created.body.id, {
    done: 1,
    total: 1,
    at: new Date().toISOString(),
  });
  expect(await p.store.getRequest(created.body.id)).toEqual(before);
});
