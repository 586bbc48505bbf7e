import {
  ALL_DOMAINS,
  type AccessRequest,
  type Duration,
  type Grant,
  type Principal,
  type RequestStatus,
  type Scope,
} from '../domain/model';
import { forbidden, MeshgateError, notFound, validation } from '../domain/errors';
import { cursorScope, DEFAULT_PAGE_SIZE } from '../domain/paging';
import type { CatalogSearch, SearchIndex } from '../ports/search';
import { currentStage, effectiveTerms, piiColumnsTouched } from '../domain/request';
import { decidingActions, resultingExpiry } from '../domain/lifecycle';
import type { AuditQuery, InboxSource, ListingSource } from '../ports/store';
import { aboutRequest, loadVisibleRequest, mayReadAudit, type Deps } from './deps';
import { cursorCodec, openPage, type PageQuery } from './paging';
import { accessOfRequest } from './access';
import { productsWithAccess } from './held-grants';

type Q = Pick<Deps, 'store' | 'policy' | 'clock'>;

export async function whoAmI(deps: Q, who: Principal) {
  const user = await deps.store.getUser(who.userId);
  // The caller's memberships are part of the authorization state this call was decided with.
  const memberships = deps.policy.membershipsOf(who.userId);
  return { id: who.userId, name: user?.name ?? who.name, title: user?.title, memberships };
}

/**
 * One page of the domains, by id, with their owners and stewards: one Query of the domains and one
 * of the memberships of the page's domains.
 */
export async function listDomains(deps: Q, who: Principal, q: PageQuery) {
  const page = await openPage(deps.store, 'domains', who.userId, {}, q);
  const found = await deps.store.listDomainsPage(page);
  const memberships =
    found.items.length === 0
      ? []
      : await deps.store.listMembershipsBetween(
          found.items[0]!.id,
          found.items[found.items.length - 1]!.id,
          ['owner', 'steward'],
        );
  // The broker role and its ExternalId are how Meshgate reaches the account: not for callers.
  return page.answer(found, (domains) =>
    domains.map(({ broker: _broker, ...d }) => ({
      ...d,
      owners: memberships.filter((m) => m.domain === d.id && m.role === 'owner').map((m) => m.user),
      stewards: memberships
        .filter((m) => m.domain === d.id && m.role === 'steward')
        .map((m) => m.user),
    })),
  );
}

export interface ProductFilter extends CatalogSearch {
  limit?: number;
  cursor?: string;
}

/**
 * Where a search page resumes: after the rank key of the last match handed out (`RankKey`: its
 * score, in a search with text, and its id). It names no index, so it holds across a new index
 * published meanwhile (another instance, or this one, loading it): the next page continues after
 * that position in the new ranking, without repeating the match it ended on. A match whose score
 * moved with the catalog may move across the boundary (shown twice or not at all), as in any
 * keyset paging. The cursor's seal binds it to the caller and the filters (`cursorScope`).
 */
interface SearchPosition {
  /** The last match's score (a search with text). */
  s?: number;
  /** The last match's id. */
  id: string;
}

const isPosition = (p: unknown): p is SearchPosition => {
  const at = p as Partial<SearchPosition> | null;
  return (
    typeof at === 'object' &&
    at !== null &&
    typeof at.id === 'string' &&
    at.id.length > 0 &&
    (at.s === undefined || (typeof at.s === 'number' && Number.isFinite(at.s)))
  );
};

/**
 * The catalog search: one page of the ranked matches, with the facets' counts. Costs the version
 * check of the search index (one read, cached a few seconds) and the version of the caller's
 * grants (one read; their grants are queried again only when it moved: the access facet),
 * whatever the size of the catalog.
 */
export async function searchProducts(
  deps: Pick<Deps, 'store' | 'clock' | 'queue' | 'log'> & { search: SearchIndex },
  who: Principal,
  f: ProductFilter,
) {
  const { limit = DEFAULT_PAGE_SIZE, cursor, ...filters } = f;
  const scope = cursorScope('products', who.userId, { ...filters });
  const cursors = await cursorCodec(deps.store);
  let at: SearchPosition | undefined;
  if (cursor) {
    const opened = cursors.open<unknown>(scope, cursor);
    if (!isPosition(opened))
      throw validation('BAD_CURSOR', 'The cursor is not one this API returned.');
    at = opened;
  }
  const [index, held] = await Promise.all([
    currentIndex(deps),
    // What the caller holds (their most recent page of grants): the "I already have access" facet.
    productsWithAccess(deps, who.userId),
  ]);
  const found = index.search(filters, held);
  const page = found.after(at && { score: at.s, id: at.id }, limit);
  return {
    items: page.items.map((p) => ({ ...p, access: held.has(p.id) })),
    ...(page.more && page.last
      ? {
          cursor: cursors.seal(scope, {
            ...(page.last.score !== undefined && { s: page.last.score }),
            id: page.last.id,
          } satisfies SearchPosition),
        }
      : {}),
    total: found.total,
    facets: found.facets,
  };
}

