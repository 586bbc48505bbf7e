import {
  GLOBAL_CHAIN,
  verifyChain,
  type ChainHead,
  type ChainProblem,
} from '../domain/audit-chain';
import { forbidden } from '../domain/errors';
import type { Principal } from '../domain/model';
import { ALL_DOMAINS } from '../domain/model';
import type { Deps } from './deps';

export interface ChainReport {
  chain: string;
  count: number;
  head?: ChainHead;
  ok: boolean;
  firstBad?: { index: number; eventId: string; seq?: number; problem: ChainProblem };
}

/**
 * Recomputes the audit hash chains from the store and names the first bad event of each:
 * every registered domain and the global chain ('*'), or the one chain asked for. Auditors and
 * admins (audit:verify): the answer holds no event's content.
 */
export async function verifyAudit(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  domain?: string,
): Promise<{ ok: boolean; chains: ChainReport[] }> {
  const decision = deps.policy.decide({
    user: who.userId,
    domain: domain ?? ALL_DOMAINS,
    object: '*',
    action: 'audit:verify',
  });
  if (!decision.allowed)
    throw forbidden(
      'NOT_ALLOWED',
      `Verifying the audit trail is for auditors and admins. ${decision.reason}`,
    );
  const names =
    domain !== undefined
      ? [domain]
      : [...(await deps.store.listDomains()).map((d) => d.id), GLOBAL_CHAIN];
  const chains: ChainReport[] = [];
  for (const chain of [...new Set(names)]) {
    const verdict = verifyChain(await deps.store.listChain(chain));
    chains.push(
      verdict.ok
        ? { chain, count: verdict.count, head: verdict.head, ok: true }
        : {
            chain,
            count: verdict.count,
            ok: false,
            firstBad: {
              index: verdict.index,
              eventId: verdict.eventId,
              seq: verdict.seq,
              problem: verdict.problem,
            },
          },
    );
  }
  return { ok: chains.every((c) => c.ok), chains };
}
