import fc from 'fast-check';
import { canTransition } from '../../functions/domain/status';
import type { RequestStatus } from '../../functions/domain/model';
import {
  DEMO_USERS,
  newRequest,
  startPortal,
  type DemoUser,
  type TestPortal,
} from '../support/portal';

/*
 * Model-based test of the approval lifecycle through the HTTP API.
 *
 * Each run creates fresh requests and applies a random sequence of create / approve / deny / cancel
 * calls (plus occasional races of two or three calls fired at once) by random demo users. A small
 * model, written from the policy files rather than from the use cases, predicts the status of every
 * call. At the end of each run the stored requests and their audit history are checked against the
 * model and against invariants that must hold whatever the model says.
 */

// ------------------------------------------------------------------------------------------ world

interface ProductInfo {
  id: string;
  domain: string;
  restricted: boolean;
}

const PRODUCTS: ProductInfo[] = [
  { id: 'sales/orders', domain: 'sales', restricted: false },
  { id: 'hr/employees', domain: 'hr', restricted: true },
  { id: 'sales/leads', domain: 'sales', restricted: true },
  { id: 'marketing/customer_segments', domain: 'marketing', restricted: false },
];

/** Owners and stewards per domain (demo memberships): the owner-stage approvers. */
const OWNER_STAGE: Record<string, DemoUser[]> = {
  sales: ['bob', 'sam'],
  finance: ['fiona'],
  hr: ['grace'],
  marketing: ['henry'],
};
const COMPLIANCE: DemoUser[] = ['carol'];
/**
 * Backup approvers per domain (demo memberships): they read the domain's requests, and decide a
 * stage only once it is escalated, which never happens here (the clock does not move 48 hours).
 */
const BACKUPS: Record<string, DemoUser[]> = { sales: ['henry'] };
/** Roles held in every domain that may read every request. */
const READ_EVERYWHERE: DemoUser[] = ['carol', 'dave', 'erin'];
const AUDITORS: DemoUser[] = ['dave'];

const FINAL_DECISIONS = ['REQUEST_APPROVED', 'REQUEST_DENIED', 'REQUEST_CANCELLED'];

// ------------------------------------------------------------------------------------------ model

type StageName = 'owner' | 'compliance';
type ModelStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'CANCELLED';

interface ModelRequest {
  id: string;
  product: ProductInfo;
  requester: DemoUser;
  stages: StageName[];
  /** Recorded approvals, in order. */
  approvals: { by: DemoUser; stage: StageName; narrowedDays?: number }[];
  durationDays: number;
  status: ModelStatus;
  /** Successful state-changing API calls (approve, deny, cancel) after creation. */
  changes: number;
}

type Move =
  | { kind: 'approve'; user: DemoUser; narrowDays?: number }
  | { kind: 'deny'; user: DemoUser }
  | { kind: 'cancel'; user: DemoUser };

type Action =
  | { kind: 'create'; product: number; user: DemoUser; days: number }
  | { kind: 'move'; target: number; move: MoveSpec }
  | { kind: 'race'; target: number; moves: MoveSpec[] };

interface Outcome {
  status: number;
  code?: string;
}

const canRead = (r: ModelRequest, user: DemoUser) =>
  user === r.requester ||
  OWNER_STAGE[r.product.domain]!.includes(user) ||
  (BACKUPS[r.product.domain] ?? []).includes(user) ||
  READ_EVERYWHERE.includes(user);

const mayDecide = (r: ModelRequest, stage: StageName, user: DemoUser) =>
  user !== r.requester &&
  (stage === 'owner' ? OWNER_STAGE[r.product.domain]!.includes(user) : COMPLIANCE.includes(user));

const effectiveDays = (r: ModelRequest) =>
  r.approvals.reduce((d, a) => a.narrowedDays ?? d, r.durationDays);

/** What the API must answer to `m` on a request in state `r`. */
function predict(r: ModelRequest, m: Move): Outcome {
  if (!canRead(r, m.user)) return { status: 404, code: 'REQUEST_NOT_FOUND' };
  if (m.kind === 'cancel') {
    if (m.user !== r.requester) return { status: 403, code: 'NOT_ALLOWED' };
    if (r.status !== 'PENDING') return { status: 409, code: 'NOT_PENDING' };
    return { status: 200 };
  }
  // Deciders are refused before the state is revealed: a request whose stages are all approved
  // answers NOT_PENDING only to someone who could decide one of its stages; a request with a stage
  // still waiting (pending, or denied/cancelled on the way) answers it only to that stage's deciders.
  const stage = r.stages[r.approvals.length];
  if (!stage) {
    const could = r.stages.some((s) => mayDecide(r, s, m.user));
    return could ? { status: 409, code: 'NOT_PENDING' } : { status: 403, code: 'NOT_AN_APPROVER' };
  }
  if (!mayDecide(r, stage, m.user)) return { status: 403, code: 'NOT_AN_APPROVER' };
  if (r.status !== 'PENDING') return { status: 409, code: 'NOT_PENDING' };
  if (m.kind === 'approve') {
    if (r.approvals.some((a) => a.by === m.user))
      return { status: 403, code: 'SEPARATION_OF_DUTIES' };
    if (m.narrowDays !== undefined && m.narrowDays > effectiveDays(r))
      return { status: 422, code: 'NOT_NARROWER' };
  }
  return { status: 200 };
}

