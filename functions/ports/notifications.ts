import type { Notification } from '../domain/notifications';

export type { Notification, NotificationKind } from '../domain/notifications';

/** A user's choices about how they are told (the centre always holds everything). */
export interface NotificationSettings {
  /** E-mail them too (when they have an address); true when never set. */
  email: boolean;
}

/** Where a listing of one user's notifications resumes: the last id of the page before. */
export interface NotificationPage {
  items: Notification[];
  /** The id to resume after; absent on the last page. */
  after?: string;
}

/**
 * Per-user notifications, newest first, with an unread counter that every write moves in the same
 * transaction as the notification it counts.
 */
export interface NotificationStore {
  /**
   * Writes a notification unless one with its id exists (and then writes nothing), adding one to
   * the recipient's unread count in the same transaction. True when it was new.
   */
  add(n: Notification): Promise<boolean>;
  /**
   * `add` for each of `ns`, in as few transactions as it can (each notification put unless it
   * exists, each recipient's unread count moved by how many of theirs were new): which were new.
   * A write that fails otherwise (throttling, a conflict) fails only its notifications, which are
   * not added (the catch-up adds them) and are counted in `failures`; the others are still added.
   */
  addMany(ns: readonly Notification[]): Promise<AddedMany>;
  /** One page of `user`'s notifications, newest first, after the id `after`; only unread ones with `unread`. */
  list(
    user: string,
    q: { limit: number; after?: string; unread?: boolean },
  ): Promise<NotificationPage>;
  get(user: string, id: string): Promise<Notification | undefined>;
  /**
   * Marks one read, taking one from the unread count in the same transaction, if it is unread:
   * 'read'; 'already' when it was read; 'missing' when `user` has no such notification.
   */
  markRead(user: string, id: string): Promise<'read' | 'already' | 'missing'>;
  /** Marks every unread notification of `user` read; how many it marked. */
  markAllRead(user: string): Promise<number>;
  /** The unread count: one strongly consistent read of the counter item. */
  unreadCount(user: string): Promise<number>;
  getSettings(user: string): Promise<NotificationSettings>;
  putSettings(user: string, s: NotificationSettings): Promise<void>;
  /** How far the catch-up has notified one audit chain (the last seq it handled; 0 when never). */
  readMark(chain: string): Promise<number>;
  /** Moves a chain's mark from `from` (as read) to `to`; false, writing nothing, when another pass moved it. */
  moveMark(chain: string, from: number, to: number): Promise<boolean>;
}

/** One message built from a notification, for e-mail and chat. */
export interface OutboundMessage {
  subject: string;
  text: string;
  html: string;
}

/** Sends notifications outside Meshgate: e-mail (SES) and a domain's chat webhook, or the log locally. */
export interface NotificationSender {
  /**
   * Absent when this sender sends no e-mail (the local log): the recipient's address and
   * settings are then not read.
   */
  email?(to: string, message: OutboundMessage, n: Notification): Promise<void>;
  webhook(url: string, message: OutboundMessage, n: Notification): Promise<void>;
  /** Every new notification, before e-mail and chat (the local log). */
  notified?(message: OutboundMessage, n: Notification): void;
}

/** What `addMany` did: per notification, whether it was added now; the errors of those that failed. */
export interface AddedMany {
  added: boolean[];
  failures: unknown[];
}
