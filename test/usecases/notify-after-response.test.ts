import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { movingClock } from '../support/clock';
import { LogNotificationSender } from '../../functions/adapters/local/log-sender';

// `npm start` notifies after the response, from an in-process queue drained in batches (as the
// bus feeds the notifier on AWS). What it held when the process died is notified by the sweep's
// catch-up, once; and what it delivers after a catch-up is not notified twice.

let p: TestPortal;
beforeEach(async () => {
  p = await startPortal({ clock: movingClock(), notifyAfterResponse: true });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await p.close();
});

const kinds = async (user: string) =>
  ((await p.call(user, 'GET', '/v1/notifications')).body.items as Array<{ kind: string }>).map(
    (n) => n.kind,
  );
const unread = async (user: string) =>
  (await p.call(user, 'GET', '/v1/notifications/summary')).body.unread as number;
async function submit(productId: string, as = 'alice'): Promise<string> {
  const res = await p.call(as, 'POST', '/v1/requests', newRequest(productId));
  expect(res.status).toBe(201);
  return res.body.id;
}

test('the approvers are notified once the queue drained, several calls in one write', async () => {
  p.notifyQueue.pause();
  const addMany = jest.spyOn(p.notifications, 'addMany');
  await submit('sales/orders');
  await submit('sales/orders', 'fiona');
  await submit('finance/invoices');
  // Answered before anyone was notified.
  expect(await kinds('bob')).toEqual([]);
  p.notifyQueue.resume();
  await p.notifyQueue.onIdle();
  expect(await kinds('bob')).toEqual(['APPROVAL_NEEDED', 'APPROVAL_NEEDED']);
  expect(await kinds('sam')).toEqual(['APPROVAL_NEEDED', 'APPROVAL_NEEDED']);
  expect(await kinds('fiona')).toEqual(['APPROVAL_NEEDED']);
  expect(await unread('bob')).toBe(2);
  // The three calls' five notifications in one call of the store.
  expect(addMany).toHaveBeenCalledTimes(1);
  expect(addMany.mock.calls[0]![0]).toHaveLength(5);
});

test('what the queue held when the process died is notified by the catch-up, once', async () => {
  p.notifyQueue.pause();
  const id = await submit('sales/orders');
  // Killed with the change queued: the memory is gone, the store has the change and its event.
  expect(p.notifyQueue.drop()).toHaveLength(1);
  expect(await kinds('bob')).toEqual([]);
  const swept = await p.schedules.sweep();
  expect(swept.notified.caughtUp).toBe(2); // bob and sam
  const feed = (await p.call('bob', 'GET', '/v1/notifications')).body.items;
  expect(feed.map((n: { kind: string; requestId: string }) => [n.kind, n.requestId])).toEqual([
    ['APPROVAL_NEEDED', id],
  ]);
  expect((await p.schedules.sweep()).notified.caughtUp).toBe(0);
  expect(await unread('bob')).toBe(1);
});

test('a queued change delivered after the catch-up notified it is not notified twice', async () => {
  p.notifyQueue.pause();
  await submit('sales/orders');
  await submit('finance/invoices');
  expect((await p.schedules.sweep()).notified.caughtUp).toBe(3); // bob, sam, fiona
  p.notifyQueue.resume();
  await p.notifyQueue.onIdle();
  expect(await kinds('bob')).toEqual(['APPROVAL_NEEDED']);
  expect(await kinds('fiona')).toEqual(['APPROVAL_NEEDED']);
  for (const user of ['bob', 'sam', 'fiona']) expect(await unread(user)).toBe(1);
});

test('when part of a batch cannot be written, what was written is still sent, and the rest is left to the catch-up', async () => {
  p.notifyQueue.pause();
  const real = p.notifications.addMany.bind(p.notifications);
  const throttled = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
  // The store writes every notification of the batch but the last, whose write fails.
  jest.spyOn(p.notifications, 'addMany').mockImplementation(async (ns) => {
    const written = await real(ns.slice(0, -1));
    return { added: [...written.added, false], failures: [throttled] };
  });
  const sent = jest.spyOn(LogNotificationSender.prototype, 'notified');
  await submit('sales/orders');
  await submit('finance/invoices');
  p.notifyQueue.resume();
  await p.notifyQueue.onIdle();
  // bob and sam for sales/orders, fiona for finance/invoices: the last one (fiona's) failed.
  expect(sent.mock.calls.map(([, n]) => n.user).sort()).toEqual(['bob', 'sam']);
  expect(await kinds('fiona')).toEqual([]);
  jest.restoreAllMocks();
  const swept = await p.schedules.sweep();
  expect(swept.notified.caughtUp).toBe(1);
  expect(await kinds('fiona')).toEqual(['APPROVAL_NEEDED']);
});
