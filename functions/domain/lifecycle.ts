import type {
  AccessRequest,
  AuditEvent,
  ConsumerLink,
  DataProduct,
  Decision,
  Duration,
  Grant,
  NamesOnTables,
  Permission,
  RequestStatus,
  RuleRef,
  Scope,
  Stage,
} from './model';
import { conflict, forbidden, MeshgateError, unprocessable } from './errors';
import { boundEntries, capList } from './entries';
import { canTransition, isInFlight } from './status';
import {
  checkNarrowing,
  currentStage,
  durationHours,
  effectiveTerms,
  formatHours,
  normaliseScope,
} from './request';

/*
 * The request lifecycle: one pure function per step. Each takes the current state, the command
 * and its context (who, when, what the policy answered) and returns either the next state with
 * the audit events that record it (a `Change`), or a `Refusal`. Use cases load, call one of these
 * and commit the change; no status is set anywhere else (an ESLint rule keeps it so, see
 * eslint.config.mjs).
 *
 * Invariants kept here (and proven by test/domain/lifecycle.property.test.ts):
 * - an ACTIVE grant never ends later than its request's decided maximum from now: the length
 *   checked is the whole time the grant would run from the moment of the decision (for an
 *   extension, what is left of the grant it extends plus the added time), and activation caps
 *   the expiry at that maximum;
 * - at most one open extension per grant: a change that opens one claims the grant's extension
 *   lock, which the store takes with a conditional write (never a read);
 * - one final decision per request, made by the caller recorded, never by the requester;
 * - every change carries its audit events, written in the same transaction.
 */

/** The state a change is conditional on: what was read. */
export interface Expected {
  status: RequestStatus;
  version: number;
}

/** An audit event as a transition states it; the use case gives it an id when committing. */
export type LifecycleEvent = Omit<AuditEvent, 'id'>;

/**
 * The one open extension of a grant. `claim` fails (409 EXTENSION_OPEN) when another request
 * holds it; `release` frees it if this request holds it.
 */
export interface ExtensionLock {
  grantId: string;
  requestId: string;
  op: 'claim' | 'release';
}

/**
 * The requester's count of open (pending) requests, kept in one item per user: `claim` adds one,
 * conditional on the count being below `max` (422 OPEN_REQUEST_LIMIT otherwise, and nothing is
 * written); `release` takes one away when a pending request is decided or cancelled.
 */
export interface OpenCount {
  user: string;
  op: 'claim' | 'release';
  max?: number;
}

/** The policy's limit on a user's open requests, and how many they hold now. */
export interface OpenRequests {
  open: number;
  max: number;
  rule: RuleRef;
}

export interface Change {
  ok: true;
  request: AccessRequest;
  /** The state the write is conditional on; absent for a new request. */
  expected?: Expected;
  events: LifecycleEvent[];
  /** The grant written in the same transaction. */
  grant?: Grant;
  extensionLock?: ExtensionLock;
  /** The change of the requester's open-request count, written in the same transaction. */
  openCount?: OpenCount;
}

export interface Refusal {
  ok: false;
  error: MeshgateError;
}

export type Outcome = Change | Refusal;

/** Who acts, and when. */
export interface Context {
  actor: string;
  now: Date;
}

/** The actor recorded for what Meshgate does by itself (automatic approval, fulfilment). */
export const SYSTEM = 'meshgate';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const refuse = (error: MeshgateError): Refusal => ({ ok: false, error });

/** The change, or the refusal thrown as the error it carries. */
export function orThrow(outcome: Outcome): Change {
  if (!outcome.ok) throw outcome.error;
  return outcome;
}

/** Runs a domain check that throws (scope narrowing, say) and turns its error into a refusal. */
function attempt(check: () => void): Refusal | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (err instanceof MeshgateError) return refuse(err);
    throw err;
  }
}

const expectedOf = (r: AccessRequest): Expected => ({ status: r.status, version: r.version });

const subjectOf = (r: AccessRequest) => ({
  domain: r.domain,
  requestId: r.id,
  productId: r.productId,
});

function event(
  r: AccessRequest,
  ctx: Context,
  type: LifecycleEvent['type'],
  detail: Record<string, unknown>,
  move?: { from?: RequestStatus; to: RequestStatus },
): LifecycleEvent {
  return {
    at: ctx.now.toISOString(),
    type,
    actor: ctx.actor,
    ...subjectOf(r),
    ...(move?.from ? { fromStatus: move.from } : {}),
    ...(move ? { toStatus: move.to } : {}),
    detail,
  };
}

/**
 * The next version of `r`, moved to `to` (or kept where it is) with `patch`. The status table in
 * status.ts is the last guard: an edge it does not list is a refusal, whatever the caller checked.
 */
function step(
  r: AccessRequest,
  ctx: Context,
  to: RequestStatus,
  patch: Partial<AccessRequest>,
  events: LifecycleEvent[],
  extra: Pick<Change, 'grant' | 'extensionLock'> = {},
): Outcome {
  // Leaving PENDING (a final approval, a denial, a cancellation) frees a place of the requester.
  const openCount: OpenCount | undefined =
    r.status === 'PENDING' && to !== 'PENDING' ? { user: r.requester, op: 'release' } : undefined;
  if (to !== r.status && !canTransition(r.status, to)) {
    return refuse(
      conflict('INVALID_TRANSITION', `A request in status ${r.status} cannot become ${to}.`),
    );
  }
  const request: AccessRequest = {
    ...r,
    ...patch,
    status: to,
    updatedAt: ctx.now.toISOString(),
    version: r.version + 1,
  };
  return {
    ok: true,
    request,
    expected: expectedOf(r),
    events,
    ...extra,
    ...(openCount ? { openCount } : {}),
  };
}

