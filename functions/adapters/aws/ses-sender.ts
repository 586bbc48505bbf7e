import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Notification } from '../../domain/notifications';
import type { NotificationSender, OutboundMessage } from '../../ports/notifications';

// The SES client is loaded at the first e-mail, not at start: the functions that build this
// adapter without sending (the API) do not pay for its module load.
const ses = () => import('./clients/sesv2');
let defaultClient: Promise<SESv2Client> | undefined;

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Notifications out of Meshgate on AWS: e-mail through Amazon SES (from the configured identity)
 * and a domain's Slack or Teams incoming webhook (both take `{"text": ...}`). A webhook URL is a
 * credential: it is never logged nor put in an error message.
 */
export class SesNotificationSender implements NotificationSender {
  constructor(
    private readonly from: string | undefined,
    private readonly client?: SESv2Client,
    private readonly fetchFn: Fetch = (url, init) => fetch(url, init),
  ) {}

  async email(to: string, m: OutboundMessage, n: Notification): Promise<void> {
    if (!this.from) return;
    const { SESv2Client, SendEmailCommand } = await ses();
    const client = this.client ?? (await (defaultClient ??= Promise.resolve(new SESv2Client({}))));
    await client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [to] },
        Content: {
          Simple: {
            Subject: { Data: m.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: m.text, Charset: 'UTF-8' },
              Html: { Data: m.html, Charset: 'UTF-8' },
            },
          },
        },
        EmailTags: [{ Name: 'kind', Value: n.kind }],
      }),
    );
  }

  async webhook(url: string, m: OutboundMessage, n: Notification): Promise<void> {
    const res = await this.fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `*${m.subject}*\n${m.text}` }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) {
      const err = new Error(`the chat webhook answered ${res.status} for notification ${n.id}`);
      err.name = 'WebhookRefused';
      throw err;
    }
  }
}
