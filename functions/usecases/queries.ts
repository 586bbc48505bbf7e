import type {
  AccessRequest,
  Classification,
  DataProduct,
  Duration,
  Grant,
  Principal,
  RequestStatus,
  Scope,
} from '../domain/model';
import { forbidden, notFound } from '../domain/errors';
import { currentStage, effectiveTerms, piiColumnsTouched } from '../domain/request';
import { decidingActions, resultingExpiry } from '../domain/lifecycle';
import type { AuditQuery } from '../ports/store';
import { aboutRequest, loadVisibleRequest, mayReadAudit, type Deps } from './deps';

type Q = Pick<Deps, 'store' | 'policy' | 'clock'>;

export async function whoAmI(deps: Q, who: Principal) {
  const user = await deps.store.getUser(who.userId);
  const memberships = (await deps.store.listMemberships()).filter((m) => m.user === who.userId);
  return { id: who.userId, name: user?.name ?? who.name, title: user?.title, memberships };
}

/** Domains with their owners and stewards (from memberships). */
export async function listDomains(deps: Q) {
  const [domains, memberships] = await Promise.all([
    deps.store.listDomains(),
    deps.store.listMemberships(),
  ]);
  // The broker role and its ExternalId are how Meshgate reaches the account: not for callers.
  return domains.map(({ broker: _broker, ...d }) => ({
    ...d,
    owners: memberships.filter((m) => m.domain === d.id && m.role === 'owner').map((m) => m.user),
    stewards: memberships
      .filter((m) => m.domain === d.id && m.role === 'steward')
      .map((m) => m.user),
  }));
}

export interface ProductFilter {
  q?: string;
  domain?: string;
  classification?: Classification;
  tag?: string;
}

export async function searchProducts(deps: Q, f: ProductFilter): Promise<DataProduct[]> {
  const domains = f.domain ? [f.domain] : (await deps.store.listDomains()).map((d) => d.id);
  const lists = await Promise.all(domains.map((d) => deps.store.listProducts(d)));
  const words = (f.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  return lists
    .flat()
    .filter((p) => !f.classification || p.classification === f.classification)
    .filter((p) => !f.tag || p.tags.includes(f.tag))
    .filter((p) => {
      if (words.length === 0) return true;
      const text = [
        p.id,
        p.title,
        p.description,
        ...p.tags,
        ...p.columns.map((c) => `${c.name} ${c.comment ?? ''}`),
      ]
        .join(' ')
        .toLowerCase();
      return words.every((w) => text.includes(w));
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

export async function getProduct(deps: Q, id: string) {
  const product = await deps.store.getProduct(id);
  if (!product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${id}.`);
  const memberships = await deps.store.listMemberships();
  const approvers = memberships.filter(
    (m) => m.domain === product.domain && (m.role === 'owner' || m.role === 'steward'),
  );
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

/** Requests the caller may see: their own, and those of domains where policy lets them read. */
export async function listRequests(
  deps: Q,
  who: Principal,
  f: RequestFilter,
): Promise<AccessRequest[]> {
  const sources: Promise<AccessRequest[]>[] = [deps.store.listRequestsByRequester(who.userId)];
  if (!f.mine) {
    for (const d of await domainsReadable(deps, who, f.domain))
      sources.push(deps.store.listRequestsByDomain(d));
  }
  const seen = new Map<string, AccessRequest>();
  for (const r of (await Promise.all(sources)).flat()) seen.set(r.id, r);
  return [...seen.values()]
    .filter((r) => (!f.status || r.status === f.status) && (!f.domain || r.domain === f.domain))
    .filter((r) => deps.policy.decide(aboutRequest(who.userId, r, 'read')).allowed)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Domains where the caller holds a role that reads every request (owners, auditors...). */
async function domainsReadable(deps: Q, who: Principal, only?: string): Promise<string[]> {
  const domains = only ? [only] : (await deps.store.listDomains()).map((d) => d.id);
  return domains.filter(
    (d) => deps.policy.decide({ user: who.userId, domain: d, object: '*', action: 'read' }).allowed,
  );
}

/** A request with what approvers decide on: its terms as narrowed so far, and the personal-data columns they touch. */
export type RequestWithTerms = AccessRequest & {
  /** `endsAt`, for an extension: when the grant would end if the request were approved now. */
  terms: { scope: Scope; duration: Duration; endsAt?: string };
  piiColumns: string[];
};

async function withTerms(deps: Q, requests: AccessRequest[]): Promise<RequestWithTerms[]> {
  const products = new Map<string, Promise<DataProduct | undefined>>();
  return Promise.all(
    requests.map(async (r) => {
      if (!products.has(r.productId)) products.set(r.productId, deps.store.getProduct(r.productId));
      const product = await products.get(r.productId);
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

/** Pending requests whose current stage the caller may decide. */
export async function approvalsInbox(deps: Q, who: Principal): Promise<RequestWithTerms[]> {
  const domains = (await deps.store.listDomains()).map((d) => d.id);
  const pending = (await Promise.all(domains.map((d) => deps.store.listPendingByDomain(d)))).flat();
  const mine = pending.filter((r) => {
    const stage = currentStage(r);
    return (
      stage !== undefined &&
      decidingActions(stage).some(
        (action) => deps.policy.decide(aboutRequest(who.userId, r, action)).allowed,
      )
    );
  });
  return withTerms(deps, mine);
}

export async function getRequestWithHistory(deps: Q, who: Principal, id: string) {
  const request = await loadVisibleRequest(deps, who, id);
  const [[detailed], history] = await Promise.all([
    withTerms(deps, [request]),
    deps.store.listRequestAudit(id),
  ]);
  return { ...detailed!, history };
}

export async function listGrants(
  deps: Q,
  who: Principal,
  f: { domain?: string; status?: Grant['status'] },
): Promise<Grant[]> {
  const sources: Promise<Grant[]>[] = [deps.store.listGrantsByRequester(who.userId)];
  for (const d of await domainsReadable(deps, who, f.domain))
    sources.push(deps.store.listGrantsByDomain(d));
  const seen = new Map<string, Grant>();
  for (const g of (await Promise.all(sources)).flat()) seen.set(g.id, g);
  return [...seen.values()]
    .filter((g) => (!f.status || g.status === f.status) && (!f.domain || g.domain === f.domain))
    .filter((g) => deps.policy.decide(aboutRequest(who.userId, g, 'read')).allowed)
    .sort((a, b) => b.grantedAt.localeCompare(a.grantedAt));
}

export async function readAudit(deps: Q, who: Principal, f: AuditQuery) {
  const decision = mayReadAudit(deps, who, f.domain);
  if (!decision.allowed)
    throw forbidden('NOT_ALLOWED', `Reading the audit trail is for auditors. ${decision.reason}`);
  return deps.store.queryAudit(f);
}
