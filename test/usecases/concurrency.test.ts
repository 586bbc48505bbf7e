import type { AccessRequest, AuditEvent, Grant } from '../../functions/domain/model';
import type { Store } from '../../functions/ports/store';
import type { WorkerDeps } from '../../functions/usecases/deps';
import { runJob } from '../../functions/usecases/fulfilment';
import {
  approveInStore,
  newRequest,
  policyWithLimits,
  startPortal,
  type TestPortal,
} from '../support/portal';
import { lateWorker } from '../support/late-worker';
import { countingLakeFormation } from '../support/offline-aws';

const SALES_ACCOUNT = '111111111111';

let p: TestPortal;
beforeAll(async () => {
  // Alice holds far more pending requests here than the policy's 50.
  p = await startPortal({ policyDir: policyWithLimits({ 'max-open-requests': 1000 }) });
});
afterAll(() => p.close());

type Reply = Awaited<ReturnType<TestPortal['call']>>;

async function createPending(productId = 'sales/orders'): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId));
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('PENDING');
  return res.body.id as string;
}

async function history(
  id: string,
  as = 'alice',
): Promise<{ status: string; history: AuditEvent[] } & Record<string, unknown>> {
  const res = await p.call(as, 'GET', `/v1/requests/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

const countOf = (events: AuditEvent[], type: string) =>
  events.filter((e) => e.type === type).length;

const ledgerFor = async (requestId: string, account = SALES_ACCOUNT) =>
  (await p.ledger.list(account)).filter((e) => e.grantId === requestId);

const grantsFor = async (requestId: string, domain = 'sales'): Promise<Grant[]> =>
  (await p.store.listGrantsByDomain(domain)).filter((g) => g.requestId === requestId);

function expectOnlyConflicts(replies: Reply[]) {
  for (const r of replies) {
    expect(r.status).toBe(409);
    expect(['STALE_REQUEST', 'NOT_PENDING', 'ALREADY_APPROVED']).toContain(r.body.error.code);
  }
}

describe('(a) many approvers at once', () => {
  test('25 simultaneous approvals by bob and sam: one 200, the rest 409, one grant', async () => {
    const id = await createPending();
    const replies = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        p.call(i % 2 === 0 ? 'bob' : 'sam', 'POST', `/v1/requests/${id}/approve`, {
          comment: `approval ${i}`,
        }),
      ),
    );
    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.status).toBe('APPROVED');
    expectOnlyConflicts(replies.filter((r) => r.status !== 200));

    await p.queue.onIdle();
    const r = await history(id);
    expect(r.status).toBe('ACTIVE');
    expect(countOf(r.history, 'APPROVAL_RECORDED')).toBe(1);
    expect(countOf(r.history, 'REQUEST_APPROVED')).toBe(1);
    expect(countOf(r.history, 'FULFILMENT_STARTED')).toBe(1);
    expect(countOf(r.history, 'GRANT_ACTIVE')).toBe(1);
    expect(r.history.map((e) => e.type)).toEqual([
      'REQUEST_CREATED',
      'APPROVAL_RECORDED',
      'REQUEST_APPROVED',
      'FULFILMENT_STARTED',
      'GRANT_ACTIVE',
    ]);

    // The winner is the one recorded.
    const winner = ok[0]!.body.stages[0].approvals[0].by;
    expect(r.history.find((e) => e.type === 'APPROVAL_RECORDED')!.actor).toBe(winner);
    expect((r.stages as Array<{ approvals: unknown[] }>)[0]!.approvals).toHaveLength(1);

    const grants = await grantsFor(id);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ status: 'ACTIVE', requester: 'alice' });
    expect(r.grantId).toBe(grants[0]!.id);
    const mine = await p.call('alice', 'GET', '/v1/grants');
    expect(mine.body.items.filter((g: Grant) => g.requestId === id)).toHaveLength(1);
    expect(await ledgerFor(id)).toHaveLength(1);
  });

  test('a two-stage request: 10 simultaneous owner approvals record one, then compliance approves', async () => {
    const id = await createPending('hr/employees');
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        p.call('grace', 'POST', `/v1/requests/${id}/approve`, { comment: 'owner ok' }),
      ),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    // An approval that reads the request after the winner's has committed finds it at the
    // compliance stage, which grace may not decide: refused as not its approver.
    const late = (r: Reply) => r.status === 403 && r.body.error.code === 'NOT_AN_APPROVER';
    expectOnlyConflicts(replies.filter((r) => r.status !== 200 && !late(r)));

    const mid = await history(id);
    expect(mid.status).toBe('PENDING');
    expect(
      (mid.stages as Array<{ name: string; approvals: unknown[] }>).map((s) => [
        s.name,
        s.approvals.length,
      ]),
    ).toEqual([
      ['owner', 1],
      ['compliance', 0],
    ]);
    expect(countOf(mid.history, 'APPROVAL_RECORDED')).toBe(1);

    const final = await Promise.all(
      Array.from({ length: 6 }, () =>
        p.call('carol', 'POST', `/v1/requests/${id}/approve`, { comment: 'compliance ok' }),
      ),
    );
    expect(final.filter((r) => r.status === 200)).toHaveLength(1);
    expectOnlyConflicts(final.filter((r) => r.status !== 200));
    await p.queue.onIdle();
    const done = await history(id);
    expect(done.status).toBe('ACTIVE');
    expect(countOf(done.history, 'APPROVAL_RECORDED')).toBe(2);
    expect(countOf(done.history, 'GRANT_ACTIVE')).toBe(1);
    expect(await grantsFor(id, 'hr')).toHaveLength(1);
    expect(await ledgerFor(id, '444444444444')).toHaveLength(1);
  });
});

describe('(b) many creates at once', () => {
  test('100 simultaneous creates by alice: all 201 with distinct ids, all listed, each with its REQUEST_CREATED event', async () => {
    const before = await p.call('alice', 'GET', '/v1/requests?mine=true&limit=500');
    expect(before.status).toBe(200);
    const products = ['sales/orders', 'finance/invoices', 'marketing/customer_segments'];
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.call(
          'alice',
          'POST',
          '/v1/requests',
          newRequest(products[i % 3]!, { purpose: `bulk ${i}` }),
        ),
      ),
    );
    for (const r of replies) expect(r.status).toBe(201);
    const ids = replies.map((r) => r.body.id as string);
    expect(new Set(ids).size).toBe(100);
    replies.forEach((r, i) => {
      expect(r.body).toMatchObject({
        productId: products[i % 3],
        purpose: `bulk ${i}`,
        status: 'PENDING',
        requester: 'alice',
        version: 1,
      });
    });

    const listed = await p.call('alice', 'GET', '/v1/requests?mine=true&limit=500');
    expect(listed.status).toBe(200);
    const listedIds = listed.body.items.map((r: AccessRequest) => r.id);
    expect(listedIds).toHaveLength(before.body.items.length + 100);
    expect(new Set(listedIds).size).toBe(listedIds.length);
    expect(listedIds).toEqual(expect.arrayContaining(ids));

    const details = await Promise.all(ids.map((id) => history(id)));
    details.forEach((d, i) => {
      expect(d.id).toBe(ids[i]);
      expect(d.history).toHaveLength(1);
      expect(d.history[0]).toMatchObject({
        type: 'REQUEST_CREATED',
        actor: 'alice',
        requestId: ids[i],
        toStatus: 'PENDING',
      });
    });

    // Each lands in its domain's approval inbox exactly once.
    const inbox = await p.call('fiona', 'GET', '/v1/approvals');
    const financeIds = ids.filter((_, i) => i % 3 === 1);
    const inboxIds = inbox.body.items.map((r: AccessRequest) => r.id);
    expect(inboxIds).toEqual(expect.arrayContaining(financeIds));
    expect(inboxIds.filter((x: string) => financeIds.includes(x))).toHaveLength(financeIds.length);
  });
});

describe('(c) approve, deny and cancel at once', () => {
  const DECISIONS = {
    approve: 'REQUEST_APPROVED',
    deny: 'REQUEST_DENIED',
    cancel: 'REQUEST_CANCELLED',
  } as const;
  const FINAL = { approve: 'ACTIVE', deny: 'DENIED', cancel: 'CANCELLED' } as const;
  type Action = keyof typeof DECISIONS;

  const act = (action: Action, id: string) => {
    switch (action) {
      case 'approve':
        return p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
      case 'deny':
        return p.call('sam', 'POST', `/v1/requests/${id}/deny`, { reason: 'no' });
      case 'cancel':
        return p.call('alice', 'POST', `/v1/requests/${id}/cancel`);
    }
  };

  const ACTIONS: Action[] = ['approve', 'deny', 'cancel'];

  /** Checks that exactly one call won, and that the request's status and history are that one's. */
  async function expectDecidedBy(id: string, actions: Action[], replies: Reply[]) {
    const winners = actions.filter((_, j) => replies[j]!.status === 200);
    expect(winners).toHaveLength(1);
    expectOnlyConflicts(replies.filter((r) => r.status !== 200));
    const won = winners[0]!;
    const r = await history(id);
    expect(r.status).toBe(FINAL[won]);
    const decisions = r.history.filter((e) =>
      (Object.values(DECISIONS) as string[]).includes(e.type),
    );
    expect(decisions.map((e) => e.type)).toEqual([DECISIONS[won]]);
    expect(await grantsFor(id)).toHaveLength(won === 'approve' ? 1 : 0);
    expect(await ledgerFor(id)).toHaveLength(won === 'approve' ? 1 : 0);
    return won;
  }

  test('on each of 15 requests exactly one decision wins, and the final state is that one', async () => {
    const ids = await Promise.all(Array.from({ length: 15 }, () => createPending()));
    const rounds = await Promise.all(
      ids.map(async (id, i) => {
        // All three at once; which one is sent a moment earlier rotates, for variety of winners.
        const head = ACTIONS[i % 3]!;
        const delay = Math.floor(i / 3) % 3;
        const replies = await Promise.all(
          ACTIONS.map((a) =>
            new Promise((resolve) => setTimeout(resolve, a === head ? 0 : delay)).then(() =>
              act(a, id),
            ),
          ),
        );
        return { id, replies };
      }),
    );
    await p.queue.onIdle();
    for (const { id, replies } of rounds) await expectDecidedBy(id, ACTIONS, replies);
  });

  test.each(ACTIONS)(
    'all three read the same version and race at the store; %s commits first and wins',
    async (winner) => {
      const id = await createPending();
      // Hold the three conditional writes until all three have been prepared from the same read,
      // then let `winner` write first and the other two after it.
      const original = p.store.updateRequest.bind(p.store);
      const held = new Map<Action, () => void>();
      let allHeld!: () => void;
      const allIn = new Promise<void>((resolve) => (allHeld = resolve));
      const actionOf = (s: string): Action =>
        s === 'APPROVED' ? 'approve' : s === 'DENIED' ? 'deny' : 'cancel';
      const spy = jest
        .spyOn(p.store, 'updateRequest')
        .mockImplementation(async (next, expected, audit, grant) => {
          if (next.id === id && expected.status === 'PENDING') {
            expect(expected.version).toBe(1);
            await new Promise<void>((go) => {
              held.set(actionOf(next.status), go);
              if (held.size === 3) allHeld();
            });
          }
          return original(next, expected, audit, grant);
        });
      try {
        const replies = ACTIONS.map((a) => act(a, id));
        await allIn;
        held.get(winner)!();
        await replies[ACTIONS.indexOf(winner)];
        for (const [a, go] of held) if (a !== winner) go();
        const settled = await Promise.all(replies);
        for (const [j, r] of settled.entries()) {
          if (ACTIONS[j] !== winner) expect(r.body.error.code).toBe('STALE_REQUEST');
        }
        await p.queue.onIdle();
        expect(await expectDecidedBy(id, ACTIONS, settled)).toBe(winner);
      } finally {
        spy.mockRestore();
      }
    },
  );
});

describe('(d) the worker run more than once for one job', () => {
  const expectGrantedOnce = async (id: string) => {
    const r = await history(id);
    expect(r.status).toBe('ACTIVE');
    expect(countOf(r.history, 'FULFILMENT_STARTED')).toBe(1);
    expect(countOf(r.history, 'GRANT_ACTIVE')).toBe(1);
    expect(countOf(r.history, 'FULFILMENT_FAILED')).toBe(0);
    const grants = await grantsFor(id);
    expect(grants).toHaveLength(1);
    expect(r.grantId).toBe(grants[0]!.id);
    expect(await ledgerFor(id)).toHaveLength(1);
  };

  test('runJob twice concurrently: one grant, one ledger entry', async () => {
    const id = await createPending();
    await approveInStore(p, id);
    await Promise.all([
      runJob({ ...p.deps, ...p.broker, ...p.broker }, { kind: 'grant', requestId: id }),
      runJob({ ...p.deps, ...p.broker, ...p.broker }, { kind: 'grant', requestId: id }),
    ]);
    await expectGrantedOnce(id);
  });

  test('runJob ten times concurrently: one grant, one ledger entry', async () => {
    const id = await createPending();
    await approveInStore(p, id);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        runJob({ ...p.deps, ...p.broker, ...p.broker }, { kind: 'grant', requestId: id }),
      ),
    );
    await expectGrantedOnce(id);
  });

  test('the same job sent twice on the queue: one grant, one ledger entry', async () => {
    const id = await createPending();
    await approveInStore(p, id);
    await Promise.all([
      p.queue.send({ kind: 'grant', requestId: id }),
      p.queue.send({ kind: 'grant', requestId: id }),
    ]);
    await p.queue.onIdle();
    await expectGrantedOnce(id);
  });

  test('a job delivered again after the grant is done changes nothing', async () => {
    const id = await createPending();
    expect(
      (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
    ).toBe(200);
    await p.queue.onIdle();
    const before = await history(id);
    const lf = countingLakeFormation(p.broker.lakeFormation);
    await runJob(
      { ...p.deps, ...p.broker, lakeFormation: lf.port },
      { kind: 'grant', requestId: id },
    );
    expect(lf.calls.grant).toBe(0);
    expect(await history(id)).toEqual(before);
    await expectGrantedOnce(id);
  });

  test('a late duplicate worker that grants after the request was revoked removes its stray grant', async () => {
    const id = await createPending();
    // Worker B reads the request while it is GRANTING, then stalls inside its Lake Formation call.
    const b = lateWorker(p, id);

    expect(
      (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
    ).toBe(200);
    await b.granting;
    await p.queue.onIdle();
    expect((await history(id)).status).toBe('ACTIVE');
    const grantId = (await grantsFor(id))[0]!.id;
    expect(
      (await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' })).status,
    ).toBe(202);
    await p.queue.onIdle();
    expect((await history(id)).status).toBe('REVOKED');
    expect(await ledgerFor(id)).toHaveLength(0);

    b.release();
    await b.done;
    expect(await ledgerFor(id)).toHaveLength(0);
    const r = await history(id);
    expect(r.status).toBe('REVOKED');
    expect(countOf(r.history, 'STRAY_GRANT_REMOVED')).toBe(1);
  });

  test('a second worker that reads the request while the first is granting: still one grant', async () => {
    const id = await createPending();
    await approveInStore(p, id);
    const lf = countingLakeFormation(p.broker.lakeFormation);

    // Worker B reads the request only once worker A has moved it to GRANTING, and before A
    // finishes: the "retried GRANTING" path, run concurrently with the first attempt.
    let markGranting!: () => void;
    const granting = new Promise<void>((resolve) => (markGranting = resolve));
    let releaseA!: () => void;
    const aMayFinish = new Promise<void>((resolve) => (releaseA = resolve));

    const storeA: Store = Object.create(p.store, {
      updateRequest: {
        value: async (...args: Parameters<Store['updateRequest']>) => {
          if (args[0].status === 'ACTIVE') await aMayFinish;
          await p.store.updateRequest(...args);
          if (args[0].status === 'GRANTING') markGranting();
        },
      },
    });
    const storeB: Store = Object.create(p.store, {
      getRequest: {
        value: async (rid: string) => {
          await granting;
          return p.store.getRequest(rid);
        },
      },
    });
    const depsA: WorkerDeps = { ...p.deps, ...p.broker, store: storeA, lakeFormation: lf.port };
    const depsB: WorkerDeps = { ...p.deps, ...p.broker, store: storeB, lakeFormation: lf.port };

    const a = runJob(depsA, { kind: 'grant', requestId: id });
    const b = runJob(depsB, { kind: 'grant', requestId: id }).finally(() => releaseA());
    await Promise.all([a, b]);

    expect(lf.calls.grant).toBe(2); // both granted in Lake Formation; the ledger answered "already" once
    await expectGrantedOnce(id);
    const r = await history(id);
    const entries = (
      r.history.find((e) => e.type === 'GRANT_ACTIVE')!.detail.entries as Array<{ result: string }>
    ).map((e) => e.result);
    expect(entries).toHaveLength(1);
  });
});
