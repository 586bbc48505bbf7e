import { MAX_BODY_BYTES } from '../../functions/http/app';
import { newRequest, ROLE_ARN, startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

const ORDERS_COLUMNS = [
  'order_id',
  'customer_id',
  'order_date',
  'region',
  'currency',
  'amount',
  'amount_eur',
  'channel',
  'cancelled_at',
];

/** What a stack trace line looks like: "at fn (/path/file.ts:12:3)", "at file.js:1", node internals. */
const STACK_TRACE = /\bat\s[^\n"]*?\S+\.(?:[cm]?js|tsx?):\d+|node:internal|node_modules\//;

function expectNoStackTrace(text: string) {
  expect(text).not.toMatch(STACK_TRACE);
  expect(text).not.toMatch(/\n\s+at /);
}

/** The error body every refusal carries. */
function expectErrorBody(res: { status: number; body: unknown }, status: number, code?: string) {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status,
    body: { error: { code: code ?? expect.any(String), message: expect.any(String) } },
  });
  expectNoStackTrace(JSON.stringify(res.body));
}

const mineCount = async () => {
  const res = await p.call('alice', 'GET', '/v1/requests?mine=true');
  expect(res.status).toBe(200);
  return (res.body.items as unknown[]).length;
};

/** Sends `body` as alice; expects the refusal and that alice has no more requests than before. */
async function expectRefused(body: unknown, status: number, code?: string) {
  const before = await mineCount();
  const res = await p.call('alice', 'POST', '/v1/requests', body);
  expectErrorBody(res, status, code);
  expect(await mineCount()).toBe(before);
  return res;
}

/** A raw POST /v1/requests as alice, for bodies `call` cannot send (non-JSON, other content types). */
async function rawPost(body: string | undefined, contentType: string | undefined) {
  const headers: Record<string, string> = { authorization: `Bearer ${await p.token('alice')}` };
  if (contentType) headers['content-type'] = contentType;
  const res = await p.app.request('/v1/requests', { method: 'POST', headers, body });
  const text = await res.text();
  expectNoStackTrace(text);
  return {
    status: res.status,
    text,
    body: JSON.parse(text) as { error: { code: string; message: string } },
  };
}