/**
 * The search index in force. With none of this code's format published (a new deployment, a new
 * index format), the search answers 503 SEARCH_INDEX_BUILDING and asks the worker to build it now
 * (a `searchindex` job), rather than wait for the next sweep: one job a minute at most across
 * every process (`claimBuildRequest`), whatever the burst of searches.
 */
async function currentIndex(deps: Pick<Deps, 'queue' | 'log'> & { search: SearchIndex }) {
  try {
    return await deps.search.current();
  } catch (err) {
    if (err instanceof MeshgateError && err.code === 'SEARCH_INDEX_BUILDING')
      try {
        if (await deps.search.claimBuildRequest()) await deps.queue.send({ kind: 'searchindex' });
      } catch (asking) {
        // The sweep builds it within minutes anyway.
        (deps.log ?? console.error)('search index build not requested', asking);
      }
    throw err;
  }
}

export async function getProduct(deps: Q, id: string) {
  const product = await deps.store.getProduct(id);
  if (!product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${id}.`);
  const approvers = await deps.store.listMembershipsBetween(product.domain, product.domain, [
    'owner',
    'steward',
  ]);
  return {
    ...product,
    approvers: approvers.map((m) => ({ user: m.user, role: m.role })),
    maxDurationHours: deps.policy.maxDurationHours(product.domain).value,
  };
}

export interface RequestFilter {
  status?: RequestStatus;
  domain?: string;
  mine?: boolean;
}

/**
 * Whose requests or grants the caller reads: their own, and every domain's when a role they
 * hold in every domain reads there (compliance, auditors, admins), else the domains where they
 * hold a role that reads (owners, stewards). With `domain`, that domain's if they read there,
 * else their own in it.
 */
function readableSources(deps: Q, who: Principal, domain?: string): ListingSource[] {
  const mine: ListingSource = { requester: who.userId };
  const reads = (d: string) =>
    deps.policy.decide({ user: who.userId, domain: d, object: '*', action: 'read' }).allowed;
  const held = deps.policy.membershipsOf(who.userId);
  const everywhere = held.some((m) => m.domain === ALL_DOMAINS) && reads(ALL_DOMAINS);
  if (domain) return everywhere || reads(domain) ? [{ domain }] : [mine];
  if (everywhere) return [{ everyDomain: true }];
  const domains = [...new Set(held.map((m) => m.domain))].filter(
    (d) => d !== ALL_DOMAINS && reads(d),
  );
  return [mine, ...domains.map((d) => ({ domain: d }))];
}

/**
 * One page of the requests the caller may see, newest first: their own, and those of domains
 * where policy lets them read. One Query per source (their own, and each domain they read in);
 * a page may come back short, with a cursor, when a filter or a rule leaves items out.
 */
export async function listRequests(deps: Q, who: Principal, f: RequestFilter & PageQuery) {
  const { limit, cursor, ...filters } = f;
  const page = await openPage(deps.store, 'requests', who.userId, filters, { limit, cursor });
  const sources: ListingSource[] = f.mine
    ? [{ requester: who.userId }]
    : readableSources(deps, who, f.domain);
  const found = await deps.store.listRequests(sources, {
    limit: page.limit,
    after: page.after,
    status: f.status,
    domain: f.domain,
  });
  // Each with its terms as narrowed by approvers so far: what is (or will be) granted.
  return page.answer(found, (items) =>
    items
      .filter((r) => deps.policy.decide(aboutRequest(who.userId, r, 'read')).allowed)
      .map((r) => ({ ...r, terms: effectiveTerms(r) })),
  );
}

/** A request with what approvers decide on: its terms as narrowed so far, and the personal-data columns they touch. */
export type RequestWithTerms = AccessRequest & {
  /** `endsAt`, for an extension: when the grant would end if the request were approved now. */
  terms: { scope: Scope; duration: Duration; endsAt?: string };
  piiColumns: string[];
};

async function withTerms(deps: Q, requests: AccessRequest[]): Promise<RequestWithTerms[]> {
  // One batch read for the page's products.
  const products = new Map(
    (requests.length === 0
      ? []
      : await deps.store.getProducts(requests.map((r) => r.productId))
    ).map((p) => [p.id, p]),
  );
  return Promise.all(
    requests.map(async (r) => {
      const product = products.get(r.productId);
      const narrowed = effectiveTerms(r);
      const terms = r.extendsFrom
        ? {
            ...narrowed,
            endsAt: resultingExpiry(narrowed.duration, deps.clock.now(), r.extendsFrom),
          }
        : narrowed;
      let piiColumns: string[] = [];
      if (product) {
        try {
          piiColumns = piiColumnsTouched(product, terms.scope);
        } catch {
          // A filter a catalog change broke (fulfilment refuses it): the returned columns still count.
          piiColumns = piiColumnsTouched(product, { ...terms.scope, rowFilter: undefined });
        }
      }
      return { ...r, terms, piiColumns };
    }),
  );
}

/** The stages a request can wait at (domain/model.ts `Stage`). */
const STAGES = ['owner', 'compliance'] as const;

/**
 * Where the caller's inbox is: the (domain, stage) pairs they may decide, from their memberships
 * and the policy (rules for every product of the domain), and for roles held in every domain the
 * stages they decide everywhere. An owner of one domain reads one partition; a caller with roles
 * in k domains, k partitions (two stages each at most), merged with one cursor.
 */
export function inboxSources(deps: Pick<Deps, 'policy'>, who: Principal): InboxSource[] {
  // Backup approvers decide a stage once it is escalated (`approve:<stage>:escalated`).
  const decides = (domain: string, stage: string) =>
    [`approve:${stage}`, `approve:${stage}:escalated`].some(
      (action) => deps.policy.decide({ user: who.userId, domain, object: '*', action }).allowed,
    );
  const held = deps.policy.membershipsOf(who.userId);
  const everywhere = held.some((m) => m.domain === ALL_DOMAINS)
    ? STAGES.filter((s) => decides(ALL_DOMAINS, s))
    : [];
  const domains = [...new Set(held.map((m) => m.domain))].filter((d) => d !== ALL_DOMAINS);
  return [
    ...everywhere.map((stage) => ({ stage })),
    ...domains.flatMap((domain) =>
      STAGES.filter((s) => !everywhere.includes(s) && decides(domain, s)).map((stage) => ({
        domain,
        stage,
      })),
    ),
  ];
}

/** May the caller decide the request's current stage (as an approver, or a backup once escalated)? */
export function mayDecide(deps: Pick<Deps, 'policy'>, who: Principal, r: AccessRequest): boolean {
  const stage = currentStage(r);
  return (
    stage !== undefined &&
    decidingActions(stage).some(
      (action) => deps.policy.decide(aboutRequest(who.userId, r, action)).allowed,
    )
  );
}

/** One page of the pending requests whose current stage the caller may decide, oldest first. */
export async function approvalsInbox(deps: Q, who: Principal, q: PageQuery) {
  const page = await openPage(deps.store, 'approvals', who.userId, {}, q);
  const sources = inboxSources(deps, who);
  const found = sources.length === 0 ? { items: [] } : await deps.store.listPending(sources, page);
  return page.answer(found, (pending) =>
    withTerms(
      deps,
      pending.filter((r) => mayDecide(deps, who, r)),
    ),
  );
}

export async function getRequestWithHistory(deps: Q, who: Principal, id: string) {
  const request = await loadVisibleRequest(deps, who, id);
  const [[detailed], history, access] = await Promise.all([
    withTerms(deps, [request]),
    deps.store.listRequestAudit(id),
    accessOfRequest(deps, request),
  ]);
  return { ...detailed!, history, ...(access ? { access } : {}) };
}

/** One page of the grants the caller may see, newest first (as `listRequests`). */
export async function listGrants(
  deps: Q,
  who: Principal,
  f: { domain?: string; status?: Grant['status']; mine?: boolean } & PageQuery,
) {
  const { limit, cursor, ...filters } = f;
  const page = await openPage(deps.store, 'grants', who.userId, filters, { limit, cursor });
  const sources: ListingSource[] = f.mine
    ? [{ requester: who.userId }]
    : readableSources(deps, who, f.domain);
  const found = await deps.store.listGrants(sources, {
    limit: page.limit,
    after: page.after,
    status: f.status,
    domain: f.domain,
  });
  return page.answer(found, (items) =>
    items.filter((g) => deps.policy.decide(aboutRequest(who.userId, g, 'read')).allowed),
  );
}

/**
 * One page of the audit trail. `window` is the window as the caller gave it (the cursor is bound
 * to it, so a window left open at `now` keeps its cursors valid while `now` moves).
 */
export async function readAudit(
  deps: Q,
  who: Principal,
  f: Omit<AuditQuery, 'after'> & { cursor?: string },
  window: { from?: string; to?: string } = { from: f.from, to: f.to },
) {
  const decision = mayReadAudit(deps, who, f.domain);
  if (!decision.allowed)
    throw forbidden('NOT_ALLOWED', `Reading the audit trail is for auditors. ${decision.reason}`);
  const { cursor, limit, from: _from, to: _to, ...filters } = f;
  const page = await openPage(
    deps.store,
    'audit',
    who.userId,
    { ...filters, ...window },
    { limit, cursor },
  );
  return page.answer(await deps.store.queryAudit({ ...f, after: page.after }));
}
