// Row filters through the API: parsed against the product's columns where they enter (a request,
// a preview, a narrowing, an extension), stored and sent to Lake Formation in canonical form, and
// a bad one is a 400 ROW_FILTER_INVALID that writes nothing.

import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import type { AccessRequest, DataProduct } from '../../functions/domain/model';
import { newRequest, startPortal, type TestPortal } from '../support/portal';
import { viaWorker } from '../support/operations';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

const SALES_ACCOUNT = '111111111111';
const withFilter = (rowFilter: string, over: Record<string, unknown> = {}) =>
  newRequest('sales/orders', {
    scope: { permissions: ['SELECT'], columns: { mode: 'all' }, rowFilter },
    ...over,
  });

/** What a refused call must leave as it was: alice's requests, and every event of the sales chain. */
async function state() {
  const requests = await p.store
    .listRequests([{ requester: 'alice' }], { limit: 500 })
    .then((x) => x.items);
  return {
    requests: requests.map((r) => `${r.id}:${r.status}:${r.version}`).sort(),
    salesChain: (await p.store.listChain('sales')).length,
    ledger: (await p.ledger.list(SALES_ACCOUNT)).length,
  };
}

function expectRowFilterRefusal(
  res: {
    status: number;
    body: { error?: { code: string; message: string; details?: Record<string, unknown> } };
  },
  position: number | null,
) {
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({
    code: 'ROW_FILTER_INVALID',
    message: expect.stringMatching(/^Invalid row filter/),
    details: { position },
  });
  if (position !== null) expect(res.body.error!.message).toContain(`at position ${position}:`);
}

async function history(id: string) {
  const r = await p.call('erin', 'GET', `/v1/requests/${id}`);
  expect(r.status).toBe(200);
  return r.body as AccessRequest & { history: { type: string; detail: Record<string, unknown> }[] };
}

/** The filter expression the worker sent to Lake Formation for a request, from its GRANT_ACTIVE event. */
async function sentFilter(id: string): Promise<unknown> {
  const active = (await history(id)).history.find((e) => e.type === 'GRANT_ACTIVE');
  const entries = (active?.detail.entries ?? []) as {
    action: string;
    sent: { RowFilter?: { FilterExpression: string } };
  }[];
  return entries.find((e) => e.action === 'create-filter')?.sent.RowFilter?.FilterExpression;
}

describe('a bad row filter is a 400 ROW_FILTER_INVALID, and nothing is written', () => {
  test.each([
    ['a second statement', '1=1; DROP TABLE x', 1],
    ['an always-true condition with a comment', "region = 'EU' OR 1=1 --", 18],
    ['a sub-query concatenated to a literal', "region = 'a' || (SELECT secret FROM t)", 14],
    ['a sub-query in an IN list', 'region IN (SELECT region FROM orders)', 12],
    ['a function', "lower(region) = 'emea'", 1],
    ['a column the product does not have', "country = 'FR'", 1],
    ['a column compared with a column', 'amount > amount_eur', 10],
    ['a string compared with a decimal column', "amount > 'lots'", 10],
    ['a date column, which row filters cannot use', "order_date > '2026-01-01'", 1],
    ['an unclosed string', "region = 'EMEA", 10],
    ['an unclosed parenthesis', "(region = 'EMEA'", 17],
    ['a NUL outside a literal', "region = 'EMEA'\u0000", 16],
  ])('POST /v1/requests: %s', async (_label, rowFilter, position) => {
    const before = await state();
    const res = await p.call('alice', 'POST', '/v1/requests', withFilter(rowFilter));
    expectRowFilterRefusal(res, position);
    expect(await state()).toEqual(before);
  });

  test('half of a surrogate pair, which no text the API takes may hold, is refused before the filter is parsed', async () => {
    const before = await state();
    const res = await p.call('alice', 'POST', '/v1/requests', withFilter("region = 'EM\udc00EA'"));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message:
        'scope.rowFilter: must be well-formed Unicode text (it holds half of a surrogate pair)',
    });
    expect(await state()).toEqual(before);
  });

  test('POST /v1/requests/preview answers the same refusal', async () => {
    const { productId, scope, duration } = withFilter("region = 'EMEA' OR 1=1 --");
    const res = await p.call('alice', 'POST', '/v1/requests/preview', {
      productId,
      scope,
      duration,
    });
    expectRowFilterRefusal(res, 20);
  });

  test('the refusal comes before policy: an auditor, whom policy refuses, is told about the filter and nothing is recorded', async () => {
    const before = await state();
    const res = await p.call('dave', 'POST', '/v1/requests', withFilter('amount = amount_eur'));
    expectRowFilterRefusal(res, 10);
    expect(await state()).toEqual(before);
  });
});