/** The model after a successful `m`. */
function apply(r: ModelRequest, m: Move): ModelRequest {
  const next: ModelRequest = { ...r, approvals: [...r.approvals], changes: r.changes + 1 };
  if (m.kind === 'cancel') next.status = 'CANCELLED';
  else if (m.kind === 'deny') next.status = 'DENIED';
  else {
    next.approvals.push({
      by: m.user,
      stage: r.stages[r.approvals.length]!,
      narrowedDays: m.narrowDays,
    });
    if (next.approvals.length === next.stages.length) next.status = 'APPROVED';
  }
  return next;
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

// ------------------------------------------------------------------------------------- arbitraries

/**
 * Who makes a move: a concrete demo user, or a role resolved against the target request when the
 * move runs (its requester, one of its domain's owners/stewards, compliance), so that sequences
 * make progress often enough to reach every stage.
 */
type Who = { user: DemoUser } | { role: 'requester' | 'owner' | 'compliance'; k: number };
type MoveSpec =
  { kind: 'approve'; who: Who; narrowDays?: number } | { kind: 'deny' | 'cancel'; who: Who };

const whoArb: fc.Arbitrary<Who> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ user: fc.constantFrom<DemoUser>(...DEMO_USERS) }) },
  {
    weight: 1,
    arbitrary: fc.record({ role: fc.constant('requester' as const), k: fc.constant(0) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ role: fc.constant('owner' as const), k: fc.nat({ max: 3 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ role: fc.constant('compliance' as const), k: fc.constant(0) }),
  },
);
const requesterArb = fc.constantFrom<DemoUser>(...DEMO_USERS, 'alice', 'alice', 'alice');

const moveArb: fc.Arbitrary<MoveSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('approve' as const), who: whoArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('approve' as const),
      who: whoArb,
      narrowDays: fc.integer({ min: 1, max: 10 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deny' as const), who: whoArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), who: whoArb }) },
);

function resolve(r: ModelRequest, spec: MoveSpec): Move {
  const w = spec.who;
  let user: DemoUser;
  if ('user' in w) user = w.user;
  else if (w.role === 'requester') user = r.requester;
  else if (w.role === 'compliance') user = COMPLIANCE[w.k % COMPLIANCE.length]!;
  else {
    const owners = OWNER_STAGE[r.product.domain]!;
    user = owners[w.k % owners.length]!;
  }
  return spec.kind === 'approve'
    ? { kind: 'approve', user, narrowDays: spec.narrowDays }
    : { kind: spec.kind, user };
}

const createArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.constant('create' as const),
  product: fc.nat({ max: PRODUCTS.length - 1 }),
  user: requesterArb,
  days: fc.integer({ min: 1, max: 14 }),
});

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: createArb },
  {
    weight: 10,
    arbitrary: fc.record({ kind: fc.constant('move' as const), target: fc.nat(), move: moveArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('race' as const),
      target: fc.nat(),
      moves: fc.array(moveArb, { minLength: 2, maxLength: 3 }),
    }),
  },
);

const scenarioArb = fc.record({
  creates: fc.array(createArb, { minLength: 1, maxLength: 3 }),
  actions: fc.array(actionArb, { minLength: 5, maxLength: 30 }),
});

// ------------------------------------------------------------------------------------------- test

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

interface HistoryEvent {
  type: string;
  actor: string;
  fromStatus?: RequestStatus;
  toStatus?: RequestStatus;
  detail: Record<string, unknown> & {
    stage?: StageName;
    terms?: { duration: { value: number; unit: string } };
  };
}

