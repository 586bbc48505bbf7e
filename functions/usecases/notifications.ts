import { type AccessRequest, type AuditEvent, type Principal } from '../domain/model';
import { notFound } from '../domain/errors';
import {
  EXPIRY_WARNING_MS,
  NOTIFICATION_ID,
  NOTIFYING_EVENT_TYPES,
  expiryWarningFor,
  notificationsFor,
  stageReached,
  type Notification,
} from '../domain/notifications';
import { messageFor } from '../domain/notification-messages';
import { GLOBAL_CHAIN } from '../domain/audit-chain';
import { cursorScope, type Page } from '../domain/paging';
import type { LifecycleEvent } from '../ports/events';
import type {
  NotificationSender,
  NotificationSettings,
  NotificationStore,
} from '../ports/notifications';
import { aboutRequest, type Deps } from './deps';
import { cursorCodec } from './paging';
import { inboxSources, mayDecide } from './queries';

/** What the notifier needs besides the use cases' ports. */
export interface NotifierDeps extends Pick<Deps, 'store' | 'policy' | 'clock' | 'log'> {
  notifications: NotificationStore;
  /** E-mail and chat; nothing leaves the centre when absent. */
  sender?: NotificationSender;
  /** Chat webhook URL per domain (from the deployment configuration; never stored nor shown). */
  webhooks?: Record<string, string>;
  /** Where the web UI is, for the links in e-mails and chat messages. */
  webUrl?: string;
}

/** Audit events older than this are not notified by the catch-up (a first pass over an old trail). */
export const CATCH_UP_MAX_AGE_MS = 7 * 24 * 3_600_000;

const log = (deps: Pick<Deps, 'log'>) =>
  deps.log ?? ((m: string, e?: unknown) => console.error(m, e));

/**
 * Everyone the policy in force lets approve `stage` of `r`: the domain's and the global members,
 * as the policy holds them for its authorization generation (no read).
 */
export function approversOf(deps: Pick<Deps, 'policy'>, r: AccessRequest, stage: string): string[] {
  const users = new Set(deps.policy.membersOf(r.domain).map((m) => m.user));
  return [...users]
    .filter((u) => u !== r.requester)
    .filter((u) => deps.policy.decide(aboutRequest(u, r, `approve:${stage}`)).allowed)
    .sort();
}

/**
 * Writes a notification to the centre and, when it is new there, sends it by e-mail (unless the
 * user opted out or has no address) and to the domain's chat webhook. A redelivered one is
 * neither written nor sent again. A failure to send is logged (without the webhook's URL) and
 * never undoes the notification.
 */
export async function deliver(deps: NotifierDeps, n: Notification): Promise<boolean> {
  if (!(await deps.notifications.add(n))) return false;
  await sendOut(deps, n);
  return true;
}

/** E-mail and chat for a notification new in the centre (see `deliver`). */
async function sendOut(deps: NotifierDeps, n: Notification): Promise<void> {
  if (!deps.sender) return;
  const message = messageFor(n, deps.webUrl);
  deps.sender.notified?.(message, n);
  // A sender without e-mail (the local log) needs neither the address nor the settings.
  const email = deps.sender.email?.bind(deps.sender);
  const user = email ? await deps.store.getUser(n.user) : undefined;
  if (email && user?.email && (await deps.notifications.getSettings(n.user)).email) {
    await email(user.email, message, n).catch((err) =>
      log(deps)(`could not e-mail notification ${n.id} to ${n.user}`, err),
    );
  }
  const hook = deps.webhooks?.[n.domain];
  if (hook) {
    await deps.sender
      .webhook(hook, message, n)
      .catch((err: unknown) =>
        log(deps)(
          `could not post notification ${n.id} to the chat webhook of ${n.domain}: ${(err as Error)?.name ?? 'error'}`,
        ),
      );
  }
}

/** Notifies what `events` (committed audit events of `r`) call for; how many were new. */
export async function notifyEvents(
  deps: NotifierDeps,
  r: AccessRequest,
  events: readonly AuditEvent[],
): Promise<number> {
  let added = 0;
  for (const e of events) {
    if (!NOTIFYING_EVENT_TYPES.has(e.type)) continue;
    const stage = stageReached(e, r);
    const approvers = stage ? approversOf(deps, r, stage) : [];
    for (const n of notificationsFor(e, r, approvers)) if (await deliver(deps, n)) added++;
  }
  return added;
}

