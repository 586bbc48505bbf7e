import fc from 'fast-check';
import {
  activate,
  cancel,
  deny,
  end,
  escalate,
  expire,
  extend,
  fail,
  recordApproval,
  noteUndoFailure,
  retry,
  revoke,
  startEnding,
  startGranting,
  submit,
  timeOut,
  type Change,
  type Context,
  type Deciders,
  type Outcome,
  type SubmitPolicy,
} from '../../functions/domain/lifecycle';
import type { AccessRequest, Decision, Grant, Stage } from '../../functions/domain/model';
import { canTransition } from '../../functions/domain/status';

/*
 * The lifecycle's invariants over random sequences of submit / approve / deny / cancel / extend /
 * fulfil / fail / retry / revoke / expire / escalate / time out, with a moving clock and a policy
 * maximum that changes.
 * The transitions are pure; a small in-memory store below commits their changes the way the
 * DynamoDB store does (conditional on the state read, the extension lock a conditional put).
 * What the test expects is worked out here, from the rules, not read back from the domain.
 */

const HOUR = 3_600_000;
const REQUESTER = 'alice';
const PRODUCT = { id: 'sales/orders', domain: 'sales', classification: 'internal' as const };
const yes = (reason: string): Decision => ({ allowed: true, reason, rules: [] });
const no = (reason: string): Decision => ({ allowed: false, reason, rules: [] });

/** Who the (random) policy lets decide each stage. alice is sometimes an owner of her own domain. */
interface World {
  auto: boolean;
  stages: Stage['name'][];
  ownerDeciders: string[];
  /** Backup approvers: they may decide a stage once it is escalated. alice is sometimes one. */
  backups: string[];
  maxHours: number;
}

const ESCALATE_AFTER_HOURS = 48;
const TIMEOUT_DAYS = 14;

class MemoryStore {
  requests = new Map<string, AccessRequest>();
  grants = new Map<string, Grant>();
  locks = new Map<string, string>();
  events: Array<{
    requestId: string;
    type: string;
    actor: string;
    from?: string;
    to?: string;
    stage?: unknown;
  }> = [];

  /** All or nothing, as one DynamoDB transaction. Returns the refusal code, if any. */
  commit(c: Change): string | undefined {
    const stored = this.requests.get(c.request.id);
    if (c.expected) {
      if (!stored || stored.status !== c.expected.status || stored.version !== c.expected.version)
        return 'STALE_REQUEST';
    } else if (stored) return 'REQUEST_EXISTS';
    const lock = c.extensionLock;
    if (lock?.op === 'claim') {
      const holder = this.locks.get(lock.grantId);
      if (holder !== undefined && holder !== lock.requestId) return 'EXTENSION_OPEN';
      this.locks.set(lock.grantId, lock.requestId);
    }
    if (lock?.op === 'release' && this.locks.get(lock.grantId) === lock.requestId)
      this.locks.delete(lock.grantId);
    this.requests.set(c.request.id, c.request);
    if (c.grant) this.grants.set(c.grant.id, c.grant);
    for (const e of c.events)
      this.events.push({
        requestId: e.requestId!,
        type: e.type,
        actor: e.actor,
        from: e.fromStatus,
        to: e.toStatus,
        stage: e.detail.stage,
      });
    return undefined;
  }
}

type Cmd =
  | { kind: 'submit'; hours: number }
  | { kind: 'extend'; grant: number; hours: number }
  | { kind: 'approve'; req: number; user: string; narrowTo?: number }
  | { kind: 'deny'; req: number; user: string }
  | { kind: 'cancel'; req: number }
  | { kind: 'fulfil'; req: number; ok: boolean }
  | { kind: 'retry'; req: number }
  | { kind: 'revoke'; grant: number }
  | { kind: 'sweep' }
  | { kind: 'wait' }
  | { kind: 'tick'; hours: number }
  | { kind: 'policy'; maxHours: number };

const hoursArb = fc.integer({ min: 1, max: 1000 });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('submit' as const), hours: hoursArb }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('extend' as const),
      grant: fc.nat(),
      hours: hoursArb,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        kind: fc.constant('approve' as const),
        req: fc.nat(),
        user: fc.constantFrom('alice', 'bob', 'carol', 'dave'),
        narrowTo: hoursArb,
      },
      { requiredKeys: ['kind', 'req', 'user'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deny' as const),
      req: fc.nat(),
      user: fc.constantFrom('alice', 'bob', 'carol'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), req: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('fulfil' as const),
      req: fc.nat(),
      ok: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), req: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), grant: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'wait' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      hours: fc.integer({ min: 1, max: 500 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('policy' as const),
      maxHours: fc.integer({ min: 24, max: 2160 }),
    }),
  },
);

