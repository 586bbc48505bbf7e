import type {
  AccessRequest,
  Decision,
  Duration,
  Principal,
  RequestInput,
  Scope,
  Stage,
} from '../domain/model';
import { conflict, forbidden, notFound, unprocessable } from '../domain/errors';
import { assertTransition } from '../domain/status';
import {
  checkNarrowing,
  currentStage,
  durationHours,
  effectiveTerms,
  formatHours,
  normaliseScope,
  piiColumnsTouched,
} from '../domain/request';
import {
  aboutRequest,
  auditEvent,
  commit,
  createRequestRecord,
  loadVisibleRequest,
  SYSTEM,
  type Deps,
} from './deps';

export interface NewRequest extends RequestInput {
  /** Set when the request extends an active grant (POST /v1/grants/{id}/extend). */
  extendsGrantId?: string;
}

const STAGES: Stage['name'][] = ['owner', 'compliance'];

/**
 * What policy will do with a request for this product: refuse it, approve it automatically, or
 * route it through approval stages. Pure: used both to submit and to preview. `scope` is the
 * scope as it would be stored (row filter in canonical form).
 */
export async function planRequest(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  input: Omit<NewRequest, 'principal' | 'purpose'>,
) {
  const product = await deps.store.getProduct(input.productId);
  if (!product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${input.productId}.`);
  if (product.status === 'RETIRED')
    throw unprocessable('PRODUCT_RETIRED', `${product.id} is retired and cannot be requested.`);
  if (!(await deps.store.getDomain(product.domain))) {
    throw unprocessable(
      'DOMAIN_NOT_REGISTERED',
      `${product.id} belongs to domain ${product.domain}, which is not registered.`,
    );
  }
  const scope = normaliseScope(product, input.scope);
  const q = {
    user: who.userId,
    domain: product.domain,
    object: product.id,
    classification: product.classification,
  };
  const allowed = deps.policy.decide({ ...q, action: 'request' });
  const limit = deps.policy.maxDurationHours(product.domain);
  const hours = durationHours(input.duration);
  const withinLimit: Decision = {
    allowed: hours <= limit.value,
    reason:
      hours <= limit.value
        ? `Within the ${formatHours(limit.value)} limit of ${limit.rule.source}`
        : `Denied: ${formatHours(hours)} is longer than the ${formatHours(limit.value)} limit of ${limit.rule.source}`,
    rules: [limit.rule],
  };
  const auto = deps.policy.decide({ ...q, action: 'auto-approve' });
  const stages: Stage[] = [];
  const routing: Decision[] = [];
  if (!auto.allowed) {
    for (const name of STAGES) {
      const d = deps.policy.decide({ ...q, action: `stage:${name}` });
      if (d.allowed) {
        stages.push({ name, required: 1, approvals: [], rule: d.rules[0] ?? null });
        routing.push(d);
      }
    }
  }
  return {
    product,
    scope,
    allowed,
    withinLimit,
    auto,
    stages,
    explanation: [allowed, withinLimit, auto, ...routing],
    maxDurationHours: limit.value,
    piiColumns: piiColumnsTouched(product, scope),
  };
}

export async function submitRequest(
  deps: Deps,
  who: Principal,
  input: NewRequest,
): Promise<AccessRequest> {
  const plan = await planRequest(deps, who, input);
  if (!plan.allowed.allowed)
    throw forbidden('POLICY_DENIED', plan.allowed.reason, { explanation: plan.explanation });
  if (!plan.withinLimit.allowed) {
    throw unprocessable('DURATION_EXCEEDS_POLICY', plan.withinLimit.reason, {
      maxDurationHours: plan.maxDurationHours,
      rule: plan.withinLimit.rules[0],
    });
  }
  if (!plan.auto.allowed && plan.stages.length === 0) {
    throw unprocessable(
      'NO_APPROVAL_ROUTE',
      `No policy line routes requests for ${plan.product.id} to an approver.`,
    );
  }
  const now = deps.clock.now().toISOString();
  const request: AccessRequest = {
    id: deps.ids.next('req'),
    requester: who.userId,
    principal: input.principal,
    productId: plan.product.id,
    domain: plan.product.domain,
    classification: plan.product.classification,
    scope: plan.scope,
    duration: input.duration,
    purpose: input.purpose,
    extendsGrantId: input.extendsGrantId,
    status: 'PENDING',
    stages: plan.stages,
    explanation: plan.explanation,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const subject = { domain: request.domain, requestId: request.id, productId: request.productId };
  await createRequestRecord(deps, request, [
    auditEvent(
      deps,
      'REQUEST_CREATED',
      who.userId,
      { ...subject, toStatus: 'PENDING' },
      {
        principal: request.principal,
        scope: request.scope,
        duration: request.duration,
        purpose: request.purpose,
        extendsGrantId: request.extendsGrantId,
        piiColumns: plan.piiColumns,
        decision: plan.explanation,
        stages: plan.stages.map((s) => ({ name: s.name, rule: s.rule })),
      },
    ),
  ]);
  if (!plan.auto.allowed) return request;

  const approved: AccessRequest = { ...request, status: 'APPROVED', updatedAt: now, version: 2 };
  await commit(deps, approved, { status: 'PENDING', version: 1 }, [
    auditEvent(
      deps,
      'REQUEST_APPROVED',
      SYSTEM,
      { ...subject, fromStatus: 'PENDING', toStatus: 'APPROVED' },
      {
        automatic: true,
        decision: plan.auto,
      },
    ),
  ]);
  await deps.queue.send({ kind: 'grant', requestId: request.id });
  return approved;
}

export interface ApprovalInput {
  comment: string;
  narrowedScope?: Scope;
  narrowedDuration?: Duration;
}

/** Records one approval for the request's current stage; the last one approves the request. */
export async function approveRequest(
  deps: Deps,
  who: Principal,
  id: string,
  input: ApprovalInput,
): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const { stage, decision } = checkDecider(deps, who, r);
  if (r.stages.some((s) => s !== stage && s.approvals.some((a) => a.by === who.userId))) {
    throw forbidden(
      'SEPARATION_OF_DUTIES',
      'You approved an earlier stage of this request; another person must approve this one.',
    );
  }
  if (stage.approvals.some((a) => a.by === who.userId))
    throw conflict('ALREADY_APPROVED', 'You already approved this stage.');
  let narrowedScope = input.narrowedScope;
  if (input.narrowedScope || input.narrowedDuration) {
    const product = await deps.store.getProduct(r.productId);
    if (!product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${r.productId}.`);
    const terms = effectiveTerms(r);
    if (narrowedScope) {
      narrowedScope = normaliseScope(product, narrowedScope);
      checkNarrowing(product, terms.scope, narrowedScope);
    }
    if (
      input.narrowedDuration &&
      durationHours(input.narrowedDuration) > durationHours(terms.duration)
    ) {
      throw unprocessable('NOT_NARROWER', 'Narrowing cannot make the duration longer.');
    }
  }
  const now = deps.clock.now().toISOString();
  const approval = {
    by: who.userId,
    at: now,
    comment: input.comment,
    rule: decision.rules[0] ?? null,
    narrowedScope,
    narrowedDuration: input.narrowedDuration,
  };
  const stages = r.stages.map((s) =>
    s === stage ? { ...s, approvals: [...s.approvals, approval] } : s,
  );
  const done = currentStage({ stages }) === undefined;
  if (done) assertTransition(r.status, 'APPROVED');
  const next: AccessRequest = {
    ...r,
    stages,
    status: done ? 'APPROVED' : 'PENDING',
    updatedAt: now,
    version: r.version + 1,
  };
  const subject = { domain: r.domain, requestId: r.id, productId: r.productId };
  const events = [
    auditEvent(deps, 'APPROVAL_RECORDED', who.userId, subject, {
      stage: stage.name,
      comment: input.comment,
      decision,
      narrowedScope,
      narrowedDuration: input.narrowedDuration,
    }),
  ];
  if (done)
    events.push(
      auditEvent(
        deps,
        'REQUEST_APPROVED',
        who.userId,
        { ...subject, fromStatus: 'PENDING', toStatus: 'APPROVED' },
        { terms: effectiveTerms(next) },
      ),
    );
  await commit(deps, next, { status: r.status, version: r.version }, events);
  if (done) await deps.queue.send({ kind: 'grant', requestId: r.id });
  return next;
}

