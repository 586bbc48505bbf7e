import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import {
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { verifyChain } from '../../functions/domain/audit-chain';
import type { AuditEvent, DataProduct } from '../../functions/domain/model';
import type { Operation, OperationKind } from '../../functions/domain/operations';
import { DEFAULT_OPERATION_STALLED_AFTER_MS } from '../../functions/usecases/operation-runs';
import { startPortal, type TestPortal } from '../support/portal';

// A process stopped at any write of a sync or a reconciliation, from the call that queues it to
// the write that finishes it. The embedded portal runs on a store it shares with the next
// "process"; at the k-th write to the table the process dies: that write and every later one
// never land (its in-memory queue dies with it). What is on disk then must hold no operation
// change without its audit event (queued: OPERATION_STARTED; succeeded or failed: its event) and
// no such event without its change. A new process on the same store (its start hands the QUEUED
// operations to the worker, its sweeper the RUNNING ones once they count as stalled) finishes
// every operation, with its event, and every chain verifies.

const WRITES = new Set([
  'TransactWriteItemsCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

/** When armed, the `at`-th write of the process and every one after it fail unwritten. */
const fault = { armed: false, at: Infinity, writes: 0 };

const clock = {
  t: new Date(Math.floor(Date.now() / 1000) * 1000),
  now() {
    return this.t;
  },
};

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (fault.armed && WRITES.has(context.commandName ?? '') && ++fault.writes >= fault.at)
        throw new Error('process stopped');
      return next(args);
    },
    { step: 'initialize', name: 'crashAtWrite' },
  );
  // The dead process's worker and queue say what failed: not this test's output.
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterAll(async () => {
  jest.restoreAllMocks();
  await dynamo.close();
});

/** A process: the embedded portal on the shared store, on the test's clock. */
const processOn = () => startPortal({ sharedStore: dynamo, clock });

/** A sales catalog with one product more than the demo's, so that a sync has a product to write. */
function catalogWith(extra: string): DataProduct[] {
  const base = DEMO_PRODUCTS.find((x) => x.id === 'sales/orders')!;
  return [
    ...DEMO_PRODUCTS,
    {
      ...structuredClone(base),
      id: `sales/${extra}`,
      name: extra,
      location: { ...base.location, table: extra },
    },
  ];
}

async function salesOperations(p: TestPortal): Promise<Operation[]> {
  const ops: Operation[] = [];
  let after: Record<string, string> | undefined;
  do {
    const page = await p.operations.listByDomain('sales', { limit: 100, after });
    ops.push(...page.items);
    after = page.after;
  } while (after);
  return ops;
}

/** The operation changes without their event, and the events without their change. */
async function gaps(p: TestPortal): Promise<string[]> {
  const events = (await p.store.listChain('sales')).filter((e) => e.type.startsWith('OPERATION_'));
  const of = (op: Operation, type: string) =>
    events.filter((e) => e.type === type && e.detail.operationId === op.id).length;
  const found: string[] = [];
  const ops = await salesOperations(p);
  for (const op of ops) {
    const expected = {
      OPERATION_STARTED: 1,
      OPERATION_SUCCEEDED: op.status === 'SUCCEEDED' ? 1 : 0,
      OPERATION_FAILED: op.status === 'FAILED' ? 1 : 0,
    };
    for (const [type, n] of Object.entries(expected))
      if (of(op, type) !== n) found.push(`${op.id} ${op.status}: ${of(op, type)} ${type}`);
  }
  const known = new Set(ops.map((o) => o.id));
  for (const e of events)
    if (!known.has(e.detail.operationId as string))
      found.push(`${e.type} of ${String(e.detail.operationId)}, which is not stored`);
  return found;
}

async function chainOk(p: TestPortal, chain: string) {
  const events: AuditEvent[] = await p.store.listChain(chain);
  return verifyChain(events).ok;
}

/**
 * One process asked for `kind` on sales as bob, dying at its `at`-th write; then the next process.
 * Returns how many writes the first process made (all of them when it did not die).
 */
async function crashAt(kind: OperationKind, at: number, round: string) {
  const first = await processOn();
  first.catalog.set(catalogWith(`crash_${round}`));
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
  expect({ at, gaps: await gaps(first) }).toEqual({ at, gaps: [] });
  // The caller was told the operation is queued only if it was stored (with its event).
  if (res.status === 202) {
    const id = ((await res.json()) as { operation: { id: string } }).operation.id;
    expect((await salesOperations(first)).map((o) => o.id)).toContain(id);
    ids.push(id);
  }
  await first.close();

  // The restart: long enough after that a RUNNING operation counts as stalled.
  clock.t = new Date(clock.t.getTime() + DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
  const next = await processOn();
  next.catalog.set(catalogWith(`crash_${round}`));
  await next.queue.onIdle();
  await next.schedules.sweep();
  await next.queue.onIdle();
  const ops = await salesOperations(next);
  expect({
    at,
    unfinished: ops.filter((o) => o.status === 'QUEUED' || o.status === 'RUNNING'),
  }).toEqual({
    at,
    unfinished: [],
  });
  expect({ at, gaps: await gaps(next) }).toEqual({ at, gaps: [] });
  for (const id of ids) expect(ops.find((o) => o.id === id)?.status).toBe('SUCCEEDED');
  expect(await chainOk(next, 'sales')).toBe(true);
  await next.close();
  clock.t = new Date(clock.t.getTime() + 1000);
  return { writes, died };
}

/** The operations whose start was answered 202: each must end SUCCEEDED. */
const ids: string[] = [];

describe.each(['sync', 'reconcile'] as const)('a process stopped at any write of a %s', (kind) => {
  test('leaves no operation change without its audit event, and the restart finishes it', async () => {
    // Up to the first run with no write left to stop at: every write of the run was a crash point.
    let at = 1;
    for (; ; at++) if (!(await crashAt(kind, at, `${kind}_${at}`)).died) break;
    // Queued, taken, its own summary event, finished: at least these four were crash points.
    expect(at).toBeGreaterThan(4);
  }, 300_000);
});
