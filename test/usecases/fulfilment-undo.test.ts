import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LakeFormationError, type PermissionEntry } from '../../functions/ports/lakeformation';
import { countEntries } from '../../functions/domain/entries';
import { runJob } from '../../functions/usecases/fulfilment';
import { approveInStore, newRequest, startPortal, type TestPortal } from '../support/portal';

// The undo of a failed grant (a FAILED request holds nothing) against the real embedded portal:
// races between two deliveries of one job and between two requests of one principal, a refused
// undo, a product of 1,000 tables, and the local ledger's conditional writes.

const SALES_ACCOUNT = '111111111111';
const BUNDLE = 'sales/undo_bundle';
const BIG = 'sales/undo_big';
const BIG_TABLES = Array.from(
  { length: 1000 },
  (_, i) => `events_part_${String(i).padStart(4, '0')}`,
);

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
  const base = (await p.store.getProduct('sales/orders'))!;
  await p.store.putProduct({
    ...base,
    id: BUNDLE,
    name: 'undo_bundle',
    location: { ...base.location, table: 'orders', tables: ['orders', 'refunds'] },
  });
  await p.store.putProduct({
    ...base,
    id: BIG,
    name: 'undo_big',
    location: { ...base.location, table: BIG_TABLES[0]!, tables: BIG_TABLES },
  });
});
afterAll(() => p.close());
afterEach(() => jest.restoreAllMocks());

const role = (name: string) => `arn:aws:iam::555555555555:role/${name}`;
const worker = () => ({ ...p.deps, ...p.broker });
const ledgerOf = async (principal: string) =>
  (await p.ledger.list(SALES_ACCOUNT)).filter((e) => e.principal === principal);

/** The data cells filters of a request in the local ledger (table|name). */
async function filtersOf(requestId: string): Promise<string[]> {
  const ledger = p.ledger as unknown as {
    doc: { send: (c: QueryCommand) => Promise<{ Items?: { sk: string }[] }> };
    tableName: string;
  };
  const out = await ledger.doc.send(
    new QueryCommand({
      TableName: ledger.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `LFFILTER#${SALES_ACCOUNT}` },
    }),
  );
  return (out.Items ?? [])
    .map((i) => i.sk)
    .filter((sk) => sk.endsWith(requestId))
    .sort();
}

/** APPROVED straight in the store, so that no job runs until the test runs it. */
async function approved(productId: string, principal: string): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId, { principal }));
  expect(res.status).toBe(201);
  return (await approveInStore(p, res.body.id)).id;
}

/** A grant that grants every table but the last, which fails. */
const failingLast = (original: typeof p.ledger.grant) =>
  (async (g, progress) => {
    const tables = g.onlyTables ?? g.tables;
    const done = await original({ ...g, onlyTables: tables.slice(0, -1) }, progress);
    const failed: PermissionEntry = {
      action: 'grant',
      table: tables.at(-1)!,
      sent: {},
      result: 'failed',
      error: { code: 'EntityNotFoundException', message: 'no such table' },
    };
    return [...done, failed];
  }) as typeof p.ledger.grant;

