import type {
  AccessRequest,
  Duration,
  Principal,
  RequestInput,
  Scope,
  Stage,
} from '../domain/model';
import { MeshgateError, notFound, unprocessable } from '../domain/errors';
import {
  cancel,
  checkExtendable,
  deny,
  extend,
  orThrow,
  recordApproval,
  decidingActions,
  stageNames,
  submit,
  withinLimit,
  type Deciders,
  type DurationLimit,
  type Extended,
  type WaitingLimits,
} from '../domain/lifecycle';
import { normaliseScope, piiColumnsTouched } from '../domain/request';
import { registeredDomain } from './authz-cached';
import {
  aboutRequest,
  commitChange,
  loadVisibleGrant,
  loadVisibleRequest,
  type Deps,
} from './deps';

export type NewRequest = RequestInput;

const STAGES: Stage['name'][] = ['owner', 'compliance'];

/**
 * What policy will do with a request for this product: refuse it, approve it automatically, or
 * route it through approval stages. Pure: used both to submit and to preview. `scope` is the
 * scope as it would be stored (row filter in canonical form). For an extension, `extendsFrom` is
 * the expiry of the grant it extends: the length checked is the whole time the grant would run.
 */
export async function planRequest(
  deps: Pick<Deps, 'store' | 'policy' | 'clock'>,
  who: Principal,
  input: Omit<NewRequest, 'principal' | 'purpose'> & { extendsFrom?: string },
  opts: { readOpenCount?: boolean } = {},
) {
  const product = await deps.store.getProduct(input.productId);
  if (!product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${input.productId}.`);
  if (product.status === 'RETIRED')
    throw unprocessable('PRODUCT_RETIRED', `${product.id} is retired and cannot be requested.`);
  if (!(await registeredDomain(deps, product.domain))) {
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
  const max = deps.policy.maxDurationHours(product.domain);
  const limit: DurationLimit = { hours: max.value, rule: max.rule };
  const within = withinLimit(input.duration, limit, deps.clock.now(), input.extendsFrom);
  const auto = deps.policy.decide({ ...q, action: 'auto-approve' });
  const openLimit = deps.policy.maxOpenRequests();
  const openRequests = {
    // Unread (0) when the caller writes next: its claim of a place, conditional on the count
    // being under the limit in the request's own transaction, is what enforces the limit.
    open: opts.readOpenCount === false ? 0 : await deps.store.countOpenRequests(who.userId),
    max: openLimit.value,
    rule: openLimit.rule,
  };
  const stages: Stage[] = [];
  const routing = [];
  if (!auto.allowed) {
    for (const name of STAGES) {
      const d = deps.policy.decide({ ...q, action: `stage:${name}` });
      if (d.allowed) {
        stages.push({ name, required: 1, approvals: [], rule: d.rules[0] ?? null });
        routing.push(d);
      }
    }
  }
  const waiting: WaitingLimits = {
    escalateAfterHours: deps.policy.escalateAfterHours(product.domain).value,
    timeoutDays: deps.policy.pendingTimeoutDays().value,
  };
  return {
    product,
    scope,
    allowed,
    waiting,
    withinLimit: within,
    auto,
    stages,
    limit,
    openRequests,
    explanation: [allowed, within, auto, ...routing],
    maxDurationHours: limit.hours,
    piiColumns: piiColumnsTouched(product, scope),
  };
}

/**
 * A new request. The requester's count of open requests is not read first: the write claims a
 * place conditionally on the count being under the limit. Only when that claim is refused is the
 * count read, and the request planned again with it, so that a refusal says what it always said
 * (how many are open, the limit, its line); if a place came free meanwhile, it is written then.
 */
export async function submitRequest(
  deps: Deps,
  who: Principal,
  input: NewRequest,
): Promise<AccessRequest> {
  for (const readOpenCount of [false, true]) {
    const plan = await planRequest(deps, who, input, { readOpenCount });
    const change = orThrow(
      submit(
        {
          ...input,
          id: deps.ids.next('req'),
          product: plan.product,
          scope: plan.scope,
          piiColumns: plan.piiColumns,
        },
        plan,
        { actor: who.userId, now: deps.clock.now() },
      ),
    );
    try {
      return await commitAndQueue(deps, change);
    } catch (err) {
      if (readOpenCount || !(err instanceof MeshgateError) || err.code !== 'OPEN_REQUEST_LIMIT')
        throw err;
    }
  }
  throw new Error('unreachable: the second attempt returns or throws');
}

/**
 * The requester asks for more time on an active grant: a new request, decided like any other,
 * checked on the whole time the grant would then run. At most one is open per grant.
 */
export async function extendGrant(
  deps: Deps,
  who: Principal,
  grantId: string,
  input: { duration: Duration; purpose: string },
): Promise<AccessRequest> {
  const extended: Extended = await loadVisibleGrant(deps, who, grantId);
  const { grant, request } = extended;
  const decision = deps.policy.decide(aboutRequest(who.userId, request, 'extend'));
  const refused = checkExtendable(extended, decision);
  if (refused) throw refused.error;
  const plan = await planRequest(deps, who, {
    productId: grant.productId,
    scope: grant.scope,
    duration: input.duration,
    extendsFrom: grant.expiresAt,
  });
  const change = orThrow(
    extend(
      extended,
      { ...input, id: deps.ids.next('req'), product: plan.product, piiColumns: plan.piiColumns },
      { ...plan, extend: decision },
      { actor: who.userId, now: deps.clock.now() },
    ),
  );
  return commitAndQueue(deps, change);
}

async function commitAndQueue(deps: Deps, change: Parameters<typeof commitChange>[1]) {
  await commitChange(deps, change);
  if (change.request.status === 'APPROVED') {
    await deps.queue.send({ kind: 'grant', requestId: change.request.id });
  }
  return change.request;
}

export interface ApprovalInput {
  comment: string;
  narrowedScope?: Scope;
  narrowedDuration?: Duration;
}

/**
 * What the policy says of the caller deciding each stage of the request: `approve:<stage>`, and
 * for an escalated stage also `approve:<stage>:escalated` (backup approvers), the first that
 * allows it.
 */
export function decidersOf(deps: Pick<Deps, 'policy'>, who: Principal, r: AccessRequest): Deciders {
  return Object.fromEntries(stageNames(r).map((n) => [n, stageDecision(deps, who.userId, r, n)]));
}

function stageDecision(
  deps: Pick<Deps, 'policy'>,
  user: string,
  r: AccessRequest,
  name: Stage['name'],
) {
  const stage = r.stages.find((s) => s.name === name) ?? { name };
  let decision = deps.policy.decide(aboutRequest(user, r, `approve:${name}`));
  for (const action of decidingActions(stage).slice(1)) {
    if (decision.allowed) break;
    decision = deps.policy.decide(aboutRequest(user, r, action));
  }
  return decision;
}

/** Records one approval for the request's current stage; the last one approves the request. */
export async function approveRequest(
  deps: Deps,
  who: Principal,
  id: string,
  input: ApprovalInput,
): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const deciders = decidersOf(deps, who, r);
  const narrowing = input.narrowedScope !== undefined;
  const product = narrowing ? await deps.store.getProduct(r.productId) : undefined;
  if (narrowing && !product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${r.productId}.`);
  const max = deps.policy.maxDurationHours(r.domain);
  const change = orThrow(
    recordApproval(
      r,
      input,
      {
        deciders,
        limit: { hours: max.value, rule: max.rule },
        product,
        escalateAfterHours: deps.policy.escalateAfterHours(r.domain).value,
      },
      { actor: who.userId, now: deps.clock.now() },
    ),
  );
  return commitAndQueue(deps, change);
}

export async function denyRequest(
  deps: Deps,
  who: Principal,
  id: string,
  reason: string,
): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const change = orThrow(
    deny(
      r,
      reason,
      { deciders: decidersOf(deps, who, r) },
      { actor: who.userId, now: deps.clock.now() },
    ),
  );
  await commitChange(deps, change);
  return change.request;
}

export async function cancelRequest(
  deps: Deps,
  who: Principal,
  id: string,
): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const decision = deps.policy.decide(aboutRequest(who.userId, r, 'cancel'));
  const change = orThrow(
    cancel(r, { cancel: decision }, { actor: who.userId, now: deps.clock.now() }),
  );
  await commitChange(deps, change);
  return change.request;
}