describe('a good row filter is stored and sent in canonical form', () => {
  test('personal-data columns a filter tests count as touched, even when they are not returned', async () => {
    const scope = {
      permissions: ['SELECT'],
      columns: { mode: 'include', columns: ['lead_id', 'company'] },
      rowFilter: "email LIKE '%@example.com' AND region = 'EMEA'",
    };
    const res = await p.call('alice', 'POST', '/v1/requests/preview', {
      productId: 'sales/leads',
      scope,
      duration: { value: 7, unit: 'days' },
    });
    expect(res.status).toBe(200);
    expect(res.body.piiColumns).toEqual(['email']);
    const none = await p.call('alice', 'POST', '/v1/requests/preview', {
      productId: 'sales/leads',
      scope: { ...scope, rowFilter: "region = 'EMEA'" },
      duration: { value: 7, unit: 'days' },
    });
    expect(none.body.piiColumns).toEqual([]);
  });

  test('preview shows the scope as it would be stored', async () => {
    const { productId, scope, duration } = withFilter(
      "Region='EMEA' and amount>=100 or channel in('web','partner')",
    );
    const res = await p.call('alice', 'POST', '/v1/requests/preview', {
      productId,
      scope,
      duration,
    });
    expect(res.status).toBe(200);
    expect(res.body.scope.rowFilter).toBe(
      `("region" = 'EMEA' AND "amount" >= 100) OR "channel" IN ('web', 'partner')`,
    );
  });

  test('positions count from the first character sent, blanks included', async () => {
    const res = await p.call('alice', 'POST', '/v1/requests', withFilter("   region = 'EMEA' AND"));
    expectRowFilterRefusal(res, 23);
  });

  test('request, audit event, grant and the Lake Formation data cells filter all carry the canonical text', async () => {
    const canonical = `"region" = 'EMEA' AND "channel" <> 'partner'`;
    const created = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      withFilter("  REGION = 'EMEA'   AND channel != 'partner' "),
    );
    expect(created.status).toBe(201);
    expect(created.body.scope.rowFilter).toBe(canonical);
    const id = created.body.id as string;
    expect(
      (await history(id)).history.find((e) => e.type === 'REQUEST_CREATED')!.detail.scope,
    ).toMatchObject({ rowFilter: canonical });

    expect(
      (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
    ).toBe(200);
    await p.queue.onIdle();
    const done = await history(id);
    expect(done.status).toBe('ACTIVE');
    expect(await sentFilter(id)).toBe(canonical);
    const grant = (await p.call('alice', 'GET', '/v1/grants')).body.items.find(
      (g: { requestId: string }) => g.requestId === id,
    );
    expect(grant.scope.rowFilter).toBe(canonical);
  });
});