test('a product of 1,000 tables: one failed table is recorded FAILED (bounded), and the retry ends ACTIVE', async () => {
  const principal = role('undo-big');
  const id = await approved(BIG, principal);
  const original = p.ledger.grant.bind(p.ledger);
  jest.spyOn(p.ledger, 'grant').mockImplementationOnce(failingLast(original));
  await runJob(worker(), { kind: 'grant', requestId: id });
  const failed = (await p.store.getRequest(id))!;
  expect(failed.status).toBe('FAILED');
  expect(failed.failure?.failedTables).toEqual([BIG_TABLES.at(-1)]);
  expect(await ledgerOf(principal)).toEqual([]);
  const event = (await p.store.listRequestAudit(id)).find((e) => e.type === 'FULFILMENT_FAILED')!;
  expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(200 * 1024);
  expect(countEntries(event.detail.entries as unknown[])).toEqual({
    grant: { ok: 999, failed: 1 },
  });
  expect(countEntries(event.detail.revoked as unknown[])).toEqual({
    revoke: { ok: 999, already: 1 },
  });
  // Only the failure is recorded entry by entry.
  expect(
    (event.detail.entries as { result: string }[]).filter((e) => e.result === 'failed'),
  ).toHaveLength(1);

  expect((await p.call('bob', 'POST', `/v1/requests/${id}/retry`, {})).status).toBe(202);
  await p.queue.onIdle();
  await runJob(worker(), { kind: 'grant', requestId: id });
  const active = (await p.store.getRequest(id))!;
  expect(active.status).toBe('ACTIVE');
  expect(await ledgerOf(principal)).toHaveLength(1000);
  const grant = (await p.store.getGrant(active.grantId!))!;
  expect(Buffer.byteLength(JSON.stringify(grant))).toBeLessThan(200 * 1024);
  // And its revoke ends, its record bounded too.
  expect(
    (await p.call('bob', 'POST', `/v1/grants/${grant.id}/revoke`, { reason: 'done' })).status,
  ).toBe(202);
  await p.queue.onIdle();
  expect((await p.store.getRequest(id))!.status).toBe('REVOKED');
  expect(await ledgerOf(principal)).toEqual([]);
}, 120_000);

test.each([
  ['whole tables', undefined],
  ['a row filter', "region = 'EMEA'"],
])(
  'two deliveries of one job (%s): the one that fails and undoes after the other went ACTIVE grants again',
  async (_, rowFilter) => {
    const principal = role(`undo-race-${rowFilter ? 'filter' : 'whole'}`);
    const res = await p.call('alice', 'POST', '/v1/requests', {
      ...newRequest(BUNDLE, { principal }),
      scope: {
        permissions: ['SELECT'],
        columns: { mode: 'all' },
        ...(rowFilter ? { rowFilter } : {}),
      },
    });
    expect(res.status).toBe(201);
    const id = (await approveInStore(p, res.body.id)).id;
    const job = { kind: 'grant' as const, requestId: id };
    const originalGrant = p.ledger.grant.bind(p.ledger);
    const originalRevoke = p.ledger.revoke.bind(p.ledger);
    // Delivery A: orders granted, refunds fails.
    jest
      .spyOn(p.ledger, 'grant')
      .mockImplementationOnce(failingLast(originalGrant))
      .mockImplementation(originalGrant);
    let bRan = false;
    jest.spyOn(p.ledger, 'revoke').mockImplementation(async (g) => {
      if (!bRan) {
        bRan = true;
        // Delivery B (a duplicate, or the sweeper) runs to ACTIVE while A undoes.
        await runJob(worker(), job);
        expect((await p.store.getRequest(id))!.status).toBe('ACTIVE');
        expect(await ledgerOf(principal)).toHaveLength(2);
      }
      return originalRevoke(g);
    });
    await runJob(worker(), job);
    const r = (await p.store.getRequest(id))!;
    expect(r.status).toBe('ACTIVE');
    expect((await ledgerOf(principal)).map((e) => e.table).sort()).toEqual(['orders', 'refunds']);
    // The data cells filters the grant goes on are there again.
    if (rowFilter)
      expect(await filtersOf(id)).toEqual([
        `sales_gold.orders|meshgate-${id}`,
        `sales_gold.refunds|meshgate-${id}`,
      ]);
    const trail = await p.store.listRequestAudit(id);
    expect(trail.map((e) => e.type)).toContain('GRANT_RESTORED');
  },
);

test('two deliveries of one job: an undo that fails part way after the other went ACTIVE grants again', async () => {
  const principal = role('undo-race-refused');
  const id = await approved(BUNDLE, principal);
  const job = { kind: 'grant' as const, requestId: id };
  const originalGrant = p.ledger.grant.bind(p.ledger);
  const originalRevoke = p.ledger.revoke.bind(p.ledger);
  jest
    .spyOn(p.ledger, 'grant')
    .mockImplementationOnce(failingLast(originalGrant))
    .mockImplementation(originalGrant);
  jest.spyOn(p.ledger, 'revoke').mockImplementationOnce(async (g) => {
    await runJob(worker(), job); // B: ACTIVE
    // A's revoke takes orders, then is throttled past the adapter's retries.
    await originalRevoke({ ...g, onlyTables: ['orders'] });
    throw new LakeFormationError('ThrottlingException', 'rate exceeded', false);
  });
  await runJob(worker(), job);
  expect((await p.store.getRequest(id))!.status).toBe('ACTIVE');
  expect((await ledgerOf(principal)).map((e) => e.table).sort()).toEqual(['orders', 'refunds']);
  const types = (await p.store.listRequestAudit(id)).map((e) => e.type);
  expect(types).toContain('GRANT_RESTORED');
  expect(types).not.toContain('FULFILMENT_UNDO_FAILED');
});

