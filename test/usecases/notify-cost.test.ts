import { newRequest, startPortal, type TestPortal } from '../support/portal';

/**
 * What notifying a new request costs in the local process (the notifier's fast path runs in the
 * API call there): one transaction per approver (the notification and its unread count), and no
 * read of the approver, since the local sender sends no e-mail.
 */
let p: TestPortal;
let sent: string[] = [];

beforeAll(async () => {
  p = await startPortal();
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { pk?: string; sk?: string } };
      const key = input.Key ? ` ${input.Key.pk}/${input.Key.sk}` : '';
      sent.push(`${context.commandName}${key}`);
      return next(args);
    },
    { step: 'initialize', name: 'listCommands' },
  );
}, 60_000);
afterAll(() => p.close());

test('notifying a new request writes each approver one notification and reads no user', async () => {
  await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders')); // warm: sign-in, domain
  sent = [];
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  expect(res.status).toBe(201);
  expect(sent).toEqual([
    'GetItemCommand POLICY/CURRENT',
    'GetItemCommand PRODUCT#sales/orders/META',
    'TransactWriteItemsCommand', // the request, its event, the chain head, the open-request claim
    'TransactWriteItemsCommand', // bob's notification and unread count
    'TransactWriteItemsCommand', // sam's
  ]);
  for (const user of ['bob', 'sam'])
    expect((await p.call(user, 'GET', '/v1/notifications')).body.items).toEqual([
      expect.objectContaining({ kind: 'APPROVAL_NEEDED', requestId: res.body.id }),
      expect.objectContaining({ kind: 'APPROVAL_NEEDED' }),
    ]);
});
