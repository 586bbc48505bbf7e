import type { Classification, DataProduct } from '../domain/model';

/** What a search answers for each product: enough for a result card, without the columns. */
export type ProductSummary = Pick<
  DataProduct,
  | 'id'
  | 'domain'
  | 'name'
  | 'title'
  | 'description'
  | 'owner'
  | 'classification'
  | 'tags'
  | 'status'
> & {
  /** Whether any of its columns is marked as personal data. */
  pii: boolean;
};

/** A catalog search: free text (ranked, typo-tolerant, prefixes) and exact filters. */
export interface CatalogSearch {
  q?: string;
  domain?: string;
  classification?: Classification;
  tag?: string;
  owner?: string;
  pii?: boolean;
  /** Only products the caller holds (true) or does not hold (false) an ACTIVE grant on. */
  access?: boolean;
}

export const FACETS = ['domain', 'classification', 'tag', 'owner', 'pii', 'access'] as const;
export type FacetName = (typeof FACETS)[number];
export interface FacetCount {
  value: string;
  count: number;
}

/**
 * Where a match ranks: its score (a search with text) and its id. Matches rank best score first,
 * equal scores by id; a search without text ranks by id alone. It holds nothing of the index it
 * was read from, so a page resumes after it on any index, a newer one too.
 */
export interface RankKey {
  score?: number;
  id: string;
}

export interface SearchResult {
  /** How many products match. */
  readonly total: number;
  /**
   * Up to `limit` matches ranked after `after` (from the first when absent), in that order, with
   * the last one's rank key and whether more matches follow it.
   */
  after(
    after: RankKey | undefined,
    limit: number,
  ): { items: ProductSummary[]; last?: RankKey; more: boolean };
  /** Every match, in that order (a summary for each: `after` makes only the page's). */
  readonly matches: ProductSummary[];
  /**
   * Per facet, how many matches each value has, counted with every other filter applied but not
   * the facet's own (so choosing a domain still shows how many the other domains hold).
   */
  facets: Record<FacetName, FacetCount[]>;
}

/** One loaded index of the catalog, as it was at catalog version `version`. */
export interface CatalogIndex {
  readonly version: number;
  readonly size: number;
  /** `held`: ids of the products the caller holds an ACTIVE grant on (the access facet). */
  search(s: CatalogSearch, held: ReadonlySet<string>): SearchResult;
}

/**
 * The catalog's search index: built from the catalog when it changes, stored as one serialised
 * blob, and loaded by the processes that answer searches. The catalog version (a counter the store
 * moves with every product write) says when a loaded index is out of date.
 */
export interface SearchIndex {
  /**
   * The latest stored index. Costs one read of the catalog version (cached for a few seconds) when
   * the index held is current; loads the stored blob again only when a newer one was published.
   */
  current(): Promise<CatalogIndex>;
  /**
   * Builds and publishes the index when the one stored is older than the catalog (or none is
   * stored); with `force`, builds it anyway. Reads every product: off the request path.
   */
  refresh(force?: boolean): Promise<IndexReport>;
  /**
   * Whether this caller is the one to ask the worker for a build, when `current()` found no index
   * to answer from: true at most once per `BUILD_REQUEST_EVERY_MS` across every process (a
   * conditional write, tried at most that often per process), so a burst of searches on many
   * instances asks once.
   */
  claimBuildRequest(): Promise<boolean>;
}

/** How often a build may be asked of the worker while no index is published. */
export const BUILD_REQUEST_EVERY_MS = 60_000;

export interface IndexReport {
  rebuilt: boolean;
  /** The catalog version the stored index covers. */
  version: number;
  products: number;
  /** Size of the stored blob (compressed). */
  bytes: number;
}
