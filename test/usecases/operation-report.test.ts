import type { AuditEvent } from '../../functions/domain/model';
import { REPORT_MAX_BYTES } from '../../functions/domain/operations';
import type { LfPermission } from '../../functions/ports/lakeformation';
import {
  DEFAULT_OPERATION_STALLED_AFTER_MS,
  runOperation,
} from '../../functions/usecases/operation-runs';
import { viaWorker } from '../support/operations';
import { movingClock } from '../support/clock';
import { startPortal, type TestPortal } from '../support/portal';

// The report of a sync or reconciliation is written in the one transaction that finishes its
// operation (the operation SUCCEEDED with its report, its lock released, the report event and
// OPERATION_SUCCEEDED), so that a worker stopped at any instant leaves both or neither
// (operation-crash*.test.ts stop it at every write).
//
// A reconciliation whose report is larger than a DynamoDB item (400 KB): thousands of foreign
// permissions, as in an account whose Lake Formation is managed by hand as well. Its report is
// stored twice in that transaction, so it is bounded (domain/operations.ts boundReport): the
// operation still succeeds, its report event is recorded once, and both hold the same report,
// its lists cut, with the count left out of each.

const SALES_ACCOUNT = '111111111111';
const FOREIGN = 4000;

let p: TestPortal;
const clock = movingClock();
beforeAll(async () => {
  p = await startPortal({ clock });
});
afterAll(() => p.close());

/** An attribute as the middleware sees it: marshalled ({ S: ... }) or not. */
const str = (v: any) => (typeof v === 'string' ? v : typeof v?.S === 'string' ? v.S : undefined); // eslint-disable-line @typescript-eslint/no-explicit-any