/** Every answer must be 2xx or 4xx, with an error body on 4xx. */
function expectSane(res: { status: number; body: unknown }, what: string) {
  if (res.status >= 500 || res.status < 200 || (res.status >= 300 && res.status < 400)) {
    throw new Error(`${what}: unexpected ${res.status} ${JSON.stringify(res.body)}`);
  }
  if (res.status >= 400) {
    const err = (res.body as { error?: { code?: unknown; message?: unknown } })?.error;
    if (typeof err?.code !== 'string' || typeof err.message !== 'string') {
      throw new Error(
        `${what}: a ${res.status} without {error:{code,message}}: ${JSON.stringify(res.body)}`,
      );
    }
  }
}

const codeOf = (res: { body: unknown }) => (res.body as { error?: { code?: string } })?.error?.code;

function describeMove(r: ModelRequest, m: Move) {
  return `${m.user} ${m.kind}${m.kind === 'approve' && m.narrowDays ? ` (narrow to ${m.narrowDays}d)` : ''} ${r.product.id} of ${r.requester} [${r.status}, ${r.approvals.length}/${r.stages.length}]`;
}

async function send(r: ModelRequest, m: Move) {
  const body =
    m.kind === 'approve'
      ? {
          comment: `by ${m.user}`,
          ...(m.narrowDays !== undefined
            ? { narrowedDuration: { value: m.narrowDays, unit: 'days' } }
            : {}),
        }
      : m.kind === 'deny'
        ? { reason: `denied by ${m.user}` }
        : undefined;
  const res = await p.call(m.user, 'POST', `/v1/requests/${r.id}/${m.kind}`, body);
  expectSane(res, describeMove(r, m));
  return res;
}