describe('approval narrowing', () => {
  async function pending(rowFilter?: string) {
    const res = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      rowFilter ? withFilter(rowFilter) : newRequest('sales/orders'),
    );
    expect(res.status).toBe(201);
    return res.body as AccessRequest;
  }

  test('a bad narrowed filter is a 400 ROW_FILTER_INVALID and changes nothing', async () => {
    const r = await pending();
    const before = { ...(await state()), version: (await history(r.id)).version };
    const res = await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, {
      comment: 'only EMEA',
      narrowedScope: {
        permissions: ['SELECT'],
        columns: { mode: 'all' },
        rowFilter: "region = 'EMEA'; DELETE FROM orders",
      },
    });
    expectRowFilterRefusal(res, 16);
    expect({ ...(await state()), version: (await history(r.id)).version }).toEqual(before);
  });

  test('an approver may add a filter, or AND a condition to the requested one; it is stored and granted in canonical form', async () => {
    const added = await pending();
    const res = await p.call('bob', 'POST', `/v1/requests/${added.id}/approve`, {
      comment: 'only EMEA',
      narrowedScope: {
        permissions: ['SELECT'],
        columns: { mode: 'all' },
        rowFilter: "region='EMEA'",
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.stages[0].approvals[0].narrowedScope.rowFilter).toBe(`"region" = 'EMEA'`);

    const anded = await pending("channel = 'web'");
    const res2 = await p.call('bob', 'POST', `/v1/requests/${anded.id}/approve`, {
      comment: 'and only EMEA',
      narrowedScope: {
        permissions: ['SELECT'],
        columns: { mode: 'all' },
        rowFilter: "region = 'EMEA' and CHANNEL = 'web'",
      },
    });
    expect(res2.status).toBe(200);
    await p.queue.onIdle();
    expect(await sentFilter(added.id)).toBe(`"region" = 'EMEA'`);
    expect(await sentFilter(anded.id)).toBe(`"region" = 'EMEA' AND "channel" = 'web'`);
  });

  test('an approver may not change or drop a condition of the requested filter: 422 NOT_NARROWER', async () => {
    const r = await pending("channel = 'web'");
    const res = await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, {
      comment: 'wider',
      narrowedScope: {
        permissions: ['SELECT'],
        columns: { mode: 'all' },
        rowFilter: "channel = 'web' OR channel = 'partner'",
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('NOT_NARROWER');
    expect((await history(r.id)).status).toBe('PENDING');
  });
});

describe('extensions and catalog changes', () => {
  const ORDERS = DEMO_PRODUCTS.find((x) => x.id === 'sales/orders')!;
  /** sales/orders without its `channel` column, as a catalog change might leave it. */
  const withoutChannel: DataProduct = {
    ...ORDERS,
    columns: ORDERS.columns.filter((c) => c.name !== 'channel'),
  };

  async function syncSales(products: DataProduct[]) {
    p.catalog.set(products);
    expect(
      (await viaWorker(p, () => p.queue.onIdle(), 'bob', '/v1/domains/sales/sync')).status,
    ).toBe(200);
  }
  afterEach(() => syncSales(DEMO_PRODUCTS));

  test('an extension carries the canonical filter, and is refused once the filter no longer fits the product', async () => {
    const created = (await p.call('alice', 'POST', '/v1/requests', withFilter("channel='web'")))
      .body as AccessRequest;
    await p.call('bob', 'POST', `/v1/requests/${created.id}/approve`, { comment: 'ok' });
    await p.queue.onIdle();
    const grantId = (await history(created.id)).grantId!;

    const ext = await p.call('alice', 'POST', `/v1/grants/${grantId}/extend`, {
      duration: { value: 3, unit: 'days' },
      purpose: 'longer study',
    });
    expect(ext.status).toBe(201);
    expect(ext.body.scope.rowFilter).toBe(`"channel" = 'web'`);
    expect((await p.call('alice', 'POST', `/v1/requests/${ext.body.id}/cancel`)).status).toBe(200);

    await syncSales([withoutChannel, ...DEMO_PRODUCTS.filter((x) => x.id !== ORDERS.id)]);
    const before = await state();
    const refused = await p.call('alice', 'POST', `/v1/grants/${grantId}/extend`, {
      duration: { value: 3, unit: 'days' },
      purpose: 'longer study',
    });
    expectRowFilterRefusal(refused, 1);
    expect(refused.body.error.message).toContain('unknown column "channel"');
    expect(await state()).toEqual(before);
  });

  test('the worker checks the filter again: one that a catalog change broke fails the request and never reaches Lake Formation', async () => {
    const created = (await p.call('alice', 'POST', '/v1/requests', withFilter("channel = 'web'")))
      .body as AccessRequest;
    await syncSales([withoutChannel, ...DEMO_PRODUCTS.filter((x) => x.id !== ORDERS.id)]);
    const ledgerBefore = (await p.ledger.list(SALES_ACCOUNT)).length;
    const grant = jest.spyOn(p.ledger, 'grant');
    try {
      expect(
        (await p.call('bob', 'POST', `/v1/requests/${created.id}/approve`, { comment: 'ok' }))
          .status,
      ).toBe(200);
      await p.queue.onIdle();
      expect(grant).not.toHaveBeenCalled();
    } finally {
      grant.mockRestore();
    }
    const failed = await history(created.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure).toMatchObject({
      code: 'ROW_FILTER_INVALID',
      reason: expect.stringContaining('unknown column "channel"'),
    });
    expect((await p.ledger.list(SALES_ACCOUNT)).length).toBe(ledgerBefore);
  });
});