/** The TransactWriteItems sent, each as its items' kinds and the audit event types it puts. */
const transactions: Array<{ items: string[]; events: string[] }> = [];
beforeAll(() => {
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') {
        const items = (args.input as { TransactItems: Array<Record<string, any>> }).TransactItems; // eslint-disable-line @typescript-eslint/no-explicit-any
        transactions.push({
          items: items.map((t) => {
            const [kind, body] = Object.entries(t)[0]!;
            const pk = str(body.Item?.pk) ?? str(body.Key?.pk) ?? '';
            return `${kind} ${pk.split('#')[0]}`;
          }),
          events: items.flatMap((t) =>
            t.Put?.Item?.kind && str(t.Put.Item.kind) === 'audit' ? [str(t.Put.Item.type)!] : [],
          ),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordTransactions' },
  );
});

test.each([
  ['sync', 'DOMAIN_SYNCED'],
  ['reconcile', 'DOMAIN_RECONCILED'],
])(
  'the %s report is written in the transaction that finishes the operation',
  async (kind, type) => {
    transactions.length = 0;
    const res = await viaWorker(p, () => p.queue.onIdle(), 'bob', `/v1/domains/sales/${kind}`);
    expect(res.status).toBe(200);
    const withReport = transactions.filter((t) => t.events.includes(type));
    expect(withReport).toEqual([
      {
        items: ['Put OPERATION', 'Delete OPLOCK', 'Put AUDIT', 'Put AUDIT', 'Put CHAIN'],
        events: [type, 'OPERATION_SUCCEEDED'],
      },
    ]);
  },
);

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

test('a report over the item size is stored bounded, with its event, once', async () => {
  const real = p.broker.lakeFormation;
  const handMade: LfPermission[] = Array.from({ length: FOREIGN }, (_, i) => ({
    principal: `arn:aws:iam::999999999999:role/granted-by-hand-${String(i).padStart(5, '0')}`,
    resource: {
      Table: { CatalogId: SALES_ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' },
    },
    permissions: ['SELECT', 'DESCRIBE'],
    permissionsWithGrantOption: [],
  }));
  p.broker.lakeFormation = {
    grant: (g) => real.grant(g),
    revoke: (g) => real.revoke(g),
    listPermissions: async (a) => [...(await real.listPermissions(a)), ...handMade],
  };
  try {
    const res = await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/reconcile');
    expect(res.status).toBe(200);
    const report = res.body as { foreign: unknown[]; omitted: Record<string, number> };
    expect(bytes(report)).toBeLessThanOrEqual(REPORT_MAX_BYTES);
    expect(report.foreign.length).toBeGreaterThan(500);
    expect(report.omitted).toEqual({ foreign: FOREIGN - report.foreign.length });
    expect(report.foreign[0]).toMatchObject({
      kind: 'foreign',
      principal: handMade[0]!.principal,
      action: 'reported only',
    });

    const to = new Date(clock.t.getTime() + 1000).toISOString();
    const audit = await p.call('dave', 'GET', `/v1/audit?domain=sales&to=${to}&limit=1000`);
    const events = (audit.body.items as AuditEvent[]).filter(
      (e) => e.type === 'DOMAIN_RECONCILED' && e.detail.operationId === res.operation.id,
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toEqual({
      operationId: res.operation.id,
      attempt: 1,
      ...report,
    });
  } finally {
    p.broker.lakeFormation = real;
  }
});

/** Where a worker is held: `entered()` settles `inside`; the worker awaits `gate` until `release()`. */
function holdPoint() {
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { inside, entered, gate, release };
}

describe.each(['sync', 'reconcile'] as const)('a late worker on a %s', (kind) => {
  test('that another took over records no second report', async () => {
    // Worker A (the queue's) stops in the domain's catalog or Lake Formation listing until
    // released; worker B, the job delivered again once the operation counts as stalled, takes it
    // over and finishes it; then A goes on to its end.
    const { inside, entered, gate, release } = holdPoint();
    const hold = async <T>(call: () => Promise<T>) => {
      entered();
      await gate;
      return call();
    };
    const real = { catalog: p.broker.catalog, lakeFormation: p.broker.lakeFormation };
    p.broker.catalog = { listProducts: (d, a) => hold(() => real.catalog.listProducts(d, a)) };
    p.broker.lakeFormation = {
      grant: (g) => real.lakeFormation.grant(g),
      revoke: (g) => real.lakeFormation.revoke(g),
      listPermissions: (a) => hold(() => real.lakeFormation.listPermissions(a)),
    };
    try {
      const start = await p.call('bob', 'POST', `/v1/domains/sales/${kind}`);
      expect(start.status).toBe(202);
      const id = start.body.operation.id as string;
      await inside;
      clock.advance(DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
      await runOperation({ ...p.deps, ...p.broker, ...real }, id);
      expect(await p.operations.get(id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
      release();
      await p.queue.onIdle();

      const op = (await p.operations.get(id))!;
      expect(op).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
      const chain = (await p.store.listChain('sales')).filter((e) => e.detail.operationId === id);
      expect(chain.map((e) => e.type)).toEqual([
        'OPERATION_STARTED',
        'OPERATION_RESUMED',
        kind === 'sync' ? 'DOMAIN_SYNCED' : 'DOMAIN_RECONCILED',
        'OPERATION_SUCCEEDED',
      ]);
      expect(chain[2]!.detail).toEqual({ operationId: id, attempt: 2, ...op.report });
    } finally {
      release();
      Object.assign(p.broker, real);
    }
  });
});

test('a late worker on a sync that another finished stops at its next progress note', async () => {
  // Worker A (the queue's) read the catalog before a change (its listing is stale) and stops
  // there; worker B takes the operation over and syncs the catalog as it is. Released, A must not
  // write its stale products over B's: its first progress note is refused (the operation is at
  // attempt 2), so it stops before its first product.
  const { inside, entered, gate, release } = holdPoint();
  const real = p.broker.catalog;
  p.broker.catalog = {
    listProducts: async (d, a) => {
      const listed = await real.listProducts(d, a);
      entered();
      await gate;
      return listed.map((prod) => ({ ...prod, title: `${prod.title} (as it was)` }));
    },
  };
  try {
    const start = await p.call('bob', 'POST', '/v1/domains/sales/sync');
    expect(start.status).toBe(202);
    const id = start.body.operation.id as string;
    await inside;
    clock.advance(DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
    await runOperation({ ...p.deps, ...p.broker, catalog: real }, id);
    release();
    await p.queue.onIdle();

    expect(await p.operations.get(id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    const chain = await p.store.listChain('sales');
    const succeeded = chain.findIndex(
      (e) => e.type === 'OPERATION_SUCCEEDED' && e.detail.operationId === id,
    );
    expect(succeeded).toBeGreaterThanOrEqual(0);
    expect(chain.slice(succeeded + 1).map((e) => e.type)).toEqual([]);
    const products = await p.store.listProducts('sales');
    expect(products.length).toBeGreaterThan(0);
    expect(products.filter((prod) => prod.title.endsWith('(as it was)'))).toEqual([]);
  } finally {
    release();
    p.broker.catalog = real;
  }
});

test('a progress note counts only for the attempt running the operation, not for the one it took over from', async () => {
  const { inside, entered, gate, release } = holdPoint();
  const real = p.broker.catalog;
  p.broker.catalog = {
    listProducts: async (d, a) => (entered(), await gate, real.listProducts(d, a)),
  };
  try {
    const start = await p.call('bob', 'POST', '/v1/domains/sales/sync');
    const id = start.body.operation.id as string;
    await inside;
    const first = (await p.operations.get(id))!;
    expect(first).toMatchObject({ status: 'RUNNING', attempts: 1 });
    // Another worker takes it over (attempt 2), as runOperation does; both are RUNNING.
    await p.operations.update({ ...first, attempts: 2, version: first.version + 1 }, first);
    const note = { unit: 'products' as const, done: 0, total: 1, at: clock.now().toISOString() };
    expect(await p.operations.recordProgress(id, 1, note)).toBe(false);
    expect(await p.operations.recordProgress(id, 2, note)).toBe(true);
    p.broker.catalog = real;
    release();
    await p.queue.onIdle();
    // Worker A stopped at its first note; the operation is attempt 2's to finish (or the sweeper's).
    expect(await p.operations.get(id)).toMatchObject({ status: 'RUNNING', attempts: 2 });
    // The sweeper's takeover finishes it, so the domain is free for what follows.
    clock.advance(DEFAULT_OPERATION_STALLED_AFTER_MS + 1000);
    await runOperation({ ...p.deps, ...p.broker }, id);
    expect(await p.operations.get(id)).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
  } finally {
    release();
    p.broker.catalog = real;
  }
});
