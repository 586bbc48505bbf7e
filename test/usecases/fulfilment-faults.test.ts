import type { AccessRequest, AuditEvent, Grant } from '../../functions/domain/model';
import { LakeFormationError, type PermissionEntry } from '../../functions/ports/lakeformation';
import type { Job } from '../../functions/ports/queue';
import type { Store } from '../../functions/ports/store';
import { expireDue, runJob } from '../../functions/usecases/fulfilment';
import { approveInStore, newRequest, startPortal, type TestPortal } from '../support/portal';
import { countingLakeFormation } from '../support/offline-aws';

// Faults in fulfilment, against the real embedded portal: Lake Formation refusing, failing part of
// a grant, a worker dying between Lake Formation and the store, jobs delivered twice, and a revoke
// that fails before it succeeds.

const SALES_ACCOUNT = '111111111111';
const BUNDLE = 'sales/pipeline_bundle';
const TABLES = ['pipeline_open', 'pipeline_won', 'pipeline_lost'];

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
  // A product of three tables of one database, which sales owns.
  await p.store.putProduct({
    id: BUNDLE,
    domain: 'sales',
    name: 'pipeline_bundle',
    title: 'Pipeline bundle',
    description: 'Open, won and lost opportunities, one table each.',
    owner: 'bob',
    classification: 'confidential',
    tags: ['pipeline'],
    location: {
      catalogId: SALES_ACCOUNT,
      database: 'sales_gold',
      table: TABLES[0]!,
      tables: TABLES,
    },
    columns: [
      { name: 'opportunity_id', type: 'string', pii: false },
      { name: 'amount_eur', type: 'decimal(12,2)', pii: false },
    ],
    freshness: 'Daily',
    status: 'ACTIVE',
  });
});
afterAll(() => p.close());
afterEach(() => jest.restoreAllMocks());

type Detail = {
  status: string;
  history: AuditEvent[];
  failure?: AccessRequest['failure'];
  grantId?: string;
} & Record<string, unknown>;

/**
 * Every test asks for its own principal: Lake Formation holds one permission per principal and
 * resource, so tests sharing one would share permissions.
 */
const role = (name: string) => `arn:aws:iam::555555555555:role/faults-${name}`;

async function createPending(principal: string, productId = 'sales/orders'): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId, { principal }));
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('PENDING');
  return res.body.id as string;
}

async function approve(id: string) {
  const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('APPROVED');
}

