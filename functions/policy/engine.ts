import { DefaultRoleManager, newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import { ALL_DOMAINS, type Decision, type Membership, type RuleRef } from '../domain/model';
import type { Limit, PolicyEngine, PolicyQuery } from '../ports/policy';

/** A policy file's text and where it came from; `domain` is set for a domain's own file. */
export interface PolicySource {
  source: string;
  text: string;
  domain?: string;
}

interface Line {
  ptype: 'p' | 'p2';
  tokens: string[];
  ref: RuleRef;
}

const NO_VALUE = '-';
const LIMIT_KEYS = new Set([
  'max-duration-hours',
  'max-open-requests',
  'max-calls-per-minute',
  'stage-escalate-after-hours',
  'pending-timeout-days',
]);
/** The limits that hold over every domain: set in the global file only. */
const GLOBAL_LIMITS = new Set([
  'max-open-requests',
  'max-calls-per-minute',
  'pending-timeout-days',
]);
/** Limits for which 0 means nothing sensible (a stage escalated, a request timed out, at once). */
const POSITIVE_LIMITS = new Set(['stage-escalate-after-hours', 'pending-timeout-days']);
/** What a limit is when no line sets it. */
export const DEFAULT_LIMITS: Record<string, number> = {
  'max-open-requests': 50,
  'max-calls-per-minute': 600,
  'stage-escalate-after-hours': 48,
  'pending-timeout-days': 14,
};
const EFFECTS = new Set(['allow', 'deny']);

export class PolicyLoadError extends Error {}

/** Parses policy CSV text into lines, refusing anything a file of its kind may not say. */
export function parsePolicy(src: PolicySource): Line[] {
  const lines: Line[] = [];
  src.text.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const where = `${src.source}:${i + 1}`;
    const tokens = text.split(',').map((t) => t.trim());
    const [ptype, ...rest] = tokens;
    if (tokens.some((t) => t === ''))
      throw new PolicyLoadError(`${where}: empty field in "${text}"`);
    if (ptype === 'p') {
      if (rest.length !== 5)
        throw new PolicyLoadError(`${where}: a p line has 5 fields (sub, dom, obj, act, eft)`);
      if (!EFFECTS.has(rest[4]!))
        throw new PolicyLoadError(`${where}: effect must be allow or deny, not "${rest[4]}"`);
    } else if (ptype === 'p2') {
      if (rest.length !== 3)
        throw new PolicyLoadError(`${where}: a p2 line has 3 fields (dom, key, value)`);
      if (!LIMIT_KEYS.has(rest[1]!) || !/^\d+$/.test(rest[2]!)) {
        throw new PolicyLoadError(
          `${where}: p2 supports "max-duration-hours, <whole hours>", "max-open-requests, <count>", "max-calls-per-minute, <count>", "stage-escalate-after-hours, <whole hours>" and "pending-timeout-days, <whole days>"`,
        );
      }
      if (POSITIVE_LIMITS.has(rest[1]!) && Number(rest[2]) < 1) {
        throw new PolicyLoadError(`${where}: ${rest[1]} must be at least 1`);
      }
      if (GLOBAL_LIMITS.has(rest[1]!) && rest[0] !== ALL_DOMAINS) {
        // A user's open requests and calls are counted over every domain: one limit, set globally.
        throw new PolicyLoadError(
          `${where}: ${rest[1]} is a global limit (domain *, in the global file)`,
        );
      }
    } else {
      // Role assignments are memberships in the store, managed (and audited) through the API.
      throw new PolicyLoadError(
        `${where}: unknown line type "${ptype}" (policy files hold p and p2 lines)`,
      );
    }
    const dom = rest[ptype === 'p' ? 1 : 0]!;
    if (src.domain !== undefined && dom !== src.domain) {
      throw new PolicyLoadError(
        `${where}: the ${src.domain} policy may only speak for domain ${src.domain}, not "${dom}"`,
      );
    }
    lines.push({ ptype, tokens: rest, ref: { source: where, line: text } });
  });
  return lines;
}

