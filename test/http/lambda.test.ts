import { handle } from 'hono/aws-lambda';
import { apiGatewayJwtAuth } from '../../functions/adapters/aws/jwt-claims-auth';
import { createApp } from '../../functions/http/app';
import { startPortal, type TestPortal } from '../support/portal';
import { apiEvent } from '../support/lambda-event';

// The same app as on Lambda: callers come from API Gateway's JWT authorizer claims, no dev-login.
let p: TestPortal;
let invoke: ReturnType<typeof handle>;
beforeAll(async () => {
  p = await startPortal();
  invoke = handle(createApp({ ...p.deps, authenticate: apiGatewayJwtAuth }));
});
afterAll(() => p.close());

const event = apiEvent;

test('the caller named by the authorizer claims is the principal', async () => {
  const res = await invoke(
    event('GET', '/v1/me', { 'cognito:username': 'bob', name: 'Bob Keller' }),
  );
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body)).toMatchObject({
    id: 'bob',
    memberships: [{ domain: 'sales', role: 'owner' }],
  });
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
  (withToken as unknown as { headers: Record<string, string> }).headers.authorization =
    `Bearer ${token}`;
  expect((await invoke(withToken)).statusCode).toBe(401);
});

test('Cognito groups admin, compliance and auditor become roles in every domain, and go when the group goes', async () => {
  const asZoe = (groups?: string) => ({
    'cognito:username': 'zoe',
    name: 'Zoe Auditor',
    ...(groups === undefined ? {} : { 'cognito:groups': groups }),
  });
  expect((await invoke(event('GET', '/v1/audit', asZoe('[]')))).statusCode).toBe(403);
  expect((await invoke(event('GET', '/v1/audit', asZoe('[auditor other-group]')))).statusCode).toBe(
    200,
  );
  expect(
    JSON.parse((await invoke(event('GET', '/v1/me', asZoe('[auditor]')))).body).memberships,
  ).toEqual([{ user: 'zoe', domain: '*', role: 'auditor', source: 'group' }]);
  // Out of the group: the role is gone for the next call.
  expect((await invoke(event('GET', '/v1/audit', asZoe('[]')))).statusCode).toBe(403);
  const trail = (
    await p.store.queryAudit({
      from: '2000-01-01T00:00:00.000Z',
      to: '2100-01-01T00:00:00.000Z',
      domain: '*',
      limit: 1000,
    })
  ).items;
  expect(trail.filter((e) => e.detail.user === 'zoe').map((e) => [e.type, e.detail.from])).toEqual([
    ['MEMBERSHIP_ADDED', 'identity provider group'],
    ['MEMBERSHIP_REMOVED', 'identity provider group'],
  ]);
  // Without a groups claim (dev tokens, other providers), roles are left as they are.
  expect((await invoke(event('GET', '/v1/me', asZoe()))).statusCode).toBe(200);
});

test('roles granted otherwise (configuration, seed, API) are not taken away by group sync', async () => {
  // erin is a seeded admin and in no Cognito group.
  const erin = { 'cognito:username': 'erin', name: 'Erin Novak', 'cognito:groups': '[]' };
  for (let i = 0; i < 2; i++) {
    const me = JSON.parse((await invoke(event('GET', '/v1/me', erin))).body);
    expect(me.memberships).toEqual([{ user: 'erin', domain: '*', role: 'admin' }]);
  }
  expect((await invoke(event('GET', '/v1/domains/sales/members', erin))).statusCode).toBe(200);
});

describe('the cognito:groups claim is read exactly as API Gateway hands it over', () => {
  const as = (user: string, groups: unknown) => ({
    'cognito:username': user,
    name: user,
    'cognito:groups': groups,
  });
  const rolesOf = async (user: string, groups: unknown) =>
    JSON.parse((await invoke(event('GET', '/v1/me', as(user, groups) as never))).body)
      .memberships.map((m: { role: string }) => m.role)
      .sort();

  test('a group named "x,admin" makes nobody an admin, in any form of the claim', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      for (const groups of ['x,admin', '[x,admin]', '["x,admin"]', ['x,admin'], 'admin']) {
        expect(await rolesOf('mallory', groups)).toEqual([]);
        expect(
          (await invoke(event('GET', '/v1/domains/sales/members', as('mallory', groups) as never)))
            .statusCode,
        ).toBe(403);
      }
      // The forms API Gateway never sends ('x,admin', 'admin') are refused with a log line on
      // each of the two calls, not read.
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual(
        Array(4).fill(expect.stringContaining('groups ignored')),
      );
    } finally {
      warn.mockRestore();
    }
  });

  test('the bracketed space-separated form and a JSON array both give their roles', async () => {
    expect(await rolesOf('quinn', '[admin compliance]')).toEqual(['admin', 'compliance']);
    expect(await rolesOf('quinn', '[]')).toEqual([]);
    expect(await rolesOf('rita', '["admin","compliance"]')).toEqual(['admin', 'compliance']);
    expect(await rolesOf('rita', ['auditor'])).toEqual(['auditor']);
  });
});
