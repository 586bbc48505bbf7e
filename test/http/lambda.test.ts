import { handle } from 'hono/aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { apiGatewayJwtAuth } from '../../functions/adapters/aws/jwt-claims-auth';
import { createApp } from '../../functions/http/app';
import { startPortal, type TestPortal } from '../support/portal';

// The same app as on Lambda: callers come from API Gateway's JWT authorizer claims, no dev-login.
let p: TestPortal;
let invoke: ReturnType<typeof handle>;
beforeAll(async () => {
  p = await startPortal();
  invoke = handle(createApp({ ...p.deps, authenticate: apiGatewayJwtAuth }));
});
afterAll(() => p.close());

const event = (method: string, path: string, claims?: Record<string, string>, body?: unknown) =>
  ({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'api.example.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'jest' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '21/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  }) as unknown as LambdaEvent;

test('the caller named by the authorizer claims is the principal', async () => {
  const res = await invoke(event('GET', '/v1/me', { 'cognito:username': 'bob', name: 'Bob Keller' }));
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body)).toMatchObject({ id: 'bob', memberships: [{ domain: 'sales', role: 'owner' }] });
});

test('without authorizer claims every /v1 route is 401', async () => {
  const res = await invoke(event('GET', '/v1/requests'));
  expect(res.statusCode).toBe(401);
  expect(JSON.parse(res.body).error.code).toBe('UNAUTHENTICATED');
});

test('a dev-login token is not accepted on Lambda, and dev-login itself is refused', async () => {
  const login = await invoke(event('POST', '/auth/dev-login', undefined, { user: 'erin' }));
  expect(login.statusCode).toBe(403);
  expect(JSON.parse(login.body).error.code).toBe('DEV_LOGIN_DISABLED');
  const token = await p.token('erin');
  const withToken = event('GET', '/v1/me');
  (withToken as unknown as { headers: Record<string, string> }).headers.authorization = `Bearer ${token}`;
  expect((await invoke(withToken)).statusCode).toBe(401);
});
