import type { Notification } from '../../domain/notifications';
import type { NotificationSender, OutboundMessage } from '../../ports/notifications';

/**
 * The embedded default's way out: no e-mail and no chat, one log line per new notification (the
 * centre holds it as well). It has no `email`, so the notifier reads no recipient's address for it.
 */
export class LogNotificationSender implements NotificationSender {
  constructor(private readonly log: (line: string) => void = (l) => console.log(l)) {}

  notified(m: OutboundMessage, n: Notification): void {
    this.log(`notify ${n.user}: ${m.subject} (${n.link})`);
  }

  async webhook(): Promise<void> {}
}
