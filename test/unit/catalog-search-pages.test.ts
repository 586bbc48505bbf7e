import fc from 'fast-check';
import type { DataProduct } from '../../functions/domain/model';
import {
  MAX_FACET_VALUES,
  MiniSearchCatalog,
} from '../../functions/adapters/search/minisearch-catalog';
import {
  FACETS,
  type CatalogSearch,
  type FacetName,
  type RankKey,
} from '../../functions/ports/search';

/**
 * A search ranks only as far as the page asked for, and counts its facets in typed arrays: its
 * pages must be those of the whole ranking, and its facets what counting the matches one by one
 * gives (each facet with every other filter applied, not its own), whatever the catalog, the
 * words, the filters and the products held.
 */
const WORDS = ['orders', 'order', 'invoices', 'claims', 'clams', 'leads', 'rates', 'events'];
const DOMAINS = ['sales', 'hr', 'finance', 'ops'];
const TAGS = ['gold', 'pii', 'people', 'raw'];
const CLASSES = ['public', 'internal', 'confidential', 'restricted'] as const;

const productArb = (k: number) =>
  fc
    .record({
      domain: fc.constantFrom(...DOMAINS),
      subject: fc.constantFrom(...WORDS),
      other: fc.constantFrom(...WORDS),
      owner: fc.integer({ min: 0, max: 300 }),
      classification: fc.constantFrom(...CLASSES),
      // Repeated tags too: a product counts once per tag.
      tags: fc.array(fc.constantFrom(...TAGS), { maxLength: 4 }),
      pii: fc.boolean(),
    })
    .map((r): DataProduct => ({
      id: `${r.domain}/${r.subject}_${k}`,
      domain: r.domain,
      name: `${r.subject}_${k}`,
      title: r.subject,
      description: `${r.subject} and ${r.other}`,
      owner: `u${r.owner}`,
      classification: r.classification,
      tags: r.tags,
      location: { catalogId: '111111111111', database: r.domain, table: r.subject },
      columns: [{ name: `${r.other}_id`, type: 'string', pii: r.pii }],
      freshness: 'daily',
      status: 'ACTIVE',
    }));

const catalogArb = fc
  .integer({ min: 1, max: 400 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => productArb(k))));

