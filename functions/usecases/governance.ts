import { ALL_DOMAINS, type Domain, type Membership, type Principal } from '../domain/model';
import {
  conflict,
  forbidden,
  MeshgateError,
  notFound,
  tooManyRequests,
  validation,
} from '../domain/errors';
import { redactedDomain } from '../domain/configuration';
import type { CallWindows } from '../domain/call-windows';
import { auditEvent, SYSTEM, type Deps } from './deps';
import { openPage, type PageQuery } from './paging';

export interface ExplainInput {
  /** Whom to ask about; the caller when absent. */
  user?: string;
  action: string;
  productId?: string;
  domain?: string;
  object?: string;
  /** Ask as the requester of the object (for cancel, revoke, read of one's own request). */
  asRequester?: boolean;
}

/** "May X do A on O in domain D, and why": the decision, the line behind it and X's roles there. */
export async function explain(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  input: ExplainInput,
) {
  let domain = input.domain;
  let object = input.object;
  let classification: string | undefined;
  if (input.productId) {
    const product = await deps.store.getProduct(input.productId);
    if (!product) throw notFound('PRODUCT_NOT_FOUND', `No data product ${input.productId}.`);
    domain = product.domain;
    object = product.id;
    classification = product.classification;
  }
  if (!domain || !object)
    throw validation('VALIDATION_FAILED', 'Give a productId, or a domain and an object.');
  const user = input.user ?? who.userId;
  if (user !== who.userId) {
    const may = deps.policy.decide({
      user: who.userId,
      domain,
      object: '*',
      action: 'policy:explain',
    });
    if (!may.allowed)
      throw forbidden(
        'NOT_ALLOWED',
        `Only those who govern ${domain} may ask about someone else. ${may.reason}`,
      );
  }
  const decision = deps.policy.decide({
    user,
    relation: input.asRequester ? 'requester' : undefined,
    domain,
    object,
    classification,
    action: input.action,
  });
  return {
    user,
    domain,
    object,
    classification,
    action: input.action,
    roles: deps.policy.rolesOf(user, domain),
    ...decision,
  };
}

async function requireManage(
  deps: Pick<Deps, 'policy'>,
  who: Principal,
  domain: string,
  action: 'members:manage' | 'domain:register',
) {
  const d = deps.policy.decide({ user: who.userId, domain, object: '*', action });
  if (!d.allowed)
    throw forbidden(
      'NOT_ALLOWED',
      `${action === 'members:manage' ? 'Managing memberships' : 'Registering domains'} is for platform admins. ${d.reason}`,
    );
  return d;
}

export async function listMembers(
  deps: Pick<Deps, 'store' | 'policy'>,
  who: Principal,
  domain: string,
  q: PageQuery,
) {
  if (!(await deps.store.getDomain(domain)))
    throw notFound('DOMAIN_NOT_FOUND', `No domain ${domain}.`);
  const d = deps.policy.decide({ user: who.userId, domain, object: '*', action: 'members:read' });
  if (!d.allowed)
    throw forbidden(
      'NOT_ALLOWED',
      `Only owners of ${domain} and admins see its members. ${d.reason}`,
    );
  const page = await openPage(deps.store, 'members', who.userId, { domain }, q);
  return page.answer(await deps.store.listMembers(domain, page));
}

/**
 * Before the decisions of a call: the policy brought up to date with the store (memberships
 * changed by any process, policy files changed on disk), then the caller's group roles.
 */
export async function prepareCall(
  deps: Pick<Deps, 'store' | 'policy' | 'clock' | 'ids'>,
  who: Principal,
): Promise<void> {
  await deps.policy.refresh(); // a policy that cannot decide refuses the call here (503)
  await syncGroupRoles(deps, who);
}

/**
 * Adds a membership. The write bumps the authorization generation in the same transaction, so
 * every process, this one included, decides with it from its next call on.
 */
/**
 * After a membership change has committed (with its audit event): this instance reads it for its
 * next decision. A policy that cannot decide just now (503) does not turn the committed change
 * into an error: the next call meets that refusal, and the change stands.
 */
async function refreshAfterChange(deps: Pick<Deps, 'policy'>) {
  try {
    await deps.policy.refresh();
  } catch (err) {
    if (!(err instanceof MeshgateError && err.kind === 'unavailable')) throw err;
  }
}

