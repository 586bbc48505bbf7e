import type { Deps } from './deps';
import { MAX_PAGE_SIZE } from '../domain/paging';

/**
 * The products a user holds an ACTIVE grant on (their newest MAX_PAGE_SIZE ACTIVE grants, read
 * from a partition of ACTIVE grants only, so no number of ended grants hides an older ACTIVE one):
 * the catalog search's "I already have access" facet, on every search.
 *
 * Kept per process behind the user's grants version (`Store.grantsVersion`), which every write of
 * one of their grants moves in its own transaction: each call reads the version (one GetItem) and
 * queries the grants again when it moved. The grants come from an index, and DynamoDB updates an
 * index after the transaction (usually within a second, later under throttling): a listing read
 * just after a move may not show it yet. So a listing is kept only once the version moved more than
 * SETTLE_MS before it was read, and never for longer than MAX_AGE_MS: a listing that missed a
 * change is read again within that time, on any instance. The version is read before the grants,
 * and a slower call that read an older version never replaces what a newer one kept.
 */
interface Held {
  version: number;
  products: ReadonlySet<string>;
  /** When it was read (ms). */
  readAt: number;
}

/** How long after a move of the version its index is taken to show it. */
export const SETTLE_MS = 10_000;
/** How long a kept listing serves at most. */
export const MAX_AGE_MS = 5 * 60_000;

/**
 * One cache per store (a process may hold several portals, in tests), of at most this many users
 * and this many products held in all (a user's listing holds up to MAX_PAGE_SIZE).
 */
const caches = new WeakMap<object, { users: Map<string, Held>; products: number }>();
const MAX_USERS = 10_000;
export const MAX_KEPT_PRODUCTS = 200_000;

export async function productsWithAccess(
  deps: Pick<Deps, 'store' | 'clock'>,
  user: string,
): Promise<ReadonlySet<string>> {
  let entry = caches.get(deps.store);
  if (!entry) caches.set(deps.store, (entry = { users: new Map(), products: 0 }));
  const all = entry;
  const cache = all.users;
  const forget = (u: string) => {
    all.products -= cache.get(u)?.products.size ?? 0;
    cache.delete(u);
  };
  const { version, movedAt } = await deps.store.grantsVersion(user);
  const now = deps.clock.now().getTime();
  const kept = cache.get(user);
  if (kept && kept.version === version && now - kept.readAt < MAX_AGE_MS) return kept.products;
  const page = await deps.store.listGrants([{ requester: user }], {
    limit: MAX_PAGE_SIZE,
    status: 'ACTIVE',
  });
  const products = new Set(page.items.filter((g) => g.status === 'ACTIVE').map((g) => g.productId));
  const settled = movedAt === undefined || now - Date.parse(movedAt) >= SETTLE_MS;
  const newest = cache.get(user);
  if (settled && (!newest || newest.version <= version)) {
    forget(user); // the most recently kept last: the oldest go first when full
    cache.set(user, { version, products, readAt: now });
    all.products += products.size;
    while (cache.size > MAX_USERS || all.products > MAX_KEPT_PRODUCTS)
      forget(cache.keys().next().value!);
  }
  return products;
}
