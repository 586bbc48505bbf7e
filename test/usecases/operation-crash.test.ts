import {
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import type { Grant } from '../../functions/domain/model';
import type { OperationKind } from '../../functions/domain/operations';
import { DEFAULT_OPERATION_STALLED_AFTER_MS } from '../../functions/usecases/operation-runs';
import {
  breakBroker,
  chainOk,
  crashingWrites,
  operationGaps,
  operationsOf,
  type Fault,
  catalogWith,
  loseGrant,
} from '../support/operation-trail';
import { activeRequest, startPortal } from '../support/portal';

// A process stopped at any write of a sync or a reconciliation, from the call that queues it to
// the write that finishes it. The embedded portal runs on a store it shares with the next
// "process"; at the k-th write to the table the process dies: that write and every later one
// never land (its in-memory queue dies with it). What is on disk then must hold no operation
// change without its audit event (queued: OPERATION_STARTED; succeeded or failed: its event) and
// no such event without its change, and a report (DOMAIN_SYNCED, DOMAIN_RECONCILED) exactly for
// the operations that succeeded. A new process on the same store (its start hands the QUEUED
// operations to the worker, its sweeper the RUNNING ones once they count as stalled) finishes
// every operation, with its event and its one report, which GET /v1/operations/{id} answers too,
// and every chain verifies. Each reconciliation has a permission to grant again, so that its
// Lake Formation writes are crash points as well.

let fault: Fault;

const clock = {
  t: new Date(Math.floor(Date.now() / 1000) * 1000),
  now() {
    return this.t;
  },
};

let dynamo: EmbeddedDynamo;
/** An ACTIVE sales grant whose permission each reconciliation finds missing. */
let grant: Grant;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  fault = crashingWrites(dynamo.client);
  const p = await processOn();
  const r = await activeRequest(p, 'sales/orders', {
    principal: 'arn:aws:iam::555555555555:role/crash-missing',
  });
  grant = (await p.store.getGrant(r.grantId))!;
  await p.close();
  // The dead process's worker and queue say what failed: not this test's output.
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterAll(async () => {
  jest.restoreAllMocks();
  await dynamo.close();
});

/** A process: the embedded portal on the shared store, on the test's clock. */
const processOn = () => startPortal({ sharedStore: dynamo, clock });

/**
 * One process asked for `kind` on sales as bob, dying at its `at`-th write; then the next process.
 * With `broken`, the domain's broker role is refused in both: the operation must end FAILED with
 * BROKER_UNAVAILABLE and one BROKER_FAILED. Returns how many writes the first process made (all
 * of them when it did not die).
 */
async function crashAt(kind: OperationKind, at: number, round: string, broken = false) {
  const first = await processOn();
  first.catalog.set(catalogWith(`crash_${round}`));
  if (broken) breakBroker(first);
  if (kind === 'reconcile') await loseGrant(first, grant);
  const token = await first.token('bob');
  Object.assign(fault, { armed: true, at, writes: 0 });
  const res = await first.app.request(`/v1/domains/sales/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  await first.queue.onIdle();
  const writes = fault.writes;
  const died = writes >= at;
  Object.assign(fault, { armed: false, at: Infinity });
  // What the dead process left on disk (its queue is idle: nothing of it runs any more).
  expect({ at, gaps: await operationGaps(first, 'sales') }).toEqual({ at, gaps: [] });
  // The caller was told the operation is queued only if it was stored (with its event).
  if (res.status === 202) {
    const id = ((await res.json()) as { operation: { id: string } }).operation.id;
    expect((await operationsOf(first, 'sales')).map((o) => o.id)).toContain(id);
    ids.set(id, broken ? 'FAILED' : 'SUCCEEDED');
  }
  await first.close();

  // The restart: long enough after that a RUNNING operation counts as stalled.
  clock.t = new Date(clock.t.getTime() + DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
  const next = await processOn();
  next.catalog.set(catalogWith(`crash_${round}`));
  if (broken) breakBroker(next);
  await next.queue.onIdle();
  await next.schedules.sweep();
  await next.queue.onIdle();
  const ops = await operationsOf(next, 'sales');
  expect({
    at,
    unfinished: ops.filter((o) => o.status === 'QUEUED' || o.status === 'RUNNING'),
  }).toEqual({
    at,
    unfinished: [],
  });
  expect({ at, gaps: await operationGaps(next, 'sales') }).toEqual({ at, gaps: [] });
  for (const [id, status] of ids) expect(ops.find((o) => o.id === id)?.status).toBe(status);
  for (const op of ops.filter((o) => o.status === 'FAILED'))
    expect(op.error?.code).toBe(broken && ids.has(op.id) ? 'BROKER_UNAVAILABLE' : undefined);
  // The report as the caller follows it: the one the trail holds.
  for (const op of ops.filter((o) => o.status === 'SUCCEEDED')) {
    const read = await next.call('bob', 'GET', `/v1/operations/${op.id}`);
    expect(read.status).toBe(200);
    expect(read.body.operation.report).toEqual(op.report);
  }
  expect(await chainOk(next, 'sales')).toBe(true);
  await next.close();
  clock.t = new Date(clock.t.getTime() + 1000);
  return { writes, died };
}

/** The operations whose start was answered 202, and how each must end. */
const ids = new Map<string, 'SUCCEEDED' | 'FAILED'>();

describe.each(['sync', 'reconcile'] as const)('a process stopped at any write of a %s', (kind) => {
  test('leaves no operation change without its audit event, and the restart finishes it', async () => {
    // Up to the first run with no write left to stop at: every write of the run was a crash point.
    let at = 1;
    for (; ; at++) if (!(await crashAt(kind, at, `${kind}_${at}`)).died) break;
    // Queued, taken, a progress note, finished with its report: at least these were crash points
    // (and a product written, or a permission granted again).
    expect(at).toBeGreaterThan(4);
  }, 300_000);
});

describe.each(['sync', 'reconcile'] as const)(
  'a process stopped at any write of a %s whose broker role is refused',
  (kind) => {
    test('leaves the failure recorded once (BROKER_FAILED with OPERATION_FAILED), by whichever process ends it', async () => {
      let at = 1;
      for (; ; at++) if (!(await crashAt(kind, at, `broken_${kind}_${at}`, true)).died) break;
      // Queued, taken, failed with its BROKER_FAILED.
      expect(at).toBeGreaterThan(3);
    }, 300_000);
  },
);