const worldArb: fc.Arbitrary<World> = fc.record({
  auto: fc.boolean(),
  stages: fc.constantFrom<Stage['name'][]>(['owner'], ['owner', 'compliance']),
  ownerDeciders: fc.constantFrom(['bob'], ['bob', 'alice']),
  backups: fc.constantFrom(['dave'], ['dave', 'alice']),
  maxHours: fc.integer({ min: 24, max: 2160 }),
});

/** Runs one sequence; throws on the first broken invariant. */
function run(world: World, cmds: Cmd[]) {
  const store = new MemoryStore();
  let now = new Date('2026-12-01T00:00:00Z');
  let maxHours = world.maxHours;
  let n = 0;
  /** The maximum in force when each request was decided (approved, by a person or automatically). */
  const decidedMax = new Map<string, number>();
  /** Open (PENDING/APPROVED/GRANTING) extension requests per grant, worked out from the calls. */
  const ctx = (actor: string): Context => ({ actor, now });
  const limit = () => ({ hours: maxHours, rule: { source: 'policy', line: 'max' } });
  const policy = (): SubmitPolicy => ({
    allowed: yes('may request'),
    auto: world.auto ? yes('auto') : no('needs approval'),
    stages: world.auto
      ? []
      : world.stages.map((name) => ({ name, required: 1, approvals: [], rule: null })),
    explanation: [],
    limit: limit(),
    openRequests: { open: 0, max: 50, rule: { source: 'policy', line: 'open' } },
    waiting: { escalateAfterHours: ESCALATE_AFTER_HOURS, timeoutDays: TIMEOUT_DAYS },
  });
  /** As the use case asks: a backup approver's line only about an escalated stage. */
  const deciders = (user: string, r: AccessRequest): Deciders => {
    const backup = (name: Stage['name']) =>
      world.backups.includes(user) && r.stages.find((s) => s.name === name)?.escalatedAt
        ? yes('backup')
        : undefined;
    return {
      owner: world.ownerDeciders.includes(user)
        ? yes('owner')
        : (backup('owner') ?? no('not owner')),
      compliance:
        user === 'carol' ? yes('compliance') : (backup('compliance') ?? no('not compliance')),
    };
  };
  /** When each later stage started waiting (request id and stage name), worked out from the calls. */
  const stageStarts = new Map<string, Date>();
  const requests = () => [...store.requests.values()];
  const grants = () => [...store.grants.values()];
  const pick = <T>(xs: T[], i: number) => (xs.length ? xs[i % xs.length] : undefined);
  const hoursAhead = (iso: string) => (new Date(iso).getTime() - now.getTime()) / HOUR;

  /** Commits what a transition decided; a refusal or a lost lock changes nothing. */
  function apply(o: Outcome, onDecided?: (c: Change) => void): Change | undefined {
    if (!o.ok) return undefined;
    const before = store.requests.get(o.request.id);
    if (store.commit(o)) return undefined;
    // Every change carries its events, and every status move is one of them.
    expect(o.events.length).toBeGreaterThan(0);
    if (before && before.status !== o.request.status) {
      expect(canTransition(before.status, o.request.status)).toBe(true);
      const moves = o.events.filter((e) => e.toStatus !== undefined);
      expect(moves.at(-1)).toMatchObject({ fromStatus: before.status, toStatus: o.request.status });
    }
    onDecided?.(o);
    return o;
  }

  /** Checked at the moment of a final decision: how long the grant would run from now. */
  function decided(c: Change) {
    if (c.request.status !== 'APPROVED') return;
    decidedMax.set(c.request.id, maxHours);
    const r = c.request;
    const d = r.stages
      .flatMap((s) => s.approvals)
      .reduce((h, a) => (a.narrowedDuration ? a.narrowedDuration.value : h), r.duration.value);
    const from = r.extendsFrom && new Date(r.extendsFrom) > now ? new Date(r.extendsFrom) : now;
    const runs = (from.getTime() - now.getTime()) / HOUR + d;
    expect(runs).toBeLessThanOrEqual(maxHours);
  }

  for (const cmd of cmds) {
    switch (cmd.kind) {
      case 'submit':
        apply(
          submit(
            {
              id: `req${++n}`,
              principal: '111122223333',
              product: PRODUCT,
              scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
              duration: { value: cmd.hours, unit: 'hours' },
              purpose: 'p',
              piiColumns: [],
            },
            policy(),
            ctx(REQUESTER),
          ),
          decided,
        );
        break;
      case 'extend': {
        const g = pick(grants(), cmd.grant);
        if (!g) break;
        const r = store.requests.get(g.requestId)!;
        apply(
          extend(
            { grant: g, request: r },
            {
              id: `req${++n}`,
              product: PRODUCT,
              duration: { value: cmd.hours, unit: 'hours' },
              purpose: 'more',
              piiColumns: [],
            },
            { ...policy(), extend: yes('requester') },
            ctx(REQUESTER),
          ),
          decided,
        );
        break;
      }
      case 'approve': {
        const r = pick(requests(), cmd.req);
        if (!r) break;
        const c = apply(
          recordApproval(
            r,
            {
              comment: 'ok',
              narrowedDuration: cmd.narrowTo ? { value: cmd.narrowTo, unit: 'hours' } : undefined,
            },
            {
              deciders: deciders(cmd.user, r),
              limit: limit(),
              escalateAfterHours: ESCALATE_AFTER_HOURS,
            },
            ctx(cmd.user),
          ),
          decided,
        );
        if (c) {
          const stage = r.stages.find((s) => s.approvals.length < s.required)!;
          // A backup approver (who decides nothing else) decides only an escalated stage.
          if (world.backups.includes(cmd.user) && !world.ownerDeciders.includes(cmd.user))
            expect(stage.escalatedAt).toBeDefined();
          const next = c.request.stages.find((s) => s.approvals.length < s.required);
          if (c.request.status === 'PENDING' && next && next.name !== stage.name)
            stageStarts.set(`${r.id}#${next.name}`, now);
          // The approver recorded is the caller, and never the requester.
          const last = c.request.stages.flatMap((s) => s.approvals).at(-1)!;
          expect(last.by).toBe(cmd.user);
          expect(last.by).not.toBe(c.request.requester);
          expect(c.events[0]).toMatchObject({ type: 'APPROVAL_RECORDED', actor: cmd.user });
        }
        break;
      }
      case 'deny': {
        const r = pick(requests(), cmd.req);
        if (!r) break;
        const c = apply(deny(r, 'no', { deciders: deciders(cmd.user, r) }, ctx(cmd.user)));
        if (c) {
          expect(c.request.denial!.by).toBe(cmd.user);
          expect(cmd.user).not.toBe(r.requester);
        }
        break;
      }
      case 'cancel': {
        const r = pick(requests(), cmd.req);
        if (r) apply(cancel(r, { cancel: yes('requester') }, ctx(REQUESTER)));
        break;
      }
      case 'fulfil': {
        let r = pick(requests(), cmd.req);
        if (!r) break;
        if (r.status === 'APPROVED') r = apply(startGranting(r, ctx('meshgate')))?.request ?? r;
        if (r.status !== 'GRANTING') break;
        if (!cmd.ok) {
          // The first attempt could not take back what it granted: still GRANTING, noted; the
          // next one fails it.
          const failure = { reason: 'boom', code: 'X' };
          const noted = apply(
            noteUndoFailure(r, failure, { reason: 'throttled', entries: [] }, ctx('meshgate'))!,
          );
          expect(noted?.request.status).toBe('GRANTING');
          apply(fail(noted!.request, failure, [], { revoked: [] }, ctx('meshgate')));
          break;
        }
        const extended = r.extendsGrantId ? store.grants.get(r.extendsGrantId) : undefined;
        const done = apply(
          activate(
            r,
            {
              grantId: `grt-${r.id}`,
              accountId: '1',
              scope: r.scope,
              entries: [],
              earlierEntries: [],
              extended,
            },
            ctx('meshgate'),
          ),
        );
        // The extension replaces the grant it extends.
        if (done && extended?.status === 'ACTIVE') {
          const old = store.requests.get(extended.requestId)!;
          const ending = apply(
            startEnding(old, extended, { ending: 'REVOKED', reason: 'replaced' }, ctx('meshgate')),
          );
          if (ending) apply(end(ending.request, ending.grant!, [], ctx('meshgate')));
        }
        break;
      }
      case 'retry': {
        const r = pick(requests(), cmd.req);
        if (r) apply(retry(r, { retry: yes('owner') }, ctx('bob')));
        break;
      }
      case 'revoke': {
        const g = pick(grants(), cmd.grant);
        if (!g) break;
        const c = apply(
          revoke(store.requests.get(g.requestId)!, g, 'done', { revoke: yes('owner') }, ctx('bob')),
        );
        if (c) apply(end(c.request, c.grant!, [], ctx('meshgate')));
        break;
      }
      case 'sweep':
        for (const g of grants().filter((x) => x.status === 'ACTIVE')) {
          const c = apply(expire(store.requests.get(g.requestId)!, g, ctx('meshgate')));
          if (c) apply(end(c.request, c.grant!, [], ctx('meshgate')));
        }
        break;
      case 'wait':
        // The sweep of waiting requests: time out what is due, escalate what waited too long.
        for (const r of requests().filter((x) => x.status === 'PENDING')) {
          const t = apply(timeOut(r, ctx('meshgate')));
          if (t) {
            const created = new Date(r.createdAt).getTime();
            expect(now.getTime() - created).toBeGreaterThanOrEqual(TIMEOUT_DAYS * 24 * HOUR);
            expect(t.openCount).toEqual({ user: r.requester, op: 'release' });
            continue;
          }
          const e = apply(escalate(r, world.backups, ctx('meshgate')));
          if (e) {
            const stage = r.stages.find((s) => s.approvals.length < s.required)!;
            const started = stageStarts.get(`${r.id}#${stage.name}`) ?? new Date(r.createdAt);
            expect(now.getTime() - started.getTime()).toBeGreaterThanOrEqual(
              ESCALATE_AFTER_HOURS * HOUR,
            );
            expect(e.request.status).toBe('PENDING');
            expect(e.events[0]!.detail.notify).not.toContain(r.requester);
            // A second sweep at once finds nothing to escalate.
            apply(escalate(e.request, world.backups, ctx('meshgate')));
          }
        }
        break;
      case 'tick':
        now = new Date(now.getTime() + cmd.hours * HOUR);
        break;
      case 'policy':
        maxHours = cmd.maxHours;
        break;
    }

    // No ACTIVE grant runs longer from now than the maximum in force when it was decided.
    for (const g of grants().filter((x) => x.status === 'ACTIVE')) {
      expect(hoursAhead(g.expiresAt)).toBeLessThanOrEqual(decidedMax.get(g.requestId)!);
    }
    // At most one open extension per grant.
    const open = new Map<string, number>();
    for (const r of requests()) {
      if (r.extendsGrantId && ['PENDING', 'APPROVED', 'GRANTING'].includes(r.status))
        open.set(r.extendsGrantId, (open.get(r.extendsGrantId) ?? 0) + 1);
    }
    for (const count of open.values()) expect(count).toBeLessThanOrEqual(1);
    // One final decision per request, never by its requester; a timed-out request is never decided
    // afterwards; a stage is escalated at most once.
    const finals = new Map<string, number>();
    const timedOut = new Set<string>();
    const escalations = new Map<string, number>();
    for (const e of store.events) {
      if (timedOut.has(e.requestId)) throw new Error(`${e.type} after ${e.requestId} timed out`);
      if (e.type === 'REQUEST_TIMED_OUT') timedOut.add(e.requestId);
      if (e.type === 'STAGE_ESCALATED') {
        const k = `${e.requestId}#${String(e.stage)}`;
        escalations.set(k, (escalations.get(k) ?? 0) + 1);
      }
      if (
        ['REQUEST_APPROVED', 'REQUEST_DENIED', 'REQUEST_CANCELLED', 'REQUEST_TIMED_OUT'].includes(
          e.type,
        )
      )
        finals.set(e.requestId, (finals.get(e.requestId) ?? 0) + 1);
      if (['APPROVAL_RECORDED', 'REQUEST_DENIED'].includes(e.type))
        expect(e.actor).not.toBe(REQUESTER);
    }
    for (const count of finals.values()) expect(count).toBe(1);
    for (const count of escalations.values()) expect(count).toBe(1);
    for (const id of timedOut) expect(store.requests.get(id)!.status).toBe('CANCELLED');
  }
  return store;
}