async function history(id: string, as = 'alice'): Promise<Detail> {
  const res = await p.call(as, 'GET', `/v1/requests/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

const typesOf = (r: Detail) => r.history.map((e) => e.type);
const countOf = (r: Detail, type: string) => r.history.filter((e) => e.type === type).length;

/** The permissions `principal` holds in the sales account. */
const ledgerOf = async (principal: string) =>
  (await p.ledger.list(SALES_ACCOUNT)).filter((e) => e.principal === principal);

const grantsFor = async (requestId: string): Promise<Grant[]> =>
  (await p.store.listGrantsByDomain('sales')).filter((g) => g.requestId === requestId);

/** Silences the queue's log of failed deliveries (console.error) and keeps what it said. */
const quietQueueLog = () => jest.spyOn(console, 'error').mockImplementation(() => {});

test('permanent AccessDenied -> FAILED with the reason visible to owner and requester, then retry by the owner succeeds', async () => {
  const principal = role('denied');
  const grant = jest
    .spyOn(p.ledger, 'grant')
    .mockRejectedValueOnce(new LakeFormationError('AccessDeniedException', 'not allowed', true));
  const id = await createPending(principal);
  await approve(id);
  await p.queue.onIdle();

  for (const who of ['alice', 'bob']) {
    const r = await history(id, who);
    expect(r.status).toBe('FAILED');
    expect(r.failure!.reason).toContain('AccessDeniedException');
    expect(r.failure!.reason).toContain('not allowed');
    expect(r.failure!.code).toBe('AccessDeniedException');
    expect(r.failure!.failedTables).toBeUndefined(); // the whole call failed: everything is retried
    expect(typesOf(r)).toEqual([
      'REQUEST_CREATED',
      'APPROVAL_RECORDED',
      'REQUEST_APPROVED',
      'FULFILMENT_STARTED',
      'FULFILMENT_FAILED',
    ]);
    expect(r.history.at(-1)).toMatchObject({
      actor: 'meshgate',
      fromStatus: 'GRANTING',
      toStatus: 'FAILED',
      detail: { code: 'AccessDeniedException' },
    });
  }
  expect(await grantsFor(id)).toHaveLength(0);
  expect(await ledgerOf(principal)).toHaveLength(0);

  // The requester may not retry, even while it is FAILED; the request is unchanged.
  const byAlice = await p.call('alice', 'POST', `/v1/requests/${id}/retry`);
  expect(byAlice.status).toBe(403);
  expect(byAlice.body.error.code).toBe('NOT_ALLOWED');
  expect((await history(id)).status).toBe('FAILED');

  const byBob = await p.call('bob', 'POST', `/v1/requests/${id}/retry`);
  expect(byBob.status).toBe(202);
  expect(byBob.body.status).toBe('GRANTING');
  await p.queue.onIdle();

  const r = await history(id);
  expect(r.status).toBe('ACTIVE');
  expect(r.failure).toBeUndefined();
  expect(typesOf(r).slice(4)).toEqual(['FULFILMENT_FAILED', 'FULFILMENT_RETRIED', 'GRANT_ACTIVE']);
  expect(r.history.find((e) => e.type === 'FULFILMENT_RETRIED')).toMatchObject({
    actor: 'bob',
    fromStatus: 'FAILED',
    toStatus: 'GRANTING',
    detail: { tables: 'all' },
  });
  expect(grant).toHaveBeenCalledTimes(2);
  expect(await grantsFor(id)).toHaveLength(1);
  expect(await ledgerOf(principal)).toHaveLength(1);

  // Once ACTIVE: still 403 for alice, and 409 for bob (nothing to retry).
  expect((await p.call('alice', 'POST', `/v1/requests/${id}/retry`)).status).toBe(403);
  const again = await p.call('bob', 'POST', `/v1/requests/${id}/retry`);
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('NOT_FAILED');
});

test('partial failure: the tables granted are revoked before the request fails, and a retry grants every table', async () => {
  const BAD = TABLES[1]!;
  const original = p.ledger.grant.bind(p.ledger);
  const grant = jest.spyOn(p.ledger, 'grant').mockImplementationOnce(async (g) => {
    const done = await original({
      ...g,
      onlyTables: (g.onlyTables ?? g.tables).filter((t) => t !== BAD),
    });
    const failed: PermissionEntry = {
      action: 'grant',
      table: BAD,
      sent: {},
      result: 'failed',
      error: { code: 'InternalServiceException', message: 'try later' },
    };
    return [...done, failed];
  });
  const revoke = jest.spyOn(p.ledger, 'revoke');

  const principal = role('partial');
  const id = await createPending(principal, BUNDLE);
  await approve(id);
  await p.queue.onIdle();

  const failed = await history(id, 'bob');
  expect(failed.status).toBe('FAILED');
  expect(failed.failure!.failedTables).toEqual([BAD]);
  expect(failed.failure!.code).toBe('InternalServiceException');
  expect(failed.failure!.reason).toContain(
    `1 of 3 table(s) failed: ${BAD}: InternalServiceException try later`,
  );
  expect(grant.mock.calls[0]![0].onlyTables).toBeUndefined();
  expect(grant.mock.calls[0]![0].tables).toEqual(TABLES);
  // A FAILED request holds nothing: the two tables that were granted are revoked, and the record
  // says so.
  expect(await ledgerOf(principal)).toEqual([]);
  expect(revoke).toHaveBeenCalledTimes(1);
  expect(revoke.mock.calls[0]![0]).toMatchObject({ onlyTables: TABLES, permissions: ['SELECT'] });
  const failedEvent = failed.history.find((e) => e.type === 'FULFILMENT_FAILED')!;
  expect(
    (failedEvent.detail.revoked as PermissionEntry[]).map((e) => [e.action, e.table, e.result]),
  ).toEqual(TABLES.map((t) => ['revoke', t, t === BAD ? 'already' : 'ok']));
  expect(await grantsFor(id)).toHaveLength(0);

  expect((await p.call('bob', 'POST', `/v1/requests/${id}/retry`)).status).toBe(202);
  await p.queue.onIdle();

  expect(grant).toHaveBeenCalledTimes(2);
  expect(grant.mock.calls[1]![0].onlyTables).toBeUndefined();
  expect(grant.mock.calls[1]![0].tables).toEqual(TABLES);
  const r = await history(id);
  expect(r.status).toBe('ACTIVE');
  expect(r.failure).toBeUndefined();
  expect(r.history.find((e) => e.type === 'FULFILMENT_RETRIED')!.detail.tables).toBe('all');
  const active = r.history.find((e) => e.type === 'GRANT_ACTIVE')!;
  expect((active.detail.entries as PermissionEntry[]).map((e) => [e.table, e.result])).toEqual(
    TABLES.map((t) => [t, 'ok']),
  );
  const ledger = await ledgerOf(principal);
  expect(ledger.map((e) => e.table).sort()).toEqual([...TABLES].sort());
  const grants = await grantsFor(id);
  expect(grants).toHaveLength(1);
  // The grant keeps what every attempt sent: the failed one (two ok, one failed), its revoke, and
  // the retry.
  expect(
    grants[0]!.entries.map((e) => [
      (e as PermissionEntry).action,
      (e as PermissionEntry).table,
      (e as PermissionEntry).result,
    ]),
  ).toEqual([
    ...TABLES.filter((t) => t !== BAD).map((t) => ['grant', t, 'ok']),
    ['grant', BAD, 'failed'],
    ...TABLES.map((t) => ['revoke', t, t === BAD ? 'already' : 'ok']),
    ...TABLES.map((t) => ['grant', t, 'ok']),
  ]);
});

test('a failure whose revoke fails too leaves the request GRANTING, recorded, and the next attempt ends it FAILED holding nothing', async () => {
  const BAD = TABLES[2]!;
  const original = p.ledger.grant.bind(p.ledger);
  const grant = jest.spyOn(p.ledger, 'grant').mockImplementation(async (g) => {
    const done = await original({ ...g, onlyTables: g.tables.filter((t) => t !== BAD) });
    return [
      ...done,
      {
        action: 'grant',
        table: BAD,
        sent: {},
        result: 'failed',
        error: { code: 'EntityNotFoundException', message: 'no such table' },
      },
    ];
  });
  const revoke = jest
    .spyOn(p.ledger, 'revoke')
    .mockRejectedValueOnce(new LakeFormationError('ThrottlingException', 'rate exceeded', false));
  const log = quietQueueLog();

  const principal = role('undo-fails');
  const id = await createPending(principal, BUNDLE);
  await approveInStore(p, id);
  const job: Job = { kind: 'grant', requestId: id };
  const worker = { ...p.deps, ...p.broker };

  // The first attempt cannot take back what it granted: not FAILED while it holds access.
  await expect(runJob(worker, job)).rejects.toThrow('rate exceeded');
  const mid = await history(id, 'bob');
  expect(mid.status).toBe('GRANTING');
  expect(countOf(mid, 'FULFILMENT_FAILED')).toBe(0);
  expect(mid.history.at(-1)).toMatchObject({
    type: 'FULFILMENT_UNDO_FAILED',
    actor: 'meshgate',
    detail: {
      code: 'EntityNotFoundException',
      failedTables: [BAD],
      undoReason: 'rate exceeded',
    },
  });
  expect((await ledgerOf(principal)).map((e) => e.table).sort()).toEqual(
    TABLES.filter((t) => t !== BAD).sort(),
  );
  // It is in flight, so the sweeper hands it back once it has stalled (as the queue redelivers).
  const stalled = await p.store.listInFlightSince(
    new Date(p.deps.clock.now().getTime() + 1).toISOString(),
    { limit: 100 },
  );
  expect(stalled.items.map((x) => x.id)).toContain(id);

  await runJob(worker, job);
  const r = await history(id, 'bob');
  expect(r.status).toBe('FAILED');
  expect(r.failure!.failedTables).toEqual([BAD]);
  expect(await ledgerOf(principal)).toEqual([]);
  expect(grant).toHaveBeenCalledTimes(2);
  expect(revoke).toHaveBeenCalledTimes(2);
  expect(log).not.toHaveBeenCalled();
});

test('a failed extension takes back only what the grant it extends does not hold', async () => {
  const principal = role('extension-fails');
  const { id: firstId, grantId } = await activeGrant(principal);
  const ext = await p.call('alice', 'POST', `/v1/grants/${grantId}/extend`, {
    duration: { value: 1, unit: 'days' },
    purpose: 'longer',
  });
  expect(ext.status).toBe(201);
  // Lake Formation answers the grant (orders held already), then refuses: the undo runs.
  const original = p.ledger.grant.bind(p.ledger);
  jest.spyOn(p.ledger, 'grant').mockImplementationOnce(async (g, progress) => {
    const done = await original(g, progress);
    throw new LakeFormationError('InvalidInputException', 'refused', true, done);
  });
  await approve(ext.body.id);
  await p.queue.onIdle();

  const failed = await history(ext.body.id, 'bob');
  expect(failed.status).toBe('FAILED');
  const revoked = failed.history.find((e) => e.type === 'FULFILMENT_FAILED')!.detail
    .revoked as PermissionEntry[];
  expect(revoked.map((e) => [e.table, e.result, e.error?.code])).toEqual([
    ['orders', 'already', 'KEPT'],
  ]);
  // The grant it extends keeps its permission.
  expect((await history(firstId)).status).toBe('ACTIVE');
  expect(await ledgerOf(principal)).toHaveLength(1);
});

test('worker crash after the Lake Formation call but before the state write', async () => {
  const principal = role('crash');
  const id = await createPending(principal, BUNDLE);
  await approveInStore(p, id);
  const job: Job = { kind: 'grant', requestId: id };
  const lf = countingLakeFormation(p.broker.lakeFormation);

  let crashed = false;
  const crashing: Store = Object.create(p.store, {
    updateRequest: {
      value: async (...args: Parameters<Store['updateRequest']>) => {
        if (!crashed && args[0].id === id && args[0].status === 'ACTIVE') {
          crashed = true;
          throw new Error('worker crashed');
        }
        return p.store.updateRequest(...args);
      },
    },
  });
  await expect(
    runJob({ ...p.deps, ...p.broker, store: crashing, lakeFormation: lf.port }, job),
  ).rejects.toThrow('worker crashed');
  expect(crashed).toBe(true);

  // Lake Formation has the permissions; Meshgate still says GRANTING and has no grant.
  const mid = await history(id);
  expect(mid.status).toBe('GRANTING');
  expect(countOf(mid, 'GRANT_ACTIVE')).toBe(0);
  expect(await grantsFor(id)).toHaveLength(0);
  expect(await ledgerOf(principal)).toHaveLength(3);

  await runJob({ ...p.deps, ...p.broker, lakeFormation: lf.port }, job);

  expect(lf.calls.grant).toBe(2);
  const r = await history(id);
  expect(r.status).toBe('ACTIVE');
  expect(countOf(r, 'FULFILMENT_STARTED')).toBe(1);
  expect(countOf(r, 'GRANT_ACTIVE')).toBe(1);
  expect(countOf(r, 'FULFILMENT_FAILED')).toBe(0);
  // The second run granted again harmlessly: Lake Formation answered "already" for every table.
  const entries = r.history.find((e) => e.type === 'GRANT_ACTIVE')!.detail
    .entries as PermissionEntry[];
  expect(entries.map((e) => e.result)).toEqual(['already', 'already', 'already']);
  const grants = await grantsFor(id);
  expect(grants).toHaveLength(1);
  expect(r.grantId).toBe(grants[0]!.id);
  const ledger = await ledgerOf(principal);
  expect(ledger.map((e) => e.table).sort()).toEqual([...TABLES].sort());
});

test('duplicate job delivery', async () => {
  const principal = role('duplicate');
  const id = await createPending(principal);
  await approveInStore(p, id);
  const grant = jest.spyOn(p.ledger, 'grant');
  await Promise.all([
    p.queue.send({ kind: 'grant', requestId: id }),
    p.queue.send({ kind: 'grant', requestId: id }),
  ]);
  await p.queue.onIdle();

  expect(grant).toHaveBeenCalledTimes(1); // the second delivery found the request ACTIVE already
  const r = await history(id);
  expect(r.status).toBe('ACTIVE');
  expect(countOf(r, 'FULFILMENT_STARTED')).toBe(1);
  expect(countOf(r, 'GRANT_ACTIVE')).toBe(1);
  expect(await grantsFor(id)).toHaveLength(1);
  expect(await ledgerOf(principal)).toHaveLength(1);
});

/** A request of alice's on sales/orders for `principal`, approved by bob and ACTIVE; returns its ids. */
async function activeGrant(principal: string): Promise<{ id: string; grantId: string }> {
  const id = await createPending(principal);
  await approve(id);
  await p.queue.onIdle();
  const r = await history(id);
  expect(r.status).toBe('ACTIVE');
  expect(await ledgerOf(principal)).toHaveLength(1);
  return { id, grantId: r.grantId! };
}

test('revoke that fails then succeeds', async () => {
  const principal = role('revoke');
  const { id, grantId } = await activeGrant(principal);
  const log = quietQueueLog();
  const revoke = jest
    .spyOn(p.ledger, 'revoke')
    .mockRejectedValueOnce(new LakeFormationError('ThrottlingException', 'rate exceeded', false));

  const res = await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, {
    reason: 'project finished',
  });
  expect(res.status).toBe(202);
  await p.queue.onIdle();

  expect(revoke).toHaveBeenCalledTimes(2);
  expect(log).toHaveBeenCalledWith(
    expect.stringContaining(`job revoke ${id} failed (attempt 1, will be delivered again)`),
    expect.any(LakeFormationError),
  );
  const r = await history(id);
  expect(r.status).toBe('REVOKED');
  expect(typesOf(r).slice(5)).toEqual(['REVOKE_REQUESTED', 'REVOKE_FAILED', 'GRANT_REVOKED']);
  expect(r.history.find((e) => e.type === 'REVOKE_FAILED')).toMatchObject({
    actor: 'meshgate',
    detail: { grantId, reason: 'rate exceeded' },
  });
  expect(r.history.find((e) => e.type === 'GRANT_REVOKED')).toMatchObject({
    actor: 'meshgate',
    fromStatus: 'REVOKING',
    toStatus: 'REVOKED',
  });
  expect(await ledgerOf(principal)).toHaveLength(0);
  expect(await p.store.getGrant(grantId)).toMatchObject({
    status: 'REVOKED',
    endReason: 'project finished',
  });
});

test('a revoke that keeps failing gives up after three deliveries, stays REVOKING with each failure recorded, and the next sweep completes it', async () => {
  const principal = role('revoke-stuck');
  const { id, grantId } = await activeGrant(principal);
  const log = quietQueueLog();
  const revoke = jest
    .spyOn(p.ledger, 'revoke')
    .mockRejectedValue(
      new LakeFormationError('AccessDeniedException', 'broker role lost its permission', true),
    );

  expect(
    (await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' })).status,
  ).toBe(202);
  await p.queue.onIdle();

  expect(revoke).toHaveBeenCalledTimes(3);
  expect(log).toHaveBeenLastCalledWith(
    expect.stringContaining(`job revoke ${id} failed (attempt 3, giving up)`),
    expect.any(LakeFormationError),
  );
  const stuck = await history(id);
  expect(stuck.status).toBe('REVOKING');
  expect(countOf(stuck, 'REVOKE_FAILED')).toBe(3);
  expect(await ledgerOf(principal)).toHaveLength(1); // the permission is still there
  expect((await p.store.getGrant(grantId))!.status).toBe('REVOKING');

  // The next sweep hands it to the worker again, which completes once Lake Formation lets it through.
  revoke.mockRestore();
  expect(await expireDue(p.deps)).toEqual([]);
  await p.queue.onIdle();
  const r = await history(id);
  expect(r.status).toBe('REVOKED');
  expect(countOf(r, 'GRANT_REVOKED')).toBe(1);
  expect(await ledgerOf(principal)).toHaveLength(0);
});

test('grants of different permission names on one table each take back their own name', async () => {
  const principal = role('names');
  const whole = { mode: 'all' } as const;
  const select = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/orders', { principal, scope: { permissions: ['SELECT'], columns: whole } }),
  );
  await approve(select.body.id);
  const describe = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/orders', { principal, scope: { permissions: ['DESCRIBE'], columns: whole } }),
  );
  await approve(describe.body.id);
  await p.queue.onIdle();
  const a = await history(select.body.id);
  const b = await history(describe.body.id);
  expect([a.status, b.status]).toEqual(['ACTIVE', 'ACTIVE']);
  // Lake Formation holds one set of names on the table.
  expect((await ledgerOf(principal)).map((e) => [...e.permissions].sort())).toEqual([
    ['DESCRIBE', 'SELECT'],
  ]);

  // Revoking the SELECT grant takes SELECT back; the DESCRIBE grant keeps DESCRIBE.
  await p.call('bob', 'POST', `/v1/grants/${a.grantId}/revoke`, { reason: 'done' });
  await p.queue.onIdle();
  const revoked = await history(select.body.id);
  expect(revoked.status).toBe('REVOKED');
  const entries = revoked.history.find((e) => e.type === 'GRANT_REVOKED')!.detail
    .entries as PermissionEntry[];
  expect(entries.map((e) => [e.table, e.result, e.sent.Permissions])).toEqual([
    ['orders', 'ok', ['SELECT']],
  ]);
  expect((await ledgerOf(principal)).map((e) => e.permissions)).toEqual([['DESCRIBE']]);

  // A grant of both names, revoked while the DESCRIBE grant is active, takes back SELECT alone.
  const both = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/orders', {
      principal,
      scope: { permissions: ['SELECT', 'DESCRIBE'], columns: whole },
    }),
  );
  await approve(both.body.id);
  await p.queue.onIdle();
  const c = await history(both.body.id);
  expect(c.status).toBe('ACTIVE');
  await p.call('bob', 'POST', `/v1/grants/${c.grantId}/revoke`, { reason: 'done' });
  await p.queue.onIdle();
  const cEntries = (await history(both.body.id)).history.find((e) => e.type === 'GRANT_REVOKED')!
    .detail.entries as PermissionEntry[];
  expect(cEntries.map((e) => [e.result, e.error?.code, e.sent.Permissions])).toEqual([
    ['already', 'KEPT', ['DESCRIBE']],
    ['ok', undefined, ['SELECT']],
  ]);
  expect((await ledgerOf(principal)).map((e) => e.permissions)).toEqual([['DESCRIBE']]);

  await p.call('bob', 'POST', `/v1/grants/${b.grantId}/revoke`, { reason: 'done' });
  await p.queue.onIdle();
  expect(await ledgerOf(principal)).toEqual([]);
});

test('the local ledger holds a set of names per principal and resource, as Lake Formation does', async () => {
  const spec = {
    grantId: 'req_ledger',
    accountId: SALES_ACCOUNT,
    region: 'eu-west-1',
    principal: role('ledger'),
    database: 'sales_gold',
    tables: ['orders'],
    permissions: ['SELECT' as const],
    columns: { mode: 'all' as const },
  };
  const results = (entries: PermissionEntry[]) => entries.map((e) => e.result);
  expect(results(await p.ledger.grant(spec))).toEqual(['ok']);
  expect(results(await p.ledger.grant(spec))).toEqual(['already']);
  expect(
    results(await p.ledger.grant({ ...spec, grantId: 'req_other', permissions: ['DESCRIBE'] })),
  ).toEqual(['ok']);
  const rows = await ledgerOf(spec.principal);
  expect(rows.map((e) => [e.grantId, e.permissions])).toEqual([
    ['req_ledger', ['SELECT', 'DESCRIBE']],
  ]);
  // Two workers adding names at once both land.
  await p.ledger.revoke({ ...spec, permissions: ['SELECT', 'DESCRIBE'] });
  await Promise.all([p.ledger.grant(spec), p.ledger.grant({ ...spec, permissions: ['DESCRIBE'] })]);
  expect((await ledgerOf(spec.principal)).map((e) => [...e.permissions].sort())).toEqual([
    ['DESCRIBE', 'SELECT'],
  ]);
  expect(results(await p.ledger.revoke({ ...spec, permissions: ['SELECT'] }))).toEqual(['ok']);
  expect(results(await p.ledger.revoke({ ...spec, permissions: ['SELECT'] }))).toEqual(['already']);
  expect((await ledgerOf(spec.principal)).map((e) => e.permissions)).toEqual([['DESCRIBE']]);
  expect(results(await p.ledger.revoke({ ...spec, permissions: ['DESCRIBE'] }))).toEqual(['ok']);
  expect(await ledgerOf(spec.principal)).toEqual([]);
});
