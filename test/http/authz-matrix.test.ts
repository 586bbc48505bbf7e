// The authorization matrix: every /v1 route as every demo user, with the exact status each
// cell must answer, plus every /v1 route without a valid token. State-changing cells run on a
// fresh fixture of their own, and a refused cell must leave that fixture exactly as it was.

import { sign } from 'hono/jwt';
import { failRun, queueOperation } from '../../functions/domain/operations';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

type User = 'alice' | 'bob' | 'sam' | 'fiona' | 'carol' | 'dave' | 'erin';
const USERS = [
  'alice',
  'bob',
  'sam',
  'fiona',
  'carol',
  'dave',
  'erin',
] as const satisfies readonly User[];

/** A cell: the expected status, or null where the row does not apply to that user. */
type Cell = number | null;
type Row = [
  label: string,
  alice: Cell,
  bob: Cell,
  sam: Cell,
  fiona: Cell,
  carol: Cell,
  dave: Cell,
  erin: Cell,
];

// A label is "METHOD /path" as published in /openapi.json, optionally followed by a [variant]
// naming a different fixture or state. Unless the variant says otherwise, a request or grant is
// alice's, on sales/orders (bob owns sales, sam stewards it, fiona owns finance).
//
// prettier-ignore
const MATRIX: Row[] = [
  //                                                                  alice  bob  sam fiona carol dave erin
  ['GET /v1/me',                                                        200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/domains',                                                   200, 200, 200, 200, 200, 200, 200],
  ['POST /v1/domains',                                                  403, 403, 403, 403, 403, 403, 201],
  ['POST /v1/domains [id already registered]',                         null, null, null, null, null, null, 409],
  ['GET /v1/domains/{id}/members',                                      403, 200, 403, 403, 403, 403, 200],
  ['GET /v1/domains/{id}/members [finance]',                            403, 403, 403, 200, 403, 403, 200],
  ['GET /v1/domains/{id}/members [unregistered domain]',               null, null, null, null, null, null, 404],
  ['POST /v1/domains/{id}/sync',                                        403, 202, 403, 403, 403, 403, 202],
  ['POST /v1/domains/{id}/sync [finance]',                              403, 403, 403, 202, 403, 403, 202],
  ['POST /v1/domains/{id}/sync [one already queued]',                  null, 409, null, null, null, null, 409],
  ['POST /v1/domains/{id}/reconcile',                                   403, 202, 403, 403, 403, 403, 202],
  ['POST /v1/domains/{id}/reconcile [unregistered domain]',            null, null, null, null, null, null, 404],
  ['GET /v1/operations',                                                403, 200, 403, 403, 403, 403, 200],
  ['GET /v1/operations [finance]',                                      403, 403, 403, 200, 403, 403, 200],
  ['GET /v1/operations [unregistered domain]',                         null, null, null, null, null, null, 404],
  ['GET /v1/operations/{id}',                                           404, 200, 404, 404, 404, 404, 200],
  ['GET /v1/operations/{id} [a finance reconcile]',                     404, 404, 404, 200, 404, 404, 200],
  ['POST /v1/memberships',                                              403, 403, 403, 403, 403, 403, 201],
  ['POST /v1/memberships [make myself admin everywhere]',               403, 403, 403, 403, 403, 403, null],
  ['DELETE /v1/memberships/{domain}/{user}/{role}',                     403, 403, 403, 403, 403, 403, 200],
  ['DELETE /v1/memberships/{domain}/{user}/{role} [own admin role]',   null, null, null, null, null, null, 409],
  ['DELETE /v1/memberships/{domain}/{user}/{role} [no such membership]', null, null, null, null, null, null, 404],
  ['GET /v1/products',                                                  200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/products/{domain}/{name}',                                  200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/products/{domain}/{name} [unknown product]',                404, null, null, null, null, null, 404],
  ['POST /v1/requests',                                                 201, 201, 201, 201, 201, 403, 201],
  ['POST /v1/requests [hr/payroll, denied by the hr policy]',           403, 403, 403, 403, 403, 403, 403],
  ['POST /v1/requests/preview',                                         200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/requests',                                                  200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/requests/{id}',                                             200, 200, 200, 404, 200, 200, 200],
  ["GET /v1/requests/{id} [alice's finance request]",                   200, 404, 404, 200, 200, 200, 200],
  ["GET /v1/requests/{id} [bob's marketing request]",                   404, 200, 404, 404, 200, 200, 200],
  ["GET /v1/requests/{id} [fiona's sales request]",                     404, 200, 200, 200, 200, 200, 200],
  ['POST /v1/requests/{id}/approve',                                    403, 200, 200, 404, 403, 403, 403],
  ["POST /v1/requests/{id}/approve [bob's own request]",               null, 403, 200, null, null, null, null],
  ['POST /v1/requests/{id}/approve [already ACTIVE]',                  null, 409, 409, 404, null, null, null],
  ['POST /v1/requests/{id}/approve [hr/employees, compliance stage]',   403, 404, 404, 404, 200, 403, 403],
  ['POST /v1/requests/{id}/deny',                                       403, 200, 200, 404, 403, 403, 403],
  ["POST /v1/requests/{id}/deny [bob's own request]",                  null, 403, 200, null, null, null, null],
  ['POST /v1/requests/{id}/deny [already CANCELLED]',                  null, 409, 409, 404, null, null, null],
  ['POST /v1/requests/{id}/cancel',                                     200, 403, 403, 404, 403, 403, 403],
  ['POST /v1/requests/{id}/cancel [already ACTIVE]',                    409, null, null, 404, null, null, null],
  ['POST /v1/requests/{id}/retry',                                      403, 202, 403, 404, 403, 403, 202],
  ['POST /v1/requests/{id}/retry [still PENDING]',                     null, 409, 403, null, null, null, 409],
  ['GET /v1/approvals',                                                 200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/grants',                                                    200, 200, 200, 200, 200, 200, 200],
  ['POST /v1/grants/{id}/revoke',                                       202, 202, 403, 404, 403, 403, 202],
  ['POST /v1/grants/{id}/revoke [already REVOKED]',                     409, 409, null, 404, null, null, 409],
  ['POST /v1/grants/{id}/extend',                                       201, 403, 403, 404, 403, 403, 403],
  ['POST /v1/grants/{id}/extend [already REVOKED]',                     409, null, null, 404, null, null, null],
  ['GET /v1/audit',                                                     403, 403, 403, 403, 403, 200, 403],
  ['GET /v1/audit [domain=sales]',                                      403, 403, 403, 403, 403, 200, 403],
  ['GET /v1/audit/export',                                              403, 403, 403, 403, 403, 200, 403],
  ['GET /v1/audit/verify',                                              403, 403, 403, 403, 403, 200, 200],
  ['GET /v1/grants/{id}/chain',                                         200, 200, 200, 404, 200, 200, 200],
  ['GET /v1/grants/{id}',                                               200, 200, 200, 404, 200, 200, 200],
  ["GET /v1/grants/{id} [bob's marketing grant]",                       404, 200, 404, 404, 200, 200, 200],
  ['GET /v1/consumer-accounts',                                         200, 200, 200, 200, 200, 200, 200],
  ['POST /v1/consumer-accounts',                                        403, 403, 403, 403, 403, 403, 201],
  ['GET /v1/policy',                                                    403, 403, 403, 403, 200, 200, 200],
  ['POST /v1/policy/explain',                                           200, 200, 200, 200, 200, 200, 200],
  ['POST /v1/policy/explain [about another user]',                      403, 200, 403, 403, 200, 200, 200],
  ['GET /v1/notifications',                                             200, 200, 200, 200, 200, 200, 200],
  ['GET /v1/notifications/summary',                                     200, 200, 200, 200, 200, 200, 200],
  ['POST /v1/notifications/read-all',                                   200, 200, 200, 200, 200, 200, 200],
  ['POST /v1/notifications/{id}/read',                                  200, 404, 404, 404, 404, 404, 404],
  ['GET /v1/notifications/settings',                                    200, 200, 200, 200, 200, 200, 200],
  ['PUT /v1/notifications/settings',                                    200, 200, 200, 200, 200, 200, 200],
];

// How each user stands to the object of a row, for the test names.
const GLOBAL_ROLES = {
  carol: 'compliance, every domain',
  dave: 'auditor, every domain',
  erin: 'admin, every domain',
} as const;
const CONTEXT = {
  request: {
    alice: 'requester',
    bob: 'own domain, owner',
    sam: 'own domain, steward',
    fiona: 'other domain',
    ...GLOBAL_ROLES,
  },
  domain: {
    alice: 'no role',
    bob: 'own domain, owner',
    sam: 'own domain, steward',
    fiona: 'other domain',
    ...GLOBAL_ROLES,
  },
  global: {
    alice: 'no role',
    bob: 'owner of sales',
    sam: 'steward of sales',
    fiona: 'owner of finance',
    ...GLOBAL_ROLES,
  },
} satisfies Record<string, Record<User, string>>;

/** Domains in which a user reads every request and grant ('*' for all); alice has none. */
const READS: Record<User, string[] | '*'> = {
  alice: [],
  bob: ['sales'],
  sam: ['sales'],
  fiona: ['finance'],
  carol: '*',
  dave: '*',
  erin: '*',
};

type Res = Awaited<ReturnType<TestPortal['call']>>;
interface Snapshot {
  status: string;
  version: number;
  events: number;
}
interface Fx {
  id?: string;
  grantId?: string;
  before?: Snapshot;
  count?: number;
  domainId?: string;
  notificationId?: string;
}
interface Case {
  context: keyof typeof CONTEXT;
  /** Context overrides for this row's test names. */
  who?: Partial<Record<User, string>>;
  /** Builds the fixture this cell works on (a fresh one per cell where the call changes state). */
  arrange?: (user: User) => Promise<Fx>;
  act: (user: User, fx: Fx) => Promise<Res>;
  /** Checks on an allowed answer. */
  ok?: (res: Res, user: User, fx: Fx) => Promise<void> | void;
  /** What must still hold after a refusal. */
  unchanged?: (fx: Fx, user: User) => Promise<void>;
  cleanup?: (fx: Fx) => Promise<void>;
}

let p: TestPortal;
let seq = 0;

const HENRY_STEWARD = { user: 'henry', domain: 'sales', role: 'steward' } as const;
const HENRY_STEWARD_PATH = '/v1/memberships/sales/henry/steward';

/** Long-lived fixtures, made once; no cell changes them. */
const F = {
  aliceSales: '',
  aliceFinance: '',
  bobMarketing: '',
  fionaSales: '',
  bobSales: '',
  aliceSalesGrant: '',
  bobMarketingGrant: '',
  fionaFinanceGrant: '',
  salesSync: '',
  financeReconcile: '',
};
/** Who may see each long-lived request and grant, and whose inbox each pending request is in. */
const REQUEST_READERS: Record<string, User[]> = {
  aliceSales: ['alice', 'bob', 'sam', 'carol', 'dave', 'erin'],
  aliceFinance: ['alice', 'fiona', 'carol', 'dave', 'erin'],
  bobMarketing: ['bob', 'carol', 'dave', 'erin'],
  fionaSales: ['bob', 'sam', 'fiona', 'carol', 'dave', 'erin'],
  bobSales: ['bob', 'sam', 'carol', 'dave', 'erin'],
};
const INBOX: Record<string, User[]> = {
  aliceSales: ['bob', 'sam'],
  aliceFinance: ['fiona'],
  bobMarketing: [], // henry's
  fionaSales: ['bob', 'sam'],
  bobSales: ['sam'], // never the requester's own inbox
};
const GRANT_READERS: Record<string, User[]> = {
  aliceSalesGrant: ['alice', 'bob', 'sam', 'carol', 'dave', 'erin'],
  bobMarketingGrant: ['bob', 'carol', 'dave', 'erin'],
  fionaFinanceGrant: ['fiona', 'carol', 'dave', 'erin'],
};

// ------------------------------------------------------------------------------ fixtures

async function pending(
  requester: string = 'alice',
  productId = 'sales/orders',
  over: Record<string, unknown> = {},
): Promise<string> {
  const r = await p.call(requester, 'POST', '/v1/requests', newRequest(productId, over));
  expect(r).toMatchObject({ status: 201, body: { status: 'PENDING' } });
  return r.body.id;
}

async function readAsAdmin(id: string) {
  const r = await p.call('erin', 'GET', `/v1/requests/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function snapshot(id: string): Promise<Snapshot> {
  const r = await readAsAdmin(id);
  return { status: r.status, version: r.version, events: r.history.length };
}

async function approveAs(user: string, id: string) {
  const r = await p.call(user, 'POST', `/v1/requests/${id}/approve`, { comment: 'fixture' });
  expect(r.status).toBe(200);
}

/** A request that went through approval and fulfilment: ACTIVE, with its grant. */
async function active(requester: string = 'alice', productId = 'sales/orders'): Promise<Fx> {
  const id = await pending(requester, productId);
  await approveAs(requester === 'bob' ? 'sam' : 'bob', id);
  await p.queue.onIdle();
  const r = await readAsAdmin(id);
  expect(r.status).toBe('ACTIVE');
  return {
    id,
    grantId: r.grantId,
    before: { status: r.status, version: r.version, events: r.history.length },
  };
}

/** A public product is approved automatically; wait for its grant. */
async function autoGranted(requester: string, productId: string): Promise<string> {
  const r = await p.call(requester, 'POST', '/v1/requests', newRequest(productId));
  expect(r).toMatchObject({ status: 201, body: { status: 'APPROVED' } });
  await p.queue.onIdle();
  const done = await readAsAdmin(r.body.id);
  expect(done.status).toBe('ACTIVE');
  return done.grantId;
}

/** An approved sales request whose Lake Formation grant failed once: FAILED, retryable. */
async function failed(): Promise<Fx> {
  const id = await pending();
  await p.queue.onIdle();
  const spy = jest
    .spyOn(p.ledger, 'grant')
    .mockRejectedValueOnce(
      new Error('AccessDeniedException: Insufficient Lake Formation permission(s)'),
    );
  try {
    await approveAs('bob', id);
    await p.queue.onIdle();
  } finally {
    spy.mockRestore();
  }
  const before = await snapshot(id);
  expect(before.status).toBe('FAILED');
  return { id, before };
}

const withSnapshot = async (id: string): Promise<Fx> => ({ id, before: await snapshot(id) });

async function membersOfSales() {
  const r = await p.call('erin', 'GET', '/v1/domains/sales/members');
  expect(r.status).toBe(200);
  return r.body.items as { user: string; domain: string; role: string }[];
}
const henryIsSteward = async () =>
  (await membersOfSales()).some((m) => m.user === 'henry' && m.role === 'steward');

async function removeHenry() {
  const r = await p.call('erin', 'DELETE', HENRY_STEWARD_PATH);
  expect([200, 404]).toContain(r.status);
}

async function requestCount(user: User) {
  const r = await p.call(user, 'GET', '/v1/requests?mine=true');
  expect(r.status).toBe(200);
  return (r.body.items as unknown[]).length;
}

async function grantStatus(grantId: string) {
  const r = await p.call('erin', 'GET', '/v1/grants');
  return (r.body.items as { id: string; status: string }[]).find((g) => g.id === grantId)?.status;
}

const unchangedRequest = async (fx: Fx) => expect(await snapshot(fx.id!)).toEqual(fx.before);
const mayRead = (user: User, domain: string) => READS[user] === '*' || READS[user].includes(domain);
const currentStage = (r: { stages: { name: string; required: number; approvals: unknown[] }[] }) =>
  r.stages.find((s) => s.approvals.length < s.required)?.name;
/** A started operation: 202 with it QUEUED, then, once the worker is done, SUCCEEDED with its report. */
async function finishes(
  res: Res,
  u: User,
  kind: 'sync' | 'reconcile',
  report: (r: Record<string, unknown>) => void,
  domain = 'sales',
) {
  expect(res.body.operation).toMatchObject({ kind, domain, status: 'QUEUED', requestedBy: u });
  await p.queue.onIdle();
  const op = (await p.call(u, 'GET', `/v1/operations/${res.body.operation.id}`)).body.operation;
  expect(op).toMatchObject({ status: 'SUCCEEDED', report: expect.objectContaining({ domain }) });
  report(op.report);
}

const ids = (res: Res) => (res.body.items as { id: string }[]).map((i) => i.id);

// ----------------------------------------------------------------------- one case per row

const CASES: Record<string, Case> = {
  'GET /v1/me': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/me'),
    ok: (res, u) => {
      expect(res.body.id).toBe(u);
      // Only one's own memberships.
      expect((res.body.memberships as { user: string }[]).every((m) => m.user === u)).toBe(true);
    },
  },
  'GET /v1/domains': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/domains'),
    ok: (res) =>
      expect(ids(res)).toEqual(expect.arrayContaining(['sales', 'marketing', 'finance', 'hr'])),
  },
  'POST /v1/domains': {
    context: 'global',
    arrange: async () => ({ domainId: `matrix-${++seq}` }),
    act: (u, fx) =>
      p.call(u, 'POST', '/v1/domains', {
        id: fx.domainId,
        name: 'Matrix',
        accountId: '999999999999',
        region: 'eu-west-1',
      }),
    ok: async (res, _u, fx) => {
      expect(res.body.id).toBe(fx.domainId);
      expect(ids(await p.call('alice', 'GET', '/v1/domains'))).toContain(fx.domainId);
    },
    unchanged: async (fx) =>
      expect(ids(await p.call('erin', 'GET', '/v1/domains'))).not.toContain(fx.domainId),
  },
  'POST /v1/domains [id already registered]': {
    context: 'global',
    act: (u) =>
      p.call(u, 'POST', '/v1/domains', {
        id: 'sales',
        name: 'Hijacked',
        accountId: '999999999999',
        region: 'us-east-1',
      }),
    unchanged: async () => {
      const sales = (await p.call('erin', 'GET', '/v1/domains')).body.items.find(
        (d: { id: string }) => d.id === 'sales',
      );
      expect(sales).toMatchObject({
        name: 'Sales',
        accountId: '111111111111',
        region: 'eu-west-1',
      });
    },
  },
  'POST /v1/domains/{id}/sync': {
    context: 'domain',
    act: (u) => p.call(u, 'POST', '/v1/domains/sales/sync'),
    ok: (res, u) => finishes(res, u, 'sync', (r) => expect(r).toMatchObject({ retired: [] })),
  },
  'POST /v1/domains/{id}/sync [finance]': {
    context: 'domain',
    act: (u) => p.call(u, 'POST', '/v1/domains/finance/sync'),
    ok: (res, u) => finishes(res, u, 'sync', () => {}, 'finance'),
  },
  'POST /v1/domains/{id}/sync [one already queued]': {
    context: 'domain',
    // A sync queued (its job not sent): the lock holds until it finishes.
    arrange: async () => {
      const op = queueOperation(
        {
          id: `opn_${String(++seq).padStart(26, '0')}`,
          kind: 'sync',
          domain: 'sales',
          requestedBy: 'erin',
        },
        new Date(),
      );
      await p.operations.create(op, {
        id: p.deps.ids.next('evt'),
        at: op.createdAt,
        type: 'OPERATION_STARTED',
        actor: 'erin',
        domain: 'sales',
        detail: { operationId: op.id, kind: 'sync' },
      });
      return { id: op.id };
    },
    act: (u) => p.call(u, 'POST', '/v1/domains/sales/sync'),
    unchanged: async (fx, u) => {
      const refused = await p.call(u, 'POST', '/v1/domains/sales/sync');
      expect(refused.body.error).toMatchObject({
        code: 'OPERATION_RUNNING',
        details: { operationId: fx.id },
      });
      expect((await p.operations.get(fx.id!))?.status).toBe('QUEUED');
    },
    cleanup: async (fx) => {
      const op = (await p.operations.get(fx.id!))!;
      await p.operations.update(failRun(op, { code: 'INTERNAL', message: 'test' }, new Date()), op);
    },
  },
  'POST /v1/domains/{id}/reconcile': {
    context: 'domain',
    act: (u) => p.call(u, 'POST', '/v1/domains/sales/reconcile'),
    ok: (res, u) =>
      finishes(res, u, 'reconcile', (r) =>
        expect(r).toMatchObject({ missing: [], stray: [], foreign: [] }),
      ),
  },
  'GET /v1/operations': {
    context: 'domain',
    act: (u) => p.call(u, 'GET', '/v1/operations?domain=sales'),
    ok: (res) => {
      const ops = res.body.items as { id: string; domain: string }[];
      expect(ops.map((o) => o.id)).toContain(F.salesSync);
      expect(ops.every((o) => o.domain === 'sales')).toBe(true);
    },
  },
  'GET /v1/operations [finance]': {
    context: 'domain',
    who: { bob: 'other domain', sam: 'other domain', fiona: 'own domain, owner' },
    act: (u) => p.call(u, 'GET', '/v1/operations?domain=finance'),
    ok: (res) =>
      expect((res.body.items as { id: string }[]).map((o) => o.id)).toContain(F.financeReconcile),
  },
  'GET /v1/operations [unregistered domain]': {
    context: 'domain',
    act: (u) => p.call(u, 'GET', '/v1/operations?domain=nowhere'),
  },
  'GET /v1/operations/{id}': {
    context: 'domain',
    act: (u) => p.call(u, 'GET', `/v1/operations/${F.salesSync}`),
    ok: (res) =>
      expect(res.body.operation).toMatchObject({
        id: F.salesSync,
        kind: 'sync',
        domain: 'sales',
        status: 'SUCCEEDED',
      }),
  },
  'GET /v1/operations/{id} [a finance reconcile]': {
    context: 'domain',
    who: { bob: 'other domain', sam: 'other domain', fiona: 'own domain, owner' },
    act: (u) => p.call(u, 'GET', `/v1/operations/${F.financeReconcile}`),
    ok: (res) =>
      expect(res.body.operation).toMatchObject({
        id: F.financeReconcile,
        kind: 'reconcile',
        domain: 'finance',
        status: 'SUCCEEDED',
      }),
  },
  'POST /v1/domains/{id}/reconcile [unregistered domain]': {
    context: 'domain',
    act: (u) => p.call(u, 'POST', '/v1/domains/logistics/reconcile'),
  },
  'GET /v1/domains/{id}/members': {
    context: 'domain',
    act: (u) => p.call(u, 'GET', '/v1/domains/sales/members'),
    ok: (res) =>
      expect(res.body.items).toEqual(
        expect.arrayContaining([
          { user: 'bob', domain: 'sales', role: 'owner' },
          { user: 'sam', domain: 'sales', role: 'steward' },
        ]),
      ),
  },
  'GET /v1/domains/{id}/members [finance]': {
    context: 'domain',
    who: { bob: 'other domain', sam: 'other domain', fiona: 'own domain, owner' },
    act: (u) => p.call(u, 'GET', '/v1/domains/finance/members'),
    ok: (res) =>
      expect(res.body.items).toEqual([{ user: 'fiona', domain: 'finance', role: 'owner' }]),
  },
  'GET /v1/domains/{id}/members [unregistered domain]': {
    context: 'domain',
    act: (u) => p.call(u, 'GET', '/v1/domains/nowhere/members'),
  },
  'POST /v1/memberships': {
    context: 'domain',
    arrange: async () => {
      await removeHenry();
      return {};
    },
    act: (u) => p.call(u, 'POST', '/v1/memberships', HENRY_STEWARD),
    ok: async (res) => {
      expect(res.body).toEqual(HENRY_STEWARD);
      expect(await henryIsSteward()).toBe(true);
    },
    unchanged: async () => expect(await henryIsSteward()).toBe(false),
    cleanup: removeHenry,
  },
  'POST /v1/memberships [make myself admin everywhere]': {
    context: 'global',
    act: (u) => p.call(u, 'POST', '/v1/memberships', { user: u, domain: '*', role: 'admin' }),
    unchanged: async (_fx, u) => {
      const me = await p.call(u, 'GET', '/v1/me');
      expect(me.body.memberships).not.toContainEqual(expect.objectContaining({ role: 'admin' }));
      // And the refusal did not reach the policy engine either.
      expect((await p.call(u, 'GET', '/v1/audit')).status).toBe(u === 'dave' ? 200 : 403);
      expect(
        (
          await p.call(u, 'POST', '/v1/domains', {
            id: `matrix-${++seq}`,
            name: 'X',
            accountId: '999999999999',
            region: 'eu-west-1',
          })
        ).status,
      ).toBe(403);
    },
  },
  'DELETE /v1/memberships/{domain}/{user}/{role}': {
    context: 'domain',
    arrange: async () => {
      expect((await p.call('erin', 'POST', '/v1/memberships', HENRY_STEWARD)).status).toBe(201);
      return {};
    },
    act: (u) => p.call(u, 'DELETE', HENRY_STEWARD_PATH),
    ok: async (res) => {
      expect(res.body).toEqual({ removed: HENRY_STEWARD });
      expect(await henryIsSteward()).toBe(false);
    },
    unchanged: async () => expect(await henryIsSteward()).toBe(true),
    cleanup: removeHenry,
  },
  'DELETE /v1/memberships/{domain}/{user}/{role} [own admin role]': {
    context: 'global',
    act: (u) => p.call(u, 'DELETE', `/v1/memberships/*/${u}/admin`),
    unchanged: async (_fx, u) => {
      expect((await p.call(u, 'GET', '/v1/me')).body.memberships).toContainEqual({
        user: u,
        domain: '*',
        role: 'admin',
      });
    },
  },
  'DELETE /v1/memberships/{domain}/{user}/{role} [no such membership]': {
    context: 'global',
    act: (u) => p.call(u, 'DELETE', '/v1/memberships/finance/alice/owner'),
  },
  'GET /v1/products': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/products'),
    ok: (res) =>
      expect(ids(res)).toEqual(
        expect.arrayContaining(['sales/orders', 'finance/invoices', 'hr/employees']),
      ),
  },
  'GET /v1/products/{domain}/{name}': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/products/sales/orders'),
    ok: (res) => expect(res.body).toMatchObject({ id: 'sales/orders', domain: 'sales' }),
  },
  'GET /v1/products/{domain}/{name} [unknown product]': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/products/sales/nothing_here'),
  },
  'POST /v1/requests': {
    context: 'domain',
    arrange: async (u) => ({ count: await requestCount(u) }),
    act: (u) => p.call(u, 'POST', '/v1/requests', newRequest('sales/orders')),
    ok: (res, u) =>
      expect(res.body).toMatchObject({
        requester: u,
        productId: 'sales/orders',
        status: 'PENDING',
        version: 1,
      }),
    unchanged: async (fx, u) => expect(await requestCount(u)).toBe(fx.count),
  },
  'POST /v1/requests [hr/payroll, denied by the hr policy]': {
    context: 'domain',
    who: { bob: 'other domain', sam: 'other domain', fiona: 'other domain' },
    arrange: async (u) => ({ count: await requestCount(u) }),
    act: (u) =>
      p.call(
        u,
        'POST',
        '/v1/requests',
        newRequest('hr/payroll', { duration: { value: 3, unit: 'days' } }),
      ),
    unchanged: async (fx, u) => expect(await requestCount(u)).toBe(fx.count),
  },
  'POST /v1/requests/preview': {
    context: 'domain',
    act: (u) => {
      const { productId, scope, duration } = newRequest('sales/orders');
      return p.call(u, 'POST', '/v1/requests/preview', { productId, scope, duration });
    },
    // The auditor may ask, and is told that policy refuses him.
    ok: (res, u) => expect(res.body.outcome).toBe(u === 'dave' ? 'refused' : 'needs-approval'),
  },
  'GET /v1/requests': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/requests'),
    ok: (res, u) => {
      const items = res.body.items as { id: string; requester: string; domain: string }[];
      for (const [name, readers] of Object.entries(REQUEST_READERS)) {
        const id = F[name as keyof typeof F];
        if (readers.includes(u)) expect(ids(res)).toContain(id);
        else expect(ids(res)).not.toContain(id);
      }
      // Everything listed is the caller's own, or in a domain where the caller reads everything.
      const stray = items.filter((r) => r.requester !== u && !mayRead(u, r.domain));
      expect(stray).toEqual([]);
    },
  },
  'GET /v1/requests/{id}': {
    context: 'request',
    act: (u) => p.call(u, 'GET', `/v1/requests/${F.aliceSales}`),
    ok: (res) => {
      expect(res.body).toMatchObject({ id: F.aliceSales, requester: 'alice', domain: 'sales' });
      expect(Array.isArray(res.body.history)).toBe(true);
    },
  },
  "GET /v1/requests/{id} [alice's finance request]": {
    context: 'request',
    who: { bob: 'other domain', sam: 'other domain', fiona: 'own domain, owner' },
    act: (u) => p.call(u, 'GET', `/v1/requests/${F.aliceFinance}`),
    ok: (res) => expect(res.body.id).toBe(F.aliceFinance),
  },
  "GET /v1/requests/{id} [bob's marketing request]": {
    context: 'request',
    who: { alice: 'no role', bob: 'requester', sam: 'other domain' },
    act: (u) => p.call(u, 'GET', `/v1/requests/${F.bobMarketing}`),
    ok: (res) => expect(res.body.id).toBe(F.bobMarketing),
  },
  "GET /v1/requests/{id} [fiona's sales request]": {
    context: 'request',
    who: { alice: 'no role', fiona: 'requester, other domain' },
    act: (u) => p.call(u, 'GET', `/v1/requests/${F.fionaSales}`),
    ok: (res) => expect(res.body.id).toBe(F.fionaSales),
  },
  'POST /v1/requests/{id}/approve': {
    context: 'request',
    arrange: async () => withSnapshot(await pending()),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/approve`, { comment: 'ok for Q3' }),
    ok: (res, u) => {
      expect(res.body).toMatchObject({ status: 'APPROVED', version: 2 });
      expect(res.body.stages[0].approvals.map((a: { by: string }) => a.by)).toEqual([u]);
    },
    unchanged: unchangedRequest,
  },
  "POST /v1/requests/{id}/approve [bob's own request]": {
    context: 'request',
    who: { bob: 'own domain, owner, requester' },
    arrange: async () => withSnapshot(await pending('bob')),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/approve`, { comment: 'mine' }),
    ok: (res) => expect(res.body.status).toBe('APPROVED'),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/approve [already ACTIVE]': {
    context: 'request',
    arrange: () => active(),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/approve`, { comment: 'again' }),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/approve [hr/employees, compliance stage]': {
    context: 'request',
    who: { bob: 'other domain', sam: 'other domain', carol: 'compliance, current stage' },
    arrange: async () => {
      const id = await pending('alice', 'hr/employees', { duration: { value: 3, unit: 'days' } });
      await approveAs('grace', id);
      const fx = await withSnapshot(id);
      expect(currentStage(await readAsAdmin(id))).toBe('compliance');
      return fx;
    },
    act: (u, fx) =>
      p.call(u, 'POST', `/v1/requests/${fx.id}/approve`, { comment: 'compliance ok' }),
    ok: (res) => expect(res.body.status).toBe('APPROVED'),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/deny': {
    context: 'request',
    arrange: async () => withSnapshot(await pending()),
    act: (u, fx) =>
      p.call(u, 'POST', `/v1/requests/${fx.id}/deny`, { reason: 'use the aggregate' }),
    ok: (res, u) =>
      expect(res.body).toMatchObject({
        status: 'DENIED',
        denial: { by: u, reason: 'use the aggregate' },
      }),
    unchanged: unchangedRequest,
  },
  "POST /v1/requests/{id}/deny [bob's own request]": {
    context: 'request',
    who: { bob: 'own domain, owner, requester' },
    arrange: async () => withSnapshot(await pending('bob')),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/deny`, { reason: 'no' }),
    ok: (res) => expect(res.body.status).toBe('DENIED'),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/deny [already CANCELLED]': {
    context: 'request',
    arrange: async () => {
      const id = await pending();
      expect((await p.call('alice', 'POST', `/v1/requests/${id}/cancel`)).status).toBe(200);
      return withSnapshot(id);
    },
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/deny`, { reason: 'too late' }),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/cancel': {
    context: 'request',
    arrange: async () => withSnapshot(await pending()),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/cancel`),
    ok: (res) => expect(res.body).toMatchObject({ status: 'CANCELLED', version: 2 }),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/cancel [already ACTIVE]': {
    context: 'request',
    arrange: () => active(),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/cancel`),
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/retry': {
    context: 'request',
    arrange: () => failed(),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/retry`),
    ok: async (res, _u, fx) => {
      expect(res.body.status).toBe('GRANTING');
      await p.queue.onIdle();
      expect((await readAsAdmin(fx.id!)).status).toBe('ACTIVE');
    },
    unchanged: unchangedRequest,
  },
  'POST /v1/requests/{id}/retry [still PENDING]': {
    context: 'request',
    arrange: async () => withSnapshot(await pending()),
    act: (u, fx) => p.call(u, 'POST', `/v1/requests/${fx.id}/retry`),
    unchanged: unchangedRequest,
  },
  'GET /v1/approvals': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/approvals'),
    ok: (res, u) => {
      for (const [name, deciders] of Object.entries(INBOX)) {
        const id = F[name as keyof typeof F];
        if (deciders.includes(u)) expect(ids(res)).toContain(id);
        else expect(ids(res)).not.toContain(id);
      }
      const items = res.body.items as {
        requester: string;
        domain: string;
        status: string;
        stages: { name: string; required: number; approvals: unknown[] }[];
      }[];
      for (const r of items) {
        expect(r.status).toBe('PENDING');
        expect(r.requester).not.toBe(u);
        if (u === 'carol') expect(currentStage(r)).toBe('compliance');
        else {
          expect(currentStage(r)).toBe('owner');
          expect(READS[u]).toContain(r.domain);
        }
      }
      if (u === 'alice' || u === 'dave' || u === 'erin') expect(items).toEqual([]);
    },
  },
  'GET /v1/grants': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/grants'),
    ok: (res, u) => {
      for (const [name, readers] of Object.entries(GRANT_READERS)) {
        const id = F[name as keyof typeof F];
        if (readers.includes(u)) expect(ids(res)).toContain(id);
        else expect(ids(res)).not.toContain(id);
      }
      const stray = (res.body.items as { requester: string; domain: string }[]).filter(
        (g) => g.requester !== u && !mayRead(u, g.domain),
      );
      expect(stray).toEqual([]);
    },
  },
  'POST /v1/grants/{id}/revoke': {
    context: 'request',
    arrange: () => active(),
    act: (u, fx) =>
      p.call(u, 'POST', `/v1/grants/${fx.grantId}/revoke`, { reason: 'project finished' }),
    ok: async (res, _u, fx) => {
      expect(res.body).toMatchObject({
        id: fx.grantId,
        status: 'REVOKING',
        endReason: 'project finished',
      });
      await p.queue.onIdle();
      expect((await readAsAdmin(fx.id!)).status).toBe('REVOKED');
    },
    unchanged: async (fx) => {
      await unchangedRequest(fx);
      expect(await grantStatus(fx.grantId!)).toBe('ACTIVE');
    },
  },
  'POST /v1/grants/{id}/extend': {
    context: 'request',
    arrange: () => active(),
    act: (u, fx) =>
      p.call(u, 'POST', `/v1/grants/${fx.grantId}/extend`, {
        duration: { value: 3, unit: 'days' },
        purpose: 'the study runs longer',
      }),
    ok: async (res, _u, fx) => {
      expect(res.body).toMatchObject({
        status: 'PENDING',
        extendsGrantId: fx.grantId,
        requester: 'alice',
      });
      expect(
        (
          await p.call('alice', 'POST', `/v1/grants/${fx.grantId}/extend`, {
            duration: { value: 1, unit: 'days' },
            purpose: 'again',
          })
        ).status,
      ).toBe(409);
    },
    unchanged: async (fx) => {
      await unchangedRequest(fx);
      expect(await grantStatus(fx.grantId!)).toBe('ACTIVE');
    },
  },
  'POST /v1/grants/{id}/extend [already REVOKED]': {
    context: 'request',
    arrange: async () => {
      const fx = await active();
      expect(
        (await p.call('bob', 'POST', `/v1/grants/${fx.grantId}/revoke`, { reason: 'done' })).status,
      ).toBe(202);
      await p.queue.onIdle();
      return { ...fx, before: await snapshot(fx.id!) };
    },
    act: (u, fx) =>
      p.call(u, 'POST', `/v1/grants/${fx.grantId}/extend`, {
        duration: { value: 3, unit: 'days' },
        purpose: 'more',
      }),
    unchanged: unchangedRequest,
  },
  'POST /v1/grants/{id}/revoke [already REVOKED]': {
    context: 'request',
    arrange: async () => {
      const fx = await active();
      expect(
        (await p.call('bob', 'POST', `/v1/grants/${fx.grantId}/revoke`, { reason: 'done' })).status,
      ).toBe(202);
      await p.queue.onIdle();
      return { ...fx, before: await snapshot(fx.id!) };
    },
    act: (u, fx) => p.call(u, 'POST', `/v1/grants/${fx.grantId}/revoke`, { reason: 'again' }),
    unchanged: async (fx) => {
      await unchangedRequest(fx);
      expect(fx.before?.status).toBe('REVOKED');
      expect(await grantStatus(fx.grantId!)).toBe('REVOKED');
    },
  },
  'GET /v1/audit': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/audit'),
    ok: (res) => expect((res.body.items as unknown[]).length).toBeGreaterThan(0),
  },
  'GET /v1/audit [domain=sales]': {
    context: 'domain',
    act: (u) => p.call(u, 'GET', '/v1/audit?domain=sales'),
    ok: (res) => {
      expect((res.body.items as unknown[]).length).toBeGreaterThan(0);
      expect((res.body.items as { domain: string }[]).every((e) => e.domain === 'sales')).toBe(
        true,
      );
    },
  },
  'GET /v1/audit/verify': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/audit/verify'),
    ok: (res) => {
      expect(res.body.ok).toBe(true);
      expect(res.body.chains.map((c: { chain: string }) => c.chain)).toEqual(
        expect.arrayContaining(['sales', '*']),
      );
    },
  },
  'GET /v1/audit/export': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/audit/export'),
    ok: (res) => {
      expect(typeof res.body).toBe('string');
      const lines = (res.body as string).split('\r\n');
      expect(lines[0]).toBe(
        'at,id,type,actor,domain,requestId,productId,fromStatus,toStatus,detail,chain,seq,prevHash,hash',
      );
      expect(lines.length).toBeGreaterThan(2);
    },
  },
  'GET /v1/grants/{id}/chain': {
    context: 'request',
    act: (u) => p.call(u, 'GET', `/v1/grants/${F.aliceSalesGrant}/chain`),
    ok: (res) => {
      expect(res.body.grant).toMatchObject({
        id: F.aliceSalesGrant,
        requester: 'alice',
        status: 'ACTIVE',
      });
      expect(res.body.request).toMatchObject({ grantId: F.aliceSalesGrant, status: 'ACTIVE' });
      expect((res.body.events as { type: string }[]).map((e) => e.type)).toContain('GRANT_ACTIVE');
    },
  },
  'GET /v1/grants/{id}': {
    context: 'request',
    act: (u) => p.call(u, 'GET', `/v1/grants/${F.aliceSalesGrant}`),
    ok: (res) => {
      expect(res.body).toMatchObject({ id: F.aliceSalesGrant, status: 'ACTIVE' });
      // alice's role is in an account Meshgate does not manage: her administrator links the table.
      expect(res.body.access).toMatchObject({
        account: '111111111111',
        database: 'sales_gold',
        table: 'orders',
        query: 'SELECT * FROM "meshgate_sales"."sales_gold__orders" LIMIT 10',
        setup: { steps: expect.arrayContaining([expect.anything()]) },
      });
    },
  },
  "GET /v1/grants/{id} [bob's marketing grant]": {
    context: 'request',
    who: { alice: 'no role', bob: 'requester', sam: 'other domain' },
    act: (u) => p.call(u, 'GET', `/v1/grants/${F.bobMarketingGrant}`),
    ok: (res) => expect(res.body).toMatchObject({ id: F.bobMarketingGrant, requester: 'bob' }),
  },
  'GET /v1/consumer-accounts': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/consumer-accounts'),
    ok: (res) => {
      // The broker's ExternalId never leaves the server.
      expect(JSON.stringify(res.body)).not.toMatch(/"externalId":"/);
    },
  },
  'POST /v1/consumer-accounts': {
    context: 'global',
    arrange: async () => ({ domainId: String(700000000000 + ++seq) }),
    act: (u, fx) =>
      p.call(u, 'POST', '/v1/consumer-accounts', {
        id: `consumer-${fx.domainId}`,
        accountId: fx.domainId,
        region: 'eu-west-1',
        broker: {
          roleArn: `arn:aws:iam::${fx.domainId}:role/meshgate-broker`,
          externalId: 'matrix-external-id',
        },
      }),
    ok: async (res, _u, fx) => {
      expect(res.body).toMatchObject({
        accountId: fx.domainId,
        broker: { externalId: { set: true } },
      });
      expect(
        (await p.call('alice', 'GET', '/v1/consumer-accounts')).body.items.map(
          (c: { accountId: string }) => c.accountId,
        ),
      ).toContain(fx.domainId);
    },
    unchanged: async (fx) =>
      expect(
        (await p.call('erin', 'GET', '/v1/consumer-accounts')).body.items.map(
          (c: { accountId: string }) => c.accountId,
        ),
      ).not.toContain(fx.domainId),
  },
  'GET /v1/policy': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/policy'),
    ok: (res) => {
      expect(res.body.inForce).toBe(true);
      expect(res.body.recorded.version).toBe(res.body.version);
      const sources = (res.body.files as { source: string }[]).map((f) => f.source);
      expect(sources[0]).toBe('model.conf');
      expect(sources.some((s) => s.endsWith('global.csv'))).toBe(true);
    },
  },
  'POST /v1/policy/explain': {
    context: 'domain',
    act: (u) =>
      p.call(u, 'POST', '/v1/policy/explain', {
        action: 'approve:owner',
        productId: 'sales/orders',
      }),
    // Asked about themselves, everyone gets the answer the approve row of this matrix enforces.
    ok: (res, u) =>
      expect(res.body).toMatchObject({
        user: u,
        domain: 'sales',
        allowed: u === 'bob' || u === 'sam',
      }),
  },
  'POST /v1/policy/explain [about another user]': {
    context: 'domain',
    who: { alice: 'no role, asks about bob' },
    act: (u) =>
      p.call(u, 'POST', '/v1/policy/explain', {
        user: u === 'alice' ? 'bob' : 'alice',
        action: 'request',
        productId: 'sales/orders',
      }),
    ok: (res) =>
      expect(res.body).toMatchObject({ user: 'alice', domain: 'sales', allowed: true, roles: [] }),
  },
  'GET /v1/notifications': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/notifications'),
    ok: (res, u) =>
      expect((res.body.items as { user: string }[]).every((n) => n.user === u)).toBe(true),
  },
  'GET /v1/notifications/summary': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/notifications/summary'),
    ok: async (res, u) => {
      const inbox = await p.call(u, 'GET', '/v1/approvals');
      expect(res.body.pendingApprovals).toBe(Math.min(100, inbox.body.items.length));
    },
  },
  'POST /v1/notifications/read-all': {
    context: 'global',
    act: (u) => p.call(u, 'POST', '/v1/notifications/read-all'),
    ok: async (_res, u) =>
      expect((await p.call(u, 'GET', '/v1/notifications/summary')).body.unread).toBe(0),
  },
  'POST /v1/notifications/{id}/read': {
    context: 'request',
    // alice's notification that her access is active: hers alone to mark.
    arrange: async () => {
      const fx = await active();
      const mine = await p.call('alice', 'GET', '/v1/notifications?unread=true');
      const n = (mine.body.items as { id: string; requestId: string; kind: string }[]).find(
        (x) => x.requestId === fx.id && x.kind === 'REQUEST_ACTIVE',
      );
      return { ...fx, notificationId: n!.id };
    },
    act: (u, fx) => p.call(u, 'POST', `/v1/notifications/${fx.notificationId}/read`),
    ok: (res, _u, fx) => expect(res.body).toMatchObject({ id: fx.notificationId, read: true }),
    unchanged: async (fx) => {
      const mine = await p.call('alice', 'GET', '/v1/notifications?unread=true');
      expect(ids(mine)).toContain(fx.notificationId);
    },
  },
  'GET /v1/notifications/settings': {
    context: 'global',
    act: (u) => p.call(u, 'GET', '/v1/notifications/settings'),
    ok: (res) => expect(typeof res.body.email).toBe('boolean'),
  },
  'PUT /v1/notifications/settings': {
    context: 'global',
    act: (u) => p.call(u, 'PUT', '/v1/notifications/settings', { email: true }),
    ok: (res) => expect(res.body).toEqual({ email: true }),
  },
};

// ------------------------------------------------------------------------------- the cells

const baseLabel = (label: string) => label.replace(/ \[.*\]$/, '');

const CELLS = MATRIX.flatMap(([label, ...statuses]) =>
  USERS.flatMap((user, i) => {
    const status = statuses[i];
    if (status === null || status === undefined) return [];
    const c = CASES[label];
    const where = c?.who?.[user] ?? (c ? CONTEXT[c.context][user] : '?');
    return [{ label, user, status, name: `${label} as ${user} (${where}) -> ${status}` }];
  }),
);

function expectRefusal(res: Res, status: number) {
  expect(Object.keys(res.body ?? {})).toEqual(['error']);
  expect(res.body.error).toEqual(
    expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
  );
  expect(res.body.error.message.length).toBeGreaterThan(0);
  if (status === 403)
    expect(['NOT_ALLOWED', 'NOT_AN_APPROVER', 'POLICY_DENIED']).toContain(res.body.error.code);
  if (status === 404) expect(res.body.error.code).toMatch(/_NOT_FOUND$/);
}

beforeAll(async () => {
  p = await startPortal();
  // A product whose domain is not registered: requests for it are refused.
  await p.store.putProduct({
    id: 'ghost/reference',
    domain: 'ghost',
    name: 'reference',
    title: 'Reference data of an unregistered domain',
    description: 'Its domain was never registered, so it cannot be granted.',
    owner: 'nobody',
    classification: 'public',
    tags: [],
    location: { catalogId: '999999999999', database: 'ghost', table: 'reference' },
    columns: [{ name: 'code', type: 'string', pii: false }],
    freshness: 'Never',
    status: 'ACTIVE',
  });
  F.aliceSales = await pending('alice', 'sales/orders');
  F.aliceFinance = await pending('alice', 'finance/invoices');
  F.bobMarketing = await pending('bob', 'marketing/customer_segments');
  F.fionaSales = await pending('fiona', 'sales/regional_targets');
  F.bobSales = await pending('bob', 'sales/leads');
  F.aliceSalesGrant = (await active('alice', 'sales/orders')).grantId!;
  F.bobMarketingGrant = await autoGranted('bob', 'marketing/web_traffic');
  F.fionaFinanceGrant = await autoGranted('fiona', 'finance/fx_rates');
  F.salesSync = (await p.call('erin', 'POST', '/v1/domains/sales/sync')).body.operation.id;
  F.financeReconcile = (
    await p.call('erin', 'POST', '/v1/domains/finance/reconcile')
  ).body.operation.id;
  await p.queue.onIdle();
});
afterEach(() => p.queue.onIdle());
afterAll(() => p.close());

test('a product of an unregistered domain cannot be requested, and nothing is created', async () => {
  const before = (await p.call('alice', 'GET', '/v1/requests?mine=true')).body.items.length;
  const r = await p.call('alice', 'POST', '/v1/requests', newRequest('ghost/reference'));
  expect(r.status).toBe(422);
  expect(r.body.error.code).toBe('DOMAIN_NOT_REGISTERED');
  expect((await p.call('alice', 'GET', '/v1/requests?mine=true')).body.items).toHaveLength(before);
});

describe('the matrix', () => {
  test('covers every /v1 route of the OpenAPI document, for every user, with a case for each row', async () => {
    const res = await p.app.request('/openapi.json');
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const published = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const base = MATRIX.filter(([label]) => baseLabel(label) === label);
    expect(base.map(([label]) => label).sort()).toEqual(published);
    expect([...new Set(MATRIX.map(([label]) => baseLabel(label)))].sort()).toEqual(published);
    for (const [label, ...statuses] of base)
      expect({ label, statuses: statuses.filter((s) => s === null) }).toEqual({
        label,
        statuses: [],
      });
    expect(MATRIX.map(([label]) => label).filter((label) => !CASES[label])).toEqual([]);
    expect(Object.keys(CASES).sort()).toEqual(MATRIX.map(([label]) => label).sort());
  });

  test.each(CELLS)('$name', async ({ label, user, status }) => {
    const c = CASES[label]!;
    const fx = c.arrange ? await c.arrange(user) : {};
    try {
      const res = await c.act(user, fx);
      expect({ status: res.status, body: res.body }).toMatchObject({ status });
      if (status < 300) {
        await c.ok?.(res, user, fx);
      } else {
        expectRefusal(res, status);
        await c.unchanged?.(fx, user);
      }
    } finally {
      await p.queue.onIdle();
      await c.cleanup?.(fx);
    }
  });
});

// -------------------------------------------------------------------- without a valid token

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const erinClaims = () => ({
  sub: 'erin',
  name: 'Erin Novak',
  iss: 'meshgate-local',
  exp: Math.floor(Date.now() / 1000) + 3600,
});

const BAD_AUTH: [name: string, header: () => Promise<string | undefined>][] = [
  ['no token', async () => undefined],
  ['a garbage token (Bearer a.b.c)', async () => 'Bearer a.b.c'],
  [
    "erin's claims signed with another key",
    async () => `Bearer ${await sign(erinClaims(), 'not-the-portal-key', 'HS256')}`,
  ],
  [
    "erin's claims, unsigned (alg none)",
    async () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(erinClaims())}.x`,
  ],
  ['a Basic credential', async () => `Basic ${Buffer.from('erin:erin').toString('base64')}`],
];

const SAMPLE = {
  id: 'req_01jabcdefghjkmnpqrstvwxyz0',
  domain: 'sales',
  name: 'orders',
  user: 'henry',
  role: 'steward',
} as Record<string, string>;
const UNAUTH_CELLS = MATRIX.filter(([label]) => baseLabel(label) === label).flatMap(([label]) =>
  BAD_AUTH.map(([how, header]) => ({ label, how, header, name: `${label} with ${how} -> 401` })),
);

describe('without a valid token', () => {
  test.each(UNAUTH_CELLS)('$name', async ({ label, header }) => {
    const [method, template] = label.split(' ') as [string, string];
    const path = template.replace(/\{(\w+)\}/g, (_, k: string) => SAMPLE[k] ?? k);
    const auth = await header();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth) headers.authorization = auth;
    const body =
      method === 'POST'
        ? JSON.stringify({
            id: 'forged',
            user: 'alice',
            domain: '*',
            role: 'admin',
            reason: 'x',
            action: 'read',
          })
        : undefined;
    const res = await p.app.request(path, { method, headers, body });
    expect(res.status).toBe(401);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
  });

  test('nothing a forged or missing token asked for happened', async () => {
    const alice = await p.call('alice', 'GET', '/v1/me');
    expect(alice.body.memberships).toEqual([]);
    expect(ids(await p.call('erin', 'GET', '/v1/domains'))).not.toContain('forged');
  });
});