async function runScenario(scenario: { creates: Action[]; actions: Action[] }) {
  const requests: ModelRequest[] = [];

  for (const action of [...scenario.creates, ...scenario.actions]) {
    if (action.kind === 'create') {
      const product = PRODUCTS[action.product]!;
      const res = await p.call(
        action.user,
        'POST',
        '/v1/requests',
        newRequest(product.id, {
          duration: { value: action.days, unit: 'days' },
          purpose: `property run by ${action.user}`,
        }),
      );
      expectSane(res, `${action.user} creates ${product.id}`);
      if (AUDITORS.includes(action.user)) {
        expect(res.status).toBe(403);
        continue;
      }
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        status: 'PENDING',
        version: 1,
        requester: action.user,
        productId: product.id,
      });
      const stages: StageName[] = product.restricted ? ['owner', 'compliance'] : ['owner'];
      expect(res.body.stages.map((s: { name: string }) => s.name)).toEqual(stages);
      requests.push({
        id: res.body.id,
        product,
        requester: action.user,
        stages,
        approvals: [],
        durationDays: action.days,
        status: 'PENDING',
        changes: 0,
      });
      continue;
    }
    if (requests.length === 0) continue;
    const i = action.target % requests.length;
    const r = requests[i]!;

    if (action.kind === 'move') {
      const move = resolve(r, action.move);
      const expected = predict(r, move);
      const res = await send(r, move);
      expect({ call: describeMove(r, move), status: res.status, code: codeOf(res) }).toEqual({
        call: describeMove(r, move),
        status: expected.status,
        code: expected.code,
      });
      if (res.status === 200) {
        requests[i] = apply(r, move);
        expect(res.body.version).toBe(1 + requests[i]!.changes);
      }
      continue;
    }

    // A race: all moves are sent at once. A loser of an optimistic-locking race gets
    // 409 STALE_REQUEST and changes nothing; the others must be explained by some serial order.
    const raced = action.moves.map((spec) => resolve(r, spec));
    const results = await Promise.all(raced.map((m) => send(r, m)));
    const done = raced
      .map((m, k) => ({ m, res: results[k]! }))
      .filter(({ res }) => codeOf(res) !== 'STALE_REQUEST');
    // Nobody else writes a pending request, so a stale read means another move of this race won.
    if (done.length < raced.length) expect(results.some((res) => res.status === 200)).toBe(true);
    let explained: ModelRequest | undefined;
    for (const order of permutations(done)) {
      let state: ModelRequest | undefined = r;
      for (const { m, res } of order) {
        const expected = predict(state, m);
        if (expected.status !== res.status || expected.code !== codeOf(res)) {
          state = undefined;
          break;
        }
        if (res.status === 200) state = apply(state, m);
      }
      if (state) {
        explained = state;
        break;
      }
    }
    if (!explained) {
      throw new Error(
        `race on ${r.product.id} not explained by any serial order: ${raced
          .map(
            (m, k) => `${describeMove(r, m)} -> ${results[k]!.status} ${codeOf(results[k]!) ?? ''}`,
          )
          .join('; ')}`,
      );
    }
    requests[i] = explained;
  }

  await p.queue.onIdle();

  for (const m of requests) {
    const res = await p.call('erin', 'GET', `/v1/requests/${m.id}`);
    expect(res.status).toBe(200);
    const stored = res.body;
    const history: HistoryEvent[] = stored.history;
    const where = `${m.id} (${m.product.id} by ${m.requester}): ${history.map((e) => `${e.type}/${e.actor}`).join(', ')}`;

    // No self-approval, and no decision of any kind by the requester except cancelling.
    const approvalEvents = history.filter((e) => e.type === 'APPROVAL_RECORDED');
    for (const e of approvalEvents)
      expect({ where, actor: e.actor }).not.toEqual({ where, actor: m.requester });
    for (const e of history.filter(
      (h) => h.type === 'REQUEST_APPROVED' || h.type === 'REQUEST_DENIED',
    )) {
      expect({ where, actor: e.actor }).not.toEqual({ where, actor: m.requester });
    }

    // At most one final decision, and only the requester cancels.
    const finals = history.filter((e) => FINAL_DECISIONS.includes(e.type));
    expect({ where, finals: finals.length <= 1 }).toEqual({ where, finals: true });
    for (const e of history.filter((h) => h.type === 'REQUEST_CANCELLED'))
      expect(e.actor).toBe(m.requester);

    // Approvals: the audit trail, the stored stages and the model agree on who approved what.
    const modelApprovals = m.approvals.map((a) => ({ by: a.by, stage: a.stage }));
    expect({
      where,
      approvals: approvalEvents.map((e) => ({ by: e.actor, stage: e.detail.stage })),
    }).toEqual({ where, approvals: modelApprovals });
    const storedApprovals = (
      stored.stages as {
        name: StageName;
        approvals: { by: string; narrowedDuration?: { value: number } }[];
      }[]
    ).flatMap((s) =>
      s.approvals.map((a) => ({
        by: a.by,
        stage: s.name,
        narrowedDays: a.narrowedDuration?.value,
      })),
    );
    expect({ where, approvals: storedApprovals }).toEqual({
      where,
      approvals: m.approvals.map((a) => ({ ...a })),
    });
    for (const s of stored.stages as { approvals: unknown[]; required: number }[])
      expect(s.approvals.length).toBeLessThanOrEqual(s.required);

    // Approval needs every stage, in order, by distinct people who are not the requester.
    const approved = history.findIndex((e) => e.type === 'REQUEST_APPROVED');
    if (approved >= 0) {
      const before = approvalEvents.filter((e) => history.indexOf(e) < approved);
      expect(before.map((e) => e.detail.stage)).toEqual(
        m.product.restricted ? ['owner', 'compliance'] : ['owner'],
      );
      expect(new Set(before.map((e) => e.actor)).size).toBe(before.length);
      expect(OWNER_STAGE[m.product.domain]).toContain(before[0]!.actor);
      if (m.product.restricted) expect(COMPLIANCE).toContain(before[1]!.actor);
      expect(history[approved]!.detail.terms?.duration).toEqual({
        value: effectiveDays(m),
        unit: 'days',
      });
    }

    // Status only moves along the state machine, starting at PENDING and ending where the request is.
    const moves = history.filter((e) => e.toStatus !== undefined);
    expect(moves[0]).toMatchObject({ type: 'REQUEST_CREATED', toStatus: 'PENDING' });
    expect(moves[0]!.fromStatus).toBeUndefined();
    for (let k = 1; k < moves.length; k++) {
      const prev = moves[k - 1]!;
      const cur = moves[k]!;
      expect({ where, from: cur.fromStatus }).toEqual({ where, from: prev.toStatus });
      expect({
        where,
        edge: `${cur.fromStatus}->${cur.toStatus}`,
        ok: canTransition(cur.fromStatus!, cur.toStatus!),
      }).toEqual({
        where,
        edge: `${cur.fromStatus}->${cur.toStatus}`,
        ok: true,
      });
    }
    expect(moves[moves.length - 1]!.toStatus).toBe(stored.status);

    // The model's status; an approved request is fulfilled by the worker (two more changes).
    const fulfilled = m.status === 'APPROVED';
    expect({ where, status: stored.status }).toEqual({
      where,
      status: fulfilled ? 'ACTIVE' : m.status,
    });
    expect({ where, version: stored.version }).toEqual({
      where,
      version: m.changes + 1 + (fulfilled ? 2 : 0),
    });
  }
}

test('random request/approve/deny/cancel sequences keep the lifecycle invariants', async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, async (scenario) => {
      await runScenario(scenario);
    }),
    { numRuns: 40, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: false },
  );
}, 120_000);