test('two requests of one principal: the failing one never takes what the other, granted meanwhile, needs', async () => {
  const principal = role('undo-two-requests');
  const bundle = await approved(BUNDLE, principal);
  const single = await approved('sales/orders', principal);
  const original = p.ledger.grant.bind(p.ledger);
  const originalRevoke = p.ledger.revoke.bind(p.ledger);
  const failing = failingLast(original);
  jest.spyOn(p.ledger, 'grant').mockImplementationOnce(failing).mockImplementation(original);
  let once = true;
  jest.spyOn(p.ledger, 'revoke').mockImplementation(async (g) => {
    if (once) {
      once = false;
      await runJob(worker(), { kind: 'grant', requestId: single });
    }
    return originalRevoke(g);
  });
  await runJob(worker(), { kind: 'grant', requestId: bundle });
  expect((await p.store.getRequest(bundle))!.status).toBe('FAILED');
  expect((await p.store.getRequest(single))!.status).toBe('ACTIVE');
  expect((await ledgerOf(principal)).map((e) => [e.table, e.permissions])).toEqual([
    ['orders', ['SELECT']],
  ]);
});

test('two requests of one principal: one that went ACTIVE while the revoke ran gets back what it needs', async () => {
  const principal = role('undo-two-requests-late');
  const bundle = await approved(BUNDLE, principal);
  const original = p.ledger.grant.bind(p.ledger);
  const originalRevoke = p.ledger.revoke.bind(p.ledger);
  const failing = failingLast(original);
  jest.spyOn(p.ledger, 'grant').mockImplementationOnce(failing).mockImplementation(original);
  let single: string | undefined;
  jest.spyOn(p.ledger, 'revoke').mockImplementation(async (g) => {
    if (!single) {
      // Approved after the undo chose what to keep, and ACTIVE just before its revoke (its grant
      // 'already').
      single = await approved('sales/orders', principal);
      await runJob(worker(), { kind: 'grant', requestId: single });
    }
    return originalRevoke(g);
  });
  await runJob(worker(), { kind: 'grant', requestId: bundle });
  expect((await p.store.getRequest(bundle))!.status).toBe('FAILED');
  expect((await p.store.getRequest(single!))!.status).toBe('ACTIVE');
  expect((await ledgerOf(principal)).map((e) => [e.table, e.permissions])).toEqual([
    ['orders', ['SELECT']],
  ]);
});

test('Lake Formation refusing the grant itself: nothing to undo, FAILED at once with the refusal', async () => {
  const principal = role('undo-refused');
  const id = await approved('sales/orders', principal);
  const denied = () =>
    new LakeFormationError(
      'AccessDeniedException',
      'Insufficient Lake Formation permission(s) on orders',
      true,
    );
  jest.spyOn(p.ledger, 'grant').mockImplementation(async () => {
    throw denied();
  });
  const revoke = jest.spyOn(p.ledger, 'revoke').mockImplementation(async () => {
    throw denied();
  });
  await runJob(worker(), { kind: 'grant', requestId: id });
  const r = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body;
  expect(r.status).toBe('FAILED');
  expect(r.failure.code).toBe('AccessDeniedException');
  expect(revoke).not.toHaveBeenCalled();
  expect((await p.call('bob', 'POST', `/v1/requests/${id}/retry`, {})).status).toBe(202);
});