/**
 * What several committed changes call for, written together: the in-process queue's drain (the
 * local fast path), where every notification is new, so that their puts and counts take one
 * transaction (`addMany`) rather than one each. How many were new.
 */
export async function notifyCommitted(
  deps: NotifierDeps,
  changes: ReadonlyArray<{ request: AccessRequest; events: readonly AuditEvent[] }>,
): Promise<number> {
  const all: Notification[] = [];
  for (const { request: r, events } of changes)
    for (const e of events) {
      if (!NOTIFYING_EVENT_TYPES.has(e.type)) continue;
      const stage = stageReached(e, r);
      all.push(...notificationsFor(e, r, stage ? approversOf(deps, r, stage) : []));
    }
  if (all.length === 0) return 0;
  // Every notification added is sent, whatever else fails: the catch-up adds what is missing but
  // never sends what was added already.
  const { added, failures } = await deps.notifications.addMany(all);
  const errors = [...failures];
  let n = 0;
  for (let i = 0; i < all.length; i++)
    if (added[i]) {
      n++;
      await sendOut(deps, all[i]!).catch((err: unknown) => errors.push(err));
    }
  if (errors.length > 0)
    throw new AggregateError(errors, `${errors.length} of ${all.length} notifications failed`);
  return n;
}

/**
 * The fast path, fed by the lifecycle events on the bus (the notifier Lambda: status changes, and
 * a pending request reaching or escalated at a stage): the request's trail is read again and
 * notified. Notification ids are deterministic, so two events of one write notify once.
 */
export async function notifyLifecycleEvent(
  deps: NotifierDeps,
  changed: Pick<LifecycleEvent['detail'], 'requestId'>,
): Promise<number> {
  const r = await deps.store.getRequest(changed.requestId);
  if (!r) return 0;
  return notifyEvents(deps, r, await deps.store.listRequestAudit(r.id));
}

/**
 * The catch-up: every audit chain read from its mark (the last seq notified), its events notified,
 * and the mark moved (conditional on where it was read). Whatever a crash kept the fast path from
 * notifying is notified here, once: the notifications' ids are deterministic.
 */
export async function catchUpNotifications(deps: NotifierDeps): Promise<number> {
  const chains = [GLOBAL_CHAIN, ...(await deps.store.listDomains()).map((d) => d.id)];
  const oldest = new Date(deps.clock.now().getTime() - CATCH_UP_MAX_AGE_MS).toISOString();
  let added = 0;
  for (const chain of chains) {
    const from = await deps.notifications.readMark(chain);
    const events = await deps.store.listChain(chain, from);
    if (events.length === 0) continue;
    const requests = new Map<string, AccessRequest | undefined>();
    for (const e of events) {
      if (!e.requestId || !NOTIFYING_EVENT_TYPES.has(e.type) || e.at < oldest) continue;
      if (!requests.has(e.requestId))
        requests.set(e.requestId, await deps.store.getRequest(e.requestId));
      const r = requests.get(e.requestId);
      if (r) added += await notifyEvents(deps, r, [e]);
    }
    const last = events[events.length - 1]!.seq ?? from;
    await deps.notifications.moveMark(chain, from, last);
  }
  return added;
}

/** Warns the holders of ACTIVE grants ending within three days, once per grant. */
export async function warnExpiring(deps: NotifierDeps): Promise<number> {
  const now = deps.clock.now();
  const by = new Date(now.getTime() + EXPIRY_WARNING_MS).toISOString();
  let added = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listGrantsExpiringBy(by, { limit: 100, cursor });
    for (const g of page.items) {
      const n = expiryWarningFor(g, now);
      if (n && (await deliver(deps, n))) added++;
    }
    cursor = page.cursor;
  } while (cursor);
  return added;
}

/** The notifier's scheduled pass (with the sweep): the catch-up, then the expiry warnings. */
export async function notifySweep(deps: NotifierDeps) {
  return { caughtUp: await catchUpNotifications(deps), expiring: await warnExpiring(deps) };
}

// ------------------------------------------------------------------------------ the API

/** What the notification routes read besides the use cases' ports. */
export interface NotificationDeps {
  notifications: NotificationStore;
}

