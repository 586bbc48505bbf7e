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
    if (tokens.some((t) => t === '')) throw new PolicyLoadError(`${where}: empty field in "${text}"`);
    if (ptype === 'p') {
      if (rest.length !== 5) throw new PolicyLoadError(`${where}: a p line has 5 fields (sub, dom, obj, act, eft)`);
      if (!EFFECTS.has(rest[4]!)) throw new PolicyLoadError(`${where}: effect must be allow or deny, not "${rest[4]}"`);
    } else if (ptype === 'p2') {
      if (rest.length !== 3) throw new PolicyLoadError(`${where}: a p2 line has 3 fields (dom, key, value)`);
      if (rest[1] !== 'max-duration-hours' || !/^\d+$/.test(rest[2]!)) {
        throw new PolicyLoadError(`${where}: p2 supports "max-duration-hours, <whole hours>"`);
      }
    } else {
      // Role assignments are memberships in the store, managed (and audited) through the API.
      throw new PolicyLoadError(`${where}: unknown line type "${ptype}" (policy files hold p and p2 lines)`);
    }
    const dom = rest[ptype === 'p' ? 1 : 0]!;
    if (src.domain !== undefined && dom !== src.domain) {
      throw new PolicyLoadError(`${where}: the ${src.domain} policy may only speak for domain ${src.domain}, not "${dom}"`);
    }
    lines.push({ ptype, tokens: rest, ref: { source: where, line: text } });
  });
  return lines;
}

/**
 * The Casbin-backed policy engine.
 *
 * node-casbin evaluates the matcher against every policy line on each check (about 2 us a line
 * with this model), so one enforcer holding the whole mesh's policy gets slower as the mesh
 * grows. A decision concerns one domain and one action, so the engine keeps a small enforcer per
 * (domain, action) holding only the lines that can match it: global and domain lines for that
 * action or for `*`. Domains without lines of their own for an action share the global enforcer
 * for it. All enforcers share one role manager holding the memberships, so a membership change is
 * one swap, not a rebuild. Decision cost then depends on how many lines speak about one action
 * in one domain, not on the size of the mesh.
 */
export class CasbinPolicyEngine implements PolicyEngine {
  /** Keyed by `domain|action`, `domain|*`, `|action` (global only) and `|*`. */
  private shards = new Map<string, Enforcer>();
  private readonly wildcardDomains = new Set<string>();
  private membershipsByUser = new Map<string, Membership[]>();
  private readonly refs = new Map<string, RuleRef>();
  private readonly limits = new Map<string, Limit>();
  private readonly globalLines: Line[] = [];
  private readonly domainLines = new Map<string, Line[]>();
  /** Domains whose policy could not be loaded, with why: every decision there is a deny. */
  private readonly broken = new Map<string, string>();
  private failure?: string = 'no policy is loaded';

  private constructor(private readonly modelText: string) {}

  /**
   * Loads the model and policy files. Never throws: a broken global policy makes every decision
   * a deny, a broken domain file makes every decision in that domain a deny.
   */
  static async load(modelText: string, sources: PolicySource[], memberships: Membership[] = []) {
    const engine = new CasbinPolicyEngine(modelText);
    try {
      newModelFromString(modelText);
      for (const src of sources) {
        try {
          const lines = parsePolicy(src);
          if (src.domain === undefined) engine.globalLines.push(...lines);
          else engine.domainLines.set(src.domain, [...(engine.domainLines.get(src.domain) ?? []), ...lines]);
        } catch (err) {
          if (src.domain === undefined) throw err;
          engine.broken.set(src.domain, (err as Error).message);
        }
      }
      for (const l of [...engine.globalLines, ...[...engine.domainLines.values()].flat()]) {
        engine.refs.set(key(l.ptype, l.tokens), l.ref);
        if (l.ptype === 'p2') {
          const [dom, , value] = l.tokens as [string, string, string];
          const prev = engine.limits.get(dom);
          if (!prev || Number(value) < prev.value) engine.limits.set(dom, { value: Number(value), rule: l.ref });
        }
      }
      await engine.buildShards();
      await engine.setMemberships(memberships);
      engine.failure = undefined;
    } catch (err) {
      engine.failure = `policy failed to load: ${(err as Error).message}`;
      engine.shards.clear();
    }
    return engine;
  }

