import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import type { AuditEvent, DataProduct, Grant } from '../../functions/domain/model';
import type { TableGrant } from '../../functions/ports/lakeformation';
import { tableGrantFor } from '../../functions/usecases/fulfilment';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';
import { movingClock, type MovingClock } from '../support/clock';

// Catalog sync and Lake Formation reconciliation of the sales domain, through the API.

const SALES_ACCOUNT = '111111111111';

/**
 * A clock the tests move by hand. It starts at the real current second, not at a fixed date:
 * dev-login tokens are stamped with this clock but checked against the real one.
 */
let clock: MovingClock;
let p: TestPortal;
const start = async () => {
  clock = movingClock();
  p = await startPortal({ clock });
};
const stop = async () => {
  jest.restoreAllMocks();
  await p.close();
};

/** The permissions `principal` holds on a table of the sales account. */
const ledgerOf = async (principal: string, table: string) =>
  (await p.ledger.list(SALES_ACCOUNT)).filter(
    (e) => e.principal === principal && e.table === table,
  );
/** A demo product's table is its name. */
const tableOf = (productId: string) => productId.split('/')[1]!;

async function status(id: string): Promise<string> {
  const res = await p.call('alice', 'GET', `/v1/requests/${id}`);
  expect(res.status).toBe(200);
  return res.body.status;
}

/** alice's request for `productId` with `principal`, approved by bob (and carol for restricted data) and ACTIVE; returns it with its grant. */
async function activeGrant(
  productId: string,
  principal: string,
): Promise<{ id: string; grant: Grant }> {
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest(productId, { principal }),
  );
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  if (created.body.classification === 'restricted')
    expect(
      (await p.call('carol', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
    ).toBe(200);
  await p.queue.onIdle();
  const r = await p.call('alice', 'GET', `/v1/requests/${id}`);
  expect(r.body.status).toBe('ACTIVE');
  const grant = (await p.store.getGrant(r.body.grantId))!;
  expect(await ledgerOf(principal, tableOf(productId))).toHaveLength(1);
  return { id, grant };
}

async function revoked(
  productId: string,
  principal: string,
): Promise<{ id: string; grant: Grant }> {
  const { id, grant } = await activeGrant(productId, principal);
  expect(
    (await p.call('bob', 'POST', `/v1/grants/${grant.id}/revoke`, { reason: 'done' })).status,
  ).toBe(202);
  await p.queue.onIdle();
  expect(await status(id)).toBe('REVOKED');
  expect(await ledgerOf(principal, tableOf(productId))).toHaveLength(0);
  return { id, grant: (await p.store.getGrant(grant.id))! };
}

/** What Meshgate grants in Lake Formation for a grant (as the worker and the reconciler compute it). */
const specOf = (g: Grant): Promise<TableGrant> =>
  tableGrantFor(p.deps, {
    id: g.requestId,
    productId: g.productId,
    domain: g.domain,
    principal: g.principal,
    scope: g.scope,
  });

/** Audit events of a domain of one type, as auditor dave reads them (every page). */
async function auditOf(type: string, domain = 'sales'): Promise<AuditEvent[]> {
  // `to` is exclusive, and the clock stands still: read up to a second after it.
  const to = new Date(clock.t.getTime() + 1000).toISOString();
  const out: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const qs = new URLSearchParams({ domain, to, limit: '1000', ...(cursor ? { cursor } : {}) });
    const res = await p.call('dave', 'GET', `/v1/audit?${qs}`);
    expect(res.status).toBe(200);
    out.push(...res.body.items);
    cursor = res.body.cursor;
  } while (cursor);
  return out.filter((e) => e.type === type);
}