export type NotificationQueryDeps = NotificationDeps & Pick<Deps, 'store' | 'policy'>;

/** The caller's notifications, newest first, one page at a time. */
export async function listNotifications(
  deps: NotificationQueryDeps,
  who: Principal,
  q: { limit: number; cursor?: string; unread?: boolean },
): Promise<Page<Notification>> {
  const scope = cursorScope('notifications', who.userId, { unread: q.unread });
  const cursors = await cursorCodec(deps.store);
  const after = q.cursor ? cursors.open<{ after: string }>(scope, q.cursor).after : undefined;
  const page = await deps.notifications.list(who.userId, {
    limit: q.limit,
    after,
    unread: q.unread,
  });
  return {
    items: page.items,
    ...(page.after ? { cursor: cursors.seal(scope, { after: page.after }) } : {}),
  };
}

const missing = (id: string) =>
  notFound('NOTIFICATION_NOT_FOUND', `No notification ${id} of yours.`);

/** Marks one of the caller's notifications read; someone else's is reported as missing. */
export async function markNotificationRead(
  deps: NotificationQueryDeps,
  who: Principal,
  id: string,
): Promise<Notification> {
  if (!NOTIFICATION_ID.test(id)) throw missing(id);
  const outcome = await deps.notifications.markRead(who.userId, id);
  const n = outcome === 'missing' ? undefined : await deps.notifications.get(who.userId, id);
  if (!n) throw missing(id);
  return n;
}

export async function markAllNotificationsRead(deps: NotificationQueryDeps, who: Principal) {
  return { marked: await deps.notifications.markAllRead(who.userId) };
}

/** The inbox is counted up to this many; more reads as `100+` (`pendingApprovalsMore`). */
export const PENDING_COUNT_CAP = 100;

/**
 * How many pending requests wait for `who` (their current stage is one the policy lets them
 * decide; the same rule and the same partitions as the approvals inbox), from one page of each
 * of the inbox's partitions: the oldest `cap` + 1 of each, one Query per partition, whatever the
 * number pending. The bell is polled by every open page, so it reads no further: a backup approver's
 * partitions hold every pending request of the domain, most of which they may not decide yet, and
 * counting them all read every one (3,000 pending: 90 Queries per poll). So the count is a lower
 * bound when the page stops with more to read (`more`); the oldest come first, and escalation (what
 * lets a backup decide) comes with age.
 */
export async function countPendingApprovals(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  cap = PENDING_COUNT_CAP,
): Promise<{ count: number; more: boolean }> {
  const sources = inboxSources(deps, who);
  if (sources.length === 0) return { count: 0, more: false };
  // Each partition read on its own: one merged page would stop at the oldest items of all of them,
  // and a backlog in one domain could hide every request of another (a backup approver of a busy
  // domain who owns a quiet one). A request may sit in two of them (a domain's stage and the
  // stage everywhere): counted once.
  const pages = await Promise.all(
    sources.map((s) => deps.store.listPending([s], { limit: cap + 1 })),
  );
  const decidable = new Set<string>();
  for (const page of pages)
    for (const r of page.items) if (mayDecide(deps, who, r)) decidable.add(r.id);
  const more = decidable.size > cap || pages.some((p) => p.next !== undefined);
  return { count: Math.min(decidable.size, cap), more };
}

/**
 * The bell and the badge: the caller's unread count (one read of their counter) and how many
 * pending requests wait for them, counted up to PENDING_COUNT_CAP from a bounded read
 * (`pendingApprovalsMore`: there may be more, shown as `n+`).
 */
export async function notificationSummary(deps: NotificationQueryDeps, who: Principal) {
  const [unread, pending] = await Promise.all([
    deps.notifications.unreadCount(who.userId),
    countPendingApprovals(deps, who),
  ]);
  return {
    unread,
    pendingApprovals: pending.count,
    pendingApprovalsMore: pending.more,
  };
}

export async function notificationSettings(
  deps: NotificationQueryDeps,
  who: Principal,
): Promise<NotificationSettings> {
  return deps.notifications.getSettings(who.userId);
}

export async function saveNotificationSettings(
  deps: NotificationQueryDeps,
  who: Principal,
  s: NotificationSettings,
): Promise<NotificationSettings> {
  await deps.notifications.putSettings(who.userId, s);
  return s;
}