export async function denyRequest(
  deps: Deps,
  who: Principal,
  id: string,
  reason: string,
): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const { stage, decision } = checkDecider(deps, who, r);
  assertTransition(r.status, 'DENIED');
  const now = deps.clock.now().toISOString();
  const next: AccessRequest = {
    ...r,
    status: 'DENIED',
    denial: { by: who.userId, reason, at: now },
    updatedAt: now,
    version: r.version + 1,
  };
  await commit(deps, next, { status: r.status, version: r.version }, [
    auditEvent(
      deps,
      'REQUEST_DENIED',
      who.userId,
      {
        domain: r.domain,
        requestId: r.id,
        productId: r.productId,
        fromStatus: r.status,
        toStatus: 'DENIED',
      },
      {
        stage: stage.name,
        reason,
        decision,
      },
    ),
  ]);
  return next;
}

export async function cancelRequest(
  deps: Deps,
  who: Principal,
  id: string,
): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const decision = deps.policy.decide(aboutRequest(who.userId, r, 'cancel'));
  if (!decision.allowed) throw forbidden('NOT_ALLOWED', decision.reason);
  if (r.status !== 'PENDING')
    throw conflict(
      'NOT_PENDING',
      `Only a pending request can be cancelled; this one is ${r.status}.`,
    );
  const now = deps.clock.now().toISOString();
  const next: AccessRequest = { ...r, status: 'CANCELLED', updatedAt: now, version: r.version + 1 };
  await commit(deps, next, { status: r.status, version: r.version }, [
    auditEvent(
      deps,
      'REQUEST_CANCELLED',
      who.userId,
      {
        domain: r.domain,
        requestId: r.id,
        productId: r.productId,
        fromStatus: r.status,
        toStatus: 'CANCELLED',
      },
      { decision },
    ),
  ]);
  return next;
}

/** The caller must be allowed to decide the request's current stage. */
function checkDecider(deps: Pick<Deps, 'policy'>, who: Principal, r: AccessRequest) {
  const stage = currentStage(r);
  if (!stage) {
    // Decided already. Say so only to someone who could have decided it; others are refused.
    const names = r.stages.length > 0 ? r.stages.map((s) => s.name) : ['owner'];
    const could = names.some(
      (n) => deps.policy.decide(aboutRequest(who.userId, r, `approve:${n}`)).allowed,
    );
    if (!could) throw forbidden('NOT_AN_APPROVER', 'You are not an approver of this request.');
    throw conflict(
      'NOT_PENDING',
      `The request is ${r.status}; only a pending request can be decided.`,
    );
  }
  const decision = deps.policy.decide(aboutRequest(who.userId, r, `approve:${stage.name}`));
  if (!decision.allowed) {
    throw forbidden(
      'NOT_AN_APPROVER',
      `You cannot decide the ${stage.name} stage of this request. ${decision.reason}`,
      { decision },
    );
  }
  if (r.status !== 'PENDING')
    throw conflict(
      'NOT_PENDING',
      `The request is ${r.status}; only a pending request can be decided.`,
    );
  return { stage, decision };
}
