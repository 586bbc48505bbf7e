import { createHash } from 'node:crypto';
import type { AccessRequest, AuditEvent, Grant, Stage } from './model';
import { currentStage } from './request';

/**
 * Who is told what, and when. Pure: from an audit event (or a grant about to expire), the request
 * it is about and the people the policy lets approve the stage concerned, the notifications to
 * write. Their ids are deterministic, so writing them again (a redelivered event, a catch-up pass
 * after the fast path) never notifies twice.
 */

export const NOTIFICATION_KINDS = [
  'APPROVAL_NEEDED',
  'APPROVAL_ESCALATED',
  'REQUEST_APPROVED',
  'REQUEST_DENIED',
  'REQUEST_ACTIVE',
  'REQUEST_FAILED',
  'REQUEST_TIMED_OUT',
  'GRANT_EXPIRING_SOON',
  'GRANT_EXPIRED',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface Notification {
  /** Sorts by time: `<at, compact>-<hash of source, recipient and kind>`. */
  id: string;
  user: string;
  kind: NotificationKind;
  title: string;
  text: string;
  /** A route of the web UI (`#/requests/<id>`). */
  link: string;
  domain: string;
  requestId?: string;
  grantId?: string;
  at: string;
  read: boolean;
}

/** How long before a grant ends its holder is told (with a link to extend it). */
export const EXPIRY_WARNING_MS = 3 * 24 * 3_600_000;

/** The audit event types the notifier derives notifications from (the catch-up reads only those). */
export const NOTIFYING_EVENT_TYPES: ReadonlySet<string> = new Set([
  'REQUEST_CREATED',
  'APPROVAL_RECORDED',
  'REQUEST_APPROVED',
  'REQUEST_DENIED',
  'GRANT_ACTIVE',
  'FULFILMENT_FAILED',
  'GRANT_EXPIRED',
  'REQUEST_TIMED_OUT',
  'STAGE_ESCALATED',
]);

/** A notification id: its time first (so ids sort newest last), then a digest of what makes it unique. */
export function notificationId(at: string, source: string, user: string, kind: string): string {
  const digest = createHash('sha256')
    .update(`${source}\n${user}\n${kind}`)
    .digest('hex')
    .slice(0, 24);
  return `${at.replace(/[-:.]/g, '')}-${digest}`;
}

/** Ids of notifications are only ever made by `notificationId`: anything else is not one. */
export const NOTIFICATION_ID = /^\d{8}T\d{9}Z-[0-9a-f]{24}$/;

type RequestFacts = Pick<
  AccessRequest,
  'id' | 'requester' | 'productId' | 'domain' | 'status' | 'stages' | 'grantId' | 'createdAt'
>;

/** When the request reached `stage`: its creation for the first, the last approval of the one before for others. */
function reachedAt(r: RequestFacts, stage: Stage['name']): string {
  const i = r.stages.findIndex((s) => s.name === stage);
  if (i <= 0) return r.createdAt;
  const before = r.stages[i - 1]!.approvals.map((a) => a.at).sort();
  return before[before.length - 1] ?? r.createdAt;
}

const requestLink = (r: Pick<AccessRequest, 'id'>) => `#/requests/${encodeURIComponent(r.id)}`;

const STAGE_WORDS: Record<Stage['name'], string> = {
  owner: 'the data owner',
  compliance: 'compliance',
};

/**
 * The stage whose approvers `event` asks to hear from now: the request's current stage, when the
 * request is still pending and the event brought it there (its creation, or an approval that
 * completed the stage before). Undefined for every other event.
 */
export function stageReached(event: AuditEvent, r: RequestFacts): Stage['name'] | undefined {
  if (r.status !== 'PENDING') return undefined;
  const stage = currentStage(r);
  if (!stage) return undefined;
  if (event.type === 'REQUEST_CREATED') return stage.name;
  if (event.type === 'APPROVAL_RECORDED' && event.detail.stage !== stage.name) return stage.name;
  return undefined;
}

/** Who approved any stage of the request: they may not approve another (lifecycle's rule). */
const approvedBefore = (r: RequestFacts) =>
  new Set(r.stages.flatMap((s) => s.approvals.map((a) => a.by)));

/**
 * The notifications an audit event calls for. `approvers`: everyone the policy lets approve the
 * stage `stageReached` names (the caller asks the policy); ignored for other events.
 */
export function notificationsFor(
  event: AuditEvent,
  r: RequestFacts,
  approvers: readonly string[] = [],
): Notification[] {
  const base = { domain: r.domain, requestId: r.id, at: event.at, read: false };
  const make = (
    user: string,
    kind: NotificationKind,
    source: string,
    title: string,
    text: string,
  ): Notification => ({
    id: notificationId(event.at, source, user, kind),
    user,
    kind,
    title,
    text,
    link: requestLink(r),
    ...base,
  });
  const toRequester = (kind: NotificationKind, title: string, text: string) => [
    make(r.requester, kind, event.id, title, text),
  ];
  const product = r.productId;
  // By name: STAGE_ESCALATED and REQUEST_TIMED_OUT are written by the escalation of stages.
  switch (event.type as string) {
    case 'REQUEST_CREATED':
    case 'APPROVAL_RECORDED': {
      const stage = stageReached(event, r);
      if (!stage) return [];
      const excluded = approvedBefore(r);
      const people = [...new Set(approvers)].filter((u) => u !== r.requester && !excluded.has(u));
      // One per request, stage and person, whichever event brought the request there.
      const at = reachedAt(r, stage);
      return people.sort().map((u) => ({
        ...make(
          u,
          'APPROVAL_NEEDED',
          `${r.id}#${stage}`,
          `Approval needed: ${product}`,
          `${r.requester} asks for access to ${product}. It waits for ${STAGE_WORDS[stage]} to approve it, and you may.`,
        ),
        id: notificationId(at, `${r.id}#${stage}`, u, 'APPROVAL_NEEDED'),
        at,
      }));
    }
    case 'STAGE_ESCALATED': {
      if (r.status !== 'PENDING') return [];
      const notify = Array.isArray(event.detail.notify) ? event.detail.notify : [];
      const stage = typeof event.detail.stage === 'string' ? event.detail.stage : 'approval';
      const people = [...new Set(notify.filter((u): u is string => typeof u === 'string'))];
      return people
        .filter((u) => u !== r.requester)
        .sort()
        .map((u) =>
          make(
            u,
            'APPROVAL_ESCALATED',
            event.id,
            `Waiting too long: ${product}`,
            `${r.requester}'s request for ${product} has waited too long at the ${stage} stage. You are asked as a backup approver.`,
          ),
        );
    }
    case 'REQUEST_APPROVED':
      return toRequester(
        'REQUEST_APPROVED',
        `Approved: ${product}`,
        `Your request for ${product} was approved. Access is being set up.`,
      );
    case 'REQUEST_DENIED': {
      const reason = typeof event.detail.reason === 'string' ? event.detail.reason : '';
      return toRequester(
        'REQUEST_DENIED',
        `Denied: ${product}`,
        `Your request for ${product} was denied by ${event.actor}.${reason ? ` Their reason: ${reason}` : ''}`,
      );
    }
    case 'GRANT_ACTIVE':
      return toRequester(
        'REQUEST_ACTIVE',
        `Access ready: ${product}`,
        `Your access to ${product} is active. You can query it now.`,
      ).map((n) => ({ ...n, grantId: r.grantId }));
    case 'FULFILMENT_FAILED':
      return toRequester(
        'REQUEST_FAILED',
        `Could not set up: ${product}`,
        `Your request for ${product} was approved, but setting up access failed. An administrator can retry it.`,
      );
    case 'GRANT_EXPIRED':
      return toRequester(
        'GRANT_EXPIRED',
        `Access ended: ${product}`,
        `Your access to ${product} has expired. Ask again if you still need it.`,
      ).map((n) => ({ ...n, grantId: r.grantId }));
    case 'REQUEST_TIMED_OUT':
      return toRequester(
        'REQUEST_TIMED_OUT',
        `Timed out: ${product}`,
        `Your request for ${product} waited too long for an approval and was closed. Ask again if you still need it.`,
      );
    default:
      return [];
  }
}

/**
 * The warning to a grant's holder that it ends within EXPIRY_WARNING_MS of `now`: once per grant
 * and expiry (dated when it entered that window, so every sweep makes the same one) (an extended grant is a new grant, warned again). None for a grant not ACTIVE or
 * further away.
 */
export function expiryWarningFor(g: Grant, now: Date): Notification | undefined {
  const ends = new Date(g.expiresAt).getTime();
  const left = ends - now.getTime();
  if (g.status !== 'ACTIVE' || left > EXPIRY_WARNING_MS || left <= 0) return undefined;
  // Dated when the grant entered its last days (not when a sweep saw it): the same id every sweep.
  const at = new Date(
    Math.max(ends - EXPIRY_WARNING_MS, new Date(g.grantedAt).getTime()),
  ).toISOString();
  const kind = 'GRANT_EXPIRING_SOON';
  const days = Math.max(1, Math.round(left / (24 * 3_600_000)));
  const when = left < 24 * 3_600_000 ? 'within a day' : `in ${days} day${days > 1 ? 's' : ''}`;
  return {
    id: notificationId(at, `${g.id}#${g.expiresAt}`, g.requester, kind),
    user: g.requester,
    kind,
    title: `Ends soon: ${g.productId}`,
    text: `Your access to ${g.productId} ends ${when} (${g.expiresAt.slice(0, 16).replace('T', ' ')} UTC). Extend it from the request's page if you still need it.`,
    link: requestLink({ id: g.requestId }),
    domain: g.domain,
    requestId: g.requestId,
    grantId: g.id,
    at,
    read: false,
  };
}
