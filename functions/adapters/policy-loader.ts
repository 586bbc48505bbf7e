import { policyFolder } from '../policy/files';
import { StorePolicy, type PolicyInForceOptions } from '../usecases/policy-in-force';
import type { Deps } from '../usecases/deps';

/**
 * The policy in force for a process, from a policy folder and the store's memberships. Every
 * runtime starts its policy this way:
 * - the API on Lambda: bundled files (`watch: false`), recorded and checked (`record: true`);
 * - the fulfilment worker and the schedules on Lambda: bundled files, neither recorded nor checked
 *   (they make no decision);
 * - the local processes (`npm start`, embedded or against AWS): files on disk, watched, recorded
 *   and checked.
 */
export function loadPolicyInForce(
  dir: string,
  deps: Pick<Deps, 'store' | 'clock' | 'ids'>,
  opts: PolicyInForceOptions & { watch: boolean },
) {
  return StorePolicy.start(deps, policyFolder(dir, { watch: opts.watch }), { record: opts.record });
}
