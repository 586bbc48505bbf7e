import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import type { AuditEvent, DataProduct } from '../../functions/domain/model';
import {
  MAX_OPERATION_ATTEMPTS,
  startRun,
  type Operation,
  type OperationProgress,
} from '../../functions/domain/operations';
import { DEFAULT_OPERATION_STALLED_AFTER_MS } from '../../functions/usecases/operation-runs';
import { startPortal, type TestPortal } from '../support/portal';
import { movingClock, type MovingClock } from '../support/clock';

// Sync and reconcile as worker jobs, through the API of the embedded portal: the call queues an
// operation and answers 202; the in-process worker runs it; GET /v1/operations/{id} follows it.

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
};

/** POST as `user`, with the response's headers (p.call keeps only status and body). */
async function post(user: string, path: string) {
  const res = await p.app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${await p.token(user)}` },
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.json() };
}

const read = async (user: string, id: string) => p.call(user, 'GET', `/v1/operations/${id}`);

async function auditOf(type: string, domain = 'sales'): Promise<AuditEvent[]> {
  const to = new Date(clock.t.getTime() + 1000).toISOString();
  const res = await p.call('dave', 'GET', `/v1/audit?domain=${domain}&to=${to}&limit=1000`);
  expect(res.status).toBe(200);
  return (res.body.items as AuditEvent[]).filter((e) => e.type === type);
}

/** A sales catalog of `n` products more than the demo's, to watch a long sync. */
function bigCatalog(n: number): DataProduct[] {
  const base = DEMO_PRODUCTS.find((x) => x.id === 'sales/orders')!;
  const extra = Array.from({ length: n }, (_, i) => ({
    ...structuredClone(base),
    id: `sales/extra_${i}`,
    name: `extra_${i}`,
    location: { ...base.location, table: `extra_${i}` },
  }));
  return [...DEMO_PRODUCTS, ...extra];
}

/** An operation taken by a worker that then stopped (killed mid-run): RUNNING, never moved again. */
async function abandoned(kind: 'sync' | 'reconcile', attempts = 0): Promise<Operation> {
  // The job is held back: this "worker" takes the operation and dies.
  const send = jest.spyOn(p.queue, 'send').mockResolvedValueOnce(undefined);
  const started = await post('bob', `/v1/domains/sales/${kind}`);
  expect(started.status).toBe(202);
  send.mockRestore();
  const queued = (await p.operations.get(started.body.operation.id))!;
  const taken = startRun({ ...queued, attempts }, clock.now(), clock.now())!;
  await p.operations.update(taken, queued);
  return taken;
}

describe('starting and following an operation', () => {
  test('sync answers 202 with the QUEUED operation and its Location; GET shows it SUCCEEDED with the report', async () => {
    const send = jest.spyOn(p.queue, 'send');
    const started = await post('bob', '/v1/domains/sales/sync');
    expect(started.status).toBe(202);
    const op = started.body.operation;
    expect(op).toMatchObject({
      id: expect.stringMatching(/^opn_/),
      kind: 'sync',
      domain: 'sales',
      status: 'QUEUED',
      requestedBy: 'bob',
      attempts: 0,
    });
    expect(started.location).toBe(`/v1/operations/${op.id}`);
    expect(send).toHaveBeenCalledWith({ kind: 'operation', operationId: op.id });

    await p.queue.onIdle();
    const done = await read('bob', op.id);
    expect(done.status).toBe(200);
    expect(done.body.operation).toMatchObject({
      id: op.id,
      status: 'SUCCEEDED',
      attempts: 1,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      report: { domain: 'sales', added: [], updated: [], retired: [], unchanged: 3 },
      progress: { unit: 'products', done: 3, total: 3 },
    });
    // Start and end are in the trail, and the sync's own summary still names bob.
    expect((await auditOf('OPERATION_STARTED')).map((e) => [e.actor, e.detail])).toEqual([
      ['bob', { operationId: op.id, kind: 'sync' }],
    ]);
    expect((await auditOf('OPERATION_SUCCEEDED')).map((e) => e.detail)).toEqual([
      expect.objectContaining({ operationId: op.id, kind: 'sync', requestedBy: 'bob' }),
    ]);
    expect((await auditOf('DOMAIN_SYNCED')).map((e) => e.actor)).toEqual(['bob']);
  });

  test('the call itself reaches no catalog: nothing is read until the worker runs the job', async () => {
    const listed = jest.spyOn(p.catalog, 'listProducts');
    const hold = jest.spyOn(p.queue, 'send').mockResolvedValue(undefined);
    const started = await post('bob', '/v1/domains/sales/sync');
    expect(started.status).toBe(202);
    expect(listed).not.toHaveBeenCalled();
    expect((await read('bob', started.body.operation.id)).body.operation.status).toBe('QUEUED');
    hold.mockRestore();
    await p.queue.send({ kind: 'operation', operationId: started.body.operation.id });
    await p.queue.onIdle();
    expect(listed).toHaveBeenCalledTimes(1);
    expect((await read('bob', started.body.operation.id)).body.operation.status).toBe('SUCCEEDED');
  });

  test('the worker notes progress as it goes: products done of the total, about twenty notes, the last one complete', async () => {
    p.catalog.set(bigCatalog(57));
    const notes: OperationProgress[] = [];
    const record = p.operations.recordProgress.bind(p.operations);
    jest.spyOn(p.operations, 'recordProgress').mockImplementation(async (id, attempt, progress) => {
      // While the note is written, the operation reads RUNNING.
      expect((await p.operations.get(id))?.status).toBe('RUNNING');
      notes.push(progress);
      return record(id, attempt, progress);
    });
    const started = await post('bob', '/v1/domains/sales/sync');
    await p.queue.onIdle();
    const op = (await read('bob', started.body.operation.id)).body.operation;
    expect(op.status).toBe('SUCCEEDED');
    expect(op.report.added).toHaveLength(57);
    expect(notes.length).toBeGreaterThan(10);
    expect(notes.length).toBeLessThanOrEqual(25);
    expect(notes.every((n) => n.unit === 'products' && n.total === 60)).toBe(true);
    expect(notes.map((n) => n.done)).toEqual([...notes.map((n) => n.done)].sort((a, b) => a - b));
    expect(notes.at(-1)).toMatchObject({ done: 60, total: 60 });
    expect(op.progress).toMatchObject({ unit: 'products', done: 60, total: 60 });
  });

  test('reconcile answers 202 too and its report is the one the reconciler writes to the trail', async () => {
    const started = await post('erin', '/v1/domains/sales/reconcile');
    expect(started.status).toBe(202);
    await p.queue.onIdle();
    const op = (await read('erin', started.body.operation.id)).body.operation;
    expect(op).toMatchObject({ kind: 'reconcile', status: 'SUCCEEDED' });
    const [event] = await auditOf('DOMAIN_RECONCILED');
    expect(event).toMatchObject({ actor: 'erin', detail: op.report });
    expect(op.progress).toMatchObject({ unit: 'grants' });
  });

  test('who may read an operation: whoever may start it; others are told it does not exist', async () => {
    const started = await post('bob', '/v1/domains/sales/sync');
    await p.queue.onIdle();
    const id = started.body.operation.id;
    for (const who of ['alice', 'sam', 'carol', 'dave', 'fiona']) {
      const res = await read(who, id);
      expect([who, res.status, res.body.error?.code]).toEqual([who, 404, 'OPERATION_NOT_FOUND']);
    }
    expect((await read('erin', id)).status).toBe(200);
    expect((await read('bob', 'opn_00000000000000000000000000')).status).toBe(404);
    expect((await p.call(null, 'GET', `/v1/operations/${id}`)).status).toBe(401);
  });
});

describe('one operation of a kind per domain at a time', () => {
  test('a second sync while one is queued is 409 OPERATION_RUNNING naming it; a reconcile or another domain is not held up; once done, a new one starts', async () => {
    const hold = jest.spyOn(p.queue, 'send').mockResolvedValue(undefined);
    const first = await post('bob', '/v1/domains/sales/sync');
    expect(first.status).toBe(202);
    const second = await post('erin', '/v1/domains/sales/sync');
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'OPERATION_RUNNING',
      details: { operationId: first.body.operation.id, kind: 'sync', domain: 'sales' },
    });
    expect((await post('bob', '/v1/domains/sales/reconcile')).status).toBe(202);
    expect((await post('erin', '/v1/domains/finance/sync')).status).toBe(202);
    // Only one OPERATION_STARTED for the sales sync.
    expect(
      (await auditOf('OPERATION_STARTED')).filter((e) => e.detail.kind === 'sync'),
    ).toHaveLength(1);

    hold.mockRestore();
    await p.queue.send({ kind: 'operation', operationId: first.body.operation.id });
    await p.queue.onIdle();
    expect((await read('bob', first.body.operation.id)).body.operation.status).toBe('SUCCEEDED');
    expect((await post('bob', '/v1/domains/sales/sync')).status).toBe(202);
  });

  test('ten starts at once: exactly one is queued, the others are 409 naming it (a conditional write decides)', async () => {
    jest.spyOn(p.queue, 'send').mockResolvedValue(undefined);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post('erin', '/v1/domains/hr/reconcile')),
    );
    const queued = answers.filter((a) => a.status === 202);
    expect(queued).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(9);
    for (const r of refused)
      expect(r.body.error.details.operationId).toBe(queued[0]!.body.operation.id);
  });

  test('a failed operation frees the domain too', async () => {
    jest.spyOn(p.catalog, 'listProducts').mockRejectedValueOnce(new Error('catalog down'));
    const first = await post('bob', '/v1/domains/sales/sync');
    await p.queue.onIdle();
    const op = (await read('bob', first.body.operation.id)).body.operation;
    expect(op).toMatchObject({ status: 'FAILED', error: { code: 'INTERNAL' } });
    // The cause is logged, never shown.
    expect(JSON.stringify(op)).not.toContain('catalog down');
    expect((await auditOf('OPERATION_FAILED')).map((e) => e.detail.error)).toEqual([
      expect.objectContaining({ code: 'INTERNAL' }),
    ]);
    expect((await post('bob', '/v1/domains/sales/sync')).status).toBe(202);
  });
});

describe('a worker that stops mid-run', () => {
  test('a RUNNING operation nothing moves is left alone until the stall timeout, then the sweeper hands it over and a worker finishes it', async () => {
    const op = await abandoned('sync');
    // A redelivery while the first worker may still be on it does nothing.
    await p.queue.send({ kind: 'operation', operationId: op.id });
    await p.queue.onIdle();
    expect((await p.operations.get(op.id))?.status).toBe('RUNNING');

    advance(DEFAULT_OPERATION_STALLED_AFTER_MS - 1000);
    expect((await p.schedules.sweep()).operations).toEqual([]);
    await p.queue.onIdle();
    expect((await p.operations.get(op.id))?.status).toBe('RUNNING');

    advance(2000);
    expect((await p.schedules.sweep()).operations).toEqual([op.id]);
    await p.queue.onIdle();
    expect(await p.operations.get(op.id)).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 2,
      report: expect.objectContaining({ domain: 'sales' }),
    });
    // The takeover is in the trail, with the attempt it started and when the stopped one had.
    expect((await auditOf('OPERATION_RESUMED')).map((e) => e.detail)).toEqual([
      { operationId: op.id, kind: 'sync', attempt: 2, lastStartedAt: op.startedAt },
    ]);
  });

  test('a job lost on the way to the queue: the QUEUED operation is handed to the worker after the stall timeout', async () => {
    jest.spyOn(p.queue, 'send').mockRejectedValueOnce(new Error('queue unreachable'));
    const started = await post('bob', '/v1/domains/sales/reconcile');
    expect(started.status).toBe(202);
    await p.queue.onIdle();
    expect((await p.operations.get(started.body.operation.id))?.status).toBe('QUEUED');
    advance(DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
    await p.schedules.sweep();
    await p.queue.onIdle();
    expect((await p.operations.get(started.body.operation.id))?.status).toBe('SUCCEEDED');
    // Its first start is no takeover.
    expect(await auditOf('OPERATION_RESUMED')).toEqual([]);
  });

  test(`started ${MAX_OPERATION_ATTEMPTS} times without finishing: the next takeover fails it as OPERATION_STALLED, and the domain is free again`, async () => {
    const op = await abandoned('reconcile', MAX_OPERATION_ATTEMPTS - 1);
    expect(op.attempts).toBe(MAX_OPERATION_ATTEMPTS);
    advance(DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
    await p.schedules.sweep();
    await p.queue.onIdle();
    expect(await p.operations.get(op.id)).toMatchObject({
      status: 'FAILED',
      error: { code: 'OPERATION_STALLED', details: { attempts: MAX_OPERATION_ATTEMPTS } },
    });
    expect((await auditOf('OPERATION_FAILED')).map((e) => e.detail.error)).toEqual([
      expect.objectContaining({ code: 'OPERATION_STALLED' }),
    ]);
    expect((await post('bob', '/v1/domains/sales/reconcile')).status).toBe(202);
  });
});

describe('the schedules', () => {
  test('the scheduled sync queues one operation per registered domain, as meshgate; one already running is skipped', async () => {
    const held = await abandoned('sync');
    const out = await p.schedules.sync();
    expect(out.queued.map((q) => q.domain).sort()).toEqual(['finance', 'hr', 'marketing']);
    expect(out.skipped).toEqual([{ domain: 'sales', operationId: held.id }]);
    await p.queue.onIdle();
    for (const q of out.queued)
      expect(await p.operations.get(q.operationId)).toMatchObject({
        status: 'SUCCEEDED',
        requestedBy: 'meshgate',
      });
  });
});
