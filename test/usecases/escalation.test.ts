import type { AuditEvent } from '../../functions/domain/model';
import { sweepWaiting } from '../../functions/usecases/waiting';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { movingClock, type MovingClock } from '../support/clock';

// Escalation of overdue stages and timeouts of pending requests, against the embedded portal with
// the policy files as shipped (stage-escalate-after-hours 48, pending-timeout-days 14) and a clock
// the test moves. henry is a backup approver of sales in the demo mesh.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

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

const advance = (ms: number) => {
  clock.t = new Date(clock.t.getTime() + ms);
  p.resetTokens();
};

async function submit(productId = 'sales/orders'): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId));
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('PENDING');
  return res.body.id as string;
}

const history = async (id: string): Promise<AuditEvent[]> =>
  (await p.call('alice', 'GET', `/v1/requests/${id}`)).body.history;

test('a stage waiting 49 hours is escalated once, and only then may the backup approver decide it', async () => {
  const id = await submit();
  const approve = () => p.call('henry', 'POST', `/v1/requests/${id}/approve`, { comment: 'cover' });

  // Before escalation henry, a backup approver, is not an approver of the request.
  advance(47 * HOUR);
  expect(await sweepWaiting(p.deps)).toEqual({ escalated: [], timedOut: [], more: false });
  const early = await approve();
  expect(early.status).toBe(403);
  expect(early.body.error.code).toBe('NOT_AN_APPROVER');
  const inboxBefore = await p.call('henry', 'GET', '/v1/approvals');
  expect(JSON.stringify(inboxBefore.body)).not.toContain(id);

  advance(2 * HOUR); // 49 hours
  expect(await sweepWaiting(p.deps)).toEqual({ escalated: [id], timedOut: [], more: false });
  // A second sweep finds nothing more to do.
  expect(await sweepWaiting(p.deps)).toEqual({ escalated: [], timedOut: [], more: false });
  const escalated = (await history(id)).filter((e) => e.type === 'STAGE_ESCALATED');
  expect(escalated).toHaveLength(1);
  expect(escalated[0]).toMatchObject({
    actor: 'meshgate',
    detail: { stage: 'owner', waitedHours: 49, notify: ['henry'] },
  });
  const stored = (await p.store.getRequest(id))!;
  expect(stored.status).toBe('PENDING');
  expect(stored.stages[0]!.escalatedAt).toBe(clock.t.toISOString());

  const inboxAfter = await p.call('henry', 'GET', '/v1/approvals');
  expect(JSON.stringify(inboxAfter.body)).toContain(id);
  const late = await approve();
  expect(late.status).toBe(200);
  expect(late.body.status).toBe('APPROVED');
  expect(late.body.stages[0].approvals[0]).toMatchObject({
    by: 'henry',
    rule: { line: 'p, role:backup, *, *, approve:owner:escalated, allow' },
  });
});

test('the requester is never told to decide their own escalated request, nor may they', async () => {
  // henry asks for sales data himself: his request escalates to the other backups (none).
  const res = await p.call('henry', 'POST', '/v1/requests', newRequest('sales/orders'));
  const id = res.body.id as string;
  advance(49 * HOUR);
  expect((await sweepWaiting(p.deps)).escalated).toEqual([id]);
  const events = (await p.call('henry', 'GET', `/v1/requests/${id}`)).body.history as AuditEvent[];
  expect(events.find((e) => e.type === 'STAGE_ESCALATED')!.detail.notify).toEqual([]);
  const own = await p.call('henry', 'POST', `/v1/requests/${id}/approve`, { comment: 'me' });
  expect(own.status).toBe(403);
});

test('a request pending 15 days times out: CANCELLED with the reason, its place freed', async () => {
  const id = await submit();
  expect(await p.store.countOpenRequests('alice')).toBe(1);
  advance(13 * DAY);
  const first = await sweepWaiting(p.deps); // the owner stage escalated long ago, no timeout yet
  expect(first.timedOut).toEqual([]);
  expect((await p.store.getRequest(id))!.status).toBe('PENDING');

  advance(2 * DAY); // 15 days
  expect(await sweepWaiting(p.deps)).toEqual({ escalated: [], timedOut: [id], more: false });
  const r = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body;
  expect(r.status).toBe('CANCELLED');
  expect(r.cancellation).toMatchObject({ by: 'meshgate', reason: 'timed out after 14 days' });
  expect(r.history.filter((e: AuditEvent) => e.type === 'REQUEST_TIMED_OUT')).toEqual([
    expect.objectContaining({
      fromStatus: 'PENDING',
      toStatus: 'CANCELLED',
      detail: expect.objectContaining({ reason: 'timed out after 14 days' }),
    }),
  ]);
  expect(await p.store.countOpenRequests('alice')).toBe(0);
  // Nobody decides it afterwards.
  const approve = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'late' });
  expect(approve.status).toBe(409);
  expect(await sweepWaiting(p.deps)).toEqual({ escalated: [], timedOut: [], more: false });
});