const searchArb = fc.record(
  {
    q: fc.oneof(fc.constantFrom(...WORDS), fc.constant('ord'), fc.constant('')),
    domain: fc.constantFrom(...DOMAINS, 'nowhere'),
    tag: fc.constantFrom(...TAGS),
    owner: fc.integer({ min: 0, max: 300 }).map((i) => `u${i}`),
    classification: fc.constantFrom(...CLASSES),
    pii: fc.boolean(),
    access: fc.boolean(),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<CatalogSearch>;

/** The facet value(s) of a product. */
function valuesOf(p: DataProduct, f: FacetName, held: ReadonlySet<string>): string[] {
  switch (f) {
    case 'domain':
      return [p.domain];
    case 'classification':
      return [p.classification];
    case 'tag':
      return [...new Set(p.tags)];
    case 'owner':
      return [p.owner];
    case 'pii':
      return [String(p.columns.some((c) => c.pii))];
    case 'access':
      return [String(held.has(p.id))];
  }
}

test('pages are slices of the whole ranking, and facets count the matches one by one', () => {
  fc.assert(
    fc.property(
      catalogArb,
      searchArb,
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 1, max: 60 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (catalog, search, from, size, heldShare) => {
        const index = MiniSearchCatalog.build(1, catalog);
        const held = new Set(
          catalog.filter((_, i) => (i * 0.618) % 1 < heldShare).map((p) => p.id),
        );
        const result = index.search(search, held);
        const all = result.matches.map((m) => m.id);
        expect(all).toHaveLength(result.total);
        // Asked first for a page, then for the whole: the same order.
        const fresh = index.search(search, held);
        expect(
          fresh
            .after(undefined, from + size)
            .items.slice(from)
            .map((m) => m.id),
        ).toEqual(all.slice(from, from + size));
        expect(fresh.after(undefined, 1).items.map((m) => m.id)).toEqual(all.slice(0, 1));

        // The text's matches, with no filter, then the filters by hand.
        const byId = new Map(catalog.map((p) => [p.id, p]));
        const texts = index.search({ q: search.q }, held).matches.map((m) => byId.get(m.id)!);
        const wanted = FACETS.filter((f) => search[f] !== undefined);
        const passes = (p: DataProduct, f: FacetName) =>
          valuesOf(p, f, held).includes(String(search[f]));
        expect(all).toEqual(
          texts.filter((p) => wanted.every((f) => passes(p, f))).map((p) => p.id),
        );
        for (const f of FACETS) {
          const counts = new Map<string, number>();
          for (const p of texts)
            if (wanted.every((g) => g === f || passes(p, g)))
              for (const v of valuesOf(p, f, held)) counts.set(v, (counts.get(v) ?? 0) + 1);
          const expected = [...counts]
            .map(([value, count]) => ({ value, count }))
            .sort(
              (a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
            )
            .slice(0, MAX_FACET_VALUES);
          const chosen = search[f] === undefined ? undefined : String(search[f]);
          if (chosen !== undefined && !expected.some((c) => c.value === chosen))
            expected.push({ value: chosen, count: counts.get(chosen) ?? 0 });
          expect(result.facets[f]).toEqual(expected);
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('equal scores rank by id, in a page picked out of many matches as in the whole ranking', () => {
  const same = (k: number): DataProduct => ({
    id: `d/p${String(k).padStart(4, '0')}`,
    domain: 'd',
    name: `p${String(k).padStart(4, '0')}`,
    title: 'orders',
    description: 'orders',
    owner: 'o',
    classification: 'internal',
    tags: [],
    location: { catalogId: '111111111111', database: 'd', table: 't' },
    columns: [{ name: 'id', type: 'string', pii: false }],
    freshness: 'daily',
    status: 'ACTIVE',
  });
  // Built in reverse: the index's order is its own, by id.
  const catalog = Array.from({ length: 1000 }, (_, k) => same(999 - k));
  const index = MiniSearchCatalog.build(1, catalog);
  const byId = catalog.map((p) => p.id).sort();
  const none = new Set<string>();
  expect(
    index
      .search({ q: 'orders' }, none)
      .after(undefined, 50)
      .items.map((m) => m.id),
  ).toEqual(byId.slice(0, 50));
  expect(
    index
      .search({ q: 'orders' }, none)
      .after(undefined, 150)
      .items.slice(100)
      .map((m) => m.id),
  ).toEqual(byId.slice(100, 150));
  expect(index.search({ q: 'orders' }, none).matches.map((m) => m.id)).toEqual(byId);
  // Pages after a rank key: a tie resumes at the next id, skipping none (pages of 1 and of 7).
  for (const size of [1, 7]) {
    const walked: string[] = [];
    let key: RankKey | undefined;
    for (;;) {
      const page = index.search({ q: 'orders' }, none).after(key, size);
      walked.push(...page.items.map((m) => m.id));
      if (!page.more) break;
      key = page.last;
    }
    expect(walked).toEqual(byId);
  }
});

test('pages after a rank key walk the whole ranking once, and resume on a newer index after the same position', () => {
  fc.assert(
    fc.property(
      catalogArb,
      searchArb,
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 40 }),
      (catalog, search, size, dropped) => {
        const index = MiniSearchCatalog.build(1, catalog);
        const none = new Set<string>();
        const all = index.search(search, none).matches.map((m) => m.id);
        const walked: string[] = [];
        let key: RankKey | undefined;
        for (;;) {
          const page = index.search(search, none).after(key, size);
          expect(page.items.length).toBeLessThanOrEqual(size);
          walked.push(...page.items.map((m) => m.id));
          if (!page.more) break;
          key = page.last;
        }
        expect(walked).toEqual(all);

        // A newer index (some products gone, so every score moves): the page after the first
        // page's last key holds what ranks after that key there, in its order, never the key's
        // own match again.
        const first = index.search(search, none).after(undefined, size);
        if (!first.last) return;
        const newer = MiniSearchCatalog.build(2, catalog.slice(dropped));
        const ranked = newer.search(search, none);
        const text = search.q?.trim();
        // The newer ranking, each match with its key, read off a walk of one-item pages.
        const keys: RankKey[] = [];
        let k: RankKey | undefined;
        for (;;) {
          const p = ranked.after(k, 1);
          if (!p.last) break;
          keys.push(p.last);
          k = p.last;
        }
        const last = first.last;
        const afterLast = keys.filter(
          (r) =>
            r.id !== last.id &&
            (text && last.score !== undefined
              ? r.score! < last.score || (r.score === last.score && r.id > last.id)
              : r.id > last.id),
        );
        const next = newer.search(search, none).after(last, size);
        expect(next.items.map((m) => m.id)).toEqual(afterLast.slice(0, size).map((r) => r.id));
        expect(next.items.map((m) => m.id)).not.toContain(last.id);
        expect(next.more).toBe(afterLast.length > size);
      },
    ),
    { numRuns: 150 },
  );
});
