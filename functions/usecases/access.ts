import { accessFor, type Access } from '../domain/consumer';
import type { AccessRequest, Grant, Principal } from '../domain/model';
import { loadVisibleGrant, type Deps } from './deps';

type Q = Pick<Deps, 'store' | 'policy'>;

/** How to use a grant, if it is ACTIVE and its product and domain are still known. */
export async function accessOf(
  deps: Pick<Deps, 'store'>,
  grant: Grant,
): Promise<Access | undefined> {
  if (grant.status !== 'ACTIVE') return undefined;
  const [product, domain] = await Promise.all([
    deps.store.getProduct(grant.productId),
    deps.store.getDomain(grant.domain),
  ]);
  if (!product || !domain) return undefined;
  return accessFor(grant, product, domain);
}

/** The access block of a request's grant, when the request is ACTIVE. */
export async function accessOfRequest(
  deps: Pick<Deps, 'store'>,
  r: AccessRequest,
): Promise<Access | undefined> {
  if (r.status !== 'ACTIVE' || !r.grantId) return undefined;
  const grant = await deps.store.getGrant(r.grantId);
  return grant ? accessOf(deps, grant) : undefined;
}

/** One grant, for whoever may read its request, with how to use it while it is ACTIVE. */
export async function getGrant(deps: Q, who: Principal, id: string) {
  const { grant } = await loadVisibleGrant(deps, who, id);
  const access = await accessOf(deps, grant);
  return { ...grant, ...(access ? { access } : {}) };
}