test('an approval racing the timeout: exactly one wins', async () => {
  const approvedFirst = await submit();
  const sweptFirst = await submit();
  advance(15 * DAY);
  const store = p.deps.store;
  const read = store.getRequest.bind(store);
  // The sweep reads approvedFirst, then bob approves it before the sweep writes.
  let raced = false;
  jest.spyOn(store, 'getRequest').mockImplementation(async (id: string) => {
    const r = await read(id);
    if (id === approvedFirst && !raced) {
      raced = true;
      const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
      expect(res.status).toBe(200);
    }
    return r;
  });
  const swept = await sweepWaiting(p.deps);
  jest.restoreAllMocks();
  expect(swept.timedOut).toEqual([sweptFirst]);
  expect((await p.store.getRequest(approvedFirst))!.status).not.toBe('CANCELLED');
  const h1 = (await history(approvedFirst)).map((e) => e.type);
  expect(h1).toContain('REQUEST_APPROVED');
  expect(h1).not.toContain('REQUEST_TIMED_OUT');

  // The other way round: the sweep timed it out first, the approval loses.
  const late = await p.call('bob', 'POST', `/v1/requests/${sweptFirst}/approve`, { comment: 'ok' });
  expect(late.status).toBe(409);
  const h2 = (await history(sweptFirst)).map((e) => e.type);
  expect(h2).toContain('REQUEST_TIMED_OUT');
  expect(h2).not.toContain('REQUEST_APPROVED');
});

test('one sweep handles a page of due requests, the next run the rest', async () => {
  const ids = [await submit(), await submit(), await submit()];
  advance(49 * HOUR);
  const first = await sweepWaiting(p.deps, { limit: 2 });
  expect(first.escalated).toHaveLength(2);
  expect(first.more).toBe(true);
  const second = await sweepWaiting(p.deps, { limit: 2 });
  expect([...first.escalated, ...second.escalated].sort()).toEqual([...ids].sort());
  expect(second.more).toBe(false);
});

test('the second stage gets its own deadline when it starts', async () => {
  // hr/employees is restricted: owner, then compliance.
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest('hr/employees'));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  advance(10 * HOUR);
  expect(
    (await p.call('grace', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  const r = (await p.store.getRequest(id))!;
  expect(r.stages[1]!.escalatesAt).toBe(new Date(clock.t.getTime() + 48 * HOUR).toISOString());
  advance(47 * HOUR);
  expect((await sweepWaiting(p.deps)).escalated).toEqual([]);
  advance(HOUR);
  expect((await sweepWaiting(p.deps)).escalated).toEqual([id]);
  const events = (await history(id)).filter((e) => e.type === 'STAGE_ESCALATED');
  expect(events[0]!.detail).toMatchObject({ stage: 'compliance', waitedHours: 48 });
});

test('an admin names a backup approver through the memberships API; the next escalation in that domain asks them', async () => {
  const added = await p.call('erin', 'POST', '/v1/memberships', {
    user: 'sam',
    domain: 'finance',
    role: 'backup',
  });
  expect(added.status).toBe(201);
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest('finance/invoices'));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  expect(
    (await p.call('sam', 'POST', `/v1/requests/${id}/deny`, { reason: 'not yet' })).status,
  ).toBe(403);
  advance(49 * HOUR);
  expect((await sweepWaiting(p.deps)).escalated).toEqual([id]);
  const escalated = (await history(id)).find((e) => e.type === 'STAGE_ESCALATED')!;
  expect(escalated.detail.notify).toEqual(['sam']);
  const denied = await p.call('sam', 'POST', `/v1/requests/${id}/deny`, { reason: 'no' });
  expect(denied.status).toBe(200);
  expect(denied.body.status).toBe('DENIED');
});