test('a grant error that may have come after the grant was applied (throttling past the retries) is undone', async () => {
  const principal = role('undo-ambiguous');
  const id = await approved('sales/orders', principal);
  const original = p.ledger.grant.bind(p.ledger);
  jest
    .spyOn(p.ledger, 'grant')
    .mockImplementationOnce(async (g) => {
      await original(g); // applied (before any progress note); the answer lost, retries throttled
      throw new LakeFormationError('ThrottlingException', 'Rate exceeded', false, []);
    })
    .mockImplementation(original);
  await runJob(worker(), { kind: 'grant', requestId: id }).catch(() => undefined);
  const r = (await p.store.getRequest(id))!;
  expect(r.status).toBe('FAILED');
  expect(await ledgerOf(principal)).toEqual([]);
});

test('an undo refused after a partial grant: GRANTING with the failure shown, recorded once per reason', async () => {
  const principal = role('undo-stuck');
  const id = await approved(BUNDLE, principal);
  const original = p.ledger.grant.bind(p.ledger);
  jest.spyOn(p.ledger, 'grant').mockImplementation(failingLast(original));
  jest.spyOn(p.ledger, 'revoke').mockImplementation(async () => {
    throw new LakeFormationError('AccessDeniedException', 'Insufficient permission(s)', true);
  });
  for (let i = 0; i < 4; i++)
    await expect(runJob(worker(), { kind: 'grant', requestId: id })).rejects.toThrow(
      'Insufficient',
    );
  const r = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body;
  expect(r.status).toBe('GRANTING');
  expect(r.failure.reason).toMatch(/not yet undone/);
  const undo = r.history.filter((e: { type: string }) => e.type === 'FULFILMENT_UNDO_FAILED');
  expect(undo).toHaveLength(1);
  // Once the undo goes through, the request fails holding nothing.
  jest.restoreAllMocks();
  jest.spyOn(p.ledger, 'grant').mockImplementation(failingLast(original));
  await runJob(worker(), { kind: 'grant', requestId: id });
  expect((await p.store.getRequest(id))!.status).toBe('FAILED');
  expect(await ledgerOf(principal)).toEqual([]);
});

test('ledger: a stale conditional write never brings back a name revoked (row made again)', async () => {
  const spec = {
    grantId: 'req_aba',
    accountId: SALES_ACCOUNT,
    region: 'eu-west-1',
    principal: role('undo-aba'),
    database: 'sales_gold',
    tables: ['orders'],
    permissions: ['SELECT' as const],
    columns: { mode: 'all' as const },
  };
  await p.ledger.grant(spec);
  const ledger = p.ledger as unknown as { read: (key: unknown) => Promise<unknown> };
  const read = ledger.read.bind(ledger);
  let first = true;
  jest.spyOn(ledger, 'read').mockImplementation(async (key: unknown) => {
    const got = await read(key);
    if (first) {
      first = false;
      // Meanwhile SELECT is revoked (the row goes) and DESCRIBE granted (a new row).
      await p.ledger.revoke(spec);
      await p.ledger.grant({ ...spec, permissions: ['DESCRIBE'] });
    }
    return got;
  });
  // A grant of DESCRIBE that read {SELECT} before all that.
  await p.ledger.grant({ ...spec, permissions: ['DESCRIBE'] });
  expect((await ledgerOf(spec.principal)).map((e) => e.permissions)).toEqual([['DESCRIBE']]);
});

test('a scope now refused (DESCRIBE with a column list) that an earlier attempt granted is revoked before it fails', async () => {
  const principal = role('undo-describe-cols');
  const res = await p.call('alice', 'POST', '/v1/requests', {
    ...newRequest('sales/orders', { principal }),
    scope: { permissions: ['SELECT'], columns: { mode: 'include', columns: ['order_id'] } },
  });
  expect(res.status).toBe(201);
  const r = (await p.store.getRequest(res.body.id))!;
  // Stored before DESCRIBE was refused with a column list, and granted by an attempt that
  // crashed after noting its progress.
  const scope = { ...r.scope, permissions: ['SELECT' as const, 'DESCRIBE' as const] };
  const now = p.deps.clock.now().toISOString();
  await p.store.updateRequest(
    {
      ...r,
      scope,
      status: 'GRANTING',
      progress: { done: 1, total: 1, at: now },
      updatedAt: now,
      version: r.version + 1,
    },
    { status: r.status, version: r.version },
    [],
  );
  await p.ledger.grant({
    grantId: r.id,
    accountId: SALES_ACCOUNT,
    region: 'eu-west-1',
    principal,
    database: 'sales_gold',
    tables: ['orders'],
    permissions: scope.permissions,
    columns: scope.columns,
  });
  expect(await ledgerOf(principal)).toHaveLength(1);
  await runJob(worker(), { kind: 'grant', requestId: r.id });
  const failed = (await p.store.getRequest(r.id))!;
  expect(failed.status).toBe('FAILED');
  expect(failed.failure?.code).toBe('DESCRIBE_NEEDS_WHOLE_TABLE');
  expect(await ledgerOf(principal)).toEqual([]);
});

