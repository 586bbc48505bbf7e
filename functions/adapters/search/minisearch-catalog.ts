import MiniSearch, { type AsPlainObject, type Options, type SearchOptions } from 'minisearch';
import type { DataProduct } from '../../domain/model';
import {
  FACETS,
  type CatalogIndex,
  type CatalogSearch,
  type FacetCount,
  type FacetName,
  type ProductSummary,
  type SearchResult,
} from '../../ports/search';

/**
 * The catalog's full-text index, on MiniSearch (https://lucaong.github.io/minisearch/): a small
 * (no dependencies), maintained in-memory engine with relevance ranking (BM25+), per-field boosts,
 * fuzzy (edit distance) and prefix matching, incremental add/remove, and an index that serialises
 * to JSON and loads back without re-indexing. That last point is what lets one process build the
 * index when the catalog changes and every API process load it, with no search cluster.
 */

/**
 * The text a product is found by, in four fields (each with its boost). Few fields keep the index
 * small: MiniSearch keeps term frequencies per field.
 */
interface IndexedDoc {
  id: string;
  /** The id's words, the title and the tags. */
  head: string;
  owner: string;
  /** Column names and their comments. */
  columns: string;
  description: string;
}

const BOOST: Record<keyof Omit<IndexedDoc, 'id'>, number> = {
  head: 3,
  owner: 1.5,
  columns: 1.2,
  description: 1,
};

const OPTIONS: Options<IndexedDoc> = {
  idField: 'id',
  fields: Object.keys(BOOST),
  storeFields: [],
  // Splits on anything that is not a letter or digit: `customer_id` and `hr/employees` give words.
  tokenize: (text) => text.split(/[^\p{L}\p{N}]+/u).filter(Boolean),
};

const SEARCH: SearchOptions = {
  boost: BOOST,
  combineWith: 'AND',
  // A word of the query matches the start of a longer one ("emp" finds "employees")...
  prefix: (term) => term.length >= 2,
  // ...and typos, as search engines usually allow: one edit in 3 to 5 letters, two beyond.
  fuzzy: (term) => (term.length < 3 ? false : term.length <= 5 ? 1 : 2),
};

/** Facet lists are capped (an owner facet over 100,000 products could hold thousands). */
export const MAX_FACET_VALUES = 50;

const indexedDoc = (p: DataProduct): IndexedDoc => ({
  id: p.id,
  head: `${p.id} ${p.title} ${p.tags.join(' ')}`,
  owner: p.owner,
  columns: p.columns.map((c) => `${c.name} ${c.comment ?? ''}`).join(' '),
  description: p.description,
});

export const summary = (p: DataProduct): ProductSummary => ({
  id: p.id,
  domain: p.domain,
  name: p.name,
  title: p.title,
  description: p.description,
  owner: p.owner,
  classification: p.classification,
  tags: p.tags,
  status: p.status,
  pii: p.columns.some((c) => c.pii),
});

/** The serialised form: the MiniSearch index and the summaries it answers with. */
interface Serialised {
  format: 1;
  version: number;
  summaries: ProductSummary[];
  index: AsPlainObject;
}

export class MiniSearchCatalog implements CatalogIndex {
  private readonly byId: Map<string, ProductSummary>;
  /** Every product by id: the order of a search without text. */
  private readonly sorted: ProductSummary[];

  private constructor(
    readonly version: number,
    summaries: ProductSummary[],
    private readonly engine: MiniSearch<IndexedDoc>,
  ) {
    this.sorted = [...summaries].sort((a, b) => compare(a.id, b.id));
    this.byId = new Map(this.sorted.map((s) => [s.id, s]));
  }

  static build(version: number, products: DataProduct[]): MiniSearchCatalog {
    const engine = new MiniSearch<IndexedDoc>(OPTIONS);
    engine.addAll(products.map(indexedDoc));
    return new MiniSearchCatalog(version, products.map(summary), engine);
  }

  static fromJSON(text: string): MiniSearchCatalog {
    const s = JSON.parse(text) as Serialised;
    if (s.format !== 1) throw new Error(`unknown search index format ${String(s.format)}`);
    const engine = MiniSearch.loadJS<IndexedDoc>(s.index, OPTIONS);
    return new MiniSearchCatalog(s.version, s.summaries, engine);
  }

  toJSON(): Serialised {
    return {
      format: 1,
      version: this.version,
      summaries: this.sorted,
      index: this.engine.toJSON(),
    };
  }

  get size(): number {
    return this.sorted.length;
  }

  search(s: CatalogSearch, held: ReadonlySet<string>): SearchResult {
    const text = s.q?.trim();
    let candidates: ProductSummary[];
    if (text) {
      const hits = this.engine.search(text, SEARCH);
      // Equal scores in a stable order: by id.
      hits.sort((a, b) => b.score - a.score || compare(String(a.id), String(b.id)));
      candidates = hits.map((h) => this.byId.get(String(h.id))).filter((p) => p !== undefined);
    } else {
      candidates = this.sorted;
    }
    const valuesOf = (p: ProductSummary, f: FacetName): string[] => {
      switch (f) {
        case 'domain':
          return [p.domain];
        case 'classification':
          return [p.classification];
        case 'tag':
          return p.tags;
        case 'owner':
          return [p.owner];
        case 'pii':
          return [String(p.pii)];
        case 'access':
          return [String(held.has(p.id))];
      }
    };
    const wanted: Partial<Record<FacetName, string>> = {};
    for (const f of FACETS) {
      const v = s[f];
      if (v !== undefined) wanted[f] = String(v);
    }
    const active = FACETS.filter((f) => wanted[f] !== undefined);
    // Which filters each candidate fails: it counts for a facet when it passes all the others.
    const counts = Object.fromEntries(FACETS.map((f) => [f, new Map<string, number>()])) as Record<
      FacetName,
      Map<string, number>
    >;
    const matches: ProductSummary[] = [];
    for (const p of candidates) {
      const failed = active.filter((f) => !valuesOf(p, f).includes(wanted[f]!));
      if (failed.length === 0) matches.push(p);
      if (failed.length > 1) continue;
      for (const f of FACETS) {
        if (failed.length === 1 && failed[0] !== f) continue;
        const m = counts[f];
        for (const v of new Set(valuesOf(p, f))) m.set(v, (m.get(v) ?? 0) + 1);
      }
    }
    const facets = Object.fromEntries(
      FACETS.map((f) => [f, topValues(counts[f], wanted[f])]),
    ) as Record<FacetName, FacetCount[]>;
    return { matches, facets };
  }
}

/** Most frequent first (then by value), at most MAX_FACET_VALUES, always with the chosen one. */
function topValues(m: Map<string, number>, chosen: string | undefined): FacetCount[] {
  const all = [...m].map(([value, count]) => ({ value, count }));
  all.sort((a, b) => b.count - a.count || compare(a.value, b.value));
  const top = all.slice(0, MAX_FACET_VALUES);
  if (chosen !== undefined && !top.some((c) => c.value === chosen))
    top.push({ value: chosen, count: m.get(chosen) ?? 0 });
  return top;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
