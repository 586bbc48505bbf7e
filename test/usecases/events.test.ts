import type { AuditEvent } from '../../functions/domain/model';
import { LakeFormationError } from '../../functions/ports/lakeformation';
import {
  STATUS_CHANGED,
  type ApprovalAwaited,
  type StatusChanged,
} from '../../functions/ports/events';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

// The lifecycle events published for integrations, as a subscriber of the local bus sees them:
// status changes, and pending requests awaiting a stage's approvers.

let p: TestPortal;
let seen: StatusChanged[];
let awaited: ApprovalAwaited[];
let unsubscribe: () => void;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());
beforeEach(() => {
  seen = [];
  awaited = [];
  unsubscribe = p.events.subscribe((e) =>
    e.detailType === STATUS_CHANGED ? seen.push(e.detail) : awaited.push(e.detail),
  );
});
afterEach(() => {
  unsubscribe();
  jest.restoreAllMocks();
});

type Detail = { status: string; history: AuditEvent[]; grantId?: string } & Record<string, unknown>;

async function history(id: string, as = 'alice'): Promise<Detail> {
  const res = await p.call(as, 'GET', `/v1/requests/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

/**
 * Every test asks for its own principal: Lake Formation holds one permission per principal and
 * resource, so tests sharing one would share permissions.
 */
const role = (name: string) => `arn:aws:iam::555555555555:role/events-${name}`;

async function create(principal: string, productId = 'sales/orders'): Promise<string> {
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(productId, { principal }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const eventsOf = (id: string) => seen.filter((e) => e.requestId === id);
const transitions = (events: StatusChanged[]) =>
  events.map((e) => [e.fromStatus, e.toStatus, e.actor]);

/** The events are the request's status-changing audit events, one for one, same ids and times. */
function expectMatchesHistory(events: StatusChanged[], r: Detail) {
  const changes = r.history.filter((e) => e.toStatus !== undefined);
  expect(events.map((e) => e.eventId)).toEqual(changes.map((e) => e.id));
  expect(events.map((e) => e.at)).toEqual(changes.map((e) => e.at));
  expect(events.map((e) => [e.fromStatus, e.toStatus, e.actor])).toEqual(
    changes.map((e) => [e.fromStatus ?? null, e.toStatus, e.actor]),
  );
  expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
}

test('a request from creation to revocation publishes each status change, in order', async () => {
  const principal = role('lifecycle');
  const id = await create(principal);
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await p.queue.onIdle();
  const grantId = (await history(id)).grantId!;
  expect(grantId).toMatch(/^grt_/);
  expect(
    (await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'project finished' }))
      .status,
  ).toBe(202);
  await p.queue.onIdle();

  const events = eventsOf(id);
  expect(transitions(events)).toEqual([
    [null, 'PENDING', 'alice'],
    ['PENDING', 'APPROVED', 'bob'],
    ['APPROVED', 'GRANTING', 'meshgate'],
    ['GRANTING', 'ACTIVE', 'meshgate'],
    ['ACTIVE', 'REVOKING', 'bob'],
    ['REVOKING', 'REVOKED', 'meshgate'],
  ]);
  for (const e of events) {
    expect(e).toMatchObject({
      requestId: id,
      productId: 'sales/orders',
      domain: 'sales',
      requester: 'alice',
      principal,
    });
  }
  expect(events.map((e) => e.grantId)).toEqual([
    undefined,
    undefined,
    undefined,
    grantId,
    grantId,
    grantId,
  ]);
  expect(events[4]!.reason).toBe('project finished');
  expect(events[5]!.reason).toBe('project finished');

  const r = await history(id);
  expect(r.status).toBe('REVOKED');
  expectMatchesHistory(events, r);
});

test('an automatically approved request: PENDING by the requester, then APPROVED by meshgate', async () => {
  const id = await create(role('auto'), 'finance/fx_rates');
  await p.queue.onIdle();
  const events = eventsOf(id);
  expect(transitions(events)).toEqual([
    [null, 'PENDING', 'alice'],
    ['PENDING', 'APPROVED', 'meshgate'],
    ['APPROVED', 'GRANTING', 'meshgate'],
    ['GRANTING', 'ACTIVE', 'meshgate'],
  ]);
  for (const e of events)
    expect(e).toMatchObject({
      productId: 'finance/fx_rates',
      domain: 'finance',
      requester: 'alice',
    });
  expectMatchesHistory(events, await history(id));
});

test('a denial and a failed fulfilment are published with their reasons', async () => {
  const denied = await create(role('denied'));
  expect(
    (
      await p.call('sam', 'POST', `/v1/requests/${denied}/deny`, {
        reason: 'use the aggregated view',
      })
    ).status,
  ).toBe(200);
  expect(transitions(eventsOf(denied))).toEqual([
    [null, 'PENDING', 'alice'],
    ['PENDING', 'DENIED', 'sam'],
  ]);
  expect(eventsOf(denied)[1]!.reason).toBe('use the aggregated view');

  jest
    .spyOn(p.ledger, 'grant')
    .mockRejectedValueOnce(new LakeFormationError('AccessDeniedException', 'not allowed', true));
  const failed = await create(role('failed'));
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${failed}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await p.queue.onIdle();
  const events = eventsOf(failed);
  expect(events.at(-1)).toMatchObject({
    fromStatus: 'GRANTING',
    toStatus: 'FAILED',
    actor: 'meshgate',
  });
  expect(events.at(-1)!.reason).toContain('AccessDeniedException');
  expectMatchesHistory(events, await history(failed));
});

test('a publisher that throws does not fail the API call', async () => {
  const log = jest.spyOn(console, 'error').mockImplementation(() => {});
  const publish = jest
    .spyOn(p.events, 'publish')
    .mockRejectedValueOnce(new Error('event bus unavailable'));

  const res = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/orders', { principal: role('publish-once') }),
  );
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  expect(publish).toHaveBeenCalledTimes(1);
  expect(log).toHaveBeenCalledWith(
    `could not publish 2 event(s) for ${id}`,
    expect.objectContaining({ message: 'event bus unavailable' }),
  );

  // The request is stored, with its audit event; only the event was lost.
  const r = await history(id);
  expect(r.status).toBe('PENDING');
  expect(r.history.map((e) => e.type)).toEqual(['REQUEST_CREATED']);
  expect(eventsOf(id)).toEqual([]);
  expect(awaited).toEqual([]);

  // The next change is published as usual.
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await p.queue.onIdle();
  expect(transitions(eventsOf(id)).map(([, to]) => to)).toEqual(['APPROVED', 'GRANTING', 'ACTIVE']);
});

test('a publisher that always throws does not stop approval, fulfilment or revocation', async () => {
  jest.spyOn(console, 'error').mockImplementation(() => {});
  jest.spyOn(p.events, 'publish').mockRejectedValue(new Error('event bus unavailable'));

  const principal = role('bus-down');
  const id = await create(principal);
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await p.queue.onIdle();
  const active = await history(id);
  expect(
    (await p.ledger.list('111111111111')).filter((e) => e.principal === principal),
  ).toHaveLength(1);
  expect(active.status).toBe('ACTIVE');
  expect(
    (await p.call('bob', 'POST', `/v1/grants/${active.grantId}/revoke`, { reason: 'done' })).status,
  ).toBe(202);
  await p.queue.onIdle();
  expect((await history(id)).status).toBe('REVOKED');
  expect((await p.ledger.list('111111111111')).filter((e) => e.principal === principal)).toEqual(
    [],
  );
  expect(eventsOf(id)).toEqual([]);
  expect(awaited).toEqual([]);
});

test('a two-stage request is announced at each stage it reaches, though its status stays PENDING', async () => {
  const id = await create(role('two-stages'), 'sales/leads');
  const awaitedBy = () =>
    awaited.filter((e) => e.requestId === id).map((e) => [e.stage, e.actor, e.escalated]);
  expect(awaitedBy()).toEqual([['owner', 'alice', false]]);

  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  expect(awaitedBy()).toEqual([
    ['owner', 'alice', false],
    ['compliance', 'bob', false],
  ]);
  // No status changed: the owner's approval is announced only as the next stage awaited.
  expect(transitions(eventsOf(id))).toEqual([[null, 'PENDING', 'alice']]);
  const approval = (await history(id)).history.find((e) => e.type === 'APPROVAL_RECORDED')!;
  expect(awaited.filter((e) => e.requestId === id)[1]).toMatchObject({
    eventId: approval.id,
    at: approval.at,
    productId: 'sales/leads',
    domain: 'sales',
    requester: 'alice',
  });

  // The last stage's approval is a status change, and no stage is awaited any more.
  expect(
    (await p.call('carol', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await p.queue.onIdle();
  expect(awaitedBy()).toHaveLength(2);
  expect(transitions(eventsOf(id)).map(([, to]) => to)).toEqual([
    'PENDING',
    'APPROVED',
    'GRANTING',
    'ACTIVE',
  ]);
});

test('an automatically approved request awaits no stage', async () => {
  const id = await create(role('auto-no-stage'), 'finance/fx_rates');
  await p.queue.onIdle();
  expect(awaited.filter((e) => e.requestId === id)).toEqual([]);
});
