import { forbidden } from '../domain/errors';
import { ALL_DOMAINS, type Principal } from '../domain/model';
import type { Deps } from './deps';

/**
 * The policy in force, as people read it: the version this instance decides with, whether it is
 * the one recorded in force (with its sequence number and since when), and every file's text.
 * For those who govern the whole mesh: admins, compliance and auditors (policy:read).
 */
export async function readPolicy(deps: Pick<Deps, 'store' | 'policy'>, who: Principal) {
  const d = deps.policy.decide({
    user: who.userId,
    domain: ALL_DOMAINS,
    object: '*',
    action: 'policy:read',
  });
  if (!d.allowed)
    throw forbidden(
      'NOT_ALLOWED',
      `Reading the policy files is for admins, compliance and auditors. ${d.reason}`,
    );
  const loaded = deps.policy.text();
  const recorded = (await deps.store.readAuthzState()).policy;
  return {
    version: loaded.version,
    inForce: recorded?.version === loaded.version,
    ...(recorded
      ? { recorded: { version: recorded.version, seq: recorded.seq, at: recorded.at } }
      : {}),
    files: loaded.files,
    ...(loaded.loadFailure ? { loadFailure: loaded.loadFailure } : {}),
    domainFailures: loaded.domainFailures,
  };
}
