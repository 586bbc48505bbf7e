import type { AuditEvent } from '../../functions/domain/model';
import type { Clock } from '../../functions/ports/runtime';
import { startPortal, type TestPortal } from '../support/portal';

// One user cannot flood the shared trail: repeated refusals are counted, not each recorded, and
// calls past the per-user rate limit are refused with 429 before they do anything.
let now = new Date('2026-12-01T10:00:00.000Z');
const clock: Clock = { now: () => new Date(now) };
let p: TestPortal;
beforeAll(async () => {
  p = await startPortal({ clock });
});
afterAll(() => p.close());

async function trail(): Promise<AuditEvent[]> {
  return (
    await p.store.queryAudit({
      from: '2000-01-01T00:00:00.000Z',
      to: '2100-01-01T00:00:00.000Z',
      domain: '*',
      limit: 1000,
    })
  ).items;
}
const refusalsOf = async (user: string) =>
  (await trail())
    .filter((e) => e.actor === user && e.type.startsWith('ACCESS_REFUSED'))
    .sort((a, b) => a.seq! - b.seq!); // in the order of the chain

test('200 refused calls by one user leave two events that count all 200', async () => {
  for (let i = 0; i < 200; i++) {
    now = new Date(now.getTime() + 50); // 200 calls in 10 s, one window
    expect((await p.call('alice', 'GET', '/v1/audit')).status).toBe(403);
  }
  // The first is recorded at once, with its window; the others are counted.
  const first = await refusalsOf('alice');
  expect(first.map((e) => e.type)).toEqual(['ACCESS_REFUSED']);
  expect(first[0]!.detail).toMatchObject({
    method: 'GET',
    path: '/v1/audit',
    route: '/v1/audit',
    count: 1,
    window: { from: '2026-12-01T10:00:00.050Z', to: '2026-12-01T10:01:00.050Z' },
  });
  // The next refusal after the window writes the count of the rest, with the window.
  now = new Date('2026-12-01T10:02:00.000Z');
  expect((await p.call('alice', 'GET', '/v1/audit')).status).toBe(403);
  const events = await refusalsOf('alice');
  expect(events.map((e) => [e.type, e.detail.count])).toEqual([
    ['ACCESS_REFUSED', 1],
    ['ACCESS_REFUSED_REPEATED', 199],
    ['ACCESS_REFUSED', 1],
  ]);
  expect(events[1]!.detail.window).toEqual(first[0]!.detail.window);
  const counted = events.slice(0, 2).reduce((n, e) => n + (e.detail.count as number), 0);
  expect(counted).toBe(200);
  // Another action is another count: refused once, recorded at once.
  expect((await p.call('alice', 'GET', '/v1/audit/verify')).status).toBe(403);
  expect((await refusalsOf('alice')).map((e) => e.type)).toHaveLength(4);
});

test('past the per-user rate limit: 429 with Retry-After, and nothing is done', async () => {
  now = new Date('2026-12-01T11:00:30.000Z');
  for (let i = 0; i < 600; i++) expect((await p.call('sam', 'GET', '/v1/me')).status).toBe(200);
  const before = (await trail()).length;
  const requests = (
    await p.store.listRequests([{ requester: 'sam' }], { limit: 500 }).then((x) => x.items)
  ).length;
  const res = await p.call('sam', 'POST', '/v1/requests', {
    productId: 'sales/orders',
    principal: 'arn:aws:iam::555555555555:role/flood',
    scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
    duration: { value: 7, unit: 'days' },
    purpose: 'flood',
  });
  expect(res.status).toBe(429);
  expect(res.body.error).toMatchObject({
    code: 'RATE_LIMITED',
    details: { retryAfterSeconds: 30, maxCallsPerMinute: 600 },
  });
  const raw = await p.app.request('/v1/me', {
    headers: { authorization: `Bearer ${await p.token('sam')}` },
  });
  expect(raw.status).toBe(429);
  expect(raw.headers.get('retry-after')).toBe('30');
  expect(
    (await p.store.listRequests([{ requester: 'sam' }], { limit: 500 }).then((x) => x.items))
      .length,
  ).toBe(requests);
  expect((await trail()).length).toBe(before);
  // Others are not held back; and the next minute, sam is served again.
  expect((await p.call('grace', 'GET', '/v1/me')).status).toBe(200);
  now = new Date('2026-12-01T11:01:00.000Z');
  expect((await p.call('sam', 'GET', '/v1/me')).status).toBe(200);
}, 120_000); // 600 calls: minutes on a loaded machine

