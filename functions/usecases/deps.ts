import type { AccessRequest, AuditEvent, Decision, Principal, RequestStatus } from '../domain/model';
import { notFound } from '../domain/errors';
import type { LakeFormationPort } from '../ports/lakeformation';
import type { PolicyEngine, PolicyQuery } from '../ports/policy';
import type { JobQueue } from '../ports/queue';
import type { Clock, IdGenerator } from '../ports/runtime';
import type { Store } from '../ports/store';

/** Everything the use cases touch, as ports. The entry files choose the adapters. */
export interface Deps {
  store: Store;
  policy: PolicyEngine;
  queue: JobQueue;
  clock: Clock;
  ids: IdGenerator;
}

/** The worker alone talks to Lake Formation: the API never does, it hands jobs over the queue. */
export interface WorkerDeps extends Deps {
  lakeFormation: LakeFormationPort;
}

/** The actor recorded for what Meshgate does by itself (automatic approval, fulfilment). */
export const SYSTEM = 'meshgate';

export function auditEvent(
  deps: Pick<Deps, 'clock' | 'ids'>,
  type: string,
  actor: string,
  subject: { domain: string; requestId?: string; productId?: string; fromStatus?: RequestStatus; toStatus?: RequestStatus },
  detail: Record<string, unknown> = {},
): AuditEvent {
  return { id: deps.ids.next('evt'), at: deps.clock.now().toISOString(), type, actor, ...subject, detail };
}

/** The policy question "may this user do `action` on this request's product". */
export function aboutRequest(
  user: string,
  r: Pick<AccessRequest, 'requester' | 'domain' | 'productId' | 'classification'>,
  action: string,
): PolicyQuery {
  return {
    user,
    relation: r.requester === user ? 'requester' : undefined,
    domain: r.domain,
    object: r.productId,
    classification: r.classification,
    action,
  };
}

export function canRead(deps: Pick<Deps, 'policy'>, who: Principal, r: AccessRequest): Decision {
  return deps.policy.decide(aboutRequest(who.userId, r, 'read'));
}

/** Loads a request the caller may see. Requests the caller may not see are reported as missing. */
export async function loadVisibleRequest(deps: Pick<Deps, 'store' | 'policy'>, who: Principal, id: string) {
  const r = await deps.store.getRequest(id);
  if (!r || !canRead(deps, who, r).allowed) throw notFound('REQUEST_NOT_FOUND', `No request ${id} that you can see.`);
  return r;
}
