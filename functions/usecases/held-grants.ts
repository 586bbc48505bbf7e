import type { Deps } from './deps';
import { MAX_PAGE_SIZE } from '../domain/paging';

/**
 * The products a user holds an ACTIVE grant on (their most recent page of grants): the catalog
 * search's "I already have access" facet, on every search.
 *
 * Kept per process behind the user's grants version (`Store.grantsVersion`), which every write of
 * one of their grants moves in its own transaction: each call reads the version (one GetItem) and
 * queries the grants again only when it moved. The version is read before the grants, so grants
 * kept under a version are never older than it; a slower call that read an older version never
 * replaces what a newer one kept. A grant made, revoked or expired (in any process) is seen by the
 * next call.
 */
interface Held {
  version: number;
  products: ReadonlySet<string>;
}

/** One cache per store (a process may hold several portals, in tests), of at most this many users. */
const caches = new WeakMap<object, Map<string, Held>>();
const MAX_USERS = 10_000;

export async function productsWithAccess(
  deps: Pick<Deps, 'store'>,
  user: string,
): Promise<ReadonlySet<string>> {
  let cache = caches.get(deps.store);
  if (!cache) caches.set(deps.store, (cache = new Map()));
  const version = await deps.store.grantsVersion(user);
  const kept = cache.get(user);
  if (kept && kept.version === version) return kept.products;
  const page = await deps.store.listGrants([{ requester: user }], {
    limit: MAX_PAGE_SIZE,
    status: 'ACTIVE',
  });
  const products = new Set(page.items.filter((g) => g.status === 'ACTIVE').map((g) => g.productId));
  const now = cache.get(user);
  if (!now || now.version <= version) {
    cache.delete(user); // the most recently kept last: the oldest go first when full
    cache.set(user, { version, products });
    if (cache.size > MAX_USERS) cache.delete(cache.keys().next().value!);
  }
  return products;
}
