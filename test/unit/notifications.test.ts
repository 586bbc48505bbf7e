import {
  EXPIRY_WARNING_MS,
  NOTIFICATION_ID,
  expiryWarningFor,
  notificationId,
  notificationsFor,
  stageReached,
} from '../../functions/domain/notifications';
import { messageFor } from '../../functions/domain/notification-messages';
import type { AccessRequest, AuditEvent, Grant, Stage } from '../../functions/domain/model';

// Who is told what: the pure rules of domain/notifications.ts.

const T0 = '2026-03-02T09:00:00.000Z';
const T1 = '2026-03-02T10:00:00.000Z';
const stage = (name: Stage['name'], approvals: string[] = [], at = T1): Stage => ({
  name,
  required: 1,
  approvals: approvals.map((by) => ({ by, at, comment: 'ok', rule: null })),
  rule: null,
});
const request = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  id: 'req_01',
  requester: 'alice',
  principal: 'arn:aws:iam::555555555555:role/analyst',
  productId: 'sales/leads',
  domain: 'sales',
  classification: 'restricted',
  scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
  duration: { value: 7, unit: 'days' },
  purpose: 'testing',
  status: 'PENDING',
  stages: [stage('owner'), stage('compliance')],
  explanation: [],
  createdAt: T0,
  updatedAt: T0,
  version: 1,
  ...over,
});
const event = (type: string, over: Partial<AuditEvent> = {}): AuditEvent =>
  ({
    id: `evt_${type}`,
    at: T1,
    type,
    actor: 'bob',
    domain: 'sales',
    requestId: 'req_01',
    productId: 'sales/leads',
    detail: {},
    ...over,
  }) as AuditEvent;

test('a new request asks its first stage: everyone given, but never the requester', () => {
  const r = request();
  const out = notificationsFor(event('REQUEST_CREATED', { at: T0 }), r, [
    'sam',
    'bob',
    'alice',
    'bob',
  ]);
  expect(out.map((n) => [n.user, n.kind])).toEqual([
    ['bob', 'APPROVAL_NEEDED'],
    ['sam', 'APPROVAL_NEEDED'],
  ]);
  expect(out[0]).toMatchObject({
    link: '#/requests/req_01',
    requestId: 'req_01',
    domain: 'sales',
    read: false,
    at: T0,
  });
  expect(out[0]!.title).toBe('Approval needed: sales/leads');
});

test('an approval that completes a stage asks the next one, not the people who approved before', () => {
  const r = request({ stages: [stage('owner', ['bob']), stage('compliance')] });
  const e = event('APPROVAL_RECORDED', { detail: { stage: 'owner' } });
  expect(stageReached(e, r)).toBe('compliance');
  const out = notificationsFor(e, r, ['carol', 'bob']);
  expect(out.map((n) => n.user)).toEqual(['carol']);
  // Dated when the stage was reached (the owner's approval).
  expect(out[0]!.at).toBe(T1);
});

test('an approval that leaves the stage open, and any event of a request no longer pending, ask nobody', () => {
  const twoOwners = request({
    stages: [{ ...stage('owner', ['bob']), required: 2 }, stage('compliance')],
  });
  expect(
    notificationsFor(event('APPROVAL_RECORDED', { detail: { stage: 'owner' } }), twoOwners, [
      'sam',
    ]),
  ).toEqual([]);
  const approved = request({ status: 'APPROVED' });
  expect(notificationsFor(event('REQUEST_CREATED'), approved, ['bob'])).toEqual([]);
});

test('the stage notification is the same whichever event of the stage brings it (one per stage and person)', () => {
  const r = request({ stages: [stage('owner', ['bob']), stage('compliance')] });
  // The catch-up may meet the creation after the request moved on: it names the current stage.
  const fromCreation = notificationsFor(event('REQUEST_CREATED', { id: 'evt_a', at: T0 }), r, [
    'carol',
  ]);
  const fromApproval = notificationsFor(
    event('APPROVAL_RECORDED', { id: 'evt_b', detail: { stage: 'owner' } }),
    r,
    ['carol'],
  );
  expect(fromCreation).toEqual(fromApproval);
});

test.each([
  ['REQUEST_APPROVED', 'REQUEST_APPROVED'],
  ['REQUEST_DENIED', 'REQUEST_DENIED'],
  ['GRANT_ACTIVE', 'REQUEST_ACTIVE'],
  ['FULFILMENT_FAILED', 'REQUEST_FAILED'],
  ['GRANT_EXPIRED', 'GRANT_EXPIRED'],
  ['REQUEST_TIMED_OUT', 'REQUEST_TIMED_OUT'],
])('%s tells the requester alone (%s)', (type, kind) => {
  const r = request({ status: 'ACTIVE', grantId: 'grt_1' });
  const out = notificationsFor(event(type), r, ['bob', 'carol']);
  expect(out.map((n) => [n.user, n.kind])).toEqual([['alice', kind]]);
});

