import type { AuditEvent, Grant } from '../../functions/domain/model';
import { expireDue } from '../../functions/usecases/fulfilment';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { movingClock, type MovingClock } from '../support/clock';

// The expiry sweeper (expireDue) against the real embedded portal, with a clock the test moves.

const SALES_ACCOUNT = '111111111111';
const HOUR = 3_600_000;

/**
 * A clock the tests move by hand. It starts at the real current second, not at a fixed date:
 * dev-login tokens are stamped with this clock but checked against the real one, so a fixed date
 * would sign everyone out once it is 12 hours in the past.
 */
let clock: MovingClock;
let p: TestPortal;
// A fresh portal per test: the sweeper looks at every grant, so tests must not see each other's.
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
};

type Detail = { status: string; history: AuditEvent[]; grantId?: string } & Record<string, unknown>;

async function history(id: string, as = 'alice'): Promise<Detail> {
  const res = await p.call(as, 'GET', `/v1/requests/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

const typesOf = (r: Detail) => r.history.map((e) => e.type);
const countOf = (r: Detail, type: string) => r.history.filter((e) => e.type === type).length;
/** The role alice asks for access for (each test has a portal of its own). */
const PRINCIPAL = 'arn:aws:iam::555555555555:role/sweeper';
/** The permissions that role holds in the sales account. */
const ledger = async () =>
  (await p.ledger.list(SALES_ACCOUNT)).filter((e) => e.principal === PRINCIPAL);

/** alice asks for two hours of sales/orders, bob approves, the grant is ACTIVE. */
async function twoHourGrant(): Promise<{ id: string; grantId: string; grant: Grant }> {
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/orders', { principal: PRINCIPAL, duration: { value: 2, unit: 'hours' } }),
  );
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await p.queue.onIdle();
  const r = await history(id);
  expect(r.status).toBe('ACTIVE');
  const grant = (await p.store.getGrant(r.grantId!))!;
  expect(grant).toMatchObject({
    status: 'ACTIVE',
    grantedAt: clock.t.toISOString(),
    expiresAt: new Date(clock.t.getTime() + 2 * HOUR).toISOString(),
  });
  expect(await ledger()).toHaveLength(1);
  return { id, grantId: grant.id, grant };
}

test('a grant past expiry is revoked within one sweep', async () => {
  const { id, grantId, grant } = await twoHourGrant();
  advance(2 * HOUR + 1000);

  expect(await expireDue(p.deps)).toEqual([grantId]);
  await p.queue.onIdle();

  const r = await history(id);
  expect(r.status).toBe('EXPIRED');
  expect(typesOf(r).slice(-2)).toEqual(['GRANT_EXPIRING', 'GRANT_EXPIRED']);
  expect(r.history.at(-2)).toMatchObject({
    actor: 'meshgate',
    fromStatus: 'ACTIVE',
    toStatus: 'REVOKING',
    detail: { grantId, reason: `expired at ${grant.expiresAt}` },
  });
  expect(r.history.at(-1)).toMatchObject({
    actor: 'meshgate',
    fromStatus: 'REVOKING',
    toStatus: 'EXPIRED',
    detail: { grantId },
  });
  expect(countOf(r, 'REVOKE_REQUESTED')).toBe(0);
  expect(countOf(r, 'GRANT_REVOKED')).toBe(0);
  expect(await ledger()).toHaveLength(0);

  expect(await p.store.getGrant(grantId)).toMatchObject({
    status: 'EXPIRED',
    ending: 'EXPIRED',
    endedAt: clock.t.toISOString(),
    endReason: `expired at ${grant.expiresAt}`,
  });
  const listed = await p.call('alice', 'GET', '/v1/grants');
  expect(listed.body.items.find((g: Grant) => g.id === grantId).status).toBe('EXPIRED');

  // The next sweep has nothing left to do.
  advance(60_000);
  expect(await expireDue(p.deps)).toEqual([]);
  await p.queue.onIdle();
  expect(await history(id)).toEqual(r);
});

test('a grant not yet expired is untouched', async () => {
  const { id, grantId } = await twoHourGrant();
  const before = await history(id);
  advance(HOUR + 59 * 60_000);

  expect(await expireDue(p.deps)).toEqual([]);
  await p.queue.onIdle();

  expect(await history(id)).toEqual(before);
  expect((await p.store.getGrant(grantId))!.status).toBe('ACTIVE');
  expect(await ledger()).toHaveLength(1);
});

test('a grant is due at the very instant it expires', async () => {
  const { id, grantId } = await twoHourGrant();
  advance(2 * HOUR - 1);
  expect(await expireDue(p.deps)).toEqual([]);
  advance(1);
  expect(await expireDue(p.deps)).toEqual([grantId]);
  await p.queue.onIdle();
  expect((await history(id)).status).toBe('EXPIRED');
});

describe('expiry sweep and a manual revoke racing: one ending only', () => {
  type Winner = 'sweep' | 'revoke';

  /** Exactly one ending is recorded, the winner's, and the permission is gone. */
  async function expectOneEnding(id: string, grantId: string, winner: Winner) {
    const r = await history(id);
    expect(r.status).toBe(winner === 'sweep' ? 'EXPIRED' : 'REVOKED');
    const starts = r.history.filter(
      (e) => e.type === 'GRANT_EXPIRING' || e.type === 'REVOKE_REQUESTED',
    );
    const ends = r.history.filter((e) => e.type === 'GRANT_EXPIRED' || e.type === 'GRANT_REVOKED');
    expect(starts.map((e) => e.type)).toEqual([
      winner === 'sweep' ? 'GRANT_EXPIRING' : 'REVOKE_REQUESTED',
    ]);
    expect(ends.map((e) => e.type)).toEqual([
      winner === 'sweep' ? 'GRANT_EXPIRED' : 'GRANT_REVOKED',
    ]);
    expect(r.history.filter((e) => e.toStatus === 'REVOKING')).toHaveLength(1);
    expect(starts[0]!.actor).toBe(winner === 'sweep' ? 'meshgate' : 'bob');
    expect(await p.store.getGrant(grantId)).toMatchObject({ status: r.status, ending: r.status });
    expect(await ledger()).toHaveLength(0);
  }

  test('run at once, unforced', async () => {
    const { id, grantId } = await twoHourGrant();
    advance(2 * HOUR + 1000);
    const revoke = jest.spyOn(p.ledger, 'revoke');

    const [swept, reply] = await Promise.all([
      expireDue(p.deps),
      p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' }),
    ]);
    await p.queue.onIdle();

    const winner: Winner = reply.status === 202 ? 'revoke' : 'sweep';
    if (winner === 'revoke') {
      expect(swept).toEqual([]);
    } else {
      expect(swept).toEqual([grantId]);
      expect(reply.status).toBe(409);
      expect(['STALE_REQUEST', 'NOT_ACTIVE']).toContain(reply.body.error.code);
    }
    expect(revoke).toHaveBeenCalledTimes(1);
    await expectOneEnding(id, grantId, winner);
  });

  test.each<Winner>(['sweep', 'revoke'])(
    'both read the grant ACTIVE and race at the store; %s commits first and wins',
    async (winner) => {
      const { id, grantId } = await twoHourGrant();
      advance(2 * HOUR + 1000);
      const revoke = jest.spyOn(p.ledger, 'revoke');

      // Hold both ACTIVE -> REVOKING writes until both were prepared from the same read.
      const original = p.store.updateRequest.bind(p.store);
      const held = new Map<Winner, () => void>();
      let bothHeld!: () => void;
      const bothIn = new Promise<void>((resolve) => (bothHeld = resolve));
      jest
        .spyOn(p.store, 'updateRequest')
        .mockImplementation(async (next, expected, audit, grant) => {
          if (next.id === id && expected.status === 'ACTIVE') {
            await new Promise<void>((go) => {
              held.set(grant?.ending === 'EXPIRED' ? 'sweep' : 'revoke', go);
              if (held.size === 2) bothHeld();
            });
          }
          return original(next, expected, audit, grant);
        });

      const sweep = expireDue(p.deps);
      const manual = p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' });
      await bothIn;
      held.get(winner)!();
      await (winner === 'sweep' ? sweep : manual);
      held.get(winner === 'sweep' ? 'revoke' : 'sweep')!();
      const [swept, reply] = await Promise.all([sweep, manual]);
      await p.queue.onIdle();

      if (winner === 'sweep') {
        expect(swept).toEqual([grantId]);
        expect(reply.status).toBe(409);
        expect(reply.body.error.code).toBe('STALE_REQUEST');
      } else {
        expect(reply.status).toBe(202);
        expect(swept).toEqual([]);
      }
      expect(revoke).toHaveBeenCalledTimes(1);
      await expectOneEnding(id, grantId, winner);
    },
  );
});
