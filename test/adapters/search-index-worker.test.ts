import { gzipSync } from 'node:zlib';
import type { DataProduct } from '../../functions/domain/model';
import { MiniSearchCatalog } from '../../functions/adapters/search/minisearch-catalog';
import { loadIndexInWorker } from '../../functions/adapters/local/search-index-worker';

/**
 * The embedded portal reads its search index in a worker thread (search-index-worker.ts): the
 * index it gets answers as the one built, and a blob that is not an index is refused, not served.
 */
const product = (i: number): DataProduct => ({
  id: `d${i % 7}/table_${i}`,
  domain: `d${i % 7}`,
  name: `table_${i}`,
  title: `Orders ${i}`,
  description: `Every order of shop ${i % 13}, one row per order.`,
  owner: `u${i % 11}`,
  classification: i % 3 ? 'internal' : 'confidential',
  tags: i % 2 ? ['gold'] : ['raw', 'pii'],
  location: { catalogId: '111111111111', database: 'db', table: `table_${i}` },
  columns: [
    { name: 'order_id', type: 'string', pii: false },
    { name: 'email', type: 'string', pii: i % 2 === 0 },
  ],
  freshness: 'daily',
  status: 'ACTIVE',
});

test('an index read in a worker answers as the one built', async () => {
  const built = MiniSearchCatalog.build(
    9,
    Array.from({ length: 500 }, (_, i) => product(i)),
  );
  const blob = gzipSync(built.serialise());
  // In stored chunks, as the index is read from the table.
  const chunks = Array.from({ length: Math.ceil(blob.length / 3000) }, (_, i) =>
    Uint8Array.from(blob.subarray(i * 3000, (i + 1) * 3000)),
  );
  expect(chunks.length).toBeGreaterThan(2);
  const loaded = await loadIndexInWorker(chunks);
  expect(loaded.version).toBe(9);
  expect(loaded.size).toBe(500);
  expect(loaded.arrayBytes).toBe(built.arrayBytes);
  const held = new Set(['d1/table_1', 'd2/table_2']);
  for (const s of [
    { q: 'ordres' },
    { q: 'shop 12', tag: 'gold' },
    { owner: 'u3' },
    { q: 'table_42' },
  ])
    expect(loaded.search(s, held).after(undefined, 50)).toEqual(
      built.search(s, held).after(undefined, 50),
    );
});

test('a blob that is not an index is refused', async () => {
  await expect(loadIndexInWorker([gzipSync(Buffer.from('{"an":"older form"}'))])).rejects.toThrow(
    /unknown search index format/,
  );
  await expect(loadIndexInWorker([Buffer.from('not gzip')])).rejects.toThrow();
});