describe('catalog sync', () => {
  beforeAll(start);
  afterAll(stop);

  const FORECAST: DataProduct = {
    id: 'sales/pipeline_forecast',
    domain: 'sales',
    name: 'pipeline_forecast',
    title: 'Pipeline forecast',
    description: 'Weighted pipeline forecast per region and quarter.',
    owner: 'bob',
    classification: 'internal',
    tags: ['pipeline', 'forecast'],
    location: { catalogId: SALES_ACCOUNT, database: 'sales_gold', table: 'pipeline_forecast' },
    columns: [
      { name: 'region', type: 'string', pii: false },
      { name: 'forecast_eur', type: 'decimal(14,2)', pii: false },
    ],
    freshness: 'Weekly',
    status: 'ACTIVE',
  };

  test('a sync with nothing new reports every product unchanged', async () => {
    const res = await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/sync');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      domain: 'sales',
      added: [],
      updated: [],
      retired: [],
      unchanged: 3,
    });
    const synced = await auditOf('DOMAIN_SYNCED');
    expect(synced).toHaveLength(1);
    expect(synced[0]).toMatchObject({ actor: 'bob', domain: 'sales', detail: res.body });
  });

  test('only the domain owners and admins may sync', async () => {
    for (const who of ['alice', 'sam', 'dave', 'fiona']) {
      const res = await viaWorker(p, () => p.queue.onIdle(), who, '/v1/domains/sales/sync');
      expect([who, res.status]).toEqual([who, 403]);
    }
    expect(
      (await viaWorker(p, () => p.queue.onIdle(), 'erin', '/v1/domains/sales/sync')).status,
    ).toBe(200);
    expect(
      (await viaWorker(p, () => p.queue.onIdle(), 'erin', '/v1/domains/nowhere/sync')).status,
    ).toBe(404);
  });

  test('a product gone from the catalog is retired and a new one added; grants on the retired one are not touched', async () => {
    const leads = await activeGrant('sales/leads', 'arn:aws:iam::555555555555:role/sync-leads');
    const before = (await p.store.getRequest(leads.id))!;

    p.catalog.set([...DEMO_PRODUCTS.filter((x) => x.id !== 'sales/leads'), FORECAST]);
    const res = await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/sync');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      domain: 'sales',
      added: [FORECAST.id],
      updated: [],
      retired: ['sales/leads'],
      unchanged: 2,
    });
    // Each change carries its own audit event, written with it.
    expect((await auditOf('PRODUCT_RETIRED')).map((e) => [e.productId, e.actor])).toEqual([
      ['sales/leads', 'bob'],
    ]);
    expect((await auditOf('PRODUCT_ADDED')).map((e) => e.productId)).toEqual([FORECAST.id]);

    const product = await p.call('alice', 'GET', '/v1/products/sales/leads');
    expect(product.status).toBe(200);
    expect(product.body.status).toBe('RETIRED');
    const refused = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/leads'));
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('PRODUCT_RETIRED');

    // The existing grant on the retired product: same request, same grant, same permission.
    expect(await p.store.getRequest(leads.id)).toEqual(before);
    expect(await p.store.getGrant(leads.grant.id)).toEqual(leads.grant);
    expect(await ledgerOf(leads.grant.principal, 'leads')).toHaveLength(1);

    // The new product can be requested.
    expect((await p.call('alice', 'GET', `/v1/products/${FORECAST.id}`)).body.status).toBe(
      'ACTIVE',
    );
    expect(
      (
        await p.call(
          'alice',
          'POST',
          '/v1/requests',
          newRequest(FORECAST.id, { principal: 'arn:aws:iam::555555555555:role/sync-forecast' }),
        )
      ).status,
    ).toBe(201);

    // Syncing again changes nothing: leads is retired already.
    const again = await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/sync');
    expect(again.body).toEqual({
      domain: 'sales',
      added: [],
      updated: [],
      retired: [],
      unchanged: 3,
    });
    // The first sync's report is in the trail once, naming its operation.
    expect(
      (await auditOf('DOMAIN_SYNCED'))
        .filter((e) => e.detail.operationId === res.operation!.id)
        .map((e) => e.detail),
    ).toEqual([{ operationId: res.operation!.id, attempt: 1, ...res.body }]);

    // The grant on the retired product can still be ended.
    expect(
      (
        await p.call('bob', 'POST', `/v1/grants/${leads.grant.id}/revoke`, {
          reason: 'product retired',
        })
      ).status,
    ).toBe(202);
    await p.queue.onIdle();
    expect(await status(leads.id)).toBe('REVOKED');
    expect(await ledgerOf(leads.grant.principal, 'leads')).toHaveLength(0);
  });
});

