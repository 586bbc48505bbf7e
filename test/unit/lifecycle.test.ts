import {
  activate,
  cancel,
  deny,
  end,
  escalate,
  expire,
  extend,
  fail,
  noteUndoFailure,
  recordApproval,
  retry,
  startGranting,
  submit,
  timeOut,
  type Change,
  type Outcome,
  type SubmitPolicy,
} from '../../functions/domain/lifecycle';
import type { AccessRequest, Decision } from '../../functions/domain/model';

// Examples of each transition: what it refuses (with which code) and what its change carries.

const now = new Date('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;
const at = (h: number) => new Date(now.getTime() + h * HOUR).toISOString();
const yes: Decision = { allowed: true, reason: 'yes', rules: [] };
const no: Decision = { allowed: false, reason: 'no', rules: [] };
const limit = (hours: number) => ({ hours, rule: { source: 'policies/global.csv', line: 'max' } });
const PRODUCT = { id: 'sales/orders', domain: 'sales', classification: 'internal' as const };
const cmd = (hours: number) => ({
  id: 'req1',
  principal: '111122223333',
  product: PRODUCT,
  scope: { permissions: ['SELECT' as const], columns: { mode: 'all' as const } },
  duration: { value: hours, unit: 'hours' as const },
  purpose: 'study',
  piiColumns: [],
});
const routed = (over: Partial<SubmitPolicy> = {}): SubmitPolicy => ({
  allowed: yes,
  auto: no,
  stages: [{ name: 'owner', required: 1, approvals: [], rule: null }],
  explanation: [],
  limit: limit(720),
  openRequests: { open: 0, max: 50, rule: { source: 'policies/global.csv', line: 'open' } },
  ...over,
});
const alice = { actor: 'alice', now };
const bob = { actor: 'bob', now };

const ok = (o: Outcome): Change => {
  if (!o.ok) throw o.error;
  return o;
};
const code = (o: Outcome) => (o.ok ? 'ok' : o.error.code);

const pending = () => ok(submit(cmd(24), routed(), alice)).request;
/** A request through approval and fulfilment, with its grant. */
function active(hours: number) {
  const approved = ok(
    recordApproval(
      pending(),
      { comment: 'ok' },
      { deciders: { owner: yes }, limit: limit(720) },
      bob,
    ),
  );
  const granting = ok(startGranting(approved.request, bob)).request;
  const c = ok(
    activate(
      granting,
      { grantId: 'grt1', accountId: '1', scope: granting.scope, entries: [], earlierEntries: [] },
      bob,
    ),
  );
  return { request: c.request, grant: { ...c.grant!, expiresAt: at(hours) } };
}

describe('submit', () => {
  test('refuses what the policy refuses, what is too long and what nobody approves', () => {
    expect(code(submit(cmd(24), routed({ allowed: no }), alice))).toBe('POLICY_DENIED');
    expect(code(submit(cmd(721), routed(), alice))).toBe('DURATION_EXCEEDS_POLICY');
    expect(code(submit(cmd(24), routed({ stages: [] }), alice))).toBe('NO_APPROVAL_ROUTE');
  });

  test('an automatic approval is one change: created and approved, each with its event', () => {
    const c = ok(submit(cmd(720), routed({ auto: yes, stages: [] }), alice));
    expect(c.expected).toBeUndefined();
    expect(c.request).toMatchObject({
      status: 'APPROVED',
      version: 2,
      requester: 'alice',
      maxDurationHours: 720,
    });
    expect(c.events.map((e) => [e.type, e.actor, e.fromStatus, e.toStatus])).toEqual([
      ['REQUEST_CREATED', 'alice', undefined, 'PENDING'],
      ['REQUEST_APPROVED', 'meshgate', 'PENDING', 'APPROVED'],
    ]);
  });
});

describe('open requests per user', () => {
  const places = (open: number) => ({
    openRequests: { open, max: 50, rule: { source: 'policies/global.csv:70', line: 'open' } },
  });
  test('the 51st open request is refused with OPEN_REQUEST_LIMIT; below it, a place is claimed', () => {
    const refused = submit(cmd(24), routed(places(50)), alice);
    expect(code(refused)).toBe('OPEN_REQUEST_LIMIT');
    expect(!refused.ok && refused.error).toMatchObject({
      kind: 'unprocessable',
      details: { openRequests: 50, maxOpenRequests: 50 },
    });
    expect(ok(submit(cmd(24), routed(places(49)), alice)).openCount).toEqual({
      user: 'alice',
      op: 'claim',
      max: 50,
    });
    // Approved at once, it is never open: no place taken, none needed.
    const auto = ok(submit(cmd(24), routed({ ...places(50), auto: yes, stages: [] }), alice));
    expect(auto.openCount).toBeUndefined();
  });

  test('leaving PENDING frees the place: final approval, denial, cancellation; a first-stage approval does not', () => {
    const release = { user: 'alice', op: 'release' };
    const deciders = { owner: yes, compliance: yes };
    const r = pending();
    expect(ok(cancel(r, { cancel: yes }, alice)).openCount).toEqual(release);
    expect(ok(deny(r, 'no', { deciders }, bob)).openCount).toEqual(release);
    expect(
      ok(recordApproval(r, { comment: '' }, { deciders, limit: limit(720) }, bob)).openCount,
    ).toEqual(release);
    const twoStages: AccessRequest = {
      ...r,
      stages: [
        { name: 'owner', required: 1, approvals: [], rule: null },
        { name: 'compliance', required: 1, approvals: [], rule: null },
      ],
    };
    expect(
      ok(recordApproval(twoStages, { comment: '' }, { deciders, limit: limit(720) }, bob))
        .openCount,
    ).toBeUndefined();
  });
});

describe('extend', () => {
  test('checks the whole time the grant would run, and claims the grant lock', () => {
    const { request, grant } = active(700);
    const policy = { ...routed(), extend: yes };
    const refused = extend({ request, grant }, cmd(21), policy, alice);
    expect(code(refused)).toBe('EXTENSION_EXCEEDS_POLICY');
    expect(!refused.ok && refused.error.details).toMatchObject({
      resultingExpiresAt: at(721),
      maxDurationHours: 720,
    });
    const c = ok(extend({ request, grant }, cmd(20), policy, alice));
    expect(c.request).toMatchObject({
      status: 'PENDING',
      extendsGrantId: 'grt1',
      extendsFrom: at(700),
    });
    expect(c.extensionLock).toEqual({ grantId: 'grt1', requestId: 'req1', op: 'claim' });
  });

  test('only the requester, and only an active grant', () => {
    const { request, grant } = active(100);
    expect(code(extend({ request, grant }, cmd(1), { ...routed(), extend: no }, alice))).toBe(
      'NOT_ALLOWED',
    );
    expect(
      code(
        extend(
          { request, grant: { ...grant, status: 'REVOKING' } },
          cmd(1),
          { ...routed(), extend: yes },
          alice,
        ),
      ),
    ).toBe('NOT_ACTIVE');
  });
});

describe('decisions', () => {
  const deciders = { owner: yes };
  test('who may decide, and when', () => {
    const r = pending();
    expect(
      code(recordApproval(r, { comment: '' }, { deciders: { owner: no }, limit: limit(720) }, bob)),
    ).toBe('NOT_AN_APPROVER');
    // The policy may let the requester decide their domain's requests; the domain does not.
    expect(code(recordApproval(r, { comment: '' }, { deciders, limit: limit(720) }, alice))).toBe(
      'SEPARATION_OF_DUTIES',
    );
    expect(code(deny(r, 'no', { deciders }, alice))).toBe('SEPARATION_OF_DUTIES');
    const approved = ok(
      recordApproval(r, { comment: '' }, { deciders, limit: limit(720) }, bob),
    ).request;
    expect(
      code(recordApproval(approved, { comment: '' }, { deciders, limit: limit(720) }, bob)),
    ).toBe('NOT_PENDING');
    expect(code(deny(approved, 'late', { deciders }, bob))).toBe('NOT_PENDING');
    expect(code(cancel(approved, { cancel: yes }, alice))).toBe('NOT_PENDING');
  });

  test('the final approval checks the maximum in force now, and records it', () => {
    const r = pending(); // 24 h, submitted under 720 h
    expect(code(recordApproval(r, { comment: '' }, { deciders, limit: limit(12) }, bob))).toBe(
      'DURATION_EXCEEDS_POLICY',
    );
    const narrowed = ok(
      recordApproval(
        r,
        { comment: '', narrowedDuration: { value: 12, unit: 'hours' } },
        { deciders, limit: limit(12) },
        bob,
      ),
    );
    expect(narrowed.request).toMatchObject({ status: 'APPROVED', maxDurationHours: 12 });
    expect(narrowed.events.map((e) => e.type)).toEqual(['APPROVAL_RECORDED', 'REQUEST_APPROVED']);
  });

  test('deciding an extension, cancelling it or failing it frees the grant lock; a retry claims it', () => {
    const { request, grant } = active(10);
    const ext = ok(
      extend({ request, grant }, cmd(10), { ...routed(), extend: yes }, alice),
    ).request;
    const release = { grantId: 'grt1', requestId: ext.id, op: 'release' };
    expect(ok(deny(ext, 'no', { deciders }, bob)).extensionLock).toEqual(release);
    expect(ok(cancel(ext, { cancel: yes }, alice)).extensionLock).toEqual(release);
    const approved = ok(recordApproval(ext, { comment: '' }, { deciders, limit: limit(720) }, bob));
    expect(approved.extensionLock).toBeUndefined();
    const granting = ok(startGranting(approved.request, bob)).request;
    const failed = ok(fail(granting, { reason: 'x', code: 'X' }, [], { revoked: [] }, bob));
    expect(failed.extensionLock).toEqual(release);
    expect(ok(retry(failed.request, { retry: yes }, bob)).extensionLock).toEqual({
      ...release,
      op: 'claim',
    });
    expect(code(retry(granting, { retry: yes }, bob))).toBe('NOT_FAILED');
  });
});

describe('fulfilment and ending', () => {
  test('a failure records what was taken back; one that could not be taken back keeps the request GRANTING', () => {
    const approved = ok(
      recordApproval(
        pending(),
        { comment: 'ok' },
        { deciders: { owner: yes }, limit: limit(720) },
        bob,
      ),
    );
    const granting = ok(startGranting(approved.request, bob)).request;
    const failure = { reason: 'r', code: 'X', failedTables: ['t2'] };
    const revoked = [{ action: 'revoke', table: 't1', result: 'ok' }];
    const links = [{ action: 'delete-link', result: 'ok' }];
    const failed = ok(fail(granting, failure, ['e'], { revoked, links }, bob));
    expect(failed.request).toMatchObject({ status: 'FAILED', failure });
    expect(failed.events).toEqual([
      expect.objectContaining({
        type: 'FULFILMENT_FAILED',
        detail: { ...failure, entries: ['e'], revoked, linksRemoved: links },
      }),
    ]);
    expect(
      ok(fail(granting, failure, [], { revoked: [] }, bob)).events[0]!.detail,
    ).not.toHaveProperty('linksRemoved');

    const noted = ok(
      noteUndoFailure(granting, failure, { reason: 'throttled', entries: revoked }, bob)!,
    );
    expect(noted.request).toMatchObject({ status: 'GRANTING', version: granting.version + 1 });
    // Shown on the request while it waits, and recorded once per reason.
    expect(noted.request.failure).toMatchObject({
      code: 'X',
      failedTables: ['t2'],
      reason: 'r (not yet undone, attempted again: throttled)',
    });
    expect(noted.events).toEqual([
      expect.objectContaining({
        type: 'FULFILMENT_UNDO_FAILED',
        detail: { ...failure, undoReason: 'throttled', entries: revoked },
      }),
    ]);
    // The same failure again: nothing to write.
    expect(
      noteUndoFailure(noted.request, failure, { reason: 'throttled', entries: [] }, bob),
    ).toBeUndefined();
    expect(
      ok(noteUndoFailure(noted.request, failure, { reason: 'denied', entries: [] }, bob)!).request
        .failure?.reason,
    ).toBe('r (not yet undone, attempted again: denied)');
    expect(code(noteUndoFailure(failed.request, failure, { reason: 'x', entries: [] }, bob)!)).toBe(
      'NOT_GRANTING',
    );
    // A retry grants every table, whatever failed before, and is granting without the failure
    // (the admin lists requests granting with a failure as undos not yet done).
    const retried = ok(retry(failed.request, { retry: yes }, bob));
    expect(retried.events[0]!.detail).toMatchObject({ tables: 'all' });
    expect(failed.request.failure).toBeDefined();
    expect(retried.request.failure).toBeUndefined();
  });

  test('an extension runs on from the grant it extends', () => {
    const { request, grant } = active(100);
    const ext = ok(
      extend({ request, grant }, cmd(50), { ...routed(), extend: yes }, alice),
    ).request;
    const approved = ok(
      recordApproval(ext, { comment: '' }, { deciders: { owner: yes }, limit: limit(720) }, bob),
    ).request;
    const granting = ok(startGranting(approved, bob)).request;
    const c = ok(
      activate(
        granting,
        {
          grantId: 'grt2',
          accountId: '1',
          scope: granting.scope,
          entries: [],
          earlierEntries: [],
          extended: grant,
        },
        bob,
      ),
    );
    expect(c.grant!.expiresAt).toBe(at(150));
  });

  test('activation caps the expiry at the decided maximum from now', () => {
    const r: AccessRequest = {
      ...pending(),
      status: 'GRANTING',
      duration: { value: 100, unit: 'hours' },
      maxDurationHours: 30,
    };
    const c = ok(
      activate(
        r,
        { grantId: 'g', accountId: '1', scope: r.scope, entries: [], earlierEntries: [] },
        bob,
      ),
    );
    expect(c.grant!.expiresAt).toBe(at(30));
    expect(
      code(
        activate(
          pending(),
          { grantId: 'g', accountId: '1', scope: r.scope, entries: [], earlierEntries: [] },
          bob,
        ),
      ),
    ).toBe('NOT_GRANTING');
  });

  test('expiry comes only when due, and ends the way the grant says', () => {
    const { request, grant } = active(5);
    expect(code(expire(request, grant, bob))).toBe('NOT_DUE');
    const later = { actor: 'meshgate', now: new Date(now.getTime() + 6 * HOUR) };
    const ending = ok(expire(request, grant, later));
    expect(ending.request.status).toBe('REVOKING');
    expect(ending.grant).toMatchObject({ status: 'REVOKING', ending: 'EXPIRED' });
    const ended = ok(end(ending.request, ending.grant!, [], later));
    expect(ended.request.status).toBe('EXPIRED');
    expect(ended.events[0]).toMatchObject({
      type: 'GRANT_EXPIRED',
      fromStatus: 'REVOKING',
      toStatus: 'EXPIRED',
    });
    expect(code(end(ended.request, ended.grant!, [], later))).toBe('NOT_REVOKING');
  });
});

describe('waiting: escalation and timeout', () => {
  const waiting = routed({ waiting: { escalateAfterHours: 48, timeoutDays: 14 } });
  const sys = (h: number) => ({ actor: 'meshgate', now: new Date(now.getTime() + h * HOUR) });
  const waitingRequest = () => ok(submit(cmd(24), waiting, alice)).request;

  test('submit fixes the deadlines: the first stage escalates after 48 h, the request times out after 14 days', () => {
    const r = waitingRequest();
    expect(r.stages[0]!.escalatesAt).toBe(at(48));
    expect(r.timesOutAt).toBe(at(14 * 24));
    // Without waiting limits (a request submitted before them) nothing is ever due.
    expect(code(escalate(pending(), ['henry'], sys(1000)))).toBe('NOT_DUE');
    expect(code(timeOut(pending(), sys(1000)))).toBe('NOT_DUE');
  });

  test('escalation: only when due, once, no status change, the requester never notified', () => {
    const r = waitingRequest();
    expect(code(escalate(r, ['henry'], sys(47)))).toBe('NOT_DUE');
    const c = ok(escalate(r, ['henry', 'alice', 'henry'], sys(49)));
    expect(c.request.status).toBe('PENDING');
    expect(c.request.version).toBe(r.version + 1);
    expect(c.expected).toEqual({ status: 'PENDING', version: r.version });
    expect(c.openCount).toBeUndefined();
    expect(c.request.stages[0]!.escalatedAt).toBe(at(49));
    expect(c.events).toEqual([
      expect.objectContaining({
        type: 'STAGE_ESCALATED',
        actor: 'meshgate',
        detail: { stage: 'owner', waitedHours: 49, notify: ['henry'] },
      }),
    ]);
    expect(c.events[0]!.toStatus).toBeUndefined();
    expect(code(escalate(c.request, ['henry'], sys(50)))).toBe('ALREADY_ESCALATED');
  });

  test('timeout: PENDING -> CANCELLED with the reason, the place and the extension lock freed', () => {
    const r = { ...waitingRequest(), extendsGrantId: 'grt1' };
    expect(code(timeOut(r, sys(14 * 24 - 1)))).toBe('NOT_DUE');
    const c = ok(timeOut(r, sys(15 * 24)));
    expect(c.request.status).toBe('CANCELLED');
    expect(c.request.cancellation).toEqual({
      by: 'meshgate',
      reason: 'timed out after 14 days',
      at: at(15 * 24),
    });
    expect(c.openCount).toEqual({ user: 'alice', op: 'release' });
    expect(c.extensionLock).toEqual({ grantId: 'grt1', requestId: r.id, op: 'release' });
    expect(c.events[0]).toMatchObject({
      type: 'REQUEST_TIMED_OUT',
      fromStatus: 'PENDING',
      toStatus: 'CANCELLED',
    });
    // Nothing decides it afterwards, and it does not time out twice.
    expect(code(timeOut(c.request, sys(16 * 24)))).toBe('NOT_PENDING');
    expect(
      code(
        recordApproval(
          c.request,
          { comment: 'late' },
          { deciders: { owner: yes }, limit: limit(720) },
          bob,
        ),
      ),
    ).toBe('NOT_PENDING');
  });
});
