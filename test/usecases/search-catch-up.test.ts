// The search index catches up with the catalog even when the build after a sync failed or never
// ran (a worker that died between its last product write and the build): the next sync builds it
// whether or not it changes anything, and so does every sweep.
import { DynamoSearchIndex } from '../../functions/adapters/aws/dynamo-search-index';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { systemClock, ulidIds } from '../../functions/adapters/runtime';
import type { DataProduct, Domain } from '../../functions/domain/model';
import { syncDomain, type OperationsDeps } from '../../functions/usecases/operations';
import { embeddedTables } from '../support/embedded-tables';
import { startPortal } from '../support/portal';

const TABLE = 'search-catch-up';
const db = embeddedTables(TABLE);

const product = (name: string, title: string): DataProduct => ({
  id: `sales/${name}`,
  domain: 'sales',
  name,
  title,
  description: title,
  owner: 'bob',
  classification: 'internal',
  tags: [],
  location: { catalogId: '111111111111', database: 'sales', table: name },
  columns: [{ name: 'id', type: 'string', pii: false }],
  freshness: 'daily',
  status: 'ACTIVE',
});

test('a sync whose build failed leaves the index behind only until the next sync, which changes nothing', async () => {
  const store = new DynamoStore(TABLE, db.client);
  const domain: Domain = {
    id: 'sales',
    name: 'sales',
    accountId: '111111111111',
    region: 'eu-west-1',
  };
  await store.putDomain(domain);
  await store.putProduct(product('orders', 'Orders'));
  const search = new DynamoSearchIndex(TABLE, db.client, store);
  await search.refresh();

  let failNext = true;
  const logs: string[] = [];
  const deps = {
    store,
    clock: systemClock,
    ids: ulidIds(),
    catalog: {
      listProducts: async () => [product('orders', 'Orders'), product('invoices', 'Invoices')],
    },
    search: {
      refresh: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('throttled');
        }
        return search.refresh();
      },
    },
    log: (msg: string) => logs.push(msg),
  } as unknown as OperationsDeps;
  const first = await syncDomain(deps, 'erin', domain);
  expect(first.added).toEqual(['sales/invoices']);
  expect(logs).toEqual(['search index not rebuilt']);
  const second = await syncDomain(deps, 'erin', domain);
  expect(second).toMatchObject({ added: [], updated: [], retired: [], unchanged: 2 });

  const api = new DynamoSearchIndex(TABLE, db.client, store);
  const index = await api.current();
  expect(index.search({ q: 'invoices' }, new Set()).matches.map((m) => m.id)).toEqual([
    'sales/invoices',
  ]);
});

test('the sweep builds the index when the catalog moved past it', async () => {
  const p = await startPortal();
  try {
    // A product written by a sync whose worker died before it built the index.
    await p.deps.store.putProduct({
      ...product('stranded_ledger', 'Stranded ledger'),
    });
    const before = await p.call('alice', 'GET', '/v1/products?q=stranded');
    expect(before.body.items).toEqual([]);
    const swept = await p.schedules.sweep();
    expect(swept.search).toMatchObject({ rebuilt: true });
    // Current now: the next sweep reads the version item and builds nothing.
    expect((await p.schedules.sweep()).search).toMatchObject({ rebuilt: false });
    // A search answers from the index it holds for a couple of seconds; a new process sees it at once.
    const other = new DynamoSearchIndex('meshgate', p.client, p.deps.store);
    const found = (await other.current()).search({ q: 'stranded' }, new Set());
    expect(found.matches.map((m) => m.id)).toEqual(['sales/stranded_ledger']);
  } finally {
    await p.close();
  }
});
