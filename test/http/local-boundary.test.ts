// The local server's boundary (`npm start`, issue 14), through the real node server on a port:
// a page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding), or that posts to the portal
// from its own origin, gets nothing and changes nothing. Requests go through node:http, which
// sends the Host header it is given (fetch does not let a caller set it).
import { request } from 'node:http';
import { join } from 'node:path';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { LOCAL_CSP } from '../../functions/http/boundary';
import { serveLocal } from '../../functions/wiring/local-server';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
let local: Awaited<ReturnType<typeof serveLocal>>;
let port: number;

interface Call {
  method: string;
  path: string;
  /** The Host header; null sends none. Default: localhost with the server's port. */
  host?: string | null;
  origin?: string;
  contentType?: string;
  body?: string;
  token?: string;
}

function send(c: Call, to = () => port) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string }>(
    (ok, fail) => {
      const headers: Record<string, string> = {};
      const host = c.host === undefined ? `localhost:${to()}` : c.host;
      if (host !== null) headers.host = host;
      if (c.origin) headers.origin = c.origin;
      if (c.contentType) headers['content-type'] = c.contentType;
      if (c.token) headers.authorization = `Bearer ${c.token}`;
      if (c.body !== undefined) headers['content-length'] = String(Buffer.byteLength(c.body));
      const req = request(
        { host: '127.0.0.1', port: to(), method: c.method, path: c.path, headers, setHost: false },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, text }));
        },
      );
      req.on('error', fail);
      req.end(c.body);
    },
  );
}

