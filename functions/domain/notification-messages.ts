import type { Notification, NotificationKind } from './notifications';

/** An e-mail or chat message built from a notification: one template per kind. */
export interface NotificationMessage {
  subject: string;
  text: string;
  html: string;
}

/** What each kind of message asks the reader to do, under the notification's own words. */
const TEMPLATES: Record<NotificationKind, { tag: string; action: string }> = {
  APPROVAL_NEEDED: { tag: 'Approval needed', action: 'Open the request to approve or deny it' },
  APPROVAL_ESCALATED: { tag: 'Waiting too long', action: 'Open the request to decide it' },
  REQUEST_APPROVED: { tag: 'Approved', action: 'See the request' },
  REQUEST_DENIED: { tag: 'Denied', action: 'See the request' },
  REQUEST_ACTIVE: { tag: 'Access ready', action: 'See how to use it' },
  REQUEST_FAILED: { tag: 'Set-up failed', action: 'See the request' },
  REQUEST_TIMED_OUT: { tag: 'Timed out', action: 'See the request' },
  GRANT_EXPIRING_SOON: { tag: 'Ends soon', action: 'Extend it' },
  GRANT_EXPIRED: { tag: 'Access ended', action: 'See the request' },
};

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The message for `n`; its link made absolute with `webUrl` (the web UI's address) when given. */
export function messageFor(n: Notification, webUrl?: string): NotificationMessage {
  const t = TEMPLATES[n.kind];
  const link = webUrl ? `${webUrl.replace(/\/+$/, '')}/${n.link}` : undefined;
  const subject = `[Meshgate] ${n.title}`;
  const text = [n.text, link ? `${t.action}: ${link}` : `${t.action} in Meshgate.`].join('\n\n');
  const html =
    `<p>${escapeHtml(n.text)}</p>` +
    (link
      ? `<p><a href="${escapeHtml(link)}">${escapeHtml(t.action)}</a></p>`
      : `<p>${escapeHtml(t.action)} in Meshgate.</p>`);
  return { subject, text, html };
}
