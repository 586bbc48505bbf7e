import type { AuditEvent } from '../../functions/domain/model';
import { REPORT_MAX_BYTES } from '../../functions/domain/operations';
import type { LfPermission } from '../../functions/ports/lakeformation';
import { viaWorker } from '../support/operations';
import { movingClock } from '../support/clock';
import { startPortal, type TestPortal } from '../support/portal';

// A reconciliation whose report is larger than a DynamoDB item (400 KB): thousands of foreign
// permissions, as in an account whose Lake Formation is managed by hand as well. Its report is
// stored twice in the transaction that finishes the operation, so it is bounded
// (domain/operations.ts boundReport): the operation still succeeds, its report event is recorded
// once, and both hold the same report, its lists cut, with the count left out of each.

const SALES_ACCOUNT = '111111111111';
const FOREIGN = 4000;

let p: TestPortal;
const clock = movingClock();
beforeAll(async () => {
  p = await startPortal({ clock });
});
afterAll(() => p.close());

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
    const events = (audit.body.items as AuditEvent[]).filter((e) => e.type === 'DOMAIN_RECONCILED');
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