const codeOf = (text: string): string | undefined => {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

/** Every item of the portal's table and of the Lake Formation ledger, after the worker is idle. */
async function everything(): Promise<string[]> {
  await p.queue.onIdle();
  const items: string[] = [];
  for (const table of ['meshgate', 'meshgate-lf-ledger']) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await p.client.send(
        new ScanCommand({ TableName: table, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) items.push(`${table} ${JSON.stringify(item)}`);
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return items.sort();
}

let fx: { pending: string; grant: string; notification: string };

beforeAll(async () => {
  p = await startPortal({ webDir: join(__dirname, '../../web/public') });
  local = await serveLocal(p.app, { port: 0, hostname: '127.0.0.1' });
  port = local.port;
  const pending = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  const toGrant = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  expect((await p.call('bob', 'POST', `/v1/requests/${toGrant.body.id}/approve`, {})).status).toBe(
    200,
  );
  await p.queue.onIdle();
  const granted = await p.call('erin', 'GET', `/v1/requests/${toGrant.body.id}`);
  expect(granted.body.status).toBe('ACTIVE');
  const told = await p.call('alice', 'GET', '/v1/notifications');
  fx = {
    pending: pending.body.id,
    grant: granted.body.grantId,
    notification: told.body.items[0].id,
  };
});

afterAll(async () => {
  await local?.close();
  await p?.close();
});

/** A call that would change something, with a valid body, as a user allowed to make it. */
function validCall(method: string, path: string): { user: string; path: string; body?: unknown } {
  const byRoute: Record<string, { user: string; path?: string; body?: unknown }> = {
    'POST /auth/dev-login': { user: '', body: { user: 'erin' } },
    'POST /v1/domains': {
      user: 'erin',
      body: { id: 'rebound', name: 'Rebound', accountId: '999999999999', region: 'eu-west-1' },
    },
    'POST /v1/consumer-accounts': {
      user: 'erin',
      body: {
        id: 'rebound',
        accountId: '999999999999',
        region: 'eu-west-1',
        broker: { roleArn: 'arn:aws:iam::999999999999:role/broker', externalId: 'rebound-id' },
      },
    },
    'POST /v1/domains/{id}/sync': { user: 'bob', path: '/v1/domains/sales/sync' },
    'POST /v1/domains/{id}/reconcile': { user: 'bob', path: '/v1/domains/sales/reconcile' },
    'POST /v1/memberships': {
      user: 'erin',
      body: { user: 'henry', domain: '*', role: 'admin' },
    },
    'DELETE /v1/memberships/{domain}/{user}/{role}': {
      user: 'erin',
      path: '/v1/memberships/sales/sam/steward',
    },
    'POST /v1/requests': { user: 'alice', body: newRequest('sales/orders') },
    'POST /v1/requests/preview': {
      user: 'alice',
      body: { productId: 'sales/orders', duration: { value: 7, unit: 'days' } },
    },
    'POST /v1/requests/{id}/approve': { user: 'bob', body: {} },
    'POST /v1/requests/{id}/deny': { user: 'bob', body: { reason: 'no' } },
    'POST /v1/requests/{id}/cancel': { user: 'alice' },
    'POST /v1/requests/{id}/retry': { user: 'erin' },
    'POST /v1/grants/{id}/revoke': { user: 'alice', body: { reason: 'done' } },
    'POST /v1/grants/{id}/extend': {
      user: 'alice',
      body: { duration: { value: 1, unit: 'days' }, purpose: 'longer' },
    },
    'POST /v1/policy/explain': {
      user: 'alice',
      body: { action: 'request', productId: 'sales/orders', user: 'alice' },
    },
    'POST /v1/notifications/read-all': { user: 'alice' },
    'POST /v1/notifications/{id}/read': {
      user: 'alice',
      path: `/v1/notifications/${fx.notification}/read`,
    },
    'PUT /v1/notifications/settings': { user: 'alice', body: { email: false } },
  };
  const c = byRoute[`${method} ${path}`];
  if (!c) throw new Error(`no valid call for ${method} ${path}: add one`);
  const id = path.startsWith('/v1/grants/') ? fx.grant : fx.pending;
  return { user: c.user, path: c.path ?? path.replace('{id}', id), body: c.body };
}

/** Every state-changing route of /openapi.json, and the sign-in; and which of them take JSON. */
async function stateChangingRoutes() {
  const doc = (await (await p.app.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { requestBody?: unknown }>>;
  };
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .map(([m, op]) => ({ method: m.toUpperCase(), path, json: op.requestBody !== undefined }))
      .filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)),
  );
  return [{ method: 'POST', path: '/auth/dev-login', json: true }, ...routes];
}

async function asCall(method: string, path: string): Promise<Call> {
  const v = validCall(method, path);
  return {
    method,
    path: v.path,
    token: v.user ? await p.token(v.user) : undefined,
    ...(v.body === undefined
      ? {}
      : { contentType: 'application/json', body: JSON.stringify(v.body) }),
  };
}

describe('DNS rebinding: only its own Host names get an answer', () => {
  test('the rebinding sign-in (Host evil.example, text/plain) is 421, with no token', async () => {
    const res = await send({
      method: 'POST',
      path: '/auth/dev-login',
      host: `evil.example:${port}`,
      contentType: 'text/plain',
      body: '{"user":"erin"}',
    });
    expect(res.status).toBe(421);
    expect(JSON.parse(res.text)).toEqual({
      error: { code: 'MISDIRECTED_REQUEST', message: expect.any(String) },
    });
    expect(res.text).not.toMatch(/token/);
  });

  test.each([
    ['another name on the port', () => `evil.example:${port}`],
    ['a name that resolves to loopback', () => `127.0.0.1.nip.io:${port}`],
    ['localhost with a trailing dot', () => `localhost.:${port}`],
    ['localhost on another port', () => `localhost:${port + 1}`],
    ['localhost without the port', () => 'localhost'],
    ['a subdomain of localhost', () => `evil.localhost:${port}`],
  ])('%s: 421 for reading too', async (_label, host) => {
    for (const path of ['/', '/health', '/config.json', '/openapi.json', '/auth/dev-users']) {
      const res = await send({ method: 'GET', path, host: host() });
      expect({ path, status: res.status, code: codeOf(res.text) }).toEqual({
        path,
        status: 421,
        code: 'MISDIRECTED_REQUEST',
      });
    }
  });

  test('no Host at all: refused (Node answers 400 before the app)', async () => {
    const res = await send({ method: 'GET', path: '/auth/dev-users', host: null });
    expect([400, 421]).toContain(res.status);
    expect(res.text).not.toMatch(/erin/);
  });

  test('localhost, 127.0.0.1 and [::1] with the port are answered, in any case', async () => {
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `LOCALHOST:${port}`,
    ]) {
      const res = await send({ method: 'GET', path: '/health', host });
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
  });

  test('every state-changing route with a foreign Host: 421, and nothing changes', async () => {
    const before = await everything();
    for (const r of await stateChangingRoutes()) {
      const call = await asCall(r.method, r.path);
      for (const host of [`evil.example:${port}`, `rebind.attacker.test`]) {
        const res = await send({ ...call, host, origin: `http://${host}` });
        expect({ route: `${r.method} ${r.path}`, host, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          host,
          status: 421,
        });
      }
    }
    expect(await everything()).toEqual(before);
  });
});