  private async buildShards(): Promise<void> {
    const act = (l: Line) => l.tokens[3]!;
    const pLines = (ls: Line[]) => ls.filter((l) => l.ptype === 'p');
    const global = pLines(this.globalLines);
    const globalActions = new Set(global.map(act));
    const select = (ls: Line[], a: string) => ls.filter((l) => act(l) === a || act(l) === '*');
    const shards = new Map<string, Enforcer>();
    for (const a of [...globalActions, '*']) shards.set(`|${a}`, await this.enforcerFor(select(global, a)));
    for (const [domain, lines] of this.domainLines) {
      const local = pLines(lines);
      const localActions = new Set(local.map(act));
      const wildcard = localActions.has('*');
      if (wildcard) this.wildcardDomains.add(domain);
      const actions = wildcard ? new Set([...globalActions, ...localActions]) : localActions;
      for (const a of actions) shards.set(`${domain}|${a}`, await this.enforcerFor([...select(global, a), ...select(local, a)]));
    }
    this.shards = shards;
  }

  private async enforcerFor(lines: Line[]): Promise<Enforcer> {
    const enforcer = await newEnforcer(newModelFromString(this.modelText));
    if (lines.length > 0) await enforcer.addNamedPolicies('p', lines.map((l) => l.tokens));
    return enforcer;
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
    for (const enforcer of this.shards.values()) {
      enforcer.setRoleManager(rm);
      const g = enforcer.getModel().model.get('g')?.get('g');
      if (!g) throw new Error('the model has no g role definition');
      g.rm = rm;
    }
    this.membershipsByUser = byUser;
  }

  private shardFor(domain: string, action: string): Enforcer | undefined {
    return (
      this.shards.get(`${domain}|${action}`) ??
      (this.wildcardDomains.has(domain) ? this.shards.get(`${domain}|*`) : undefined) ??
      this.shards.get(`|${action}`) ??
      this.shards.get('|*')
    );
  }

  decide(q: PolicyQuery): Decision {
    const what = `${q.action} on ${q.object} in ${q.domain}`;
    if (this.failure) return { allowed: false, reason: `Denied: ${this.failure}`, rules: [] };
    const broken = this.broken.get(q.domain);
    if (broken) return { allowed: false, reason: `Denied: the ${q.domain} policy failed to load: ${broken}`, rules: [] };
    const shard = this.shardFor(q.domain, q.action);
    if (!shard) return { allowed: false, reason: 'Denied: no policy is loaded', rules: [] };
    try {
      const [allowed, line] = shard.enforceExSync(
        q.user,
        q.relation ? `rel:${q.relation}` : NO_VALUE,
        q.domain,
        q.object,
        q.classification ? `class:${q.classification}` : NO_VALUE,
        q.action,
      );
      const ref = line.length > 0 ? this.refs.get(key('p', line)) : undefined;
      const rules = ref ? [ref] : [];
      if (allowed) return { allowed: true, reason: `Allowed: ${what} by ${ref?.source ?? 'policy'}`, rules };
      if (ref) return { allowed: false, reason: `Denied: ${what} by ${ref.source}`, rules };
      return { allowed: false, reason: `Denied: no policy line allows ${what}`, rules };
    } catch (err) {
      return { allowed: false, reason: `Denied: the policy engine failed (${(err as Error).message})`, rules: [] };
    }
  }

  maxDurationHours(domain: string): Limit {
    const global = this.limits.get(ALL_DOMAINS);
    const local = this.limits.get(domain);
    const none: Limit = { value: 0, rule: { source: 'policy', line: 'no max-duration-hours line is loaded' } };
    if (this.failure || this.broken.has(domain) || !global) return none;
    return local && local.value < global.value ? local : global;
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
}

const key = (ptype: string, tokens: string[]) => `${ptype}|${tokens.join('|')}`;