test('a window no later refusal follows reaches the trail with the sweep, once', async () => {
  now = new Date('2026-12-01T12:00:00.000Z');
  for (let i = 0; i < 5; i++) {
    now = new Date(now.getTime() + 1000); // 5 refusals in one window, none after it
    expect((await p.call('erin', 'GET', '/v1/audit')).status).toBe(403);
  }
  const first = await refusalsOf('erin');
  expect(first.map((e) => e.type)).toEqual(['ACCESS_REFUSED']);
  const window = first[0]!.detail.window;
  expect(window).toEqual({ from: '2026-12-01T12:00:01.000Z', to: '2026-12-01T12:01:01.000Z' });
  // While the window is open, the sweep leaves its count alone.
  await p.schedules.sweep();
  expect(await refusalsOf('erin')).toHaveLength(1);
  // Once it has ended, the sweep writes the count of the rest, with the window.
  now = new Date('2026-12-01T12:02:00.000Z');
  await p.schedules.sweep();
  const swept = await refusalsOf('erin');
  expect(swept.map((e) => [e.type, e.detail.count])).toEqual([
    ['ACCESS_REFUSED', 1],
    ['ACCESS_REFUSED_REPEATED', 4],
  ]);
  expect(swept[1]!.detail).toEqual({ method: 'GET', route: '/v1/audit', count: 4, window });
  // A second sweep has nothing to write.
  await p.schedules.sweep();
  expect(await refusalsOf('erin')).toHaveLength(2);
  // The next refusal opens a new window without writing the summary again.
  now = new Date('2026-12-01T12:03:00.000Z');
  expect((await p.call('erin', 'GET', '/v1/audit')).status).toBe(403);
  const events = await refusalsOf('erin');
  expect(events.map((e) => [e.type, e.detail.count])).toEqual([
    ['ACCESS_REFUSED', 1],
    ['ACCESS_REFUSED_REPEATED', 4],
    ['ACCESS_REFUSED', 1],
  ]);
  expect(events.reduce((n, e) => n + (e.detail.count as number), 0)).toBe(6);
});

test('a refusal counted while the sweep sums up its window is not lost', async () => {
  now = new Date('2026-12-01T13:00:00.000Z');
  for (let i = 0; i < 3; i++) {
    now = new Date(now.getTime() + 1000);
    expect((await p.call('henry', 'GET', '/v1/audit')).status).toBe(403);
  }
  const window = (await refusalsOf('henry'))[0]!.detail.window as { from: string; to: string };
  now = new Date('2026-12-01T13:02:00.000Z');
  // Between the sweep's read of the window and its write, another instance (whose clock is
  // behind) counts one more refusal in it: the sweep's write fails and leaves the window listed.
  const store = p.store.auditLog;
  const write = store.writeAudited.bind(store);
  const spy = jest.spyOn(store, 'writeAudited').mockImplementationOnce(async (...args) => {
    const late = '2026-12-01T13:00:30.000Z';
    const none = () => {
      throw new Error('a refusal only counted writes no event');
    };
    const counted = await p.store.countRefusal(
      'henry',
      'GET /v1/audit',
      { now: late, until: late },
      {} as AuditEvent, // only counted: written only when it opens a window
      none,
    );
    expect(counted).toBe(false);
    return write(...args);
  });
  expect(await p.schedules.sweep()).toMatchObject({ refusalWindows: 0 });
  spy.mockRestore();
  expect(await refusalsOf('henry')).toHaveLength(1);
  // The next sweep writes all of them.
  expect(await p.schedules.sweep()).toMatchObject({ refusalWindows: 1 });
  const events = await refusalsOf('henry');
  expect(events.map((e) => [e.type, e.detail.count, e.detail.window])).toEqual([
    ['ACCESS_REFUSED', 1, window],
    ['ACCESS_REFUSED_REPEATED', 3, window],
  ]);
});
