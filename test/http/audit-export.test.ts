import { CSV_COLUMNS } from '../../functions/domain/export-format';
import type { AuditEvent as Event } from '../../functions/domain/model';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

const clock = {
  t: new Date('2026-06-01T10:00:00Z'),
  now() {
    return this.t;
  },
};
let p: TestPortal;

/** A raw GET as `user`: status, headers and the body as text. */
async function get(user: string, path: string) {
  const res = await p.app.request(path, {
    headers: { authorization: `Bearer ${await p.token(user)}` },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const jsonl = (text: string): Event[] =>
  text
    .split('\n')
    .filter((l, i, all) => l !== '' || i !== all.length - 1)
    .map((l) => JSON.parse(l) as Event);

/** CSV lines (the body ends with CRLF; the journeys' values hold no line breaks). */
const csvLines = (text: string) => text.split('\r\n').slice(0, -1);

async function exported(query: string): Promise<Event[]> {
  const r = await get(
    'dave',
    `/v1/audit/export?format=jsonl&from=2026-05-01T00:00:00.000Z&to=2026-07-01T00:00:00.000Z${query}`,
  );
  expect(r.status).toBe(200);
  return jsonl(r.text);
}

const J: { granted: string; grantId: string; finance: string; denied: string } = {
  granted: '',
  grantId: '',
  finance: '',
  denied: '',
};

beforeAll(async () => {
  p = await startPortal({ clock });
  // 1 June: alice asks for sales/orders, bob approves, Lake Formation grants it.
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  expect(created.status).toBe(201);
  J.granted = created.body.id;
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${J.granted}/approve`, { comment: 'for Q3' }))
      .status,
  ).toBe(200);
  await p.queue.onIdle();
  J.grantId = (await p.call('alice', 'GET', `/v1/requests/${J.granted}`)).body.grantId;
  // 3 June: a public finance product is approved automatically; bob denies sales/leads.
  clock.t = new Date('2026-06-03T10:00:00Z');
  p.resetTokens();
  const fx = await p.call('alice', 'POST', '/v1/requests', newRequest('finance/fx_rates'));
  J.finance = fx.body.id;
  await p.queue.onIdle();
  const leads = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/leads'));
  J.denied = leads.body.id;
  expect(
    (
      await p.call('bob', 'POST', `/v1/requests/${J.denied}/deny`, {
        reason: 'use the aggregated view',
      })
    ).status,
  ).toBe(200);
  clock.t = new Date('2026-06-05T10:00:00Z');
  p.resetTokens();
});
afterAll(() => p.close());

describe('GET /v1/audit/export', () => {
  test('CSV: the header, then one row per event, as an attachment', async () => {
    const r = await get(
      'dave',
      '/v1/audit/export?from=2026-05-01T00:00:00.000Z&to=2026-07-01T00:00:00.000Z',
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="meshgate-audit-2026-05-01T000000.000Z-2026-07-01T000000.000Z.csv"',
    );
    const lines = csvLines(r.text);
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const rows = lines.slice(1);
    // Every event of the journeys has its row, and the row count matches the JSON Lines export.
    const all = await exported('');
    expect(rows).toHaveLength(all.length);
    for (const id of [J.granted, J.finance, J.denied])
      expect(rows.some((l) => l.includes(`,${id},`))).toBe(true);
    expect(
      rows.some((l) => l.includes(',GRANT_ACTIVE,meshgate,sales,') && l.includes(J.granted)),
    ).toBe(true);
    expect(rows.some((l) => l.includes(',REQUEST_DENIED,bob,sales,'))).toBe(true);
  });

  test('JSON Lines: every line parses, and holds the journeys in order', async () => {
    const r = await get(
      'dave',
      '/v1/audit/export?format=jsonl&from=2026-05-01T00:00:00.000Z&to=2026-07-01T00:00:00.000Z',
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(
      /^attachment; filename="meshgate-audit-.+\.jsonl"$/,
    );
    expect(r.text.endsWith('\n')).toBe(true);
    const events = jsonl(r.text);
    for (const e of events)
      expect(Object.keys(e).slice(0, 5)).toEqual(['at', 'id', 'type', 'actor', 'domain']);
    const granted = events.filter((e) => e.requestId === J.granted).map((e) => e.type);
    expect(granted).toEqual([
      'REQUEST_CREATED',
      'APPROVAL_RECORDED',
      'REQUEST_APPROVED',
      'FULFILMENT_STARTED',
      'GRANT_ACTIVE',
    ]);
    expect(events.filter((e) => e.requestId === J.denied).map((e) => e.type)).toContain(
      'REQUEST_DENIED',
    );
    expect(events.filter((e) => e.requestId === J.finance).map((e) => e.type)).toContain(
      'GRANT_ACTIVE',
    );
  });

  test('the filters each narrow the export', async () => {
    const all = await exported('');
    const sales = await exported('&domain=sales');
    expect(sales.length).toBeGreaterThan(0);
    expect(sales.length).toBeLessThan(all.length);
    expect(sales.every((e) => e.domain === 'sales')).toBe(true);
    expect(sales.map((e) => e.id).sort()).toEqual(
      all
        .filter((e) => e.domain === 'sales')
        .map((e) => e.id)
        .sort(),
    );

    const bob = await exported('&actor=bob');
    expect(bob.length).toBeGreaterThan(0);
    expect(bob.every((e) => e.actor === 'bob')).toBe(true);
    expect(bob.length).toBe(all.filter((e) => e.actor === 'bob').length);

    const fx = await exported('&product=finance/fx_rates');
    expect(fx.length).toBeGreaterThan(0);
    expect(fx.every((e) => e.productId === 'finance/fx_rates')).toBe(true);
    expect(fx.map((e) => e.requestId)).toContain(J.finance);

    const two = await exported('&type=GRANT_ACTIVE,REQUEST_DENIED');
    expect(new Set(two.map((e) => e.type))).toEqual(new Set(['GRANT_ACTIVE', 'REQUEST_DENIED']));
    expect(two.length).toBe(
      all.filter((e) => e.type === 'GRANT_ACTIVE' || e.type === 'REQUEST_DENIED').length,
    );

    const combined = await exported('&domain=sales&actor=meshgate&type=GRANT_ACTIVE');
    expect(combined.map((e) => e.requestId)).toEqual([J.granted]);

    // The window: 1 June alone has the first journey and none of the 3 June ones.
    const first = await get(
      'dave',
      '/v1/audit/export?format=jsonl&from=2026-06-01T00:00:00.000Z&to=2026-06-02T00:00:00.000Z',
    );
    const day1 = jsonl(first.text);
    expect(day1.some((e) => e.requestId === J.granted)).toBe(true);
    expect(day1.some((e) => e.requestId === J.finance || e.requestId === J.denied)).toBe(false);
    expect(
      day1.every((e) => e.at >= '2026-06-01T00:00:00.000Z' && e.at < '2026-06-02T00:00:00.000Z'),
    ).toBe(true);
    const third = jsonl(
      (
        await get(
          'dave',
          '/v1/audit/export?format=jsonl&from=2026-06-03T00:00:00.000Z&to=2026-06-04T00:00:00.000Z',
        )
      ).text,
    );
    expect(third.some((e) => e.requestId === J.finance)).toBe(true);
    expect(third.some((e) => e.requestId === J.granted)).toBe(false);
  });

  test('the export pages through the store, following its cursor, and loses nothing', async () => {
    const whole = await exported('');
    const original = p.store.queryAudit.bind(p.store);
    const spy = jest
      .spyOn(p.store, 'queryAudit')
      .mockImplementation((q) => original({ ...q, limit: 3 }));
    try {
      const paged = await exported('');
      expect(paged).toEqual(whole);
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(Math.ceil(whole.length / 3));
      expect(spy.mock.calls.slice(1).every(([q]) => q.after !== undefined)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  test('the defaults are the last 30 days, as for GET /v1/audit', async () => {
    const r = await get('dave', '/v1/audit/export?format=jsonl');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="meshgate-audit-2026-05-06T100000.000Z-2026-06-05T100000.000Z.jsonl"',
    );
    expect(jsonl(r.text).some((e) => e.requestId === J.granted)).toBe(true);
  });

  test.each(['alice', 'bob', 'carol', 'erin'])(
    '%s is not an auditor: 403, as a JSON error',
    async (user) => {
      const r = await get(user, '/v1/audit/export');
      expect(r.status).toBe(403);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(r.text).error.code).toBe('NOT_ALLOWED');
      expect(r.headers.get('content-disposition')).toBeNull();
    },
  );

  test.each([
    ['an unknown format', 'format=xlsx'],
    ['a bad date', 'from=yesterday'],
    ['a bad type list', 'type=GRANT_ACTIVE,,x'],
    ['`from` after `to`', 'from=2026-06-02T00:00:00.000Z&to=2026-06-01T00:00:00.000Z'],
    ['more than 400 days', 'from=2025-01-01T00:00:00.000Z&to=2026-06-01T00:00:00.000Z'],
  ])('%s is a 400 JSON error', async (_, query) => {
    const r = await get('dave', `/v1/audit/export?${query}`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /v1/grants/{id}/chain', () => {
  test('the full chain of an ACTIVE, then REVOKED grant', async () => {
    const active = await p.call('dave', 'GET', `/v1/grants/${J.grantId}/chain`);
    expect(active.status).toBe(200);
    expect(active.body.grant).toMatchObject({
      id: J.grantId,
      requestId: J.granted,
      status: 'ACTIVE',
    });
    expect(active.body.request).toMatchObject({
      id: J.granted,
      status: 'ACTIVE',
      stages: [{ name: 'owner', approvals: [expect.objectContaining({ by: 'bob' })] }],
    });
    expect(active.body.request.explanation.length).toBeGreaterThan(0);

    expect(
      (
        await p.call('bob', 'POST', `/v1/grants/${J.grantId}/revoke`, {
          reason: 'project finished',
        })
      ).status,
    ).toBe(202);
    await p.queue.onIdle();

    const chain = await p.call('alice', 'GET', `/v1/grants/${J.grantId}/chain`);
    expect(chain.status).toBe(200);
    expect(chain.body.grant.status).toBe('REVOKED');
    const events = chain.body.events as Event[];
    expect(events.map((e) => e.type)).toEqual([
      'REQUEST_CREATED',
      'APPROVAL_RECORDED',
      'REQUEST_APPROVED',
      'FULFILMENT_STARTED',
      'GRANT_ACTIVE',
      'REVOKE_REQUESTED',
      'GRANT_REVOKED',
    ]);
    const granted = events.find((e) => e.type === 'GRANT_ACTIVE')!;
    expect(granted.detail.entries).toEqual([
      expect.objectContaining({ action: 'grant', result: 'ok' }),
    ]);
    expect(events.find((e) => e.type === 'REVOKE_REQUESTED')).toMatchObject({ actor: 'bob' });

    const csv = await get('dave', `/v1/grants/${J.grantId}/chain?format=csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = csvLines(csv.text);
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1).map((l) => l.split(',')[2])).toEqual(events.map((e) => e.type));

    const lines2 = await get('dave', `/v1/grants/${J.grantId}/chain?format=jsonl`);
    expect(lines2.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(jsonl(lines2.text)).toEqual(events);
  });

  test('fiona, who may not read the request, is told there is no such grant', async () => {
    const r = await p.call('fiona', 'GET', `/v1/grants/${J.grantId}/chain`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('GRANT_NOT_FOUND');
    expect(
      (await p.call('dave', 'GET', '/v1/grants/grt_01jabcdefghjkmnpqrstvwxyz0/chain')).status,
    ).toBe(404);
    expect((await p.call('dave', 'GET', `/v1/grants/${J.grantId}/chain?format=xml`)).status).toBe(
      400,
    );
  });
});