export async function addMembership(deps: Deps, who: Principal, m: Membership) {
  const decision = await requireManage(deps, who, m.domain, 'members:manage');
  if (m.domain !== ALL_DOMAINS && !(await deps.store.getDomain(m.domain)))
    throw notFound('DOMAIN_NOT_FOUND', `No domain ${m.domain}.`);
  if (!(await deps.store.getUser(m.user))) throw notFound('USER_NOT_FOUND', `No user ${m.user}.`);
  await deps.store.putMembership(
    m,
    auditEvent(deps, 'MEMBERSHIP_ADDED', who.userId, { domain: m.domain }, { ...m, decision }),
  );
  await refreshAfterChange(deps);
  return m;
}

export async function removeMembership(deps: Deps, who: Principal, m: Membership) {
  const decision = await requireManage(deps, who, m.domain, 'members:manage');
  if (m.user === who.userId && m.role === 'admin')
    throw conflict('LAST_ADMIN_GUARD', 'Admins cannot remove their own admin role.');
  await deps.store.deleteMembership(
    m,
    auditEvent(deps, 'MEMBERSHIP_REMOVED', who.userId, { domain: m.domain }, { ...m, decision }),
  );
  await refreshAfterChange(deps);
}

export async function registerDomain(deps: Deps, who: Principal, d: Domain) {
  const decision = await requireManage(deps, who, d.id, 'domain:register');
  await deps.store.createDomain(
    d,
    auditEvent(
      deps,
      'DOMAIN_REGISTERED',
      who.userId,
      { domain: d.id },
      { ...redactedDomain(d), decision },
    ),
  );
  // The answer shows the domain as GET /v1/domains does: never the broker's ExternalId.
  return redactedDomain(d);
}

/** Identity-provider groups that stand for a role in every domain. */
export const GROUP_ROLES = ['admin', 'compliance', 'auditor'] as const;

/**
 * Gives the caller the roles in every domain that their identity-provider groups (Cognito
 * `admin`, `compliance`, `auditor`) stand for, and takes away those it gave when the group goes.
 * Roles granted otherwise (the configuration, `POST /v1/memberships`) are never touched here.
 * Each change is audited, bumps the authorization generation (every process sees it on its next
 * call) and takes effect for this very call. Compares with the memberships of the latest
 * generation: the call's `refresh()` comes first (see prepareCall).
 */
export async function syncGroupRoles(
  deps: Pick<Deps, 'store' | 'policy' | 'clock' | 'ids'>,
  who: Principal,
): Promise<void> {
  if (!who.groups) return;
  const wanted = new Set<string>(GROUP_ROLES.filter((r) => who.groups!.includes(r)));
  const global = deps.policy.membershipsOf(who.userId).filter((m) => m.domain === ALL_DOMAINS);
  const add = [...wanted].filter((r) => !global.some((m) => m.role === r));
  const remove = global.filter((m) => m.source === 'group' && !wanted.has(m.role));
  if (add.length === 0 && remove.length === 0) return;
  if (!(await deps.store.getUser(who.userId)))
    await deps.store.putUser({ id: who.userId, name: who.name });
  for (const role of add) {
    const m: Membership = {
      user: who.userId,
      domain: ALL_DOMAINS,
      role: role as Membership['role'],
      source: 'group',
    };
    await deps.store.putMembership(
      m,
      auditEvent(
        deps,
        'MEMBERSHIP_ADDED',
        SYSTEM,
        { domain: ALL_DOMAINS },
        { ...m, from: 'identity provider group' },
      ),
    );
  }
  for (const m of remove) {
    await deps.store
      .deleteMembership(
        m,
        auditEvent(
          deps,
          'MEMBERSHIP_REMOVED',
          SYSTEM,
          { domain: ALL_DOMAINS },
          { ...m, from: 'identity provider group' },
        ),
      )
      .catch((err) => {
        if (!(err instanceof MeshgateError && err.kind === 'not_found')) throw err;
      });
  }
  await refreshAfterChange(deps);
}

/** The window in which repeated refusals of one caller for one action are counted, not each recorded. */
export const REFUSAL_WINDOW_MS = 60_000;

