import fc from 'fast-check';
import { notificationsFor, NOTIFICATION_ID } from '../../functions/domain/notifications';
import type { AccessRequest, AuditEvent, RequestStatus, Stage } from '../../functions/domain/model';

// Properties of who is told what, over random events, requests and approver sets.

const USERS = ['alice', 'bob', 'sam', 'carol', 'henry', 'erin'];
const TYPES = [
  'REQUEST_CREATED',
  'APPROVAL_RECORDED',
  'REQUEST_APPROVED',
  'REQUEST_DENIED',
  'REQUEST_CANCELLED',
  'GRANT_ACTIVE',
  'FULFILMENT_FAILED',
  'GRANT_EXPIRED',
  'REQUEST_TIMED_OUT',
  'STAGE_ESCALATED',
  'ACCESS_REFUSED',
];
const STATUSES: RequestStatus[] = ['PENDING', 'APPROVED', 'ACTIVE', 'DENIED', 'EXPIRED', 'FAILED'];
const user = fc.constantFrom(...USERS);
const at = fc
  .integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) })
  .map((t) => new Date(t).toISOString());

const stageArb = (name: Stage['name']) =>
  fc.record({
    name: fc.constant(name),
    required: fc.integer({ min: 1, max: 2 }),
    approvals: fc
      .uniqueArray(user, { maxLength: 2 })
      .chain((bys) =>
        fc.tuple(...bys.map((by) => at.map((a) => ({ by, at: a, comment: '', rule: null })))),
      ),
    rule: fc.constant(null),
  });

const requestArb = fc
  .record({
    requester: user,
    status: fc.constantFrom(...STATUSES),
    stages: fc.oneof(
      fc.tuple(stageArb('owner')),
      fc.tuple(stageArb('owner'), stageArb('compliance')),
    ),
    createdAt: at,
  })
  .map(
    (r) =>
      ({
        ...r,
        stages: r.stages as Stage[],
        id: 'req_1',
        productId: 'sales/orders',
        domain: 'sales',
        grantId: 'grt_1',
      }) as unknown as AccessRequest,
  );

const eventArb = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 8 }).map((s) => `evt_${s}`),
    type: fc.constantFrom(...TYPES),
    at,
    actor: user,
    stage: fc.constantFrom('owner', 'compliance'),
    notify: fc.array(user, { maxLength: 4 }),
  })
  .map(
    (e) =>
      ({
        id: e.id,
        type: e.type,
        at: e.at,
        actor: e.actor,
        domain: 'sales',
        requestId: 'req_1',
        detail: { stage: e.stage, notify: e.notify },
      }) as unknown as AuditEvent,
  );

test('nobody is asked to approve their own request; ids are well-formed and unique; the same input gives the same output', () => {
  fc.assert(
    fc.property(eventArb, requestArb, fc.array(user, { maxLength: 6 }), (e, r, approvers) => {
      const out = notificationsFor(e, r, approvers);
      for (const n of out) {
        expect(n.id).toMatch(NOTIFICATION_ID);
        expect(n.read).toBe(false);
        expect(n.requestId).toBe(r.id);
        if (n.kind === 'APPROVAL_NEEDED' || n.kind === 'APPROVAL_ESCALATED') {
          expect(n.user).not.toBe(r.requester);
          expect(r.status).toBe('PENDING');
        } else {
          expect(n.user).toBe(r.requester);
        }
        // Someone who approved one stage is never asked to approve another.
        if (n.kind === 'APPROVAL_NEEDED')
          expect(r.stages.flatMap((s) => s.approvals.map((a) => a.by))).not.toContain(n.user);
      }
      expect(new Set(out.map((n) => n.id)).size).toBe(out.length);
      expect(notificationsFor(e, r, [...approvers].reverse())).toEqual(out);
    }),
    { numRuns: 500 },
  );
});

test('approvers are only ever those the policy named', () => {
  fc.assert(
    fc.property(eventArb, requestArb, fc.array(user, { maxLength: 6 }), (e, r, approvers) => {
      for (const n of notificationsFor(e, r, approvers))
        if (n.kind === 'APPROVAL_NEEDED') expect(approvers).toContain(n.user);
    }),
    { numRuns: 300 },
  );
});