/**
 * The Casbin-backed policy engine.
 *
 * node-casbin evaluates the matcher against every policy line on each check (2-3 us a line with
 * this model), so an enforcer holding the whole mesh's policy gets slower as the mesh grows. Yet
 * a line can only match a request if its action, domain, object and subject fields equal the
 * request's or `*` (or the request's classification, relation or one of the caller's roles).
 * The engine indexes lines by those four fields; for each decision it hands Casbin just the lines
 * the index finds (a handful, whatever the size of the mesh), and Casbin evaluates the model's
 * matcher (with g() over the memberships) and its deny-overrides effect on them. The index only
 * ever leaves out lines that cannot match, so the answer is the one Casbin would give with every
 * line loaded; the benchmark checks that side by side.
 */
export class CasbinPolicyEngine implements PolicyEngine {
  private enforcer?: Enforcer;
  /** p lines by action, then domain, object and subject. */
  private readonly index: Index = new Map();
  private membershipsByUser = new Map<string, Membership[]>();
  private readonly refs = new Map<string, RuleRef>();
  /** max-duration-hours lines, the smallest by domain. */
  private readonly limits = new Map<string, Limit>();
  /** stage-escalate-after-hours lines, the smallest by domain. */
  private readonly escalateLimits = new Map<string, Limit>();
  /** The smallest line of each global limit (max-open-requests, max-calls-per-minute, pending-timeout-days). */
  private readonly globalLimits = new Map<string, Limit>();
  /** Domains whose policy could not be loaded, with why: every decision there is a deny. */
  private readonly broken = new Map<string, string>();
  private failure?: string = 'no policy is loaded';

  private constructor() {}

  /**
   * Loads the model and policy files. Never throws: a broken global policy makes every decision
   * a deny, a broken domain file makes every decision in that domain a deny.
   */
  static async load(modelText: string, sources: PolicySource[], memberships: Membership[] = []) {
    const engine = new CasbinPolicyEngine();
    try {
      const enforcer = await newEnforcer(newModelFromString(modelText));
      if (!enforcer.getModel().model.get('p')?.get('p'))
        throw new Error('the model has no p policy definition');
      const lines: Line[] = [];
      for (const src of sources) {
        try {
          lines.push(...parsePolicy(src));
        } catch (err) {
          if (src.domain === undefined) throw err;
          engine.broken.set(src.domain, (err as Error).message);
        }
      }
      for (const l of lines) {
        engine.refs.set(key(l.ptype, l.tokens), l.ref);
        if (l.ptype === 'p') {
          const [sub, dom, obj, act] = l.tokens as [string, string, string, string];
          const byDom = child(engine.index, act);
          const byObj = child(byDom, dom);
          const bySub = child(byObj, obj);
          bySub.set(sub, [...(bySub.get(sub) ?? []), l.tokens]);
        } else {
          const [dom, limitKey, value] = l.tokens as [string, string, string];
          if (GLOBAL_LIMITS.has(limitKey)) {
            const held = engine.globalLimits.get(limitKey);
            if (!held || Number(value) < held.value)
              engine.globalLimits.set(limitKey, { value: Number(value), rule: l.ref });
            continue;
          }
          const byDomain =
            limitKey === 'stage-escalate-after-hours' ? engine.escalateLimits : engine.limits;
          const prev = byDomain.get(dom);
          if (!prev || Number(value) < prev.value)
            byDomain.set(dom, { value: Number(value), rule: l.ref });
        }
      }
      engine.enforcer = enforcer;
      await engine.setMemberships(memberships);
      engine.failure = undefined;
    } catch (err) {
      engine.failure = `policy failed to load: ${(err as Error).message}`;
      engine.enforcer = undefined;
    }
    return engine;
  }

