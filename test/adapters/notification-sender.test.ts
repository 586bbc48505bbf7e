import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SesNotificationSender } from '../../functions/adapters/aws/ses-sender';
import { notificationsFor } from '../../functions/domain/notifications';
import { deliver, type NotifierDeps } from '../../functions/usecases/notifications';
import { startPortal, type TestPortal } from '../support/portal';
import type { AuditEvent } from '../../functions/domain/model';

// E-mail through SES (the client mocked: nothing leaves the process) and the domain's chat
// webhook (fetch mocked), driven by the notifier's delivery against the embedded portal's store.

const ses = mockClient(SESv2Client);
const HOOK = 'https://hooks.slack.example/services/T000/B000/very-secret-token';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
  await p.store.putUser({ id: 'alice', name: 'Alice Martin', email: 'alice@example.com' });
});
afterAll(() => p.close());
beforeEach(() => ses.reset());

const fetchMock = jest.fn(async (_url: string, _init: RequestInit) => new Response('ok'));

function deps(over: Partial<NotifierDeps> = {}): NotifierDeps {
  return {
    store: p.store,
    policy: p.policy,
    clock: { now: () => new Date() },
    notifications: p.notifications,
    sender: new SesNotificationSender('meshgate@example.com', new SESv2Client({}), fetchMock),
    webhooks: { sales: HOOK },
    webUrl: 'https://meshgate.example.com',
    ...over,
  };
}

let seq = 0;
function approvedFor(user = 'alice') {
  const e = {
    id: `evt_mail${++seq}`,
    at: new Date(Date.UTC(2026, 1, 1, 0, 0, seq)).toISOString(),
    type: 'REQUEST_APPROVED',
    actor: 'bob',
    domain: 'sales',
    requestId: `req_mail${seq}`,
    detail: {},
  } as AuditEvent;
  const [n] = notificationsFor(e, {
    id: `req_mail${seq}`,
    requester: user,
    productId: 'sales/orders',
    domain: 'sales',
    status: 'APPROVED',
    stages: [],
    createdAt: e.at,
  });
  return n!;
}

test('a new notification is e-mailed through SES from the configured identity, once', async () => {
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  const n = approvedFor();
  expect(await deliver(deps(), n)).toBe(true);
  expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
  expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
    FromEmailAddress: 'meshgate@example.com',
    Destination: { ToAddresses: ['alice@example.com'] },
    Content: {
      Simple: {
        Subject: { Data: '[Meshgate] Approved: sales/orders', Charset: 'UTF-8' },
        Body: {
          Text: {
            Data: expect.stringContaining(
              'See the request: https://meshgate.example.com/#/requests/',
            ),
            Charset: 'UTF-8',
          },
          Html: {
            Data: expect.stringContaining('<a href="https://meshgate.example.com/#/requests/'),
            Charset: 'UTF-8',
          },
        },
      },
    },
  });
  // Delivered again (a redelivered event): neither stored nor sent twice.
  expect(await deliver(deps(), n)).toBe(false);
  expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
});

test('no e-mail to a user who opted out, nor to one without an address; the centre has it', async () => {
  ses.on(SendEmailCommand).resolves({});
  const res = await p.call('alice', 'PUT', '/v1/notifications/settings', { email: false });
  expect(res.status).toBe(200);
  const n = approvedFor();
  expect(await deliver(deps(), n)).toBe(true);
  expect(await deliver(deps(), approvedFor('fiona'))).toBe(true);
  expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 0);
  expect(await p.notifications.get('alice', n.id)).toMatchObject({ id: n.id });
  await p.call('alice', 'PUT', '/v1/notifications/settings', { email: true });
});

test("the domain's webhook gets the message; its URL is never logged, even when it fails", async () => {
  ses.on(SendEmailCommand).rejects(new Error('SES throttled'));
  fetchMock.mockClear();
  fetchMock.mockResolvedValueOnce(new Response('no', { status: 500 }));
  const log = jest.fn();
  const n = approvedFor();
  expect(await deliver(deps({ log }), n)).toBe(true);
  expect(fetchMock).toHaveBeenCalledTimes(1);
  const [url, init] = fetchMock.mock.calls[0]!;
  expect(url).toBe(HOOK);
  expect(init.method).toBe('POST');
  expect(JSON.parse(init.body as string)).toEqual({
    text: expect.stringContaining('*[Meshgate] Approved: sales/orders*'),
  });
  // Both failures logged, neither undoes the notification, the URL in no line.
  expect(log).toHaveBeenCalledTimes(2);
  expect(
    JSON.stringify(log.mock.calls, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : v)),
  ).not.toContain('very-secret-token');
  expect(await p.notifications.get('alice', n.id)).toBeDefined();
  // No webhook for a domain without one.
  fetchMock.mockClear();
  await deliver(deps({ webhooks: {}, log }), approvedFor());
  expect(fetchMock).not.toHaveBeenCalled();
});

test('without an SES identity nothing is e-mailed', async () => {
  const n = approvedFor();
  await deliver(
    deps({ sender: new SesNotificationSender(undefined, new SESv2Client({}), fetchMock) }),
    n,
  );
  expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 0);
});