describe('reconciliation', () => {
  beforeAll(start);
  afterAll(stop);

  // Each test uses its own principal, so that the permissions of one test's grants are not those
  // of another's (Lake Formation knows principal and resource, not which request made them).
  const role = (name: string) => `arn:aws:iam::555555555555:role/${name}`;

  async function reconcile(as = 'bob') {
    const runs = (await auditOf('DOMAIN_RECONCILED')).length;
    const res = await viaWorker(p, () => p.queue.onIdle(), as, '/v1/domains/sales/reconcile');
    expect(res.status).toBe(200);
    const events = await auditOf('DOMAIN_RECONCILED');
    expect(events).toHaveLength(runs + 1);
    expect(events.at(-1)).toMatchObject({ actor: as, domain: 'sales', detail: res.body });
    return res.body;
  }

  const expectClean = (report: {
    missing: unknown[];
    stray: unknown[];
    foreign: unknown[];
    unresolved: unknown[];
  }) => {
    expect(report.missing).toEqual([]);
    expect(report.stray).toEqual([]);
    expect(report.foreign).toEqual([]);
    expect(report.unresolved).toEqual([]);
  };

  test('a clean domain reports nothing', async () => {
    await activeGrant('sales/orders', role('clean'));
    await revoked('sales/regional_targets', role('clean'));
    const report = await reconcile();
    expectClean(report);
    expect(report).toMatchObject({
      domain: 'sales',
      at: clock.t.toISOString(),
      checked: {
        permissions: (await p.ledger.list(SALES_ACCOUNT)).length,
        grants: (await p.store.listGrantsByDomain('sales')).length,
      },
    });
  });

  test('missing: an ACTIVE grant whose permission is gone is granted again', async () => {
    const { id, grant } = await activeGrant('sales/orders', role('missing'));
    const before = (await p.store.getRequest(id))!;
    await p.ledger.revoke(await specOf(grant));
    expect(await ledgerOf(role('missing'), 'orders')).toHaveLength(0);

    const report = await reconcile();
    expect(report.missing).toEqual([
      expect.objectContaining({
        kind: 'missing',
        principal: role('missing'),
        grantId: grant.id,
        requestId: id,
        table: 'orders',
        action: 'granted again',
        result: 'ok',
      }),
    ]);
    expect(report.stray).toEqual([]);
    expect(report.foreign).toEqual([]);
    expect(await ledgerOf(role('missing'), 'orders')).toHaveLength(1);
    expect(await p.store.getRequest(id)).toEqual(before);

    expectClean(await reconcile());
  });

  test('missing: a grant whose row filter no longer parses is not granted again; the repair fails and nothing reaches Lake Formation', async () => {
    const { grant } = await activeGrant('sales/orders', role('bad-filter'));
    // As a grant stored before filters were parsed would be: raw text that the parser refuses.
    const doc = documentClient(p.client);
    const item = (
      await doc.send(
        new GetCommand({ TableName: 'meshgate', Key: { pk: `GRANT#${grant.id}`, sk: 'META' } }),
      )
    ).Item!;
    await doc.send(
      new PutCommand({
        TableName: 'meshgate',
        Item: { ...item, scope: { ...item.scope, rowFilter: "region = 'EMEA' OR 1=1" } },
      }),
    );
    await p.ledger.revoke(await specOf(grant));
    const sent: unknown[] = [];
    const real = p.broker.lakeFormation;
    p.broker.lakeFormation = {
      ...real,
      listPermissions: (a) => real.listPermissions(a),
      revoke: (g) => real.revoke(g),
      grant: (g) => (sent.push(g), real.grant(g)),
    };
    try {
      const report = await reconcile();
      expect(report.missing).toEqual([
        expect.objectContaining({
          grantId: grant.id,
          action: 'granted again',
          result: 'failed',
          error: expect.stringMatching(/row filter/i),
        }),
      ]);
    } finally {
      p.broker.lakeFormation = real;
    }
    expect(sent).toEqual([]);
    expect(await ledgerOf(role('bad-filter'), 'orders')).toHaveLength(0);
    await doc.send(new PutCommand({ TableName: 'meshgate', Item: item })); // as it was, for the tests after this one
    await p.ledger.grant(await specOf(grant));
  });

  test('stray: a REVOKED grant whose permission is back is revoked', async () => {
    const { id, grant } = await revoked('sales/orders', role('stray'));
    await p.ledger.grant(await specOf(grant));
    expect(await ledgerOf(role('stray'), 'orders')).toHaveLength(1);

    const report = await reconcile();
    expect(report.stray).toEqual([
      expect.objectContaining({
        kind: 'stray',
        principal: role('stray'),
        grantId: grant.id,
        requestId: id,
        table: 'orders',
        action: 'revoked',
        result: 'ok',
      }),
    ]);
    expect(report.missing).toEqual([]);
    expect(report.foreign).toEqual([]);
    expect(await ledgerOf(role('stray'), 'orders')).toHaveLength(0);
    expect(await status(id)).toBe('REVOKED');

    expectClean(await reconcile());
  });

  test('foreign: a permission Meshgate did not make is reported and left alone', async () => {
    const dba: TableGrant = {
      grantId: 'granted-by-hand',
      accountId: SALES_ACCOUNT,
      region: 'eu-west-1',
      principal: 'arn:aws:iam::999999999999:role/dba',
      database: 'sales_gold',
      tables: ['orders'],
      permissions: ['SELECT'],
      columns: { mode: 'all' },
    };
    await p.ledger.grant(dba);
    try {
      for (let run = 0; run < 2; run++) {
        const report = await reconcile();
        expect(report.foreign).toEqual([
          {
            kind: 'foreign',
            principal: dba.principal,
            resource: {
              Table: { CatalogId: SALES_ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' },
            },
            permissions: ['SELECT'],
            action: 'reported only',
          },
        ]);
        expect(report.missing).toEqual([]);
        expect(report.stray).toEqual([]);
        expect(await ledgerOf(dba.principal, 'orders')).toHaveLength(1);
      }
    } finally {
      await p.ledger.revoke(dba);
    }
    expectClean(await reconcile());
  });

  test('a grant being revoked (REVOKING) is left to the worker', async () => {
    const { id, grant } = await activeGrant('sales/orders', role('in-flight'));
    jest.spyOn(console, 'error').mockImplementation(() => {});
    const failing = jest
      .spyOn(p.ledger, 'revoke')
      .mockRejectedValue(new Error('Lake Formation unavailable'));
    expect(
      (await p.call('bob', 'POST', `/v1/grants/${grant.id}/revoke`, { reason: 'done' })).status,
    ).toBe(202);
    await p.queue.onIdle();
    failing.mockRestore();
    expect(await status(id)).toBe('REVOKING');
    expect(await ledgerOf(role('in-flight'), 'orders')).toHaveLength(1);

    expectClean(await reconcile());
    expect(await ledgerOf(role('in-flight'), 'orders')).toHaveLength(1);
  });

  test('each run appends a DOMAIN_RECONCILED audit event, and only owners and admins may run it', async () => {
    const runs = (await auditOf('DOMAIN_RECONCILED')).length;
    await reconcile('bob');
    await reconcile('erin');
    const events = await auditOf('DOMAIN_RECONCILED');
    expect(events).toHaveLength(runs + 2);
    expect(events.slice(-2).map((e) => e.actor)).toEqual(['bob', 'erin']);

    for (const who of ['alice', 'sam', 'dave', 'fiona']) {
      const res = await viaWorker(p, () => p.queue.onIdle(), who, '/v1/domains/sales/reconcile');
      expect([who, res.status]).toEqual([who, 403]);
    }
    expect((await auditOf('DOMAIN_RECONCILED')).length).toBe(runs + 2);
  });
});
