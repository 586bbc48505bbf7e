import fc from 'fast-check';
import {
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import type { Grant } from '../../functions/domain/model';
import type { OperationKind } from '../../functions/domain/operations';
import { DynamoOperationStore } from '../../functions/adapters/aws/operation-store';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { DEFAULT_OPERATION_STALLED_AFTER_MS } from '../../functions/usecases/operation-runs';
import {
  breakBroker,
  chainOk,
  crashingWrites,
  operationGaps,
  operationsOf,
  trailMark,
  type Fault,
  type TrailMark,
  type TrailReader,
  catalogWith,
  loseGrant,
} from '../support/operation-trail';
import { activeRequest, startPortal, type TestPortal } from '../support/portal';

// Random crash sequences over syncs and reconciliations of one domain (its broker role working,
// or refused in every process): a process starts one or both, and dies at a random write (or not
// at all); the processes after it, on the same store,
// may die too, at a random write of their own (taking over a stalled run, or starting a queued
// one), and may come back before or after a RUNNING operation counts as stalled. After each
// process, the store holds every operation change with its audit event and a report
// (DOMAIN_SYNCED, DOMAIN_RECONCILED) for each SUCCEEDED operation exactly, none for the others,
// and a BROKER_FAILED for each one FAILED with BROKER_UNAVAILABLE exactly;
// a last process that does not die finishes every operation (SUCCEEDED, or FAILED as stalled once
// workers started it three times), every report is the one GET /v1/operations/{id} answers, and
// the chain verifies. operation-crash.test.ts stops a single process at each write in turn.

let dynamo: EmbeddedDynamo;
let fault: Fault;
const clock = {
  t: new Date(Math.floor(Date.now() / 1000) * 1000),
  now() {
    return this.t;
  },
};
/** An ACTIVE sales grant whose permission each scenario takes out, for reconcile to grant again. */
let grant: Grant;

const processOn = () => startPortal({ sharedStore: dynamo, clock });
/** Reads the store as no process: what the dead ones left. */
let reader: TrailReader;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  fault = crashingWrites(dynamo.client);
  const store = new DynamoStore('meshgate', dynamo.client);
  reader = {
    store,
    operations: new DynamoOperationStore('meshgate', dynamo.client, store.auditLog),
  };
  const p = await processOn();
  const r = await activeRequest(p, 'sales/orders', {
    principal: 'arn:aws:iam::555555555555:role/crash-property',
  });
  grant = (await p.store.getGrant(r.grantId))!;
  await p.close();
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterAll(async () => {
  jest.restoreAllMocks();
  await dynamo.close();
});

interface Step {
  /** The process dies at this write (counted from its start); undefined: it does not die. */
  dieAt?: number;
  /** Whether the next process comes after a RUNNING operation counts as stalled. */
  late: boolean;
}
interface Scenario {
  kinds: OperationKind[];
  /** The domain's broker role is refused in every process: the operations end FAILED. */
  broken: boolean;
  steps: Step[];
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  dieAt: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
  late: fc.boolean(),
});
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  kinds: fc.constantFrom<OperationKind[]>(
    ['sync'],
    ['reconcile'],
    ['sync', 'reconcile'],
    ['reconcile', 'sync'],
  ),
  broken: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
});

let round = 0;

const died = () => fault.writes >= fault.at;

/**
 * One process's life: it starts (a start can write: the search index catching up with a sync that
 * changed the catalog), runs its jobs and a sweep, and is stopped; what it left must hold.
 * `started` is a process already started (the first, which started the operations).
 */
async function live(
  s: Scenario,
  step: Step,
  label: string,
  extra: string,
  mark: TrailMark,
  started?: TestPortal,
) {
  if (!started) Object.assign(fault, { armed: true, at: step.dieAt ?? Infinity, writes: 0 });
  const p =
    started ??
    (await processOn().catch((err: unknown) => {
      if (!died()) throw err;
      return undefined; // died as it started: nothing of it runs
    }));
  if (p) {
    p.catalog.set(catalogWith(extra));
    if (s.broken && !started) breakBroker(p);
    await p.queue.onIdle();
    // A sweep that needs a write fails in a dead process, as its jobs do.
    await p.schedules.sweep().catch((err: unknown) => {
      if (!died()) throw err;
    });
    await p.queue.onIdle();
  }
  Object.assign(fault, { armed: false, at: Infinity });
  expect({ label, gaps: await operationGaps(reader, 'sales', mark) }).toEqual({ label, gaps: [] });
  await p?.close();
  clock.t = new Date(
    clock.t.getTime() + (step.late ? DEFAULT_OPERATION_STALLED_AFTER_MS + 1000 : 1000),
  );
}

async function runScenario(s: Scenario) {
  Object.assign(fault, { armed: false, at: Infinity, writes: 0 });
  const extra = `crash_property_${++round}`;
  const label = JSON.stringify(s);
  const [first, ...later] = s.steps;
  // Each scenario is judged on its own operations and events (a failed one leaves its own behind).
  const mark = await trailMark(reader, 'sales');
  const p = await processOn();
  p.catalog.set(catalogWith(extra));
  if (s.broken) breakBroker(p);
  await loseGrant(p, grant);
  const token = await p.token('bob');
  Object.assign(fault, { armed: true, at: first!.dieAt ?? Infinity, writes: 0 });
  for (const kind of s.kinds)
    await p.app.request(`/v1/domains/sales/${kind}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  await live(s, first!, `${label} first`, extra, mark, p);
  for (const [i, step] of later.entries())
    await live(s, step, `${label} process ${i + 2}`, extra, mark);

  // The last process lives, after a RUNNING operation counts as stalled.
  clock.t = new Date(clock.t.getTime() + DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
  const last = await processOn();
  last.catalog.set(catalogWith(extra));
  if (s.broken) breakBroker(last);
  await last.queue.onIdle();
  await last.schedules.sweep();
  await last.queue.onIdle();
  const ops = (await operationsOf(last, 'sales')).filter((o) => !mark.operations.has(o.id));
  expect({
    label,
    unfinished: ops.filter((o) => o.status === 'QUEUED' || o.status === 'RUNNING'),
  }).toEqual({ label, unfinished: [] });
  for (const op of ops.filter((o) => o.status === 'FAILED'))
    expect({ label, error: op.error?.code }).toEqual({
      label,
      error: expect.stringMatching(
        s.broken ? /^(OPERATION_STALLED|BROKER_UNAVAILABLE)$/ : /^OPERATION_STALLED$/,
      ),
    });
  expect({ label, gaps: await operationGaps(last, 'sales', mark) }).toEqual({ label, gaps: [] });
  for (const op of ops.filter((o) => o.status === 'SUCCEEDED')) {
    const read = await last.call('bob', 'GET', `/v1/operations/${op.id}`);
    expect(read.body.operation.report).toEqual(op.report);
  }
  expect(await chainOk(last, 'sales')).toBe(true);
  await last.close();
  clock.t = new Date(clock.t.getTime() + 1000);
}

test('whatever writes the processes die at, each finished operation has its report once', async () => {
  await fc.assert(fc.asyncProperty(scenarioArb, runScenario), {
    numRuns: 25,
    interruptAfterTimeLimit: 90_000,
    markInterruptAsFailure: false,
  });
}, 150_000);