/**
 * Fixed seed: the same sequences on every run; raise RUNS locally to search further. With the
 * extension's checked length cut back to its own added hours (the defect this guards against),
 * this seed fails after 258 runs (seeds 1 to 6: after 68 to 407), so 1,000 leaves a margin.
 */
const SEED = 20261206;
const RUNS = 1000;

test('invariants of the request lifecycle hold over random sequences', () => {
  fc.assert(
    fc.property(worldArb, fc.array(cmdArb, { minLength: 5, maxLength: 60 }), (world, cmds) => {
      run(world, cmds);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('the extension chain of the review ends at the maximum: 720 h, then four extensions of 720 h', () => {
  const world: World = {
    auto: true,
    stages: ['owner'],
    ownerDeciders: ['bob'],
    backups: ['dave'],
    maxHours: 720,
  };
  const cmds: Cmd[] = [
    { kind: 'submit', hours: 720 },
    { kind: 'fulfil', req: 0, ok: true },
  ];
  for (let i = 0; i < 4; i++) {
    cmds.push({ kind: 'extend', grant: i, hours: 720 }, { kind: 'fulfil', req: i + 1, ok: true });
  }
  const store = run(world, cmds);
  // Every extension was refused: the one grant still ends 720 h from the start.
  expect([...store.requests.values()]).toHaveLength(1);
  expect([...store.grants.values()].map((g) => g.expiresAt)).toEqual(['2026-12-31T00:00:00.000Z']);
});
