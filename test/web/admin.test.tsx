// The admin console's pieces without a browser: its routes, the broker status derived from a
// domain's operations, reports and the policy tester's answer in plain words.
import { render } from 'preact-render-to-string';
import type { AccessRequest, Explained, Me, Operation } from '../../web/src/api';
import { parseRoute } from '../../web/src/main';
import {
  Admin,
  brokerStatus,
  explainedText,
  reportText,
  undoPending,
  UndoPendingList,
} from '../../web/src/pages/admin';
import type { Paged } from '../../web/src/paging';
import { Ctx, type AppContext } from '../../web/src/ui';

test.each([
  ['#/admin', { page: 'admin', params: { tab: 'domains' } }],
  ['#/admin/members', { page: 'admin', params: { tab: 'members' } }],
  ['#/admin/policy', { page: 'admin', params: { tab: 'policy' } }],
  ['#/admin/nothing', { page: 'not-found', params: {} }],
  ['#/admin/members/x', { page: 'not-found', params: {} }],
])('route %s', (hash, route) => {
  expect(parseRoute(hash)).toEqual(route);
});

const op = (over: Partial<Operation>): Operation => ({
  id: 'opn_1',
  kind: 'sync',
  domain: 'sales',
  status: 'SUCCEEDED',
  requestedBy: 'erin',
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  attempts: 1,
  version: 3,
  ...over,
});

test('the broker status comes from the last finished operation', () => {
  expect(brokerStatus([])).toEqual({ status: 'unknown' });
  expect(brokerStatus([op({ status: 'RUNNING' })])).toEqual({ status: 'unknown' });
  expect(brokerStatus([op({ status: 'RUNNING' }), op({})]).status).toBe('working');
  const broken = op({
    kind: 'reconcile',
    status: 'FAILED',
    error: { code: 'BROKER_UNAVAILABLE', message: 'The broker role cannot be assumed.' },
  });
  expect(brokerStatus([broken, op({})])).toEqual({
    status: 'broken',
    why: 'The broker role cannot be assumed. (BROKER_UNAVAILABLE)',
  });
  expect(brokerStatus([op({}), broken]).status).toBe('working');
  expect(
    brokerStatus([op({ status: 'FAILED', error: { code: 'INTERNAL', message: 'x' } })]).status,
  ).toBe('failing');
});

test('a report in plain words', () => {
  expect(reportText({ added: ['a', 'b'], updated: [], retired: [], unchanged: 9 })).toBe(
    'added 2, updated 0, retired 0, unchanged 9',
  );
  expect(reportText(undefined)).toBe('');
  // A report cut to its stored size counts what was left out of its lists.
  expect(reportText({ missing: [], foreign: ['a', 'b'], omitted: { foreign: 3000 } })).toBe(
    'missing 0, foreign 3002',
  );
});

test('the policy tester says who may do what on which object', () => {
  const a = {
    user: 'alice',
    domain: 'sales',
    object: 'sales/orders',
    action: 'approve:owner',
    roles: [],
    allowed: false,
    reason: 'Denied: no policy line allows it',
    rules: [],
  } satisfies Explained;
  expect(explainedText(a)).toBe('alice may not approve, as owner or steward, sales/orders.');
  expect(
    explainedText({ ...a, user: 'bob', allowed: true, object: '*', action: 'domain:sync' }),
  ).toBe('bob may sync the catalog of the sales domain.');
});

test('someone who is not a platform admin is told the console is not for them', () => {
  const me: Me = {
    id: 'bob',
    name: 'Bob',
    memberships: [{ user: 'bob', domain: 'sales', role: 'owner' }],
  };
  const html = render(
    <Ctx.Provider value={{ me } as unknown as AppContext}>
      <Admin tab="domains" />
    </Ctx.Provider>,
  );
  expect(html).toContain('Not allowed');
  expect(html).toContain('The admin console is for platform admins.');
});

test('the failed requests tab also lists requests granting whose undo was refused', () => {
  const failure = { reason: 'x (not yet undone, attempted again: denied)', at: 't' };
  const items = [
    { id: 'a', status: 'GRANTING' as const, failure },
    { id: 'b', status: 'GRANTING' as const, failure: undefined },
    { id: 'c', status: 'FAILED' as const, failure },
  ];
  expect(undoPending(items).map((r) => r.id)).toEqual(['a']);
});

const granting = (data: AccessRequest[], hasMore: boolean): Paged<AccessRequest> => ({
  state: 'ready',
  data,
  reload: () => {},
  hasMore,
  busy: false,
  loadMore: async () => {},
});

test('undos not yet done: none read so far but more to read says so beside "Load more"; none at all shows nothing', () => {
  const more = render(<UndoPendingList granting={granting([], true)} />);
  expect(more).toContain('Failed, not yet undone');
  expect(more).toContain('None among the requests granting read so far.');
  expect(more).toContain('data-testid="load-more"');
  const none = render(<UndoPendingList granting={granting([], false)} />);
  expect(none).not.toContain('Failed, not yet undone');
  expect(none).not.toContain('data-testid="load-more"');
});
