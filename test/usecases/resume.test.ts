import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orThrow, startGranting } from '../../functions/domain/lifecycle';
import type { RequestStatus } from '../../functions/domain/model';
import { commitChange, SYSTEM } from '../../functions/usecases/deps';
import { expireDue, resumeInFlight } from '../../functions/usecases/fulfilment';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { jobSubject } from '../../functions/ports/queue';
import { movingClock, type MovingClock } from '../support/clock';

// Jobs lost with a local process (its queue lives in memory) are resumed when the next one starts;
// the sweeper hands a lost job back after a threshold that is a setting.

/** A clock the tests move by hand, from the real current second (dev-login tokens check it). */
let dirs: string[] = [];
afterEach(() => {
  jest.restoreAllMocks();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'meshgate-resume-'));
  dirs.push(d);
  return d;
};

/** Calls `fn` with every job the portal's queue is sent dropped, as a killed process drops them. */
async function jobsLost<T>(p: TestPortal, fn: () => Promise<T>): Promise<T> {
  const send = jest.spyOn(p.queue, 'send').mockResolvedValue(undefined);
  try {
    return await fn();
  } finally {
    send.mockRestore();
  }
}

async function create(p: TestPortal, productId = 'sales/orders'): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function approve(p: TestPortal, id: string) {
  const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
  expect(res.status).toBe(200);
}

const statusOf = async (p: TestPortal, id: string) => (await p.store.getRequest(id))!.status;

/** Polls until every request has its status, or `ms` pass; answers the statuses seen last. */
async function settle(p: TestPortal, want: Record<string, RequestStatus>, ms: number) {
  const until = Date.now() + ms;
  for (;;) {
    const seen: Record<string, RequestStatus> = {};
    for (const id of Object.keys(want)) seen[id] = await statusOf(p, id);
    if (Object.keys(want).every((id) => seen[id] === want[id]) || Date.now() > until) return seen;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a portal restarted on the same data folder resumes the grants and revokes whose jobs were lost, within a second', async () => {
  const clock = movingClock();
  const dir = dataDir();
  const first = await startPortal({ clock, dataDir: dir });
  // Granted as usual, then revoked while the jobs are lost: REVOKING, nothing queued.
  const revoking = await create(first);
  let approved = '',
    granting = '',
    autoApproved = '';
  try {
    await approve(first, revoking);
    await first.queue.onIdle();
    const grantId = (await first.store.getRequest(revoking))!.grantId!;
    await jobsLost(first, async () => {
      const res = await first.call('alice', 'POST', `/v1/grants/${grantId}/revoke`, {
        reason: 'done with it',
      });
      expect(res.status).toBe(202);
      // Approved (by bob, or by the domain's policy at creation), then killed before its job ran.
      approved = await create(first);
      await approve(first, approved);
      autoApproved = await create(first, 'finance/fx_rates');
      // A worker had moved this one to GRANTING when the process was killed.
      granting = await create(first);
      await approve(first, granting);
      const r = (await first.store.getRequest(granting))!;
      await commitChange(
        first.deps,
        orThrow(startGranting(r, { actor: SYSTEM, now: clock.now() })),
      );
    });
    expect(await statusOf(first, approved)).toBe('APPROVED');
    expect(await statusOf(first, autoApproved)).toBe('APPROVED');
    expect(await statusOf(first, granting)).toBe('GRANTING');
    expect(await statusOf(first, revoking)).toBe('REVOKING');
  } finally {
    await first.close();
  }

  // The same moment: none of them has waited long enough for the sweeper.
  const second = await startPortal({ clock, dataDir: dir });
  try {
    const want: Record<string, RequestStatus> = {
      [approved]: 'ACTIVE',
      [autoApproved]: 'ACTIVE',
      [granting]: 'ACTIVE',
      [revoking]: 'REVOKED',
    };
    expect(await settle(second, want, 1000)).toEqual(want);
    const history = (await second.call('alice', 'GET', `/v1/requests/${granting}`)).body.history;
    expect(history.filter((e: { type: string }) => e.type === 'GRANT_ACTIVE')).toHaveLength(1);
  } finally {
    await second.close();
  }
});

test('resuming reads the requests in flight a page at a time and sends each one job', async () => {
  const clock = movingClock();
  const p = await startPortal({ clock });
  try {
    const ids = await jobsLost(p, async () => {
      const out: string[] = [];
      // More than one page (100) of auto-approved requests, all in flight.
      for (let i = 0; i < 130; i++) out.push(await create(p, 'finance/fx_rates'));
      return out;
    });
    const inFlight = jest.spyOn(p.store, 'listInFlightSince');
    const sent: string[] = [];
    const send = jest.spyOn(p.queue, 'send').mockImplementation(async (job) => {
      sent.push(`${job.kind} ${jobSubject(job)}`);
    });
    expect(await resumeInFlight(p.deps)).toEqual({ grants: 130, revokes: 0 });
    send.mockRestore();
    expect(sent.sort()).toEqual(ids.map((id) => `grant ${id}`).sort());
    expect(inFlight).toHaveBeenCalledTimes(2);
    expect(inFlight.mock.calls.map(([, page]) => page.limit)).toEqual([100, 100]);
  } finally {
    await p.close();
  }
});

describe("the sweeper's stall threshold", () => {
  let clock: MovingClock;
  let p: TestPortal;
  afterEach(() => p.close());
  const advance = (ms: number) => (clock.t = new Date(clock.t.getTime() + ms));

  async function lostApproval(): Promise<string> {
    const id = await create(p);
    await jobsLost(p, () => approve(p, id));
    await p.queue.onIdle();
    expect(await statusOf(p, id)).toBe('APPROVED');
    return id;
  }

  test('by default, a request in flight is handed back after 2 minutes untouched, not before', async () => {
    clock = movingClock();
    p = await startPortal({ clock });
    const id = await lostApproval();
    advance(119_000);
    await expireDue(p.deps);
    await p.queue.onIdle();
    expect(await statusOf(p, id)).toBe('APPROVED');
    advance(2_000);
    await expireDue(p.deps);
    await p.queue.onIdle();
    expect(await statusOf(p, id)).toBe('ACTIVE');
  });

  test('MESHGATE_STALLED_AFTER_SECONDS sets it for the scheduled sweep', async () => {
    clock = movingClock();
    p = await startPortal({ clock, stalledAfterSeconds: 30 });
    const id = await lostApproval();
    advance(29_000);
    await p.schedules.sweep();
    await p.queue.onIdle();
    expect(await statusOf(p, id)).toBe('APPROVED');
    advance(2_000);
    await p.schedules.sweep();
    await p.queue.onIdle();
    expect(await statusOf(p, id)).toBe('ACTIVE');
  });
});