describe('a change from a page of another origin is refused', () => {
  test('every state-changing route with a foreign Origin: 403 FOREIGN_ORIGIN, and nothing changes', async () => {
    const before = await everything();
    const routes = await stateChangingRoutes();
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes) {
      const call = await asCall(r.method, r.path);
      for (const origin of [
        'http://evil.example',
        `http://evil.example:${port}`,
        `https://localhost:${port}`,
        `http://localhost:${port + 1}`,
        'null',
      ]) {
        const res = await send({ ...call, origin });
        expect({ route: `${r.method} ${r.path}`, origin, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          origin,
          status: 403,
        });
        expect(codeOf(res.text)).toBe('FOREIGN_ORIGIN');
      }
    }
    expect(await everything()).toEqual(before);
  });

  test('its own origins, and no Origin (curl, scripts), reach the API', async () => {
    for (const origin of [
      `http://localhost:${port}`,
      `http://127.0.0.1:${port}`,
      `http://[::1]:${port}`,
      undefined,
    ]) {
      const res = await send({
        method: 'POST',
        path: '/auth/dev-login',
        origin,
        contentType: 'application/json',
        body: '{"user":"erin"}',
      });
      expect({ origin, status: res.status }).toEqual({ origin, status: 200 });
    }
    // Each route reached the app: whatever it answered, it was not the boundary.
    for (const r of await stateChangingRoutes()) {
      const res = await send({
        ...(await asCall(r.method, r.path)),
        origin: `http://localhost:${port}`,
      });
      expect({ route: `${r.method} ${r.path}`, code: codeOf(res.text) }).not.toMatchObject({
        code: expect.stringMatching(/^(MISDIRECTED_REQUEST|FOREIGN_ORIGIN)$/),
      });
    }
  });

  test('reading is not a change: GET with a foreign Origin is answered (the browser keeps it from the page)', async () => {
    const res = await send({ method: 'GET', path: '/health', origin: 'http://evil.example' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the configured public URL', () => {
  let other: Awaited<ReturnType<typeof serveLocal>>;
  beforeAll(async () => {
    other = await serveLocal(p.app, {
      port: 0,
      hostname: '127.0.0.1',
      publicUrl: 'https://portal.example.org',
    });
  });
  afterAll(() => other.close());

  test('its host and origin are the server’s own, besides the loopback names', async () => {
    const to = () => other.port;
    const login = {
      method: 'POST',
      path: '/auth/dev-login',
      contentType: 'application/json',
      body: '{"user":"erin"}',
    };
    for (const host of ['portal.example.org', 'portal.example.org:443', `localhost:${other.port}`])
      expect(
        (await send({ ...login, host, origin: 'https://portal.example.org' }, to)).status,
      ).toBe(200);
    expect((await send({ ...login, host: 'portal.example.org:80' }, to)).status).toBe(421);
    expect((await send({ ...login, host: 'evil.example.org' }, to)).status).toBe(421);
    const foreign = await send(
      { ...login, host: 'portal.example.org', origin: 'http://portal.example.org' },
      to,
    );
    expect([foreign.status, codeOf(foreign.text)]).toEqual([403, 'FOREIGN_ORIGIN']);
  });
});

describe('JSON routes take only JSON', () => {
  const NOT_JSON = [
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
    undefined,
  ];

  test('text/plain and the other simple types to every JSON route: 415, and nothing changes', async () => {
    const before = await everything();
    const routes = (await stateChangingRoutes()).filter((r) => r.json);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('POST /auth/dev-login');
    for (const r of routes) {
      const call = await asCall(r.method, r.path);
      for (const contentType of NOT_JSON) {
        // Through the local server, and through the app as Lambda runs it (no boundary).
        const served = await send({ ...call, contentType });
        const inProcess = await p.app.request(call.path, {
          method: call.method,
          headers: {
            ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
            ...(contentType ? { 'content-type': contentType } : {}),
          },
          body: call.body,
        });
        const route = `${r.method} ${r.path}`;
        expect({ route, contentType, status: served.status, code: codeOf(served.text) }).toEqual({
          route,
          contentType,
          status: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
        });
        expect({ route, contentType, status: inProcess.status }).toEqual({
          route,
          contentType,
          status: 415,
        });
      }
    }
    expect(await everything()).toEqual(before);
  });

  test('sign-in with a JSON content type and its parameters still works', async () => {
    for (const contentType of [
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
    ]) {
      const res = await send({
        method: 'POST',
        path: '/auth/dev-login',
        contentType,
        body: '{"user":"alice"}',
      });
      expect({ contentType, status: res.status }).toEqual({ contentType, status: 200 });
    }
  });
});

describe('security headers: the web stack’s policy, on the UI and the API', () => {
  const EXPECTED = {
    'content-security-policy': LOCAL_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };

  test.each([
    ['the UI', 'GET', '/'],
    ['a static file', 'GET', '/style.css'],
    ['the UI configuration', 'GET', '/config.json'],
    ['the API', 'GET', '/v1/me'],
    ['the health check', 'GET', '/health'],
    ['no route', 'GET', '/v1/nope'],
  ])('%s', async (_label, method, path) => {
    const res = await send({ method, path, token: await p.token('alice') });
    expect(res.status).toBeLessThan(500);
    expect(res.headers).toMatchObject(EXPECTED);
    // Over http, HSTS is ignored by browsers (RFC 6797 8.1), and it would pin localhost to https.
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  test('refusals of the boundary carry them too', async () => {
    const misdirected = await send({ method: 'GET', path: '/', host: 'evil.example' });
    const foreign = await send({
      method: 'POST',
      path: '/auth/dev-login',
      origin: 'http://evil.example',
      contentType: 'application/json',
      body: '{}',
    });
    for (const res of [misdirected, foreign]) expect(res.headers).toMatchObject(EXPECTED);
  });

  test('the policy is the CloudFront one for a same-origin API, without upgrading http', () => {
    const directives = LOCAL_CSP.split('; ');
    expect(directives).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
      ]),
    );
    expect(directives).not.toContain('upgrade-insecure-requests');
  });
});