// ------------------------------------------------------------------------------ duration limits

/** The policy's maximum grant length for a product, with the line that sets it. */
export interface DurationLimit {
  hours: number;
  rule: RuleRef;
}

/**
 * From when an extension of `grant` runs at `now`: the grant's expiry while that is still to
 * come, otherwise now.
 */
export function extensionStart(grantExpiresAt: string, now: Date): Date {
  const end = new Date(grantExpiresAt);
  return end > now ? end : now;
}

/**
 * The length to check against the policy maximum, in hours: how long the grant would run from
 * `now`. For a new grant that is its duration; for an extension it is what is left of the grant
 * it extends plus the added time.
 */
export function checkedHours(duration: Duration, now: Date, extendsFrom?: string): number {
  const ahead = extendsFrom
    ? (extensionStart(extendsFrom, now).getTime() - now.getTime()) / HOUR_MS
    : 0;
  return ahead + durationHours(duration);
}

/** When a grant decided now for `duration` would end (an extension runs on from `extendsFrom`). */
export function resultingExpiry(duration: Duration, now: Date, extendsFrom?: string): string {
  const start = extendsFrom ? extensionStart(extendsFrom, now) : now;
  return new Date(start.getTime() + durationHours(duration) * HOUR_MS).toISOString();
}

const roundHours = (h: number) => Math.round(h * 100) / 100;

/** The policy's answer on length, as a line of the request's explanation. */
export function withinLimit(
  duration: Duration,
  limit: DurationLimit,
  now: Date,
  extendsFrom?: string,
): Decision {
  const hours = checkedHours(duration, now, extendsFrom);
  const allowed = hours <= limit.hours;
  const max = `the ${formatHours(limit.hours)} limit of ${limit.rule.source}`;
  let reason: string;
  if (!extendsFrom) {
    reason = allowed ? `Within ${max}` : `Denied: ${formatHours(hours)} is longer than ${max}`;
  } else {
    const until = resultingExpiry(duration, now, extendsFrom);
    const room = Math.max(0, Math.floor(limit.hours - (hours - durationHours(duration))));
    reason = allowed
      ? `The grant would run until ${until}, ${formatHours(roundHours(hours))} from now: within ${max}`
      : `Denied: extended by ${formatHours(durationHours(duration))}, the grant would run until ${until}, ` +
        `${formatHours(roundHours(hours))} from now, longer than ${max}; ` +
        (room > 0 ? `at most ${formatHours(room)} can be added now` : 'nothing can be added now');
  }
  return { allowed, reason, rules: [limit.rule] };
}

function limitRefusal(
  r: Pick<AccessRequest, 'extendsGrantId' | 'extendsFrom'>,
  duration: Duration,
  limit: DurationLimit,
  now: Date,
  advice = '',
): Refusal | undefined {
  const d = withinLimit(duration, limit, now, r.extendsFrom);
  if (d.allowed) return undefined;
  const details = {
    maxDurationHours: limit.hours,
    rule: limit.rule,
    ...(r.extendsFrom
      ? {
          resultingExpiresAt: resultingExpiry(duration, now, r.extendsFrom),
          grantId: r.extendsGrantId,
        }
      : {}),
  };
  return refuse(
    unprocessable(
      r.extendsFrom ? 'EXTENSION_EXCEEDS_POLICY' : 'DURATION_EXCEEDS_POLICY',
      d.reason + advice,
      details,
    ),
  );
}

// ------------------------------------------------------------------------------------ submit

/** What the policy answered for a new request (see usecases planRequest). */
export interface SubmitPolicy {
  /** May the caller request this product at all. */
  allowed: Decision;
  /** Is it approved without a person. */
  auto: Decision;
  /** The approval stages it goes through when it is not. */
  stages: Stage[];
  /** Every decision behind the routing, for the request's explanation. */
  explanation: Decision[];
  limit: DurationLimit;
  /** The requester's open requests and the policy's limit on them. */
  openRequests: OpenRequests;
  /** How long its stages and the request itself may wait (absent: they wait for ever). */
  waiting?: WaitingLimits;
}

/**
 * The policy's deadlines for a pending request: a stage undecided for `escalateAfterHours` is
 * escalated to the domain's backup approvers; a request pending for `timeoutDays` times out. Each
 * is fixed on the request when its clock starts (the stage's `escalatesAt`, the request's
 * `timesOutAt`): the requester and the approvers are told a date that a later policy change does
 * not move, and the sweeper finds what is due by one index key (see the store).
 */
export interface WaitingLimits {
  escalateAfterHours: number;
  timeoutDays: number;
}

export interface SubmitCommand {
  id: string;
  principal: string;
  product: Pick<DataProduct, 'id' | 'domain' | 'classification'>;
  /** As stored: checked against the product, row filter in canonical form. */
  scope: Scope;
  duration: Duration;
  purpose: string;
  piiColumns: string[];
}

/**
 * A new request: PENDING on its way to approvers, or APPROVED at once when the policy approves it
 * automatically (both changes in one write, each with its event).
 */
export function submit(cmd: SubmitCommand, policy: SubmitPolicy, ctx: Context): Outcome {
  return open(cmd, policy, ctx);
}

/** The grant an extension extends, and its request. */
export interface Extended {
  grant: Grant;
  request: AccessRequest;
}

/**
 * The requester asks for more time on an active grant: a new request for the same principal and
 * scope, decided like any other. Its checked length is the whole time the grant would run: what
 * is left of it plus the added time. It claims the grant's one extension lock.
 */
