import { NOTIFIER_DETAIL_TYPES } from '../../functions/ports/events';
import { sweepWaiting } from '../../functions/usecases/waiting';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { movingClock, type MovingClock } from '../support/clock';

// The notification centre as it runs on AWS: nothing notifies inside the API call
// (notifyInProcess off); the bus's events that the notifier's rule matches (NOTIFIER_DETAIL_TYPES,
// the rule of infra/stacks/api-stack.ts) reach the notifier one by one, as the Lambda receives
// them. No sweep runs, so whatever people are told here they are told right after the commit.

const HOUR = 3_600_000;
let clock: MovingClock;
let p: TestPortal;
let delivered: Promise<unknown>[];
beforeEach(async () => {
  clock = movingClock();
  p = await startPortal({ clock, notifyInProcess: false });
  delivered = [];
  p.events.subscribe((e) => {
    if ((NOTIFIER_DETAIL_TYPES as readonly string[]).includes(e.detailType))
      delivered.push(p.notify(e.detail));
  });
});
afterEach(async () => {
  await Promise.all(delivered);
  await p.close();
});

async function kinds(user: string, requestId: string): Promise<string[]> {
  await Promise.all(delivered);
  const res = await p.call(user, 'GET', '/v1/notifications');
  expect(res.status).toBe(200);
  return (res.body.items as Array<{ kind: string; requestId?: string }>)
    .filter((n) => n.requestId === requestId)
    .map((n) => n.kind);
}

test("the next stage's approvers are told as soon as the stage before is complete", async () => {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/leads'));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  expect(await kinds('bob', id)).toEqual(['APPROVAL_NEEDED']);
  expect(await kinds('carol', id)).toEqual([]);

  const approved = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
  expect(approved.status).toBe(200);
  // The owner's approval changed no status; the compliance stage is told all the same.
  expect(approved.body.status).toBe('PENDING');
  expect(await kinds('carol', id)).toEqual(['APPROVAL_NEEDED']);
  expect(await kinds('bob', id)).toEqual(['APPROVAL_NEEDED']);
});

test('an overdue stage reaches the backup approver when the sweep escalates it', async () => {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  clock.t = new Date(clock.t.getTime() + 49 * HOUR);
  p.resetTokens();
  // Only the escalation, not the notification catch-up of the full sweep.
  expect(await sweepWaiting(p.deps)).toEqual({ escalated: [id], timedOut: [], more: false });
  expect(await kinds('henry', id)).toEqual(['APPROVAL_ESCALATED']);
});
