import {
  auditGaps,
  crashVerdicts,
  lostWrites,
  type CrashFigures,
  type RequestDetail,
} from '../../bench/crash';

// The crash benchmark's checks of what a restart finds (bench/crash.ts), on requests made by hand.

const created = { type: 'REQUEST_CREATED', actor: 'alice', toStatus: 'PENDING' };
const approval = { type: 'APPROVAL_RECORDED', actor: 'bob' };
const approved = {
  type: 'REQUEST_APPROVED',
  actor: 'bob',
  fromStatus: 'PENDING',
  toStatus: 'APPROVED',
};
const granting = {
  type: 'FULFILMENT_STARTED',
  actor: 'meshgate',
  fromStatus: 'APPROVED',
  toStatus: 'GRANTING',
};
const active = {
  type: 'GRANT_ACTIVE',
  actor: 'meshgate',
  fromStatus: 'GRANTING',
  toStatus: 'ACTIVE',
};
const byBob = [{ approvals: [{ by: 'bob' }] }];

const request = (over: Partial<RequestDetail>): RequestDetail => ({
  id: 'req_1',
  status: 'ACTIVE',
  stages: byBob,
  history: [created, approval, approved, granting, active],
  ...over,
});

test('a request whose status and approvals are matched by its history has no gap', () => {
  expect(auditGaps(request({}))).toEqual([]);
  // Events of one transaction in any order.
  expect(auditGaps(request({ history: [active, approved, created, granting, approval] }))).toEqual(
    [],
  );
});

test('a status without its event, an event off the path, or an approval without its record is a gap', () => {
  expect(auditGaps(request({ history: [created, approval, approved, granting] }))).toEqual([
    'req_1: status ACTIVE, its history ends at GRANTING',
  ]);
  expect(
    auditGaps(request({ status: 'GRANTING', history: [created, approval, granting] })),
  ).toEqual([
    'req_1: status events off the path: FULFILMENT_STARTED APPROVED->GRANTING',
    'req_1: status GRANTING, its history ends at PENDING',
  ]);
  expect(auditGaps(request({ history: [created, approved, granting, active] }))).toEqual([
    'req_1: approval by bob without APPROVAL_RECORDED',
  ]);
  expect(auditGaps(request({ history: [approved, granting, active, approval] }))).toContain(
    'req_1: 0 creation events',
  );
});

test('an acknowledged write is lost when the store does not hold its change', () => {
  const found = new Map<string, RequestDetail>([
    ['req_1', request({})],
    ['req_2', request({ id: 'req_2', status: 'PENDING', stages: [{ approvals: [] }] })],
    ['req_3', request({ id: 'req_3' })],
  ]);
  expect(
    lostWrites(
      {
        created: ['req_1', 'req_2', 'req_3', 'req_4'],
        approved: ['req_1', 'req_2'],
        revoked: ['req_3'],
      },
      found,
    ),
  ).toEqual([
    'created req_4: missing',
    'approved req_2: PENDING, no approval by bob',
    'revoked req_3: ACTIVE',
  ]);
});

test('the verdicts pass only with writes acknowledged and nothing lost, unrecorded or in flight', () => {
  const f: CrashFigures = {
    kills: 3,
    settleSeconds: 15,
    acknowledged: { created: 10, approved: 5, revoked: 2 },
    unanswered: 4,
    refused: [],
    refusedCount: 0,
    requests: 10,
    statuses: { ACTIVE: 8, REVOKED: 2 },
    lost: [],
    withoutRecord: [],
    stalled: [],
    chains: { ok: true, count: 5, events: 60, bad: [] },
    restarts: [],
    runs: [],
  };
  expect(crashVerdicts(f).every((v) => v.pass)).toBe(true);
  expect(crashVerdicts({ ...f, stalled: ['req_1 APPROVED'] }).map((v) => v.pass)).toEqual([
    true,
    true,
    false,
    true,
  ]);
  expect(
    crashVerdicts({ ...f, acknowledged: { created: 0, approved: 0, revoked: 0 } })[0]!.pass,
  ).toBe(false);
});