/**
 * Records that someone was refused (a 403): who tried what, and why. Refusals of privileged
 * actions are part of the trail auditors review. Recording never changes the answer.
 *
 * One caller refused the same action (method and route) over and over cannot flood the trail:
 * the first refusal of a window (a minute from it) is recorded at once (`ACCESS_REFUSED`, with
 * the window); the next ones in that window are only counted, in one item per caller and action;
 * the first refusal after the window ends opens the next one and writes, in the same
 * transaction, `ACCESS_REFUSED_REPEATED` with how many were counted and the window. Every count
 * is a durable atomic write before the answer goes out, and the summary is written with the reset
 * of the count, so a crash loses at most the refusals being recorded at that moment (one per call
 * in flight), never a counted one. A window that no later refusal follows is summed up the same
 * way by the sweep once it has ended (`flushRefusals`).
 */
export async function recordRefusal(
  deps: Pick<Deps, 'store' | 'clock' | 'ids' | 'log'>,
  who: Principal,
  attempt: { method: string; path: string; route: string; code: string; message: string },
): Promise<void> {
  const now = deps.clock.now();
  const window = {
    from: now.toISOString(),
    to: new Date(now.getTime() + REFUSAL_WINDOW_MS).toISOString(),
  };
  const action = actionOf(attempt);
  try {
    await deps.store.countRefusal(
      who.userId,
      action,
      { now: window.from, until: window.to },
      auditEvent(
        deps,
        'ACCESS_REFUSED',
        who.userId,
        { domain: ALL_DOMAINS },
        {
          ...attempt,
          count: 1,
          window,
        },
      ),
      (count, ended) => repeatedRefusals(deps, who.userId, action, count, ended),
    );
  } catch (err) {
    (deps.log ?? console.error)('could not record a refusal', err);
  }
}

/** How many ended refusal windows one sweep sums up at most; the rest wait for the next. */
export const REFUSAL_FLUSH_LIMIT = 100;

/**
 * The sweep's part of recordRefusal: every refusal window that has ended with refusals counted
 * but not in the trail (no later refusal of that caller and action followed) gets its
 * `ACCESS_REFUSED_REPEATED`, the same event a new window writes, in one transaction with marking
 * them recorded. At most `limit` windows a run, those that ended first. Returns how many.
 */
export async function flushRefusals(
  deps: Pick<Deps, 'store' | 'clock' | 'ids'>,
  limit = REFUSAL_FLUSH_LIMIT,
): Promise<number> {
  return deps.store.flushRefusals(
    deps.clock.now().toISOString(),
    limit,
    (user, action, count, window) => repeatedRefusals(deps, user, action, count, window),
  );
}

/** One counted action: the method and the route (its pattern), as the refusal item's key. */
const actionOf = (a: { method: string; route: string }) => `${a.method} ${a.route}`;

/**
 * The summary of the refusals of `user` for `action` in `window` after its first: how many and
 * the window, whether a new window or the sweep writes it.
 */
function repeatedRefusals(
  deps: Pick<Deps, 'clock' | 'ids'>,
  user: string,
  action: string,
  count: number,
  window: { from: string; to: string },
) {
  const space = action.indexOf(' ');
  return auditEvent(
    deps,
    'ACCESS_REFUSED_REPEATED',
    user,
    { domain: ALL_DOMAINS },
    { method: action.slice(0, space), route: action.slice(space + 1), count, window },
  );
}

/**
 * The per-user rate limit, before anything else of a call: at most the policy's
 * max-calls-per-minute calls in each minute (fixed windows), counted by this instance of the API
 * (see domain/call-windows.ts for why not in the table). Beyond it, 429 RATE_LIMITED with the
 * seconds to the next window (Retry-After), and the call does nothing.
 */
export async function limitCalls(
  deps: Pick<Deps, 'policy' | 'clock'> & { calls: CallWindows },
  who: Principal,
): Promise<void> {
  const limit = deps.policy.maxCallsPerMinute();
  const retryAfterSeconds = deps.calls.take(who.userId, deps.clock.now().getTime(), limit.value);
  if (retryAfterSeconds === undefined) return;
  throw tooManyRequests(
    'RATE_LIMITED',
    `More than ${limit.value} calls in a minute (${limit.rule.source}); nothing was done. Retry in ${retryAfterSeconds} s.`,
    { retryAfterSeconds, maxCallsPerMinute: limit.value },
  );
}
