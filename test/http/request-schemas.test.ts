import { isBuilt } from '../../functions/http/deferred';
import * as S from '../../functions/http/schemas';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

// A route's request schemas are built at its first call, not when the app is made (issue 16: the
// API Lambda's cold start; a cold Lambda serves one route first). The OpenAPI document builds them
// all, and describes them exactly as before (test/http/openapi.test.ts, the web's api-types.ts).

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

/** The names of schemas.ts's request schemas built so far. */
const builtSchemas = () =>
  Object.entries(S)
    .filter(([, s]) => typeof s === 'object' && isBuilt(s))
    .map(([name]) => name)
    .sort();

/** Calls the API as alice without checking the answer against the OpenAPI document (which would build every schema). */
async function call(method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${await p.token('alice')}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await p.app.request(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status;
}

test("the app builds no route's request schema until the route is called, then only that route's", async () => {
  // Made with the app: the Error component of the document (the error answers' $ref).
  expect(builtSchemas()).toEqual(['ErrorCodeSchema', 'ErrorSchema']);
  // Signing in (the embedded default's /auth/dev-login) builds its own.
  await p.token('alice');
  const atStart = ['DevLoginSchema', 'ErrorCodeSchema', 'ErrorSchema'];
  expect(builtSchemas()).toEqual(atStart);

  expect(await call('GET', '/v1/requests/req_01hzzzzzzzzzzzzzzzzzzzzzzz')).toBe(404);
  expect(builtSchemas()).toEqual([...atStart, 'IdParam'].sort());

  expect(await call('GET', '/v1/domains?limit=5')).toBe(200);
  expect(builtSchemas()).toEqual([...atStart, 'IdParam', 'PageQuery'].sort());

  // A body with a scope and a duration: the request's schema and the pieces it is made of.
  expect(await call('POST', '/v1/requests', newRequest('sales/orders'))).toBe(201);
  expect(builtSchemas()).toEqual(
    [
      ...atStart,
      'IdParam',
      'PageQuery',
      'NewRequestSchema',
      'ScopeSchema',
      'ColumnScopeSchema',
      'DurationSchema',
    ].sort(),
  );

  // A refused body is refused as before: validation is the same, only built later.
  expect(await call('POST', '/v1/requests/preview', { productId: 'sales/orders' })).toBe(400);

  const doc = await p.app.request('/openapi.json');
  expect(doc.status).toBe(200);
  const all = Object.entries(S)
    .filter(([, s]) => typeof s === 'object')
    .map(([name]) => name)
    .sort();
  expect(all.length).toBeGreaterThan(30);
  expect(builtSchemas()).toEqual(all);
}, 60_000);