test.each([
  // Not even a progress note: a worker with no word of what it did.
  ['an error of unknown origin', () => new Error('socket hang up'), false],
  // The progress noted says the attempt got that far.
  [
    'a refusal that does not say what it granted',
    () => new LakeFormationError('AccessDeniedException', 'refused', true),
    true,
  ],
] as const)(
  'a grant that fails after granting, with %s, is undone before it fails',
  async (_, error, noted) => {
    const principal = role(`undo-unknown-${String(noted)}`);
    const id = await approved(BUNDLE, principal);
    const original = p.ledger.grant.bind(p.ledger);
    jest.spyOn(p.ledger, 'grant').mockImplementationOnce(async (g, progress) => {
      await original({ ...g, onlyTables: ['orders'] }, noted ? progress : undefined);
      throw error();
    });
    await runJob(worker(), { kind: 'grant', requestId: id });
    expect((await p.store.getRequest(id))!.status).toBe('FAILED');
    expect(await ledgerOf(principal)).toEqual([]);
  },
);

describe('names kept for a request in flight (NAMES_KEPT)', () => {
  const denied = () =>
    new LakeFormationError(
      'AccessDeniedException',
      'Insufficient Lake Formation permission(s)',
      true,
    );

  /** `single` ACTIVE (SELECT on orders), then the bundle (orders, refunds) approved, in flight. */
  async function activeThenInFlight(name: string) {
    const principal = role(name);
    const single = await approved('sales/orders', principal);
    await runJob(worker(), { kind: 'grant', requestId: single });
    const grantId = (await p.store.getRequest(single))!.grantId!;
    const bundle = await approved(BUNDLE, principal);
    return { principal, single, grantId, bundle };
  }

  async function revokeGrant(single: string, grantId: string) {
    const res = await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' });
    expect(res.status).toBe(202);
    await runJob(worker(), { kind: 'revoke', requestId: single });
  }

  const auditTypes = async (id: string) => (await p.store.listRequestAudit(id)).map((e) => e.type);

  test('a revoke keeps what a request in flight needs and records it there; refused outright, that request revokes it', async () => {
    const { principal, single, grantId, bundle } = await activeThenInFlight('kept-then-refused');
    await revokeGrant(single, grantId);
    expect((await p.store.getRequest(single))!.status).toBe('REVOKED');
    // Kept for the bundle, which needs SELECT on orders, and recorded on it.
    expect((await ledgerOf(principal)).map((e) => [e.table, e.permissions])).toEqual([
      ['orders', ['SELECT']],
    ]);
    const inFlight = (await p.store.getRequest(bundle))!;
    expect(inFlight.status).toBe('APPROVED');
    expect(inFlight.keptNames).toEqual([{ names: ['SELECT'], tables: ['orders'] }]);
    expect(await auditTypes(bundle)).toContain('NAMES_KEPT');
    // Shown on the request (its answer is checked against the OpenAPI schema).
    const shown = await p.call('alice', 'GET', `/v1/requests/${bundle}`);
    expect(shown.body.keptNames).toEqual([{ names: ['SELECT'], tables: ['orders'] }]);

    // Lake Formation refuses the bundle's grant outright: it applied nothing, yet what was kept
    // for it goes (and nothing else: refunds was never granted by Meshgate).
    jest.spyOn(p.ledger, 'grant').mockImplementation(async () => {
      throw denied();
    });
    const revoke = jest.spyOn(p.ledger, 'revoke');
    await runJob(worker(), { kind: 'grant', requestId: bundle });
    const failed = (await p.store.getRequest(bundle))!;
    expect(failed.status).toBe('FAILED');
    expect(failed.keptNames).toBeUndefined();
    expect(revoke.mock.calls.map(([g]) => g.onlyTables)).toEqual([['orders']]);
    expect(await ledgerOf(principal)).toEqual([]);
  });

  test('a request in flight that failed before the names were recorded on it keeps nothing (the in-flight index lagging)', async () => {
    const { principal, single, grantId, bundle } = await activeThenInFlight('kept-index-lag');
    const stale = (await p.store.getRequest(bundle))!;
    jest.spyOn(p.ledger, 'grant').mockImplementationOnce(async () => {
      throw denied();
    });
    await runJob(worker(), { kind: 'grant', requestId: bundle });
    expect((await p.store.getRequest(bundle))!.status).toBe('FAILED');
    // The index still lists it in flight, as it read before the failure.
    jest
      .spyOn(p.store, 'listInFlightSince')
      .mockResolvedValue({ items: [{ ...stale, status: 'GRANTING' }] });
    await revokeGrant(single, grantId);
    expect(await ledgerOf(principal)).toEqual([]);
    expect(await auditTypes(bundle)).not.toContain('NAMES_KEPT');
  });

  test('two requests in flight failing at once, each keeping the names for the other: the later to fail takes them back', async () => {
    const { principal, single, grantId, bundle } = await activeThenInFlight('kept-both-fail');
    const other = await approved(BUNDLE, principal);
    await revokeGrant(single, grantId);
    const seen = (await p.store.getRequest(bundle))!;
    expect(seen.keptNames).toEqual([{ names: ['SELECT'], tables: ['orders'] }]);
    jest.spyOn(p.ledger, 'grant').mockImplementation(async () => {
      throw denied();
    });
    await runJob(worker(), { kind: 'grant', requestId: bundle });
    expect((await p.store.getRequest(bundle))!.status).toBe('FAILED');
    // Kept for the other, still in flight.
    expect((await ledgerOf(principal)).map((e) => e.table)).toEqual(['orders']);
    // The other fails having read the first as it was just before its failure (the race): it
    // keeps orders for it, recorded there already, so nothing is written and nothing conflicts.
    const getRequest = p.store.getRequest.bind(p.store);
    let first = true;
    jest.spyOn(p.store, 'getRequest').mockImplementation(async (id) => {
      if (id === bundle && first) {
        first = false;
        return { ...seen, status: 'GRANTING' };
      }
      return getRequest(id);
    });
    jest
      .spyOn(p.store, 'listInFlightSince')
      .mockResolvedValue({ items: [{ ...seen, status: 'GRANTING' }] });
    await runJob(worker(), { kind: 'grant', requestId: other });
    expect((await getRequest(other))!.status).toBe('FAILED');
    expect(await ledgerOf(principal)).toEqual([]);
    expect(await auditTypes(other)).toContain('STRAY_GRANT_REMOVED');
  });

  test('names recorded on a request while it is granted: its activation comes back and ends ACTIVE with all it asked for', async () => {
    const { principal, single, grantId, bundle } = await activeThenInFlight('kept-while-granting');
    const original = p.ledger.grant.bind(p.ledger);
    jest.spyOn(p.ledger, 'grant').mockImplementationOnce(async (g, progress) => {
      // The revoke runs while the bundle is GRANTING: it keeps orders for it, and records that.
      await revokeGrant(single, grantId);
      return original(g, progress);
    });
    await expect(runJob(worker(), { kind: 'grant', requestId: bundle })).rejects.toThrow(
      /changed since it was read/,
    );
    const granting = (await p.store.getRequest(bundle))!;
    expect(granting.status).toBe('GRANTING');
    expect(granting.keptNames).toEqual([{ names: ['SELECT'], tables: ['orders'] }]);
    await runJob(worker(), { kind: 'grant', requestId: bundle });
    const active = (await p.store.getRequest(bundle))!;
    expect(active.status).toBe('ACTIVE');
    expect(active.keptNames).toBeUndefined();
    expect((await ledgerOf(principal)).map((e) => [e.table, e.permissions])).toEqual([
      ['orders', ['SELECT']],
      ['refunds', ['SELECT']],
    ]);
  });

  test('names recorded on a request as its grant starts: the start comes back, and the next delivery ends ACTIVE', async () => {
    const { principal, single, grantId, bundle } = await activeThenInFlight('kept-at-start');
    // The worker reads the bundle APPROVED; the revoke then keeps orders for it (its version
    // moves), before the worker's write that starts the grant.
    const getRequest = p.store.getRequest.bind(p.store);
    let first = true;
    jest.spyOn(p.store, 'getRequest').mockImplementation(async (id) => {
      if (id !== bundle || !first) return getRequest(id);
      first = false;
      const read = await getRequest(id);
      await revokeGrant(single, grantId);
      return read;
    });
    await expect(runJob(worker(), { kind: 'grant', requestId: bundle })).rejects.toThrow(
      /changed since it was read/,
    );
    const approvedStill = (await getRequest(bundle))!;
    expect(approvedStill.status).toBe('APPROVED');
    expect(approvedStill.keptNames).toEqual([{ names: ['SELECT'], tables: ['orders'] }]);
    await runJob(worker(), { kind: 'grant', requestId: bundle });
    expect((await getRequest(bundle))!.status).toBe('ACTIVE');
    expect((await ledgerOf(principal)).map((e) => e.table)).toEqual(['orders', 'refunds']);
  });

  test('names recorded on a request while its failed attempt undoes: the failure comes back, and the next delivery fails it holding nothing', async () => {
    const { principal, single, grantId, bundle } = await activeThenInFlight('kept-while-undoing');
    const partly = failingLast(p.ledger.grant.bind(p.ledger));
    let first = true;
    jest.spyOn(p.ledger, 'grant').mockImplementation(async (g, progress) => {
      const entries = await partly(g, progress);
      // orders granted, refunds failed; the revoke keeps orders for the bundle meanwhile.
      if (first) await revokeGrant(single, grantId);
      first = false;
      return entries;
    });
    // The attempt undoes what it granted, and its FAILED write meets the names recorded: the job
    // comes back rather than ending with the request left GRANTING.
    await expect(runJob(worker(), { kind: 'grant', requestId: bundle })).rejects.toThrow(
      /changed since it was read/,
    );
    const granting = (await p.store.getRequest(bundle))!;
    expect(granting.status).toBe('GRANTING');
    expect(granting.keptNames).toEqual([{ names: ['SELECT'], tables: ['orders'] }]);
    expect(await auditTypes(bundle)).not.toContain('GRANT_RESTORED');
    await runJob(worker(), { kind: 'grant', requestId: bundle });
    expect((await p.store.getRequest(bundle))!.status).toBe('FAILED');
    expect(await ledgerOf(principal)).toEqual([]);
  });
});

test('a worker killed after granting part of a big product, before its first progress note: the next delivery, refused outright, revokes what it granted', async () => {
  const principal = role('undo-killed-before-note');
  const id = await approved(BIG, principal);
  const original = p.ledger.grant.bind(p.ledger);
  // The first delivery grants ten tables (1,000 tables are noted every fiftieth) and is killed:
  // it never answers, nothing after runs.
  jest.spyOn(p.ledger, 'grant').mockImplementationOnce(async (g) => {
    await original({ ...g, onlyTables: BIG_TABLES.slice(0, 10) });
    return new Promise<never>(() => {});
  });
  void runJob(worker(), { kind: 'grant', requestId: id });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await ledgerOf(principal)).toHaveLength(10);
  expect((await p.store.getRequest(id))!.progress).toMatchObject({ done: 0, total: 1000 });

  jest.spyOn(p.ledger, 'grant').mockImplementation(async () => {
    throw new LakeFormationError('AccessDeniedException', 'Insufficient permissions', true);
  });
  await runJob(worker(), { kind: 'grant', requestId: id });
  expect((await p.store.getRequest(id))!.status).toBe('FAILED');
  expect(await ledgerOf(principal)).toEqual([]);
});