  async setMemberships(memberships: Membership[]): Promise<void> {
    const rm = new DefaultRoleManager(10);
    const byUser = new Map<string, Membership[]>();
    for (const m of memberships) {
      await rm.addLink(m.user, `role:${m.role}`, m.domain);
      byUser.set(m.user, [...(byUser.get(m.user) ?? []), m]);
    }
    // One synchronous swap: a decision sees either the old memberships or the new ones. The
    // matcher's g() reads the role manager of the model's `g` assertion, so that is the one to set.
    if (this.enforcer) {
      const g = this.enforcer.getModel().model.get('g')?.get('g');
      if (!g) throw new Error('the model has no g role definition');
      this.enforcer.setRoleManager(rm);
      g.rm = rm;
    }
    this.membershipsByUser = byUser;
  }

  /**
   * The lines that could match: each field equal to the request's value or `*`, the subject also
   * the caller's relation, name or a role they hold there (users hold roles directly; there is no
   * role hierarchy). Every other line fails the matcher on some field.
   */
  candidates(q: PolicyQuery, values: string[] = requestValues(q)): string[][] {
    const [user, rel, dom, obj, cls, act] = values as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const subjects = ['*', rel, user];
    for (const m of this.membershipsByUser.get(user) ?? []) {
      if (m.domain === dom || m.domain === ALL_DOMAINS) subjects.push(`role:${m.role}`);
    }
    const out: string[][] = [];
    // Walked level by level so that a missing action or domain ends the search at once; values
    // are visited once even when the request's value is itself `*`.
    for (const a of act === '*' ? STAR : [act, '*']) {
      const byDom = this.index.get(a);
      if (!byDom) continue;
      for (const d of dom === ALL_DOMAINS ? STAR : [dom, ALL_DOMAINS]) {
        const byObj = byDom.get(d);
        if (!byObj) continue;
        const objects = [obj, cls, '*'];
        for (let j = 0; j < objects.length; j++) {
          const o = objects[j]!;
          if (objects.indexOf(o) !== j) continue;
          const bySub = byObj.get(o);
          if (!bySub) continue;
          for (let i = 0; i < subjects.length; i++) {
            const sub = subjects[i]!;
            if (subjects.indexOf(sub) !== i) continue;
            const lines = bySub.get(sub);
            if (lines) for (const l of lines) out.push(l);
          }
        }
      }
    }
    return out;
  }

  decide(q: PolicyQuery): Decision {
    const what = `${q.action} on ${q.object} in ${q.domain}`;
    if (this.failure || !this.enforcer)
      return {
        allowed: false,
        reason: `Denied: ${this.failure ?? 'no policy is loaded'}`,
        rules: [],
      };
    const broken = this.broken.get(q.domain);
    if (broken)
      return {
        allowed: false,
        reason: `Denied: the ${q.domain} policy failed to load: ${broken}`,
        rules: [],
      };
    try {
      const values = requestValues(q);
      const lines = this.candidates(q, values);
      if (lines.length === 0)
        return { allowed: false, reason: `Denied: no policy line allows ${what}`, rules: [] };
      const [allowed, line] = this.enforceOn(lines, values);
      const ref = line.length > 0 ? this.refs.get(key('p', line)) : undefined;
      const rules = ref ? [ref] : [];
      if (allowed)
        return { allowed: true, reason: `Allowed: ${what} by ${ref?.source ?? 'policy'}`, rules };
      if (ref) return { allowed: false, reason: `Denied: ${what} by ${ref.source}`, rules };
      return { allowed: false, reason: `Denied: no policy line allows ${what}`, rules };
    } catch (err) {
      return {
        allowed: false,
        reason: `Denied: the policy engine failed (${(err as Error).message})`,
        rules: [],
      };
    }
  }