describe('POST /v1/requests refuses bad input and creates nothing', () => {
  test('the defaults used below are accepted (control)', async () => {
    const before = await mineCount();
    const res = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
    expect(res.status).toBe(201);
    expect(await mineCount()).toBe(before + 1);
  });

  test('a product that does not exist: 404 PRODUCT_NOT_FOUND', async () => {
    await expectRefused(newRequest('sales/nope'), 404, 'PRODUCT_NOT_FOUND');
    await expectRefused(newRequest('nowhere/orders'), 404, 'PRODUCT_NOT_FOUND');
  });

  test.each([
    ['no product id', { productId: undefined }],
    ['a product id without a domain', { productId: 'orders' }],
    ['a product id with a path', { productId: '../sales/orders' }],
    ['an upper-case product id', { productId: 'Sales/Orders' }],
  ])('a malformed product id (%s): 400', async (_label, over) => {
    await expectRefused(newRequest('sales/orders', over), 400, 'VALIDATION_FAILED');
  });

  test.each([
    ['an 11-digit account', 'arn:aws:iam::12345678901:role/analyst'],
    ['a 13-digit account', 'arn:aws:iam::1234567890123:role/analyst'],
    ['letters in the account', 'arn:aws:iam::12345678901a:role/analyst'],
    ['a user, not a role', 'arn:aws:iam::123456789012:user/x'],
    ['a group', 'arn:aws:iam::123456789012:group/analysts'],
    ['the account root', 'arn:aws:iam::123456789012:root'],
    ['a wildcard role', 'arn:aws:iam::123456789012:role/*'],
    ['an unknown partition', 'arn:aws-xx:iam::123456789012:role/analyst'],
    ['a role with no name', 'arn:aws:iam::123456789012:role/'],
    ['an 11-digit account id', '12345678901'],
    ['empty', ''],
    ['whitespace around a valid ARN', ` ${ROLE_ARN} `],
    ['a trailing newline', `${ROLE_ARN}\n`],
  ])('a malformed principal (%s): 400', async (_label, principal) => {
    await expectRefused(newRequest('sales/orders', { principal }), 400, 'VALIDATION_FAILED');
  });

  test('a missing principal: 400', async () => {
    await expectRefused(
      newRequest('sales/orders', { principal: undefined }),
      400,
      'VALIDATION_FAILED',
    );
  });

  test('91 days is over the 90-day global limit: 422 DURATION_EXCEEDS_POLICY', async () => {
    const res = await expectRefused(
      newRequest('sales/orders', { duration: { value: 91, unit: 'days' } }),
      422,
      'DURATION_EXCEEDS_POLICY',
    );
    expect(res.body.error.details).toMatchObject({ maxDurationHours: 2160 });
    await expectRefused(
      newRequest('sales/orders', { duration: { value: 2161, unit: 'hours' } }),
      422,
      'DURATION_EXCEEDS_POLICY',
    );
  });

  test('15 days on an hr product is over the 14-day hr limit: 422', async () => {
    const res = await expectRefused(
      newRequest('hr/employees', { duration: { value: 15, unit: 'days' } }),
      422,
      'DURATION_EXCEEDS_POLICY',
    );
    expect(res.body.error.details).toMatchObject({ maxDurationHours: 336 });
    await expectRefused(
      newRequest('hr/employees', { duration: { value: 337, unit: 'hours' } }),
      422,
      'DURATION_EXCEEDS_POLICY',
    );
  });

  test('the limits themselves are allowed (preview, which creates nothing)', async () => {
    const preview = (productId: string, duration: unknown) =>
      p.call('alice', 'POST', '/v1/requests/preview', {
        productId,
        scope: newRequest(productId).scope,
        duration,
      });
    expect((await preview('sales/orders', { value: 90, unit: 'days' })).body).toMatchObject({
      outcome: 'needs-approval',
      maxDurationHours: 2160,
    });
    expect((await preview('sales/orders', { value: 91, unit: 'days' })).body).toMatchObject({
      outcome: 'refused',
    });
    expect((await preview('hr/employees', { value: 14, unit: 'days' })).body).toMatchObject({
      outcome: 'needs-approval',
      maxDurationHours: 336,
    });
    expect((await preview('hr/employees', { value: 15, unit: 'days' })).body).toMatchObject({
      outcome: 'refused',
    });
  });

  test.each([
    ['zero', { value: 0, unit: 'days' }],
    ['negative', { value: -1, unit: 'days' }],
    ['fractional', { value: 1.5, unit: 'days' }],
    ['a string', { value: '7', unit: 'days' }],
    ['an unknown unit', { value: 7, unit: 'weeks' }],
    ['an extra field', { value: 7, unit: 'days', from: 'now' }],
  ])('a malformed duration (%s): 400', async (_label, duration) => {
    await expectRefused(newRequest('sales/orders', { duration }), 400, 'VALIDATION_FAILED');
  });

  test.each([
    ['empty', ''],
    ['spaces', '   '],
    ['whitespace of all kinds', ' \t\n\r '],
    ['missing', undefined],
    ['not a string', 42],
  ])('a purpose that is %s: 400', async (_label, purpose) => {
    await expectRefused(newRequest('sales/orders', { purpose }), 400, 'VALIDATION_FAILED');
  });

  test('a purpose over 2000 characters: 400', async () => {
    await expectRefused(
      newRequest('sales/orders', { purpose: 'x'.repeat(2001) }),
      400,
      'VALIDATION_FAILED',
    );
  });

  test('an unknown field at the top level: 400, naming it', async () => {
    const res = await expectRefused(
      { ...newRequest('sales/orders'), requester: 'bob' },
      400,
      'VALIDATION_FAILED',
    );
    expect(res.body.error.message).toContain('requester');
  });

  test.each([
    ['scope', { permissions: ['SELECT'], columns: { mode: 'all' }, admin: true }],
    [
      'scope.columns (all)',
      { permissions: ['SELECT'], columns: { mode: 'all', columns: ['order_id'] } },
    ],
    [
      'scope.columns (include)',
      { permissions: ['SELECT'], columns: { mode: 'include', columns: ['order_id'], extra: 1 } },
    ],
  ])('an unknown field inside %s: 400', async (_label, scope) => {
    await expectRefused(newRequest('sales/orders', { scope }), 400, 'VALIDATION_FAILED');
  });

  test('an unknown column in the include list: 422 UNKNOWN_COLUMNS, naming it', async () => {
    const res = await expectRefused(
      newRequest('sales/orders', {
        scope: {
          permissions: ['SELECT'],
          columns: { mode: 'include', columns: ['order_id', 'ssn'] },
        },
      }),
      422,
      'UNKNOWN_COLUMNS',
    );
    expect(res.body.error.details).toEqual({ columns: ['ssn'] });
  });

  test('an unknown column in the exclude list: 422 UNKNOWN_COLUMNS', async () => {
    await expectRefused(
      newRequest('sales/orders', {
        scope: { permissions: ['SELECT'], columns: { mode: 'exclude', columns: ['ssn'] } },
      }),
      422,
      'UNKNOWN_COLUMNS',
    );
  });

  test('an exclude list that removes every column: 422 EMPTY_SCOPE', async () => {
    await expectRefused(
      newRequest('sales/orders', {
        scope: { permissions: ['SELECT'], columns: { mode: 'exclude', columns: ORDERS_COLUMNS } },
      }),
      422,
      'EMPTY_SCOPE',
    );
  });

  test.each([
    ['an empty include list', { mode: 'include', columns: [] }],
    ['an empty exclude list', { mode: 'exclude', columns: [] }],
    ['an unknown mode', { mode: 'some', columns: ['order_id'] }],
    ['no mode', { columns: ['order_id'] }],
    ['an empty column name', { mode: 'include', columns: [''] }],
    ['a repeated include column', { mode: 'include', columns: ['amount', 'amount'] }],
    ['a repeated exclude column', { mode: 'exclude', columns: ['amount', 'order_id', 'amount'] }],
  ])('a malformed column scope (%s): 400', async (_label, columns) => {
    await expectRefused(
      newRequest('sales/orders', { scope: { permissions: ['SELECT'], columns } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  test.each([
    ['duplicated', ['SELECT', 'SELECT']],
    ['duplicated among others', ['SELECT', 'DESCRIBE', 'SELECT']],
    ['not SELECT or DESCRIBE', ['INSERT']],
    ['ALL', ['ALL']],
    ['lower-case', ['select']],
    ['empty', []],
    ['not a list', 'SELECT'],
  ])('permissions that are %s: 400', async (_label, permissions) => {
    await expectRefused(
      newRequest('sales/orders', { scope: { permissions, columns: { mode: 'all' } } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  test('an empty row filter: 400', async () => {
    await expectRefused(
      newRequest('sales/orders', {
        scope: { permissions: ['SELECT'], columns: { mode: 'all' }, rowFilter: '  ' },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  test(`a body over ${MAX_BODY_BYTES} bytes: 413 PAYLOAD_TOO_LARGE`, async () => {
    await expectRefused(
      newRequest('sales/orders', { purpose: 'x'.repeat(MAX_BODY_BYTES) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    await expectRefused(
      { ...newRequest('sales/orders'), padding: 'y'.repeat(MAX_BODY_BYTES + 1) },
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  test('a body that is not JSON: 400', async () => {
    const before = await mineCount();
    for (const text of [
      'not json',
      '{"productId": "sales/orders",',
      '',
      "{'productId': 'sales/orders'}",
    ]) {
      const res = await rawPost(text, 'application/json');
      expect({ text, status: res.status, code: res.body.error.code }).toEqual({
        text,
        status: 400,
        code: expect.any(String),
      });
      expect(res.body.error.message).toEqual(expect.any(String));
    }
    expect(await mineCount()).toBe(before);
  });

  test.each([
    ['an array', [newRequest('sales/orders')]],
    ['a string', 'sales/orders'],
    ['a number', 42],
    ['null', null],
  ])('a JSON value that is not an object (%s): 400', async (_label, value) => {
    await expectRefused(value, 400, 'VALIDATION_FAILED');
  });

  test('a JSON body sent with another content type, or none: 4xx', async () => {
    const before = await mineCount();
    const json = JSON.stringify(newRequest('sales/orders'));
    for (const ct of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    ]) {
      const res = await rawPost(json, ct);
      expect({ ct, status: res.status }).toEqual({ ct, status: 415 });
      expect(res.body.error).toMatchObject({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: expect.any(String),
      });
    }
    expect(await mineCount()).toBe(before);
  });

  test('no body at all: 4xx', async () => {
    const before = await mineCount();
    const res = await rawPost(undefined, 'application/json');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await mineCount()).toBe(before);
  });

  test('not signed in: 401, and nothing created', async () => {
    const before = await mineCount();
    const res = await p.call(null, 'POST', '/v1/requests', newRequest('sales/orders'));
    expectErrorBody(res, 401, 'UNAUTHENTICATED');
    const forged = await p.app.request('/v1/requests', {
      method: 'POST',
      headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json' },
      body: JSON.stringify(newRequest('sales/orders')),
    });
    expect(forged.status).toBe(401);
    expect(await mineCount()).toBe(before);
  });
});

describe('deciding a request refuses bad input and changes nothing', () => {
  const NARROW = {
    permissions: ['SELECT'],
    columns: { mode: 'include', columns: ['order_id', 'amount'] },
  };
  let id: string;

  beforeAll(async () => {
    const res = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      newRequest('sales/orders', { scope: NARROW, duration: { value: 7, unit: 'days' } }),
    );
    expect(res.status).toBe(201);
    id = res.body.id;
  });

  async function expectUnchanged() {
    const res = await p.call('alice', 'GET', `/v1/requests/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'PENDING',
      version: 1,
      scope: NARROW,
      duration: { value: 7, unit: 'days' },
    });
    expect(res.body.stages.flatMap((s: { approvals: unknown[] }) => s.approvals)).toEqual([]);
    expect(res.body.history.map((e: { type: string }) => e.type)).toEqual(['REQUEST_CREATED']);
  }

  test.each([
    ['all columns instead of two', { permissions: ['SELECT'], columns: { mode: 'all' } }],
    [
      'an extra column',
      {
        permissions: ['SELECT'],
        columns: { mode: 'include', columns: ['order_id', 'amount', 'region'] },
      },
    ],
    [
      'an exclude list that keeps more columns',
      { permissions: ['SELECT'], columns: { mode: 'exclude', columns: ['region'] } },
    ],
  ])('approving with a wider scope (%s): 422 NOT_NARROWER', async (_label, narrowedScope) => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, {
      comment: 'wider',
      narrowedScope,
    });
    expectErrorBody(res, 422, 'NOT_NARROWER');
    await expectUnchanged();
  });

  test.each([
    [
      'an extra permission',
      { permissions: ['SELECT', 'DESCRIBE'], columns: { mode: 'include', columns: ['order_id'] } },
    ],
    [
      'another permission',
      { permissions: ['DESCRIBE'], columns: { mode: 'include', columns: ['order_id'] } },
    ],
  ])(
    'approving with DESCRIBE on a column list (%s): 400 DESCRIBE_NEEDS_WHOLE_TABLE',
    async (_label, narrowedScope) => {
      const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, {
        comment: 'wider',
        narrowedScope,
      });
      expectErrorBody(res, 400, 'DESCRIBE_NEEDS_WHOLE_TABLE');
      await expectUnchanged();
    },
  );

  test('approving with a longer duration: 422 NOT_NARROWER', async () => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, {
      comment: 'longer',
      narrowedDuration: { value: 8, unit: 'days' },
    });
    expectErrorBody(res, 422, 'NOT_NARROWER');
    await expectUnchanged();
  });

  test('approving with a narrowed scope naming an unknown column: 422 UNKNOWN_COLUMNS', async () => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, {
      comment: 'typo',
      narrowedScope: {
        permissions: ['SELECT'],
        columns: { mode: 'include', columns: ['order_idd'] },
      },
    });
    expectErrorBody(res, 422, 'UNKNOWN_COLUMNS');
    await expectUnchanged();
  });

  test.each([
    ['an unknown field', { comment: 'ok', approve: true }],
    ['a malformed narrowed scope', { comment: 'ok', narrowedScope: { permissions: ['SELECT'] } }],
    ['a comment that is not a string', { comment: 1 }],
  ])('approving with %s: 400', async (_label, body) => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, body);
    expectErrorBody(res, 400, 'VALIDATION_FAILED');
    await expectUnchanged();
  });

  test.each([
    ['no body fields', {}],
    ['an empty reason', { reason: '' }],
    ['a blank reason', { reason: '   ' }],
    ['a reason that is not a string', { reason: false }],
    ['an unknown field', { reason: 'no', why: 'no' }],
  ])('denying with %s: 400', async (_label, body) => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/deny`, body);
    expectErrorBody(res, 400, 'VALIDATION_FAILED');
    await expectUnchanged();
  });

  test('denying with no body at all: 4xx', async () => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/deny`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await expectUnchanged();
  });

  test('a narrower approval is accepted (control)', async () => {
    const narrowed = {
      permissions: ['SELECT'],
      columns: { mode: 'include', columns: ['order_id'] },
    };
    const res = await p.call('sam', 'POST', `/v1/requests/${id}/approve`, {
      comment: 'only ids',
      narrowedScope: narrowed,
      narrowedDuration: { value: 2, unit: 'days' },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('APPROVED');
    await p.queue.onIdle();
    const grants = await p.call('alice', 'GET', '/v1/grants');
    expect(grants.body.items.find((g: { requestId: string }) => g.requestId === id)).toMatchObject({
      scope: narrowed,
      status: 'ACTIVE',
    });
  });
});

describe('ids and routes that are not ours', () => {
  const ABSENT = `req_${'0'.repeat(26)}`;
  const BAD_IDS = [
    '../../etc',
    '..%2F..%2Fetc%2Fpasswd',
    'req_x',
    `req_${'a'.repeat(5000)}`,
    'REQ_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    "req_' OR 1=1 --",
    '%00',
    ABSENT,
  ];

  test.each(
    BAD_IDS.map((id) => [id.length > 60 ? `${id.slice(0, 20)}... (${id.length} chars)` : id, id]),
  )('request id %s: 400 or 404, never 500', async (_label, id) => {
    const calls: [string, string, unknown][] = [
      ['GET', `/v1/requests/${id}`, undefined],
      ['POST', `/v1/requests/${id}/approve`, { comment: 'x' }],
      ['POST', `/v1/requests/${id}/deny`, { reason: 'x' }],
      ['POST', `/v1/requests/${id}/cancel`, undefined],
      ['POST', `/v1/requests/${id}/retry`, undefined],
      ['POST', `/v1/grants/${id}/revoke`, { reason: 'x' }],
    ];
    for (const [method, path, body] of calls) {
      const res = await p.call('erin', method, path, body);
      expect({
        path: `${method} ${path.slice(0, 80)}`,
        ok: res.status === 400 || res.status === 404,
      }).toEqual({ path: `${method} ${path.slice(0, 80)}`, ok: true });
      expectErrorBody(res, res.status);
    }
  });

  test('an id in the right shape that does not exist: 404 REQUEST_NOT_FOUND', async () => {
    expectErrorBody(
      await p.call('alice', 'GET', `/v1/requests/${ABSENT}`),
      404,
      'REQUEST_NOT_FOUND',
    );
    expectErrorBody(
      await p.call('bob', 'POST', `/v1/requests/${ABSENT}/approve`, { comment: 'x' }),
      404,
      'REQUEST_NOT_FOUND',
    );
  });

  test("someone else's request is reported as missing, not forbidden", async () => {
    const created = await p.call(
      'bob',
      'POST',
      '/v1/requests',
      newRequest('marketing/customer_segments'),
    );
    expect(created.status).toBe(201);
    const seen = await p.call('alice', 'GET', `/v1/requests/${created.body.id}`);
    expectErrorBody(seen, 404, 'REQUEST_NOT_FOUND');
    expect(JSON.stringify(seen.body)).not.toContain('marketing');
    expectErrorBody(
      await p.call('fiona', 'POST', `/v1/requests/${created.body.id}/cancel`),
      404,
      'REQUEST_NOT_FOUND',
    );
  });

  test.each([
    ['GET /nope', 'GET', '/nope'],
    ['GET /v1/nope', 'GET', '/v1/nope'],
    ['POST /v1/requests/x/y/z', 'POST', '/v1/requests/x/y/z'],
    ['DELETE /v1/requests', 'DELETE', '/v1/requests'],
    ['GET /v1/aaaa... (4000 chars)', 'GET', '/v1/'.padEnd(4000, 'a')],
    ['GET /v1/requests/<valid id>/history', 'GET', `/v1/requests/req_${'0'.repeat(26)}/history`],
  ])('an unknown route (%s): 404 JSON', async (_label, method, path) => {
    const res = await p.call('alice', method, path);
    expectErrorBody(res, 404);
  });

  test('the /v1 API needs a token even for unknown routes', async () => {
    expectErrorBody(await p.call(null, 'GET', '/v1/requests'), 401, 'UNAUTHENTICATED');
    expectErrorBody(await p.call(null, 'GET', '/v1/nope'), 401, 'UNAUTHENTICATED');
  });
});

describe('dev login', () => {
  test('an unknown user: 404', async () => {
    expectErrorBody(
      await p.call(null, 'POST', '/auth/dev-login', { user: 'mallory' }),
      404,
      'USER_NOT_FOUND',
    );
  });

  test.each([
    ['no user', {}],
    ['a user that is not a name', { user: 'Alice Martin' }],
    ['a path', { user: '../alice' }],
    ['a number', { user: 1 }],
    ['an extra field', { user: 'alice', role: 'admin' }],
    ['an array', ['alice']],
  ])('a bad body (%s): 400', async (_label, body) => {
    expectErrorBody(await p.call(null, 'POST', '/auth/dev-login', body), 400, 'VALIDATION_FAILED');
  });

  test('a body that is not JSON: 400', async () => {
    const res = await p.app.request('/auth/dev-login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'alice',
    });
    expect(res.status).toBe(400);
    expectErrorBody({ status: res.status, body: await res.json() }, 400);
  });

  test('a known user gets a token that works', async () => {
    const res = await p.call(null, 'POST', '/auth/dev-login', { user: 'alice' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token: expect.any(String), expiresAt: expect.any(String) });
    const me = await p.app.request('/v1/me', {
      headers: { authorization: `Bearer ${res.body.token}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: 'alice' });
  });
});

describe('service documents', () => {
  test('GET /health: 200', async () => {
    const res = await p.call(null, 'GET', '/health');
    expect(res).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('GET /openapi.json: an OpenAPI 3.1 document listing the request routes', async () => {
    const res = await p.call(null, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/v1/requests', '/v1/requests/{id}', '/v1/requests/{id}/approve']),
    );
    expect(res.body.paths['/v1/requests'].post).toBeDefined();
    expect(res.body.paths['/v1/requests'].get).toBeDefined();
    expect(res.body.components.schemas.NewRequest).toBeDefined();
  });
});

test('no response in this file carried a stack trace: the pattern itself works', () => {
  expect(
    'Error: boom\n    at submitRequest (/work/main/functions/usecases/requests.ts:57:11)',
  ).toMatch(STACK_TRACE);
  expect('at Object.<anonymous> (file.js:1:2)').toMatch(STACK_TRACE);
  expect(
    JSON.stringify({
      error: { code: 'NOT_NARROWER', message: 'Narrowing cannot add columns (region).' },
    }),
  ).not.toMatch(STACK_TRACE);
});

describe('DESCRIBE goes on whole tables only: Lake Formation takes a column list with SELECT alone', () => {
  const refusedScopes = [
    ['SELECT and DESCRIBE on an include list', { mode: 'include', columns: ['order_id'] }, false],
    ['SELECT and DESCRIBE on an exclude list', { mode: 'exclude', columns: ['amount'] }, false],
    ['SELECT and DESCRIBE with a row filter', { mode: 'all' }, true],
  ] as const;

  test.each(refusedScopes)(
    'asking for %s: 400 DESCRIBE_NEEDS_WHOLE_TABLE, nothing stored',
    async (_label, columns, filtered) => {
      const before = await mineCount();
      const scope = {
        permissions: ['SELECT', 'DESCRIBE'],
        columns,
        ...(filtered ? { rowFilter: "region = 'EMEA'" } : {}),
      };
      const res = await p.call(
        'alice',
        'POST',
        '/v1/requests',
        newRequest('sales/orders', { scope }),
      );
      expectErrorBody(res, 400, 'DESCRIBE_NEEDS_WHOLE_TABLE');
      expect(await mineCount()).toBe(before);
      const preview = await p.call('alice', 'POST', '/v1/requests/preview', {
        productId: 'sales/orders',
        scope,
        duration: { value: 7, unit: 'days' },
      });
      expectErrorBody(preview, 400, 'DESCRIBE_NEEDS_WHOLE_TABLE');
    },
  );

  test('an approver narrowing a whole-table SELECT and DESCRIBE request to some columns drops DESCRIBE', async () => {
    const res = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      newRequest('sales/orders', {
        scope: { permissions: ['SELECT', 'DESCRIBE'], columns: { mode: 'all' } },
      }),
    );
    expect(res.status).toBe(201);
    const narrowed = (permissions: string[]) =>
      p.call('bob', 'POST', `/v1/requests/${res.body.id}/approve`, {
        comment: 'two columns',
        narrowedScope: { permissions, columns: { mode: 'include', columns: ['order_id'] } },
      });
    expectErrorBody(await narrowed(['SELECT', 'DESCRIBE']), 400, 'DESCRIBE_NEEDS_WHOLE_TABLE');
    const ok = await narrowed(['SELECT']);
    expect(ok.status).toBe(200);
  });

  test('adding DESCRIBE to a whole-table SELECT request: 422 NOT_NARROWER', async () => {
    const res = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
    expect(res.status).toBe(201);
    const wider = await p.call('bob', 'POST', `/v1/requests/${res.body.id}/approve`, {
      comment: 'wider',
      narrowedScope: { permissions: ['SELECT', 'DESCRIBE'], columns: { mode: 'all' } },
    });
    expectErrorBody(wider, 422, 'NOT_NARROWER');
  });

  test('a request stored with that shape before it was refused fails at fulfilment and never reaches Lake Formation', async () => {
    const principal = 'arn:aws:iam::555555555555:role/describe-columns';
    const created = await p.call(
      'alice',
      'POST',
      '/v1/requests',
      newRequest('sales/orders', { principal }),
    );
    expect(created.status).toBe(201);
    // Stored as an earlier version let it be.
    const r = (await p.store.getRequest(created.body.id))!;
    const legacy = {
      ...r,
      scope: {
        permissions: ['SELECT', 'DESCRIBE'],
        columns: { mode: 'include', columns: ['order_id'] },
      },
      version: r.version + 1,
    } as typeof r;
    await p.store.updateRequest(legacy, { status: r.status, version: r.version }, []);
    const grant = jest.spyOn(p.ledger, 'grant');
    const revoke = jest.spyOn(p.ledger, 'revoke');
    try {
      const approved = await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, {
        comment: 'ok',
      });
      expect(approved.status).toBe(200);
      await p.queue.onIdle();
      const after = await p.call('alice', 'GET', `/v1/requests/${r.id}`);
      expect(after.body.status).toBe('FAILED');
      expect(after.body.failure.code).toBe('DESCRIBE_NEEDS_WHOLE_TABLE');
      expect(grant).not.toHaveBeenCalled();
      expect(revoke).not.toHaveBeenCalled();
    } finally {
      grant.mockRestore();
      revoke.mockRestore();
    }
  });
});
