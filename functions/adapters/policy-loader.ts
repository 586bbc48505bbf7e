import { loadPolicyEngine, policyFingerprint } from '../policy/files';
import { recordPolicyInForce } from '../usecases/governance';
import type { Deps } from '../usecases/deps';

/**
 * Loads the policy engine with the store's memberships, and records the policy in the audit
 * trail if this version has not been recorded yet. Every runtime starts its engine this way.
 */
export async function loadPolicyInForce(dir: string, deps: Pick<Deps, 'store' | 'clock' | 'ids'>) {
  const engine = await loadPolicyEngine(dir, await deps.store.listMemberships());
  await recordPolicyInForce(deps, { ...policyFingerprint(dir), loadFailure: engine.loadFailure });
  return engine;
}