  /**
   * Casbin's enforcement over the given lines. The enforcer's policy is set to them for this one
   * synchronous call (nothing else can run in between) and put back empty after.
   */
  private enforceOn(lines: string[][], request: string[]): [boolean, string[]] {
    const p = this.enforcer!.getModel().model.get('p')!.get('p')!;
    p.policy = lines;
    try {
      return this.enforcer!.enforceExSync(...request);
    } finally {
      p.policy = [];
    }
  }

  maxDurationHours(domain: string): Limit {
    const global = this.limits.get(ALL_DOMAINS);
    const local = this.limits.get(domain);
    const none: Limit = {
      value: 0,
      rule: { source: 'policy', line: 'no max-duration-hours line is loaded' },
    };
    if (this.failure || this.broken.has(domain) || !global) return none;
    return local && local.value < global.value ? local : global;
  }

  /**
   * How long a stage of a request in the domain waits before it is escalated: the smallest of the
   * global and the domain's line (a domain may escalate sooner, never later), 48 hours without one.
   */
  escalateAfterHours(domain: string): Limit {
    const global = this.escalateLimits.get(ALL_DOMAINS);
    const local = this.broken.has(domain) ? undefined : this.escalateLimits.get(domain);
    const smallest = local && (!global || local.value < global.value) ? local : global;
    if (smallest) return smallest;
    const value = DEFAULT_LIMITS['stage-escalate-after-hours']!;
    return {
      value,
      rule: { source: 'default', line: `no stage-escalate-after-hours line: ${value}` },
    };
  }

  /** How many days a request may stay pending before it times out (global). */
  pendingTimeoutDays(): Limit {
    return this.globalLimit('pending-timeout-days');
  }

  maxOpenRequests(): Limit {
    if (this.failure) return { value: 0, rule: { source: 'policy', line: this.failure } };
    return this.globalLimit('max-open-requests');
  }

  /** A policy that failed still answers calls (with 503): its callers are limited as by default. */
  maxCallsPerMinute(): Limit {
    return this.globalLimit('max-calls-per-minute');
  }

  private globalLimit(key: string): Limit {
    const value = DEFAULT_LIMITS[key]!;
    return (
      this.globalLimits.get(key) ?? {
        value,
        rule: { source: 'default', line: `no ${key} line: ${value}` },
      }
    );
  }

  membershipsOf(user: string): Membership[] {
    return [...(this.membershipsByUser.get(user) ?? [])];
  }

  membersOf(domain: string): Membership[] {
    const out: Membership[] = [];
    for (const held of this.membershipsByUser.values())
      for (const m of held) if (m.domain === domain || m.domain === ALL_DOMAINS) out.push(m);
    return out;
  }

  rolesOf(user: string, domain: string): string[] {
    return (this.membershipsByUser.get(user) ?? [])
      .filter((m) => m.domain === domain || m.domain === ALL_DOMAINS)
      .map((m) => m.role);
  }

  /** Why the engine refuses everything, if it does. */
  get loadFailure(): string | undefined {
    return this.failure;
  }

  /** Domains whose own policy file did not load (every decision there is a deny), with why. */
  get domainFailures(): Record<string, string> {
    return Object.fromEntries(this.broken);
  }
}

/** The request values, in model.conf's order: sub, rel, dom, obj, cls, act. */
const requestValues = (q: PolicyQuery): string[] => [
  q.user,
  q.relation ? `rel:${q.relation}` : NO_VALUE,
  q.domain,
  q.object,
  q.classification ? `class:${q.classification}` : NO_VALUE,
  q.action,
];

const key = (ptype: string, tokens: string[]) => `${ptype}|${tokens.join('|')}`;
type Index = Map<string, Map<string, Map<string, Map<string, string[][]>>>>;
const STAR = ['*'];

function child<K, V extends Map<unknown, unknown>>(m: Map<K, V>, k: K): V {
  let c = m.get(k);
  if (!c) m.set(k, (c = new Map() as V));
  return c;
}
