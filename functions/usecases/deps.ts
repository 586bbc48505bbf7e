import {
  ALL_DOMAINS,
  type AccessRequest,
  type AuditEvent,
  type Decision,
  type Principal,
  type RequestStatus,
} from '../domain/model';
import type { AuditEventType } from '../domain/audit-events';
import { notFound } from '../domain/errors';
import type { Change } from '../domain/lifecycle';
import type { LakeFormationPort } from '../ports/lakeformation';
import type { OperationStore } from '../ports/operations';
import type { ConsumerLinkPort } from '../ports/consumer-links';
import type { PolicyInForce, PolicyQuery } from '../ports/policy';
import type { JobQueue } from '../ports/queue';
import type { Clock, IdGenerator } from '../ports/runtime';
import type { Store } from '../ports/store';
import { stageReached } from '../domain/notifications';
import {
  APPROVAL_AWAITED,
  STATUS_CHANGED,
  type EventPublisher,
  type LifecycleEvent,
} from '../ports/events';

/** Everything the use cases touch, as ports. The entry files choose the adapters. */
export interface Deps {
  store: Store;
  /** Domain operations (sync, reconcile): the API starts them, the worker runs them. */
  operations: OperationStore;
  policy: PolicyInForce;
  queue: JobQueue;
  events: EventPublisher;
  clock: Clock;
  ids: IdGenerator;
  log?: (msg: string, err?: unknown) => void;
  /**
   * Runs after every committed lifecycle change, in this process: the local notifier's fast path
   * (on AWS the bus feeds the notifier Lambda instead). A failure is logged: the catch-up pass
   * notifies from the trail what it missed.
   */
  afterCommit?: (r: AccessRequest, audit: AuditEvent[]) => Promise<unknown>;
}

/** The worker alone talks to Lake Formation: the API never does, it hands jobs over the queue. */
export interface WorkerDeps extends Deps {
  lakeFormation: LakeFormationPort;
  /** Resource links in registered consumer accounts. */
  consumerLinks: ConsumerLinkPort;
}

export { SYSTEM } from '../domain/lifecycle';

export function auditEvent(
  deps: Pick<Deps, 'clock' | 'ids'>,
  type: AuditEventType,
  actor: string,
  subject: {
    domain: string;
    requestId?: string;
    productId?: string;
    fromStatus?: RequestStatus;
    toStatus?: RequestStatus;
  },
  detail: Record<string, unknown> = {},
): AuditEvent {
  return {
    id: deps.ids.next('evt'),
    at: deps.clock.now().toISOString(),
    type,
    actor,
    ...subject,
    detail,
  };
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
export async function loadVisibleRequest(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  id: string,
) {
  const r = await deps.store.getRequest(id);
  if (!r || !canRead(deps, who, r).allowed)
    throw notFound('REQUEST_NOT_FOUND', `No request ${id} that you can see.`);
  return r;
}

/** May the caller read the audit trail of `domain` (of every domain when absent)? Auditors may. */
export function mayReadAudit(
  deps: Pick<Deps, 'policy'>,
  who: Principal,
  domain?: string,
): Decision {
  return deps.policy.decide({
    user: who.userId,
    domain: domain ?? ALL_DOMAINS,
    object: '*',
    action: 'audit:read',
  });
}

/**
 * Loads a grant and its request if the caller may see them (read on the request, or `alsoAuditors`
 * and audit:read there). Grants the caller may not see are reported as missing.
 */
export async function loadVisibleGrant(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  grantId: string,
  alsoAuditors = false,
) {
  const grant = await deps.store.getGrant(grantId);
  const request = grant && (await deps.store.getRequest(grant.requestId));
  const visible =
    request !== undefined &&
    (deps.policy.decide(aboutRequest(who.userId, request, 'read')).allowed ||
      (alsoAuditors && mayReadAudit(deps, who, request.domain).allowed));
  if (!grant || !request || !visible)
    throw notFound('GRANT_NOT_FOUND', `No grant ${grantId} that you can see.`);
  return { grant, request };
}

/**
 * What a write tells integrations: each status change among its audit events, and each arrival
 * at (or escalation of) an approval stage of a request that stays pending.
 */
function lifecycleEvents(r: AccessRequest, audit: AuditEvent[]): LifecycleEvent[] {
  const about = (e: AuditEvent) => ({
    eventId: e.id,
    at: e.at,
    requestId: r.id,
    productId: r.productId,
    domain: r.domain,
    requester: r.requester,
    principal: r.principal,
    actor: e.actor,
  });
  return audit.flatMap((e): LifecycleEvent[] => {
    const out: LifecycleEvent[] = [];
    if (e.toStatus !== undefined)
      out.push({
        detailType: STATUS_CHANGED,
        detail: {
          ...about(e),
          fromStatus: e.fromStatus ?? null,
          toStatus: e.toStatus,
          grantId: r.grantId,
          reason: typeof e.detail.reason === 'string' ? e.detail.reason : undefined,
        },
      });
    const stage = stageReached(e, r);
    if (stage)
      out.push({ detailType: APPROVAL_AWAITED, detail: { ...about(e), stage, escalated: false } });
    if (
      e.type === 'STAGE_ESCALATED' &&
      r.status === 'PENDING' &&
      typeof e.detail.stage === 'string'
    )
      out.push({
        detailType: APPROVAL_AWAITED,
        detail: { ...about(e), stage: e.detail.stage, escalated: true },
      });
    return out;
  });
}

/**
 * Publishing happens after the write has committed; a failure to publish is logged, never undoes
 * the change (the audit trail has it either way).
 */
async function publish(deps: Pick<Deps, 'events' | 'log'>, r: AccessRequest, audit: AuditEvent[]) {
  const events = lifecycleEvents(r, audit);
  if (events.length === 0) return;
  try {
    await deps.events.publish(events);
  } catch (err) {
    (deps.log ?? console.error)(`could not publish ${events.length} event(s) for ${r.id}`, err);
  }
}

/**
 * Commits a lifecycle change: the request (created, or conditional on the state it was read in),
 * its audit events, its grant and its extension lock in one transaction; then publishes the
 * status changes among its events.
 */
export async function commitChange(
  deps: Pick<Deps, 'store' | 'events' | 'log' | 'ids' | 'afterCommit'>,
  change: Change,
): Promise<AuditEvent[]> {
  const audit: AuditEvent[] = change.events.map((e) => ({ id: deps.ids.next('evt'), ...e }));
  if (change.expected) {
    await deps.store.updateRequest(
      change.request,
      change.expected,
      audit,
      change.grant,
      change.extensionLock,
      change.openCount,
    );
  } else {
    await deps.store.createRequest(change.request, audit, change.extensionLock, change.openCount);
  }
  await publish(deps, change.request, audit);
  if (deps.afterCommit) {
    try {
      await deps.afterCommit(change.request, audit);
    } catch (err) {
      (deps.log ?? console.error)(`could not notify the change of ${change.request.id}`, err);
    }
  }
  return audit;
}
