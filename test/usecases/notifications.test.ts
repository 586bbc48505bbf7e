import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { requestItem } from '../../functions/adapters/aws/dynamo/keys';
import type { AccessRequest } from '../../functions/domain/model';
import { countPendingApprovals } from '../../functions/usecases/notifications';
import { inboxSources } from '../../functions/usecases/queries';
import { pendingRequest } from '../support/embedded-tables';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { movingClock, type MovingClock } from '../support/clock';

// The notification centre against the embedded portal: who is told what, read marks, the bell's
// summary, and crash safety (the catch-up notifies what the fast path missed, once).

const DAY = 24 * 3_600_000;
let clock: MovingClock;
let p: TestPortal;
beforeEach(async () => {
  clock = movingClock();
  p = await startPortal({ clock });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await p.close();
});

type N = {
  id: string;
  kind: string;
  requestId?: string;
  grantId?: string;
  read: boolean;
  link: string;
  text: string;
};
async function feed(user: string, query = ''): Promise<N[]> {
  const res = await p.call(user, 'GET', `/v1/notifications${query}`);
  expect(res.status).toBe(200);
  return res.body.items;
}
const kinds = async (user: string) => (await feed(user)).map((n) => n.kind);

async function submit(productId: string, as = 'alice'): Promise<string> {
  const res = await p.call(as, 'POST', '/v1/requests', newRequest(productId));
  expect(res.status).toBe(201);
  return res.body.id;
}
const approve = async (id: string, as: string) =>
  expect((await p.call(as, 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status).toBe(
    200,
  );

test("a submitted request notifies the stage's approvers, never the requester, and the bell counts it", async () => {
  const id = await submit('sales/orders');
  expect(await kinds('bob')).toEqual(['APPROVAL_NEEDED']);
  expect(await kinds('sam')).toEqual(['APPROVAL_NEEDED']);
  for (const nobody of ['alice', 'carol', 'fiona', 'erin']) expect(await kinds(nobody)).toEqual([]);
  const [n] = await feed('bob');
  expect(n).toMatchObject({ requestId: id, link: `#/requests/${id}`, read: false });
  expect(n!.text).not.toMatch(/p, |role:|\.csv/);
  expect((await p.call('bob', 'GET', '/v1/notifications/summary')).body).toEqual({
    unread: 1,
    pendingApprovals: 1,
    pendingApprovalsMore: false,
  });
  expect((await p.call('alice', 'GET', '/v1/notifications/summary')).body).toEqual({
    unread: 0,
    pendingApprovals: 0,
    pendingApprovalsMore: false,
  });
});

test('the requester hears of the approval and of active access; the next stage its approvers', async () => {
  const orders = await submit('sales/orders');
  await approve(orders, 'bob');
  await p.queue.onIdle();
  const mine = await feed('alice');
  expect(mine.map((n) => n.kind).sort()).toEqual(['REQUEST_ACTIVE', 'REQUEST_APPROVED']);
  expect(mine.find((n) => n.kind === 'REQUEST_ACTIVE')!.grantId).toEqual(
    expect.stringMatching(/^grt_/),
  );

  // Restricted: the owner stage, then compliance. carol is told only once the owner approved.
  const leads = await submit('sales/leads');
  expect(await kinds('carol')).toEqual([]);
  await approve(leads, 'bob');
  expect(await kinds('carol')).toEqual(['APPROVAL_NEEDED']);
  // bob approved the owner stage: he may not approve compliance, and is not asked to.
  expect((await feed('bob')).filter((n) => n.requestId === leads)).toHaveLength(1);
});

test('a denial tells the requester why', async () => {
  const id = await submit('sales/orders');
  const res = await p.call('bob', 'POST', `/v1/requests/${id}/deny`, {
    reason: 'Use the aggregate',
  });
  expect(res.status).toBe(200);
  const [n] = await feed('alice');
  expect(n).toMatchObject({ kind: 'REQUEST_DENIED', requestId: id });
  expect(n!.text).toContain('Use the aggregate');
});

test("own notifications only: bob can neither read nor mark alice's (404)", async () => {
  const id = await submit('sales/orders');
  await approve(id, 'bob');
  const [n] = await feed('alice');
  expect((await feed('bob')).some((x) => x.id === n!.id)).toBe(false);
  const res = await p.call('bob', 'POST', `/v1/notifications/${n!.id}/read`);
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('NOTIFICATION_NOT_FOUND');
  expect((await feed('alice'))[0]!.read).toBe(false);
  expect((await p.call(null, 'GET', '/v1/notifications')).status).toBe(401);
});

test('marked read one by one or all at once; the unread count moves with them; paged', async () => {
  for (let i = 0; i < 3; i++) await submit('sales/orders');
  const all = await feed('bob');
  expect(all).toHaveLength(3);
  // Newest first.
  expect([...all].map((n) => n.id)).toEqual(
    [...all]
      .map((n) => n.id)
      .sort()
      .reverse(),
  );

  const read = await p.call('bob', 'POST', `/v1/notifications/${all[1]!.id}/read`);
  expect(read.status).toBe(200);
  expect(read.body.read).toBe(true);
  // Twice is harmless, and counts once.
  expect((await p.call('bob', 'POST', `/v1/notifications/${all[1]!.id}/read`)).status).toBe(200);
  expect((await p.call('bob', 'GET', '/v1/notifications/summary')).body.unread).toBe(2);
  expect((await feed('bob', '?unread=true')).map((n) => n.id)).toEqual([all[0]!.id, all[2]!.id]);

  const first = await p.call('bob', 'GET', '/v1/notifications?limit=2');
  expect(first.body.items.map((n: N) => n.id)).toEqual([all[0]!.id, all[1]!.id]);
  const second = await p.call(
    'bob',
    'GET',
    `/v1/notifications?limit=2&cursor=${first.body.cursor}`,
  );
  expect(second.body.items.map((n: N) => n.id)).toEqual([all[2]!.id]);
  expect(second.body.cursor).toBeUndefined();
  // A cursor is bound to its caller and filters.
  expect(
    (await p.call('sam', 'GET', `/v1/notifications?limit=2&cursor=${first.body.cursor}`)).status,
  ).toBe(400);

  expect((await p.call('bob', 'POST', '/v1/notifications/read-all')).body).toEqual({ marked: 2 });
  expect((await p.call('bob', 'GET', '/v1/notifications/summary')).body.unread).toBe(0);
  expect(await feed('bob', '?unread=true')).toEqual([]);
});

test('a change whose fast path is lost (a crash after the commit) is notified by the next catch-up, once', async () => {
  // The notifier's write fails for every notification of this submission: as if the process died
  // right after the commit.
  const add = jest.spyOn(p.notifications, 'add').mockRejectedValue(new Error('process died'));
  const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
  const id = await submit('sales/orders');
  add.mockRestore();
  expect(logged).toHaveBeenCalledWith(expect.stringMatching(/could not notify/), expect.anything());
  expect(await kinds('bob')).toEqual([]);
  expect((await p.call('bob', 'GET', '/v1/notifications/summary')).body.unread).toBe(0);

  const swept = await p.schedules.sweep();
  expect(swept.notified.caughtUp).toBe(2); // bob and sam
  expect((await feed('bob')).map((n) => [n.kind, n.requestId])).toEqual([['APPROVAL_NEEDED', id]]);
  // Again: nothing new, nothing twice.
  expect((await p.schedules.sweep()).notified.caughtUp).toBe(0);
  expect(await kinds('bob')).toEqual(['APPROVAL_NEEDED']);
  expect((await p.call('bob', 'GET', '/v1/notifications/summary')).body.unread).toBe(1);
});

test('the catch-up after a working fast path adds nothing', async () => {
  const id = await submit('sales/orders');
  await approve(id, 'bob');
  await p.queue.onIdle();
  const before = await feed('alice');
  expect((await p.schedules.sweep()).notified.caughtUp).toBe(0);
  expect(await feed('alice')).toEqual(before);
});

test('a grant ending within three days is announced once, with a link to extend it', async () => {
  const id = await submit('sales/orders');
  await approve(id, 'bob');
  await p.queue.onIdle();
  expect((await p.schedules.sweep()).notified.expiring).toBe(0);
  clock.t = new Date(clock.t.getTime() + 4 * DAY + 60_000); // 7-day grant: under 3 days left
  p.resetTokens();
  expect((await p.schedules.sweep()).notified.expiring).toBe(1);
  expect((await p.schedules.sweep()).notified.expiring).toBe(0);
  const soon = (await feed('alice')).filter((n) => n.kind === 'GRANT_EXPIRING_SOON');
  expect(soon).toHaveLength(1);
  expect(soon[0]).toMatchObject({ requestId: id, link: `#/requests/${id}` });
  expect(soon[0]!.text).toMatch(/ends in 3 days/);
});

test('settings: e-mail on unless turned off, per user', async () => {
  expect((await p.call('alice', 'GET', '/v1/notifications/settings')).body).toEqual({
    email: true,
  });
  expect(
    (await p.call('alice', 'PUT', '/v1/notifications/settings', { email: false })).body,
  ).toEqual({ email: false });
  expect((await p.call('alice', 'GET', '/v1/notifications/settings')).body).toEqual({
    email: false,
  });
  expect((await p.call('bob', 'GET', '/v1/notifications/settings')).body).toEqual({ email: true });
  expect((await p.call('alice', 'PUT', '/v1/notifications/settings', { email: 'no' })).status).toBe(
    400,
  );
});

test('the pending count is the inbox, counted only up to its cap (then "more")', async () => {
  for (let i = 0; i < 3; i++) await submit('sales/orders');
  const bob = { userId: 'bob', name: 'Bob Keller' };
  expect(await countPendingApprovals(p.deps, bob)).toEqual({ count: 3, more: false });
  // Past the cap it stops reading: "more than the cap".
  expect(await countPendingApprovals(p.deps, bob, 1)).toEqual({ count: 1, more: true });
  expect(await countPendingApprovals(p.deps, { userId: 'fiona', name: 'Fiona' })).toEqual({
    count: 0,
    more: false,
  });
  const inbox = await p.call('bob', 'GET', '/v1/approvals');
  expect((await p.call('bob', 'GET', '/v1/notifications/summary')).body).toMatchObject({
    pendingApprovals: inbox.body.items.length,
    pendingApprovalsMore: false,
  });
});

test("the bell's count reads one page of the inbox's partitions however many are pending: a lower bound beyond", async () => {
  // henry is a backup approver of sales: his inbox's partitions hold every pending sales request,
  // which he may decide only once escalated. Counting them all read every one on every poll.
  let queries = 0;
  p.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName === 'QueryCommand') queries++;
      return next(args);
    },
    { step: 'initialize', name: 'countSummaryQueries' },
  );
  const doc = documentClient(p.client);
  let seeded = 0;
  const costs: number[] = [];
  for (const pending of [50, 400]) {
    for (; seeded < pending; seeded++) {
      const at = new Date(Date.UTC(2026, 10, 1) + seeded * 1000).toISOString();
      const r: AccessRequest = pendingRequest(
        'sales',
        `req_${String(seeded).padStart(26, '0')}`,
        at,
      );
      await doc.send(new PutCommand({ TableName: 'meshgate', Item: requestItem(r) }));
    }
    await p.call('henry', 'GET', '/v1/notifications/summary'); // warm: sign-in, policy
    queries = 0;
    const summary = await p.call('henry', 'GET', '/v1/notifications/summary');
    expect(summary.status).toBe(200);
    costs.push(queries);
    if (pending > 101)
      // Not all read: what was counted is a lower bound, shown as "n+".
      expect(summary.body.pendingApprovalsMore).toBe(true);
  }
  // One Query per inbox partition, at 400 pending as at 50.
  const partitions = inboxSources(p.deps, { userId: 'henry', name: 'Henry Park' }).length;
  expect(costs).toEqual([partitions, partitions]);
});

test("an owner's pending requests count in the bell whatever another domain's backlog", async () => {
  // henry owns marketing and is a backup approver of sales: 400 older sales requests he may not
  // decide yet would fill one merged page of his inbox's partitions and hide his 3 marketing ones.
  const doc = documentClient(p.client);
  for (let i = 0; i < 400; i++) {
    const at = new Date(Date.UTC(2026, 9, 1) + i * 1000).toISOString();
    const r = pendingRequest('sales', `req_s${String(i).padStart(25, '0')}`, at);
    await doc.send(new PutCommand({ TableName: 'meshgate', Item: requestItem(r) }));
  }
  for (let i = 0; i < 3; i++) {
    const at = new Date(Date.UTC(2026, 9, 2) + i * 1000).toISOString();
    const r = pendingRequest('marketing', `req_m${String(i).padStart(25, '0')}`, at, {
      productId: 'marketing/web_traffic',
    });
    await doc.send(new PutCommand({ TableName: 'meshgate', Item: requestItem(r) }));
  }
  const bell = await countPendingApprovals(p.deps, { userId: 'henry', name: 'Henry Park' });
  expect(bell.count).toBeGreaterThanOrEqual(3);
});
