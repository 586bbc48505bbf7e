import type { DataProduct, Domain } from '../../functions/domain/model';
import { DynamoSearchIndex, gunzipWhole } from '../../functions/adapters/aws/dynamo-search-index';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { ensureTable, startEmbeddedDynamo } from '../../functions/adapters/local/embedded-dynamo';
import { MiniSearchCatalog } from '../../functions/adapters/search/minisearch-catalog';

// A process loading the published index (slow at 100,000 products: seconds in a worker thread)
// while its own refresh builds and holds a newer one must keep the newer one: a search after the
// sync sees it, and a cursor handed out on it stays valid.

const TABLE = 'search-index-race';
const product = (id: string, title: string) => {
  const [domain, name] = id.split('/') as [string, string];
  return {
    id,
    domain,
    name,
    title,
    description: title,
    owner: 'bob',
    classification: 'internal',
    tags: [],
    location: { catalogId: '111111111111', database: domain, table: name },
    columns: [{ name: 'id', type: 'string', pii: false }],
    freshness: 'daily',
    status: 'ACTIVE',
  } as unknown as DataProduct;
};

test('an index loaded while a newer one was built does not replace it', async () => {
  const d = await startEmbeddedDynamo();
  try {
    await ensureTable(d.client, TABLE);
    const store = new DynamoStore(TABLE, d.client);
    await store.putDomain({
      id: 'sales',
      name: 'sales',
      accountId: '111111111111',
      region: 'eu-west-1',
    } as unknown as Domain);
    await store.putProduct(product('sales/orders', 'Orders'));
    // Another process publishes the first index.
    await new DynamoSearchIndex(TABLE, d.client, store).refresh();

    let loaded!: () => void;
    const loading = new Promise<void>((r) => (loaded = r));
    let finish!: () => void;
    const slow = new Promise<void>((r) => (finish = r));
    const mine = new DynamoSearchIndex(TABLE, d.client, store, {
      unzip: async (parts) => {
        const index = MiniSearchCatalog.load(gunzipWhole(Buffer.concat(parts)));
        loaded();
        await slow;
        return index;
      },
    });
    const searching = mine.current(); // loads the published index
    await loading;
    await store.putProduct(product('sales/leads', 'Leads'));
    const report = await mine.refresh(); // builds and holds the newer one
    finish();
    await searching;
    const held = await mine.current();
    expect(held.version).toBe(report.version);
    expect(held.size).toBe(2);
  } finally {
    await d.close();
  }
});
