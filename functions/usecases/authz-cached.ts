import type { Domain } from '../domain/model';
import type { Deps } from './deps';

/**
 * Reads kept per process behind the authorization generation (`PolicyInForce.authzGeneration`),
 * which every domain write (registration, change) moves in its own transaction, and which every
 * call reads before it decides. A domain read while the process held generation G is kept under
 * G and used while the process still holds G: it is then as current as the memberships the
 * process decides with. The generation is taken before the read, so nothing is kept under a
 * generation older than what it shows.
 */
const domains = new WeakMap<object, Map<string, { generation: number; domain: Domain }>>();
const MAX_DOMAINS = 10_000;

/** The registered domain `id`, or undefined (not kept: the next call reads again). */
export async function registeredDomain(
  deps: Pick<Deps, 'store' | 'policy'>,
  id: string,
): Promise<Domain | undefined> {
  let kept = domains.get(deps.store);
  if (!kept) domains.set(deps.store, (kept = new Map()));
  const generation = deps.policy.authzGeneration;
  const hit = kept.get(id);
  if (hit && hit.generation === generation) return hit.domain;
  const domain = await deps.store.getDomain(id);
  if (domain && (kept.get(id)?.generation ?? -1) <= generation) {
    kept.delete(id);
    kept.set(id, { generation, domain });
    if (kept.size > MAX_DOMAINS) kept.delete(kept.keys().next().value!);
  }
  return domain;
}