export function extend(
  extended: Extended,
  cmd: Omit<SubmitCommand, 'principal' | 'scope'>,
  policy: SubmitPolicy & { extend: Decision },
  ctx: Context,
): Outcome {
  const refused = checkExtendable(extended, policy.extend);
  if (refused) return refused;
  const { grant } = extended;
  return open({ ...cmd, principal: grant.principal, scope: grant.scope }, policy, ctx, grant);
}

/**
 * Who may ask to extend, and what: checked before anything else is looked at (the product, the
 * policy's routing), so that nobody learns more than that they may not.
 */
export function checkExtendable(extended: Extended, extend: Decision): Refusal | undefined {
  if (!extend.allowed) {
    return refuse(
      forbidden('NOT_ALLOWED', `Only the requester asks for an extension. ${extend.reason}`),
    );
  }
  const { grant, request } = extended;
  if (grant.status !== 'ACTIVE' || request.status !== 'ACTIVE') {
    return refuse(
      conflict('NOT_ACTIVE', `Only an active grant can be extended; this one is ${grant.status}.`),
    );
  }
  return undefined;
}

function open(cmd: SubmitCommand, policy: SubmitPolicy, ctx: Context, extends_?: Grant): Outcome {
  if (!policy.allowed.allowed) {
    return refuse(
      forbidden('POLICY_DENIED', policy.allowed.reason, { explanation: policy.explanation }),
    );
  }
  const at = ctx.now.toISOString();
  const request: AccessRequest = {
    id: cmd.id,
    requester: ctx.actor,
    principal: cmd.principal,
    productId: cmd.product.id,
    domain: cmd.product.domain,
    classification: cmd.product.classification,
    scope: cmd.scope,
    duration: cmd.duration,
    purpose: cmd.purpose,
    extendsGrantId: extends_?.id,
    extendsFrom: extends_?.expiresAt,
    maxDurationHours: policy.limit.hours,
    status: 'PENDING',
    stages: policy.stages,
    explanation: policy.explanation,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  const tooLong = limitRefusal(request, cmd.duration, policy.limit, ctx.now);
  if (tooLong) return tooLong;
  if (!policy.auto.allowed && policy.stages.length === 0) {
    return refuse(
      unprocessable(
        'NO_APPROVAL_ROUTE',
        `No policy line routes requests for ${cmd.product.id} to an approver.`,
      ),
    );
  }
  const created = event(
    request,
    ctx,
    'REQUEST_CREATED',
    {
      principal: request.principal,
      scope: request.scope,
      duration: request.duration,
      purpose: request.purpose,
      extendsGrantId: request.extendsGrantId,
      ...(request.extendsFrom
        ? { resultingExpiresAt: resultingExpiry(request.duration, ctx.now, request.extendsFrom) }
        : {}),
      piiColumns: cmd.piiColumns,
      decision: policy.explanation,
      stages: policy.stages.map((s) => ({ name: s.name, rule: s.rule })),
    },
    { to: 'PENDING' },
  );
  const lock: ExtensionLock | undefined = extends_
    ? { grantId: extends_.id, requestId: request.id, op: 'claim' }
    : undefined;
  if (!policy.auto.allowed) {
    // It stays open, waiting on approvers: it takes one of the requester's places.
    const { open: held, max, rule } = policy.openRequests;
    if (policy.waiting) {
      request.timesOutAt = new Date(
        ctx.now.getTime() + policy.waiting.timeoutDays * DAY_MS,
      ).toISOString();
      request.stages = startStage(request.stages, 0, policy.waiting.escalateAfterHours, ctx.now);
    }
    if (held >= max) {
      return refuse(
        unprocessable(
          'OPEN_REQUEST_LIMIT',
          `You already have ${held} open requests, the most ${rule.source} allows (${max}). ` +
            'Cancel one, or wait until one is decided, then ask again.',
          { openRequests: held, maxOpenRequests: max, rule },
        ),
      );
    }
    return {
      ok: true,
      request,
      events: [created],
      extensionLock: lock,
      openCount: { user: request.requester, op: 'claim', max },
    };
  }
  const approved = step(request, { ...ctx, actor: SYSTEM }, 'APPROVED', {}, [
    created,
    event(
      request,
      { ...ctx, actor: SYSTEM },
      'REQUEST_APPROVED',
      { automatic: true, decision: policy.auto },
      { from: 'PENDING', to: 'APPROVED' },
    ),
  ]);
  if (!approved.ok) return approved;
  // Approved at once: never open, so it takes no place (and frees none).
  return { ...approved, expected: undefined, extensionLock: lock, openCount: undefined };
}

// ---------------------------------------------------------------------------------- decisions

/** The policy's answer, for each of the request's stages, to "may the caller decide it". */
export type Deciders = Partial<Record<Stage['name'], Decision>>;

/** The stages whose deciders a caller must be asked about (owner when a request has none). */
export const stageNames = (r: Pick<AccessRequest, 'stages'>): Stage['name'][] =>
  r.stages.length > 0 ? r.stages.map((s) => s.name) : ['owner'];

/** The caller must be allowed to decide the request's current stage, and not be its requester. */
function checkDecider(
  r: AccessRequest,
  deciders: Deciders,
  ctx: Context,
): Refusal | { stage: Stage; decision: Decision } {
  const stage = currentStage(r);
  if (!stage) {
    // Decided already. Say so only to someone who could have decided it; others are refused.
    const could = stageNames(r).some((n) => deciders[n]?.allowed);
    if (!could)
      return refuse(forbidden('NOT_AN_APPROVER', 'You are not an approver of this request.'));
    return refuse(
      conflict('NOT_PENDING', `The request is ${r.status}; only a pending request can be decided.`),
    );
  }
  const decision = deciders[stage.name];
  if (!decision?.allowed) {
    return refuse(
      forbidden(
        'NOT_AN_APPROVER',
        `You cannot decide the ${stage.name} stage of this request. ${decision?.reason ?? 'No policy answer.'}`,
        { decision },
      ),
    );
  }
  if (r.status !== 'PENDING') {
    return refuse(
      conflict('NOT_PENDING', `The request is ${r.status}; only a pending request can be decided.`),
    );
  }
  if (ctx.actor === r.requester) {
    return refuse(forbidden('SEPARATION_OF_DUTIES', 'Nobody decides their own request.'));
  }
  return { stage, decision };
}

export interface ApprovalCommand {
  comment: string;
  /** Checked against the product and stored in canonical form (see normaliseScope). */
  narrowedScope?: Scope;
  narrowedDuration?: Duration;
}

/**
 * One approval for the request's current stage; the last one approves the request. The approver
 * may narrow the scope or the duration, never widen them. The final approval checks the length
 * against the maximum in force now, and the request keeps the smaller of that and the one it was
 * submitted under.
 */
export function recordApproval(
  r: AccessRequest,
  cmd: ApprovalCommand,
  policy: {
    deciders: Deciders;
    limit: DurationLimit;
    product?: DataProduct;
    /** The policy's stage-escalate-after-hours now, for the next stage's deadline. */
    escalateAfterHours?: number;
  },
  ctx: Context,
): Outcome {
  const checked = checkDecider(r, policy.deciders, ctx);
  if ('ok' in checked) return checked;
  const { stage, decision } = checked;
  if (r.stages.some((s) => s !== stage && s.approvals.some((a) => a.by === ctx.actor))) {
    return refuse(
      forbidden(
        'SEPARATION_OF_DUTIES',
        'You approved an earlier stage of this request; another person must approve this one.',
      ),
    );
  }
  if (stage.approvals.some((a) => a.by === ctx.actor)) {
    return refuse(conflict('ALREADY_APPROVED', 'You already approved this stage.'));
  }
  const terms = effectiveTerms(r);
  let narrowedScope: Scope | undefined;
  if (cmd.narrowedScope) {
    const product = policy.product;
    if (!product) throw new Error('recordApproval: narrowing a scope needs the product');
    const wider = attempt(() => {
      narrowedScope = normaliseScope(product, cmd.narrowedScope!);
      checkNarrowing(product, terms.scope, narrowedScope);
    });
    if (wider) return wider;
  }
  if (cmd.narrowedDuration && durationHours(cmd.narrowedDuration) > durationHours(terms.duration)) {
    return refuse(unprocessable('NOT_NARROWER', 'Narrowing cannot make the duration longer.'));
  }
  const approval = {
    by: ctx.actor,
    at: ctx.now.toISOString(),
    comment: cmd.comment,
    rule: decision.rules[0] ?? null,
    narrowedScope,
    narrowedDuration: cmd.narrowedDuration,
  };
  let stages = r.stages.map((s) =>
    s === stage ? { ...s, approvals: [...s.approvals, approval] } : s,
  );
  const next = currentStage({ stages });
  const done = next === undefined;
  // The next stage starts waiting now: its escalation deadline runs from here.
  if (next && next.name !== stage.name && policy.escalateAfterHours !== undefined)
    stages = startStage(stages, stages.indexOf(next), policy.escalateAfterHours, ctx.now);
  const recorded = event(r, ctx, 'APPROVAL_RECORDED', {
    stage: stage.name,
    comment: cmd.comment,
    decision,
    narrowedScope,
    narrowedDuration: cmd.narrowedDuration,
  });
  if (!done) return step(r, ctx, 'PENDING', { stages }, [recorded]);

  const decided = { ...r, stages };
  const final = effectiveTerms(decided);
  const advice = '. Approve it with a shorter duration, or deny it.';
  const tooLong = limitRefusal(r, final.duration, policy.limit, ctx.now, advice);
  if (tooLong) return tooLong;
  return step(r, ctx, 'APPROVED', { stages, maxDurationHours: policy.limit.hours }, [
    recorded,
    event(
      r,
      ctx,
      'REQUEST_APPROVED',
      {
        terms: final,
        ...(r.extendsFrom
          ? { resultingExpiresAt: resultingExpiry(final.duration, ctx.now, r.extendsFrom) }
          : {}),
      },
      { from: 'PENDING', to: 'APPROVED' },
    ),
  ]);
}

const releaseOf = (r: AccessRequest): ExtensionLock | undefined =>
  r.extendsGrantId ? { grantId: r.extendsGrantId, requestId: r.id, op: 'release' } : undefined;

export function deny(
  r: AccessRequest,
  reason: string,
  policy: { deciders: Deciders },
  ctx: Context,
): Outcome {
  const checked = checkDecider(r, policy.deciders, ctx);
  if ('ok' in checked) return checked;
  const at = ctx.now.toISOString();
  return step(
    r,
    ctx,
    'DENIED',
    { denial: { by: ctx.actor, reason, at } },
    [
      event(
        r,
        ctx,
        'REQUEST_DENIED',
        { stage: checked.stage.name, reason, decision: checked.decision },
        { from: r.status, to: 'DENIED' },
      ),
    ],
    { extensionLock: releaseOf(r) },
  );
}

export function cancel(r: AccessRequest, policy: { cancel: Decision }, ctx: Context): Outcome {
  if (!policy.cancel.allowed) return refuse(forbidden('NOT_ALLOWED', policy.cancel.reason));
  if (r.status !== 'PENDING') {
    return refuse(
      conflict('NOT_PENDING', `Only a pending request can be cancelled; this one is ${r.status}.`),
    );
  }
  return step(
    r,
    ctx,
    'CANCELLED',
    {},
    [
      event(
        r,
        ctx,
        'REQUEST_CANCELLED',
        { decision: policy.cancel },
        { from: r.status, to: 'CANCELLED' },
      ),
    ],
    { extensionLock: releaseOf(r) },
  );
}

// -------------------------------------------------------------------------------- waiting

/** The stages with stage `i` starting to wait at `now`: it escalates `hours` later. */
function startStage(stages: Stage[], i: number, hours: number, now: Date): Stage[] {
  return stages.map((s, j) =>
    j === i ? { ...s, escalatesAt: new Date(now.getTime() + hours * HOUR_MS).toISOString() } : s,
  );
}

/**
 * When a stage of a request started waiting: the first when the request was made, each later one
 * at the last approval of the stage before it.
 */
export function stageStartedAt(
  r: Pick<AccessRequest, 'stages' | 'createdAt'>,
  stage: Stage,
): string {
  const i = r.stages.findIndex((s) => s.name === stage.name);
  if (i <= 0) return r.createdAt;
  const approvals = r.stages[i - 1]!.approvals.map((a) => a.at).sort();
  return approvals[approvals.length - 1] ?? r.createdAt;
}

/**
 * The policy actions whose answer lets the caller decide `stage`: `approve:<stage>`, and once the
 * stage was escalated also `approve:<stage>:escalated` (the backup approvers' line). A backup
 * approver's line is never asked about a stage that was not escalated.
 */
export const decidingActions = (stage: Pick<Stage, 'name' | 'escalatedAt'>): string[] =>
  stage.escalatedAt
    ? [`approve:${stage.name}`, `approve:${stage.name}:escalated`]
    : [`approve:${stage.name}`];

/**
 * The next moment Meshgate itself has something to do with a pending request: escalate its
 * current stage (unless it was escalated already) or time it out, whichever comes first. The store
 * keys pending requests by it, so the sweeper finds the due ones with one Query.
 */
export function nextDeadline(
  r: Pick<AccessRequest, 'status' | 'stages' | 'timesOutAt'>,
): string | undefined {
  if (r.status !== 'PENDING') return undefined;
  const stage = currentStage(r);
  const times = [r.timesOutAt, stage && !stage.escalatedAt ? stage.escalatesAt : undefined]
    .filter((t): t is string => t !== undefined)
    .sort();
  return times[0];
}

/**
 * The current stage waited past its deadline: it is escalated, once. The status stays PENDING; from
 * now on the domain's backup approvers may decide it too, and the event names them (`notify`, the
 * requester left out: nobody decides their own request) for the notifications.
 */
export function escalate(r: AccessRequest, backups: string[], ctx: Context): Outcome {
  const stage = currentStage(r);
  if (r.status !== 'PENDING' || !stage) {
    return refuse(
      conflict('NOT_PENDING', `Only a pending request is escalated; this one is ${r.status}.`),
    );
  }
  if (stage.escalatedAt) {
    return refuse(
      conflict(
        'ALREADY_ESCALATED',
        `The ${stage.name} stage was escalated at ${stage.escalatedAt}.`,
      ),
    );
  }
  if (!stage.escalatesAt || new Date(stage.escalatesAt) > ctx.now) {
    return refuse(
      conflict(
        'NOT_DUE',
        stage.escalatesAt
          ? `The ${stage.name} stage escalates at ${stage.escalatesAt}.`
          : `The ${stage.name} stage has no escalation deadline.`,
      ),
    );
  }
  const at = ctx.now.toISOString();
  const waitedHours = roundHours(
    (ctx.now.getTime() - new Date(stageStartedAt(r, stage)).getTime()) / HOUR_MS,
  );
  const notify = [...new Set(backups)].filter((u) => u !== r.requester).sort();
  const stages = r.stages.map((s) => (s === stage ? { ...s, escalatedAt: at } : s));
  return step(r, ctx, 'PENDING', { stages }, [
    event(r, ctx, 'STAGE_ESCALATED', { stage: stage.name, waitedHours, notify }),
  ]);
}

/**
 * PENDING -> CANCELLED: the request waited past its timeout. Like a cancellation it frees the
 * requester's place and the extension lock; the reason is recorded on the request.
 */
export function timeOut(r: AccessRequest, ctx: Context): Outcome {
  if (r.status !== 'PENDING') {
    return refuse(
      conflict('NOT_PENDING', `Only a pending request times out; this one is ${r.status}.`),
    );
  }
  if (!r.timesOutAt || new Date(r.timesOutAt) > ctx.now) {
    return refuse(
      conflict(
        'NOT_DUE',
        r.timesOutAt ? `The request times out at ${r.timesOutAt}.` : 'The request has no timeout.',
      ),
    );
  }
  const days = Math.round(
    (new Date(r.timesOutAt).getTime() - new Date(r.createdAt).getTime()) / DAY_MS,
  );
  const reason = `timed out after ${days} day${days === 1 ? '' : 's'}`;
  const at = ctx.now.toISOString();
  return step(
    r,
    ctx,
    'CANCELLED',
    { cancellation: { by: ctx.actor, reason, at } },
    [
      event(
        r,
        ctx,
        'REQUEST_TIMED_OUT',
        { reason, pendingSince: r.createdAt, timesOutAt: r.timesOutAt },
        { from: 'PENDING', to: 'CANCELLED' },
      ),
    ],
    { extensionLock: releaseOf(r) },
  );
}

// -------------------------------------------------------------------------------- fulfilment

/** APPROVED -> GRANTING: a worker takes the request. */
export function startGranting(r: AccessRequest, ctx: Context): Outcome {
  if (r.status !== 'APPROVED') {
    return refuse(conflict('NOT_APPROVED', `The request is ${r.status}, not APPROVED.`));
  }
  return step(r, ctx, 'GRANTING', { progress: undefined }, [
    event(r, ctx, 'FULFILMENT_STARTED', {}, { from: 'APPROVED', to: 'GRANTING' }),
  ]);
}

export interface Activation {
  grantId: string;
  accountId: string;
  /** What Lake Formation was sent (the row filter in canonical form). */
  scope: Scope;
  /** This attempt's permission entries. */
  entries: unknown[];
  /** Entries of earlier (partly failed) attempts. */
  earlierEntries: unknown[];
  /** The grant an extension extends, as it is now. */
  extended?: Grant;
  /** The resource links made in the principal's consumer account. */
  consumerLink?: ConsumerLink;
}

/**
 * GRANTING -> ACTIVE with its grant. An extension runs on from the end of the grant it extends,
 * if that is still to come. The expiry never lies further from now than the request's decided
 * maximum.
 */
export function activate(r: AccessRequest, a: Activation, ctx: Context): Outcome {
  if (r.status !== 'GRANTING') {
    return refuse(conflict('NOT_GRANTING', `The request is ${r.status}, not GRANTING.`));
  }
  const { duration } = effectiveTerms(r);
  const from = a.extended?.status === 'ACTIVE' ? a.extended.expiresAt : undefined;
  let expiresAt = resultingExpiry(duration, ctx.now, from);
  if (r.maxDurationHours !== undefined) {
    const cap = new Date(ctx.now.getTime() + r.maxDurationHours * HOUR_MS).toISOString();
    if (cap < expiresAt) expiresAt = cap;
  }
  const grant: Grant = {
    id: a.grantId,
    requestId: r.id,
    requester: r.requester,
    principal: r.principal,
    productId: r.productId,
    domain: r.domain,
    classification: r.classification,
    accountId: a.accountId,
    scope: a.scope,
    grantedAt: ctx.now.toISOString(),
    expiresAt,
    status: 'ACTIVE',
    // Bounded: a product of 1,000 tables, and earlier attempts, still make one item.
    entries: boundEntries([...a.earlierEntries, ...a.entries], 2 * ENTRIES_ON_GRANT),
    ...(a.consumerLink ? { consumerLink: a.consumerLink } : {}),
  };
  return step(
    r,
    ctx,
    'ACTIVE',
    {
      grantId: grant.id,
      failure: undefined,
      progress: undefined,
      keptNames: undefined,
      keptNamesOmitted: undefined,
    },
    [
      event(
        r,
        ctx,
        'GRANT_ACTIVE',
        {
          grantId: grant.id,
          expiresAt,
          entries: boundEntries(a.entries),
          ...(a.consumerLink ? { consumerLink: a.consumerLink } : {}),
        },
        { from: 'GRANTING', to: 'ACTIVE' },
      ),
    ],
    { grant },
  );
}

export interface Failure {
  reason: string;
  code: string;
  /** The tables that failed, for the record: a retry grants every table again. */
  failedTables?: string[];
  /** How many more tables failed than `failedTables` names (a big product). */
  failedTablesOmitted?: number;
}

/**
 * What a failed attempt took back before the request became FAILED: a FAILED request holds
 * nothing. `revoked`: the Lake Formation entries of the revoke (the names no other ACTIVE grant of
 * the principal needs; the others recorded as KEPT). `links`: the removal of the resource links
 * the attempt made in the consumer account, best effort (a failure is recorded, and
 * reconciliation removes what is left over).
 */
export interface Undone {
  revoked: unknown[];
  links?: unknown[];
}

/**
 * GRANTING -> FAILED, with the reason, the tables that failed and what was taken back (`undone`):
 * the use case revokes what the attempt granted first, and fails the request only once that is
 * done. A failed extension gives up the grant's extension lock (a retry claims it again).
 */
export function fail(
  r: AccessRequest,
  failure: Failure,
  entries: unknown[],
  undone: Undone,
  ctx: Context,
): Outcome {
  if (r.status !== 'GRANTING') {
    return refuse(conflict('NOT_GRANTING', `The request is ${r.status}, not GRANTING.`));
  }
  const recorded = boundedFailure(failure);
  return step(
    r,
    ctx,
    'FAILED',
    // What was kept for it was revoked with the rest (failHoldingNothing).
    {
      failure: { ...recorded, at: ctx.now.toISOString() },
      progress: undefined,
      keptNames: undefined,
      keptNamesOmitted: undefined,
    },
    [
      event(
        r,
        ctx,
        'FULFILMENT_FAILED',
        {
          ...recorded,
          // Each list whole while small; for a big product its counts and its failures.
          entries: boundEntries(entries),
          revoked: boundEntries(undone.revoked),
          ...(undone.links ? { linksRemoved: boundEntries(undone.links) } : {}),
        },
        { from: 'GRANTING', to: 'FAILED' },
      ),
    ],
    { extensionLock: releaseOf(r) },
  );
}

/**
 * Granting failed, and revoking what the attempt may have granted failed too: the request stays
 * GRANTING (a FAILED request must hold nothing), and its job is attempted again (the queue
 * delivers it again; the sweeper hands stalled requests back), ending ACTIVE or FAILED. The
 * failure is shown on the request (`failure`, its reason saying the undo is pending) so the
 * requester and the admins see why it waits; the trail records it (FULFILMENT_UNDO_FAILED) only
 * when the reason changes, so a refusal repeated at every delivery adds nothing (undefined:
 * the same failure is recorded already, nothing to write).
 */
export function noteUndoFailure(
  r: AccessRequest,
  failure: Failure,
  undo: { reason: string; entries: unknown[] },
  ctx: Context,
): Outcome | undefined {
  if (r.status !== 'GRANTING') {
    return refuse(conflict('NOT_GRANTING', `The request is ${r.status}, not GRANTING.`));
  }
  const recorded = boundedFailure(failure);
  const reason = cap(
    `${recorded.reason} (not yet undone, attempted again: ${undo.reason})`,
    REASON_MAX_CHARS,
  );
  if (r.failure?.reason === reason && r.failure.code === recorded.code) return undefined;
  return step(r, ctx, r.status, { failure: { ...recorded, reason, at: ctx.now.toISOString() } }, [
    event(r, ctx, 'FULFILMENT_UNDO_FAILED', {
      ...recorded,
      undoReason: cap(undo.reason, REASON_MAX_CHARS),
      entries: boundEntries(undo.entries),
    }),
  ]);
}

/**
 * A revoke of another grant or request of the same principal (`by`) left names in Lake Formation
 * because this request, APPROVED or GRANTING, needs them: recorded on it (`keptNames`), so that
 * if it fails it revokes them even when it granted nothing itself (it found them held). Undefined
 * when every name was recorded already.
 */
export function keepNames(
  r: AccessRequest,
  kept: NamesOnTables[],
  by: string,
  ctx: Context,
): Outcome | undefined {
  if (!isInFlight(r.status)) {
    return refuse(
      conflict('NOT_IN_FLIGHT', `The request is ${r.status}, neither APPROVED nor GRANTING.`),
    );
  }
  const before = r.keptNames ?? [];
  const all = mergeNames([...before, ...kept]);
  const { groups, omitted } = capNames(all, KEPT_TABLES_MAX);
  // Beyond the bound only a count is kept (at least that many tables): all is undone then.
  const keptNamesOmitted = (r.keptNamesOmitted ?? 0) + omitted;
  if (omitted === 0 && sameNames(groups, mergeNames(before))) return undefined;
  const patch: Partial<AccessRequest> = {
    keptNames: groups,
    ...(keptNamesOmitted ? { keptNamesOmitted } : {}),
    // A mark writes the whole request as read, and a progress note of an attempt running since
    // may be lost with it: noted as an earlier attempt, so a later one undoes all it asks for.
    ...(r.status === 'GRANTING'
      ? { progress: { ...noProgress(ctx), ...r.progress, earlier: true } }
      : {}),
  };
  const capped = capNames(mergeNames(kept), KEPT_TABLES_MAX);
  return step(r, ctx, r.status, patch, [
    event(r, ctx, 'NAMES_KEPT', {
      by,
      kept: capped.groups,
      ...(capped.omitted ? { tablesOmitted: capped.omitted } : {}),
    }),
  ]);
}

/** The most tables `keptNames` names on a request (its item stays well within DynamoDB's 400 KB). */
export const KEPT_TABLES_MAX = 200;

const noProgress = (ctx: Context) => ({ done: 0, total: 0, at: ctx.now.toISOString() });

/** At most `max` tables over the groups; how many were left out. */
function capNames(groups: NamesOnTables[], max: number) {
  let room = Math.max(0, max);
  let omitted = 0;
  const kept: NamesOnTables[] = [];
  for (const g of groups) {
    const tables = g.tables.slice(0, room);
    omitted += g.tables.length - tables.length;
    room -= tables.length;
    if (tables.length) kept.push({ names: g.names, tables });
  }
  return { groups: kept, omitted };
}

/** Names per table, grouped again by their set of names (sorted), tables sorted. */
export function mergeNames(groups: readonly NamesOnTables[]): NamesOnTables[] {
  const byTable = new Map<string, Set<Permission>>();
  for (const g of groups)
    for (const t of g.tables) {
      const names = byTable.get(t) ?? new Set<Permission>();
      for (const n of g.names) names.add(n);
      byTable.set(t, names);
    }
  const byNames = new Map<string, NamesOnTables>();
  for (const [table, names] of [...byTable].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sorted = [...names].sort();
    const key = sorted.join(',');
    const group = byNames.get(key) ?? { names: sorted, tables: [] };
    group.tables.push(table);
    byNames.set(key, group);
  }
  return [...byNames.values()].sort((a, b) =>
    a.names.join(',') < b.names.join(',') ? -1 : a.names.join(',') > b.names.join(',') ? 1 : 0,
  );
}

const sameNames = (a: NamesOnTables[], b: NamesOnTables[]) =>
  JSON.stringify(a) === JSON.stringify(b);

/** The longest failure reason recorded; the most failed tables named on the request. */
const REASON_MAX_CHARS = 2_000;
const FAILED_TABLES_MAX = 100;
/** What the grant keeps of its entries (twice this with earlier attempts). */
const ENTRIES_ON_GRANT = 64 * 1024;

const cap = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** A failure as recorded: its reason and its list of tables bounded (a product of 1,000 tables). */
function boundedFailure(failure: Failure): Failure {
  const tables = failure.failedTables
    ? capList(failure.failedTables, FAILED_TABLES_MAX)
    : undefined;
  return {
    ...failure,
    reason: cap(failure.reason, REASON_MAX_CHARS),
    ...(tables ? { failedTables: tables.items } : {}),
    ...(tables?.omitted ? { failedTablesOmitted: tables.omitted } : {}),
  };
}

/** FAILED -> GRANTING again, by someone the policy lets retry. Every table is granted again. */
export function retry(r: AccessRequest, policy: { retry: Decision }, ctx: Context): Outcome {
  if (!policy.retry.allowed) return refuse(forbidden('NOT_ALLOWED', policy.retry.reason));
  if (r.status !== 'FAILED') {
    return refuse(
      conflict('NOT_FAILED', `Only a failed request can be retried; this one is ${r.status}.`),
    );
  }
  return step(
    r,
    ctx,
    'GRANTING',
    // The failure is the last attempt's: a retry that is granting has none (the admin's list of
    // requests granting with a failure shows those whose undo was refused).
    { progress: undefined, failure: undefined },
    [
      event(
        r,
        ctx,
        'FULFILMENT_RETRIED',
        // A FAILED request holds nothing (see fail), so the retry grants every table.
        { decision: policy.retry, tables: 'all' },
        { from: 'FAILED', to: 'GRANTING' },
      ),
    ],
    {
      extensionLock: r.extendsGrantId
        ? { grantId: r.extendsGrantId, requestId: r.id, op: 'claim' }
        : undefined,
    },
  );
}

// ------------------------------------------------------------------------------------ ending

export interface Ending {
  ending: 'REVOKED' | 'EXPIRED';
  reason: string;
  detail?: Record<string, unknown>;
}

/** ACTIVE -> REVOKING, by a person, by expiry or by an extension replacing the grant. */
export function startEnding(r: AccessRequest, grant: Grant, e: Ending, ctx: Context): Outcome {
  if (r.status !== 'ACTIVE') {
    return refuse(
      conflict('NOT_ACTIVE', `Only an active grant can be revoked; this one is ${r.status}.`),
    );
  }
  return step(
    r,
    ctx,
    'REVOKING',
    {},
    [
      event(
        r,
        ctx,
        e.ending === 'EXPIRED' ? 'GRANT_EXPIRING' : 'REVOKE_REQUESTED',
        { grantId: grant.id, reason: e.reason, ...e.detail },
        { from: 'ACTIVE', to: 'REVOKING' },
      ),
    ],
    { grant: { ...grant, status: 'REVOKING', ending: e.ending, endReason: e.reason } },
  );
}

/** A person revokes an active grant. */
export function revoke(
  r: AccessRequest,
  grant: Grant,
  reason: string,
  policy: { revoke: Decision },
  ctx: Context,
): Outcome {
  if (!policy.revoke.allowed) return refuse(forbidden('NOT_ALLOWED', policy.revoke.reason));
  return startEnding(
    r,
    grant,
    { ending: 'REVOKED', reason, detail: { decision: policy.revoke } },
    ctx,
  );
}

/** An ACTIVE grant whose expiry has come starts ending. */
export function expire(r: AccessRequest, grant: Grant, ctx: Context): Outcome {
  if (new Date(grant.expiresAt) > ctx.now) {
    return refuse(conflict('NOT_DUE', `Grant ${grant.id} expires at ${grant.expiresAt}.`));
  }
  return startEnding(r, grant, { ending: 'EXPIRED', reason: `expired at ${grant.expiresAt}` }, ctx);
}

/** REVOKING -> REVOKED or EXPIRED, once the permission is gone. */
export function end(r: AccessRequest, grant: Grant, entries: unknown[], ctx: Context): Outcome {
  if (r.status !== 'REVOKING') {
    return refuse(conflict('NOT_REVOKING', `The request is ${r.status}, not REVOKING.`));
  }
  const final = grant.ending ?? 'REVOKED';
  const at = ctx.now.toISOString();
  return step(
    r,
    ctx,
    final,
    {},
    [
      event(
        r,
        ctx,
        final === 'EXPIRED' ? 'GRANT_EXPIRED' : 'GRANT_REVOKED',
        { grantId: grant.id, entries: boundEntries(entries), reason: grant.endReason },
        { from: 'REVOKING', to: final },
      ),
    ],
    {
      grant: {
        ...grant,
        status: final,
        endedAt: at,
        entries: boundEntries([...grant.entries, ...entries], 3 * ENTRIES_ON_GRANT),
      },
    },
  );
}

/** Removing the permission failed: recorded, the request stays REVOKING for a retry. */
export function noteRevokeFailure(
  r: AccessRequest,
  grant: Grant,
  reason: string,
  entries: unknown[],
  ctx: Context,
): Outcome {
  return step(r, ctx, r.status, {}, [
    event(r, ctx, 'REVOKE_FAILED', { grantId: grant.id, reason, entries: boundEntries(entries) }),
  ]);
}

/**
 * A failed attempt revoked while another attempt of the request went on (it is ACTIVE, or GRANTING
 * again): what the request needs was granted again. Recorded, the state stays as it is.
 */
export function noteRestored(r: AccessRequest, entries: unknown[], ctx: Context): Outcome {
  return step(r, ctx, r.status, {}, [
    event(r, ctx, 'GRANT_RESTORED', {
      entries: boundEntries(entries),
      reason: `a failed attempt revoked what the ${r.status} request holds`,
    }),
  ]);
}

/**
 * A late fulfilment granted after the request moved on, and the permission was removed again:
 * recorded, the state stays as it is.
 */
export function noteStrayRemoved(r: AccessRequest, entries: unknown[], ctx: Context): Outcome {
  return step(r, ctx, r.status, {}, [
    event(r, ctx, 'STRAY_GRANT_REMOVED', {
      entries: boundEntries(entries),
      reason: `a late fulfilment granted after the request became ${r.status}`,
    }),
  ]);
}