test('a denial carries the approver and their reason, in plain words', () => {
  const out = notificationsFor(
    event('REQUEST_DENIED', {
      detail: {
        reason: 'Use the aggregate',
        decision: { rules: [{ source: 'global.csv', line: 'p, role:owner' }] },
      },
    }),
    request({ status: 'DENIED' }),
  );
  expect(out[0]!.text).toBe(
    'Your request for sales/leads was denied by bob. Their reason: Use the aggregate',
  );
  expect(out[0]!.text).not.toMatch(/csv|p, /);
});

test('an escalated stage asks its backup approvers (never the requester)', () => {
  const e = event('STAGE_ESCALATED', {
    actor: 'meshgate',
    detail: { stage: 'owner', notify: ['henry', 'alice', 'henry', 7] },
  });
  const out = notificationsFor(e, request());
  expect(out.map((n) => [n.user, n.kind])).toEqual([['henry', 'APPROVAL_ESCALATED']]);
  expect(notificationsFor(e, request({ status: 'DENIED' }))).toEqual([]);
});

test('events that tell nobody', () => {
  for (const type of [
    'REQUEST_CANCELLED',
    'FULFILMENT_STARTED',
    'GRANT_EXPIRING',
    'ACCESS_REFUSED',
  ])
    expect(notificationsFor(event(type), request(), ['bob'])).toEqual([]);
});

test('ids are deterministic, sort by time, and differ by source, recipient and kind', () => {
  const id = notificationId(T1, 'evt_1', 'alice', 'REQUEST_APPROVED');
  expect(id).toMatch(NOTIFICATION_ID);
  expect(notificationId(T1, 'evt_1', 'alice', 'REQUEST_APPROVED')).toBe(id);
  expect(notificationId(T1, 'evt_2', 'alice', 'REQUEST_APPROVED')).not.toBe(id);
  expect(notificationId(T1, 'evt_1', 'bob', 'REQUEST_APPROVED')).not.toBe(id);
  expect(notificationId(T1, 'evt_1', 'alice', 'REQUEST_DENIED')).not.toBe(id);
  expect(notificationId(T0, 'evt_9', 'alice', 'X') < id).toBe(true);
});

describe('a grant about to end', () => {
  const grant = (over: Partial<Grant> = {}): Grant => ({
    id: 'grt_1',
    requestId: 'req_01',
    requester: 'alice',
    principal: 'arn:aws:iam::555555555555:role/analyst',
    productId: 'sales/orders',
    domain: 'sales',
    classification: 'confidential',
    accountId: '111111111111',
    scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
    grantedAt: '2026-03-01T00:00:00.000Z',
    expiresAt: '2026-03-10T00:00:00.000Z',
    status: 'ACTIVE',
    entries: [],
    ...over,
  });
  const ends = new Date('2026-03-10T00:00:00.000Z').getTime();

  test('is announced within three days, the same notification at every sweep', () => {
    const first = expiryWarningFor(grant(), new Date(ends - EXPIRY_WARNING_MS + 1000))!;
    const later = expiryWarningFor(grant(), new Date(ends - 3_600_000))!;
    expect(first).toMatchObject({
      user: 'alice',
      kind: 'GRANT_EXPIRING_SOON',
      grantId: 'grt_1',
      link: '#/requests/req_01',
    });
    expect(later.id).toBe(first.id);
    expect(first.text).toMatch(/ends in 3 days .*Extend it/);
    expect(later.text).toMatch(/ends within a day/);
  });

  test('not earlier, not after its end, not once it is no longer active', () => {
    expect(expiryWarningFor(grant(), new Date(ends - EXPIRY_WARNING_MS - 1000))).toBeUndefined();
    expect(expiryWarningFor(grant(), new Date(ends + 1000))).toBeUndefined();
    expect(expiryWarningFor(grant({ status: 'REVOKING' }), new Date(ends - 1000))).toBeUndefined();
  });

  test('a new grant (an extension) is announced again', () => {
    const at = new Date(ends - 1000);
    expect(expiryWarningFor(grant({ id: 'grt_2' }), at)!.id).not.toBe(
      expiryWarningFor(grant(), at)!.id,
    );
  });
});

test('e-mail and chat messages: one template per kind, text and escaped HTML, an absolute link', () => {
  const [n] = notificationsFor(
    event('REQUEST_DENIED', { detail: { reason: '<script>x</script> & more' } }),
    request({ status: 'DENIED' }),
  );
  const m = messageFor(n!, 'https://meshgate.example.com/');
  expect(m.subject).toBe('[Meshgate] Denied: sales/leads');
  expect(m.text).toContain('See the request: https://meshgate.example.com/#/requests/req_01');
  expect(m.html).toContain('&lt;script&gt;x&lt;/script&gt; &amp; more');
  expect(m.html).not.toContain('<script>');
  expect(m.html).toContain('<a href="https://meshgate.example.com/#/requests/req_01">');
  expect(messageFor(n!).text).toContain('See the request in Meshgate.');
});
