import { MeshgateError } from '../domain/errors';
import { ALL_DOMAINS, type Membership } from '../domain/model';
import { escalate, SYSTEM, timeOut, type Context } from '../domain/lifecycle';
import { commitChange, type Deps } from './deps';

/**
 * How many due requests one sweep handles at most: a backlog (after an outage, say) is worked off
 * a page per run rather than in one run that outlasts its schedule. Each handled request leaves
 * the index (timed out, or escalated and due again only at its timeout), so the next run's first
 * page is the rest.
 */
export const WAITING_PAGE_SIZE = 100;

export interface WaitingSweep {
  /** Requests whose current stage was escalated to the domain's backup approvers. */
  escalated: string[];
  /** Requests that timed out (CANCELLED). */
  timedOut: string[];
  /** Whether more were due than one run handles: the next run goes on. */
  more: boolean;
}

/**
 * The sweep of waiting requests: each PENDING request whose deadline has come (found by the
 * store's index of next deadlines, one page a run) times out if it has waited its whole timeout,
 * otherwise its current stage is escalated. Each request is read again and changed conditionally
 * on the version read, so a race with an approval or a cancellation ends with exactly one of them
 * (the loser is a conflict, left alone here).
 */
export async function sweepWaiting(
  deps: Deps,
  opts: { limit?: number } = {},
): Promise<WaitingSweep> {
  const now = deps.clock.now();
  const page = await deps.store.listPendingDue(now.toISOString(), {
    limit: opts.limit ?? WAITING_PAGE_SIZE,
  });
  const result: WaitingSweep = { escalated: [], timedOut: [], more: page.cursor !== undefined };
  let memberships: Membership[] | undefined;
  for (const found of page.items) {
    // The index is eventually consistent: the request as it is now decides.
    const r = await deps.store.getRequest(found.id);
    if (!r || r.status !== 'PENDING') continue;
    const ctx: Context = { actor: SYSTEM, now };
    let change = timeOut(r, ctx);
    let list = result.timedOut;
    if (!change.ok) {
      memberships ??= await deps.store.listMemberships();
      const backups = memberships
        .filter((m) => m.role === 'backup' && (m.domain === r.domain || m.domain === ALL_DOMAINS))
        .map((m) => m.user);
      change = escalate(r, backups, ctx);
      list = result.escalated;
    }
    if (!change.ok) continue;
    try {
      await commitChange(deps, change);
    } catch (err) {
      // Someone decided, cancelled or swept it since it was read: theirs is the change that counts.
      if (err instanceof MeshgateError && err.kind === 'conflict') continue;
      throw err;
    }
    list.push(r.id);
  }
  return result;
}
