// Policy decision benchmark: the Meshgate engine (Casbin over the indexed lines that can match)
// against one naive node-casbin enforcer holding every line of a synthetic 1,000-domain mesh.
//
// The mesh, the memberships and the queries come from a seeded PRNG, so every run decides the
// same questions over the same policy. The real model.conf and global.csv are used as they are.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import {
  ALL_DOMAINS,
  CLASSIFICATIONS,
  type Classification,
  type Membership,
  type Role,
} from '../functions/domain/model';
import { CasbinPolicyEngine, parsePolicy, type PolicySource } from '../functions/policy/engine';
import type { PolicyQuery } from '../functions/ports/policy';
import {
  BenchAbort,
  elapsedMs,
  fmt,
  heapUsed,
  latencyStats,
  prng,
  timerOverheadNs,
  type Benchmark,
  type BenchResult,
  type Rng,
  type Row,
  type Verdict,
} from './lib';

const POLICY_DIR = join(__dirname, '..', 'policies');

/** The sizes and budgets of one run. */
const CONFIG = {
  seed: 0x4d657368, // "Mesh"
  large: { domains: 1_000, linesPerDomain: 100, users: 5_000 },
  small: { domains: 100, linesPerDomain: 100, users: 500 },
  /** Queries checked against the reference evaluator (and disagreements against node-casbin). */
  referenceChecks: 5_000,
  meshgate: { warmup: 20_000, timed: 100_000, rounds: 10 },
  naive: { warmup: 3, minTimed: 100, maxTimed: 1_000, budgetMs: 55_000 },
  targets: { p99Us: 50, speedup: 100, flatRatio: 1.5 },
} as const;

// ---------------------------------------------------------------------------------------------
// The synthetic mesh
// ---------------------------------------------------------------------------------------------

interface Product {
  id: string;
  classification: Classification;
}

interface MeshDomain {
  id: string;
  products: Product[];
  /** Users holding a role in this domain. */
  members: string[];
  /** Whether the domain has lines for action `*`. */
  wildcard: boolean;
}

interface Mesh {
  label: string;
  domains: MeshDomain[];
  users: string[];
  /** Users holding a role in every domain (`*`). */
  globalUsers: string[];
  memberships: Membership[];
  /** global.csv first, then one file per domain. */
  sources: PolicySource[];
  /** Every p line as tokens (sub, dom, obj, act, eft), global lines first. */
  pLines: string[][];
  globalPLines: number;
}

const domainId = (i: number) => `d${String(i).padStart(4, '0')}`;

const CLASS_WEIGHTS: Record<Classification, number> = {
  public: 30,
  internal: 35,
  confidential: 20,
  restricted: 15,
};

/** One domain policy line (sub, obj, act, eft); the domain field is added by the caller. */
function domainLine(rng: Rng, products: Product[]): [string, string, string, string] {
  const product = () => rng.pick(products).id;
  const cls = () => `class:${rng.pick(CLASSIFICATIONS)}`;
  switch (
    rng.weighted({
      grant: 30,
      requester: 8,
      blocked: 5,
      auto: 10,
      compliance: 6,
      skipOwner: 2,
      complianceApproves: 5,
      auditorDeny: 4,
      members: 2,
      explain: 4,
      approveCompliance: 4,
      roleRequest: 4,
      publicRead: 6,
      classRule: 4,
    })
  ) {
    case 'grant':
      return [
        rng.pick(['role:owner', 'role:steward']),
        product(),
        rng.pick(['read', 'revoke', 'retry', 'approve:owner']),
        'allow',
      ];
    case 'requester':
      return [
        'rel:requester',
        product(),
        rng.pick(['read', 'cancel', 'revoke']),
        rng.chance(0.3) ? 'deny' : 'allow',
      ];
    case 'blocked':
      return ['*', product(), 'request', 'deny'];
    case 'auto':
      return ['*', product(), 'auto-approve', rng.chance(0.6) ? 'allow' : 'deny'];
    case 'compliance':
      return ['*', rng.chance(0.7) ? product() : cls(), 'stage:compliance', 'allow'];
    case 'skipOwner':
      return ['*', product(), 'stage:owner', 'deny'];
    case 'complianceApproves':
      return ['role:compliance', rng.chance(0.7) ? product() : cls(), 'approve:owner', 'allow'];
    case 'auditorDeny':
      return ['role:auditor', product(), 'read', 'deny'];
    case 'members':
      return [rng.pick(['role:owner', 'role:steward']), '*', 'members:read', 'allow'];
    case 'explain':
      return ['role:steward', rng.chance(0.5) ? '*' : product(), 'policy:explain', 'allow'];
    case 'approveCompliance':
      return [
        rng.pick(['role:owner', 'role:steward']),
        product(),
        'approve:compliance',
        rng.chance(0.5) ? 'allow' : 'deny',
      ];
    case 'roleRequest':
      return [
        rng.pick(['role:owner', 'role:steward', 'role:auditor']),
        product(),
        'request',
        'allow',
      ];
    case 'publicRead': {
      const pub = products.filter((p) => p.classification === 'public');
      return ['*', (pub.length > 0 ? rng.pick(pub) : rng.pick(products)).id, 'read', 'allow'];
    }
    case 'classRule':
      return ['*', cls(), rng.pick(['auto-approve', 'request']), 'deny'];
  }
}

/** A line for every action (`*`), found in some domains. */
function wildcardLine(rng: Rng, products: Product[]): [string, string, string, string] {
  switch (rng.weighted({ ownerAll: 2, quarantine: 2, adminAll: 1 })) {
    case 'ownerAll':
      return ['role:owner', rng.pick(products).id, '*', 'allow'];
    case 'quarantine':
      return ['*', rng.pick(products).id, '*', 'deny'];
    case 'adminAll':
      return ['role:admin', '*', '*', 'allow'];
  }
}

export function generateMesh(
  label: string,
  opts: { domains: number; linesPerDomain: number; users: number },
  seed: number,
  globalText: string,
): Mesh {
  const rng = prng(seed);
  const users = Array.from({ length: opts.users }, (_, i) => `u${String(i).padStart(5, '0')}`);
  const memberships: Membership[] = [];
  const seen = new Set<string>();
  const addMembership = (user: string, role: Role, domain: string) => {
    const k = `${user}|${role}|${domain}`;
    if (seen.has(k)) return false;
    seen.add(k);
    memberships.push({ user, role, domain });
    return true;
  };

  const sources: PolicySource[] = [{ source: 'policies/global.csv', text: globalText }];
  const domains: MeshDomain[] = [];
  for (let i = 0; i < opts.domains; i++) {
    const id = domainId(i);
    const products = Array.from({ length: 15 + rng.int(11) }, (_, j) => ({
      id: `${id}/p${String(j).padStart(3, '0')}`,
      classification: rng.weighted(CLASS_WEIGHTS),
    }));
    const lines = new Set<string>();
    const wildcard = rng.chance(0.15);
    if (wildcard) {
      const n = 1 + rng.int(3);
      while (lines.size < n) lines.add(lineText(id, wildcardLine(rng, products)));
    }
    for (let attempts = 0; lines.size < opts.linesPerDomain; attempts++) {
      if (attempts > opts.linesPerDomain * 100)
        throw new Error(`could not generate ${opts.linesPerDomain} distinct lines for ${id}`);
      lines.add(lineText(id, domainLine(rng, products)));
    }
    const header = [`# Synthetic domain ${id}: ${products.length} products.`];
    if (rng.chance(0.1)) header.push(`p2, ${id}, max-duration-hours, ${rng.pick([168, 336, 720])}`);
    sources.push({
      source: `policies/domains/${id}.csv`,
      text: [...header, ...lines].join('\n') + '\n',
      domain: id,
    });

    const members: string[] = [];
    const roles: Role[] = [
      'owner',
      ...(rng.chance(0.5) ? (['owner'] as const) : []),
      'steward',
      ...(rng.chance(0.5) ? (['steward'] as const) : []),
    ];
    if (rng.chance(0.05)) roles.push('compliance');
    for (const role of roles) {
      const user = rng.pick(users);
      if (addMembership(user, role, id)) members.push(user);
    }
    domains.push({ id, products, members: [...new Set(members)], wildcard });
  }

  const globalUsers: string[] = [];
  for (const [role, n] of [
    ['compliance', 5],
    ['auditor', 5],
    ['admin', 3],
  ] as const) {
    for (let k = 0; k < n; k++) {
      const user = rng.pick(users);
      if (addMembership(user, role, ALL_DOMAINS)) globalUsers.push(user);
    }
  }

  // The lines as the engine parses them (parsePolicy also enforces that a domain file only speaks
  // for its own domain, so a generator mistake fails here rather than skewing the figures).
  const parsed = sources.map((s) => parsePolicy(s));
  const pLines = parsed
    .flat()
    .filter((l) => l.ptype === 'p')
    .map((l) => l.tokens);
  const globalPLines = parsed[0]!.filter((l) => l.ptype === 'p').length;
  return { label, domains, users, globalUsers, memberships, sources, pLines, globalPLines };
}

const lineText = (domain: string, [sub, obj, act, eft]: [string, string, string, string]) =>
  `p, ${sub}, ${domain}, ${obj}, ${act}, ${eft}`;

const QUERY_ACTIONS = {
  request: 20,
  read: 20,
  'approve:owner': 10,
  'auto-approve': 8,
  'stage:owner': 6,
  'stage:compliance': 6,
  revoke: 6,
  cancel: 4,
  'approve:compliance': 4,
  retry: 3,
  'members:read': 3,
  'policy:explain': 3,
  'audit:read': 2,
  'members:manage': 1,
  'domain:register': 1,
  export: 1, // an action no line speaks about
};

/** Questions the portal asks: mostly about a product of a domain, by members and non-members. */
export function generateQueries(mesh: Mesh, n: number, seed: number): PolicyQuery[] {
  const rng = prng(seed);
  const queries: PolicyQuery[] = [];
  for (let i = 0; i < n; i++) {
    const known = rng.chance(0.98);
    const d = known ? rng.pick(mesh.domains) : undefined;
    const domain = d ? d.id : domainId(mesh.domains.length + rng.int(100));
    const who = rng.weighted({ member: 35, global: 5, anyone: 60 });
    const user =
      who === 'member' && d && d.members.length > 0
        ? rng.pick(d.members)
        : who === 'global'
          ? rng.pick(mesh.globalUsers)
          : rng.pick(mesh.users);
    const q: PolicyQuery = { user, domain, object: '*', action: rng.weighted(QUERY_ACTIONS) };
    if (rng.chance(0.2)) q.relation = 'requester';
    if (d && rng.chance(0.75)) {
      if (rng.chance(0.05)) {
        q.object = `${domain}/p999`; // not a product of the domain
      } else {
        const p = rng.pick(d.products);
        q.object = p.id;
        q.classification = p.classification;
      }
    } else {
      q.object = rng.pick(['*', 'audit', 'membership', 'domain']);
    }
    queries.push(q);
  }
  return queries;
}

/** The six request values of model.conf, exactly as the engine passes them. */
const requestValues = (q: PolicyQuery): [string, string, string, string, string, string] => [
  q.user,
  q.relation ? `rel:${q.relation}` : '-',
  q.domain,
  q.object,
  q.classification ? `class:${q.classification}` : '-',
  q.action,
];

const describe = (q: PolicyQuery) => requestValues(q).join(', ');

// ---------------------------------------------------------------------------------------------
// A reference evaluator: model.conf's matcher and effect written out by hand, over all lines.
// It is not the thing measured; it lets thousands of queries be checked in seconds (the naive
// enforcer takes a large fraction of a second per query). It is itself checked against node-casbin.
// ---------------------------------------------------------------------------------------------

class Reference {
  /** Lines by their dom field: a line with another domain than `*` or r.dom never matches. */
  private readonly byDom = new Map<string, string[][]>();
  private readonly links = new Set<string>();

  constructor(mesh: Mesh) {
    for (const l of mesh.pLines) {
      const list = this.byDom.get(l[1]!) ?? [];
      list.push(l);
      this.byDom.set(l[1]!, list);
    }
    for (const m of mesh.memberships) this.links.add(`${m.user}\n${'role:' + m.role}\n${m.domain}`);
  }

  /** g(a, b, dom) of the default role manager (no role hierarchy here: users hold roles). */
  private g(a: string, b: string, dom: string) {
    return a === b || this.links.has(`${a}\n${b}\n${dom}`);
  }

  allowed(q: PolicyQuery): boolean {
    const [sub, rel, dom, obj, cls, act] = requestValues(q);
    let allow = false;
    let deny = false;
    const groups = dom === '*' ? [this.byDom.get('*')] : [this.byDom.get('*'), this.byDom.get(dom)];
    for (const lines of groups) {
      for (const [pSub, pDom, pObj, pAct, pEft] of lines ?? []) {
        if (!(pAct === act || pAct === '*')) continue;
        if (!(pDom === '*' || pDom === dom)) continue;
        if (!(pObj === '*' || pObj === obj || pObj === cls)) continue;
        if (!(pSub === '*' || pSub === rel || this.g(sub, pSub!, dom) || this.g(sub, pSub!, '*')))
          continue;
        if (pEft === 'allow') allow = true;
        else deny = true;
      }
    }
    return allow && !deny;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading and timing
// ---------------------------------------------------------------------------------------------

async function loadMeshgate(model: string, mesh: Mesh) {
  const t0 = process.hrtime.bigint();
  const engine = await CasbinPolicyEngine.load(model, mesh.sources, mesh.memberships);
  const ms = elapsedMs(t0);
  if (engine.loadFailure)
    throw new Error(`the Meshgate engine refused the ${mesh.label} mesh: ${engine.loadFailure}`);
  return { engine, ms };
}

async function loadNaive(model: string, mesh: Mesh) {
  const t0 = process.hrtime.bigint();
  const enforcer = await newEnforcer(newModelFromString(model));
  if (!(await enforcer.addNamedPolicies('p', mesh.pLines)))
    throw new Error('the naive enforcer refused the p lines');
  const g = mesh.memberships.map((m) => [m.user, `role:${m.role}`, m.domain]);
  if (!(await enforcer.addNamedGroupingPolicies('g', g)))
    throw new Error('the naive enforcer refused the memberships');
  return { enforcer, ms: elapsedMs(t0) };
}

const naiveAllowed = (e: Enforcer, q: PolicyQuery) => e.enforceExSync(...requestValues(q))[0];

/** Times `decide` over `queries`, in blocks, alternating between the engines given. */
function timeInterleaved(
  runs: { engine: CasbinPolicyEngine; warmup: PolicyQuery[]; timed: PolicyQuery[] }[],
  rounds: number,
): { ns: Float64Array[]; cpuShare: number } {
  let sink = 0;
  for (const r of runs) for (const q of r.warmup) sink += r.engine.decide(q).allowed ? 1 : 0;
  const out = runs.map((r) => new Float64Array(r.timed.length));
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < runs.length; k++) {
      const { engine, timed } = runs[k]!;
      const ns = out[k]!;
      const block = Math.ceil(timed.length / rounds);
      const end = Math.min(timed.length, (round + 1) * block);
      for (let i = round * block; i < end; i++) {
        const q = timed[i]!;
        const t0 = process.hrtime.bigint();
        const d = engine.decide(q);
        ns[i] = Number(process.hrtime.bigint() - t0);
        sink += d.allowed ? 1 : 0;
      }
    }
  }
  if (sink < 0) console.log(sink); // keeps the results observable
  const cpu = process.cpuUsage(cpu0);
  // Below 1 when other processes took the CPU away from this one: the tail is then inflated.
  const cpuShare = (cpu.user + cpu.system) / 1000 / elapsedMs(wall0);
  return { ns: out, cpuShare };
}

/** Least-squares fit of latency (us) against the lines Casbin evaluated. */
function fitPerLine(lines: number[], ns: Float64Array) {
  const n = lines.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const x = lines[i]!;
    const y = ns[i]! / 1000;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const perLine = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return { fixedUs: (sy - perLine * sx) / n, perLineUs: perLine };
}

/** p50 and p99 of the decisions by how many lines Casbin evaluated, in bands. */
function byLineBand(lines: number[], ns: Float64Array) {
  const bands = [0, 5, 10, 15, 20, 25, 30, 40, 60, Infinity];
  const out: { lines: string; share: number; p50Us: number; p99Us: number; meanUs: number }[] = [];
  for (let b = 0; b + 1 < bands.length; b++) {
    const lo = bands[b]!;
    const hi = bands[b + 1]!;
    const sel: number[] = [];
    lines.forEach((l, i) => {
      if (l >= lo && l < hi) sel.push(ns[i]!);
    });
    if (sel.length === 0) continue;
    const s = latencyStats(sel);
    out.push({
      lines: hi === Infinity ? `${lo}+` : `${lo}-${hi - 1}`,
      share: sel.length / lines.length,
      p50Us: s.p50,
      p99Us: s.p99,
      meanUs: s.mean,
    });
  }
  return out;
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

// ---------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const model = readFileSync(join(POLICY_DIR, 'model.conf'), 'utf8');
  const globalText = readFileSync(join(POLICY_DIR, 'global.csv'), 'utf8');
  const timerNs = timerOverheadNs();

  log('generating the synthetic meshes');
  const large = generateMesh('large', CONFIG.large, CONFIG.seed, globalText);
  const small = generateMesh('small', CONFIG.small, CONFIG.seed + 1, globalText);
  const check = generateQueries(large, CONFIG.referenceChecks, CONFIG.seed + 2);
  const smallCheck = generateQueries(small, CONFIG.referenceChecks / 5, CONFIG.seed + 3);
  const { warmup, timed, rounds } = CONFIG.meshgate;
  const largeWarm = generateQueries(large, warmup, CONFIG.seed + 4);
  const largeTimed = generateQueries(large, timed, CONFIG.seed + 5);
  const smallWarm = generateQueries(small, warmup, CONFIG.seed + 6);
  const smallTimed = generateQueries(small, timed, CONFIG.seed + 7);

  log(
    `loading the Meshgate engine (${fmt.int(large.pLines.length)} p lines, ${large.domains.length} domains)`,
  );
  const heap0 = heapUsed();
  const mg = await loadMeshgate(model, large);
  const heap1 = heapUsed();
  log(`  ${fmt.s(mg.ms)}; loading the naive enforcer`);
  const naive = await loadNaive(model, large);
  const heap2 = heapUsed();
  log(
    `  ${fmt.s(naive.ms)}; loading the small mesh (${fmt.int(small.pLines.length)} p lines, ${small.domains.length} domains)`,
  );
  const mgSmall = await loadMeshgate(model, small);

  // 1. Same answers. The reference evaluator checks thousands of queries quickly; any query on
  // which it and the engine differ is put to the naive enforcer, which has the last word.
  log(
    `checking ${fmt.int(check.length + smallCheck.length)} decisions against the reference evaluator`,
  );
  const differ: { mesh: Mesh; q: PolicyQuery; meshgate: boolean; reference: boolean }[] = [];
  for (const [mesh, engine, qs] of [
    [large, mg.engine, check],
    [small, mgSmall.engine, smallCheck],
  ] as const) {
    const ref = new Reference(mesh);
    for (const q of qs) {
      const a = engine.decide(q).allowed;
      const b = ref.allowed(q);
      if (a !== b) differ.push({ mesh, q, meshgate: a, reference: b });
    }
  }
  const allowRate = check.filter((q) => mg.engine.decide(q).allowed).length / check.length;
  if (differ.length > 0) {
    log(
      `${differ.length} decisions differ from the reference; asking node-casbin about the first few`,
    );
    const smallNaive = differ.some((d) => d.mesh === small)
      ? await loadNaive(model, small)
      : undefined;
    const confirmed = differ.slice(0, 10).map((d) => {
      const e = d.mesh === large ? naive.enforcer : smallNaive!.enforcer;
      return {
        mesh: d.mesh.label,
        request: describe(d.q),
        meshgate: d.meshgate,
        reference: d.reference,
        naive: naiveAllowed(e, d.q),
      };
    });
    const real = confirmed.filter((c) => c.naive !== c.meshgate);
    if (real.length > 0) {
      throw new BenchAbort(
        `the Meshgate engine and node-casbin disagree (${differ.length} of ${check.length + smallCheck.length} checked queries differ from the reference)`,
        confirmed,
      );
    }
    throw new Error(
      `the bench's reference evaluator is wrong (node-casbin sides with Meshgate): ${JSON.stringify(confirmed.slice(0, 3))}`,
    );
  }

  // 2. The naive enforcer, timed, every answer compared with the engine's and the reference's.
  log(
    `timing the naive enforcer (up to ${CONFIG.naive.maxTimed} decisions or ${CONFIG.naive.budgetMs / 1000} s)`,
  );
  const largeRef = new Reference(large);
  const naiveNs: number[] = [];
  const disagreements: {
    request: string;
    meshgate: boolean;
    naive: boolean;
    reference: boolean;
  }[] = [];
  const tNaive = process.hrtime.bigint();
  let naiveChecked = 0;
  for (let i = 0; i < check.length; i++) {
    const q = check[i]!;
    const values = requestValues(q);
    const t0 = process.hrtime.bigint();
    const [allowed] = naive.enforcer.enforceExSync(...values);
    const ns = Number(process.hrtime.bigint() - t0);
    naiveChecked++;
    const meshgate = mg.engine.decide(q).allowed;
    const reference = largeRef.allowed(q);
    if (allowed !== meshgate || allowed !== reference)
      disagreements.push({ request: describe(q), meshgate, naive: allowed, reference });
    if (i >= CONFIG.naive.warmup) naiveNs.push(ns);
    if (disagreements.length >= 5) break;
    const spent = elapsedMs(tNaive);
    if (
      naiveNs.length >= CONFIG.naive.maxTimed ||
      (naiveNs.length >= CONFIG.naive.minTimed && spent >= CONFIG.naive.budgetMs)
    )
      break;
  }
  const naiveMs = elapsedMs(tNaive);
  if (disagreements.length > 0) {
    const meshgateWrong = disagreements.some((d) => d.naive !== d.meshgate);
    throw new BenchAbort(
      meshgateWrong
        ? `the Meshgate engine and node-casbin disagree on ${disagreements.length} of ${naiveChecked} queries`
        : `the bench's reference evaluator disagrees with node-casbin on ${disagreements.length} of ${naiveChecked} queries`,
      disagreements,
    );
  }
  log(`  ${naiveNs.length} timed decisions in ${fmt.s(naiveMs)}, all ${naiveChecked} agree`);

  // 3. The engine, at 100k lines and at 10k lines, interleaved in blocks so both see the same
  // machine conditions (JIT state, GC pressure, noisy neighbours).
  log(
    `timing the Meshgate engine (${fmt.int(timed)} decisions at each size, after ${fmt.int(warmup)} warm-up)`,
  );
  const { ns: timings, cpuShare } = timeInterleaved(
    [
      { engine: mg.engine, warmup: largeWarm, timed: largeTimed },
      { engine: mgSmall.engine, warmup: smallWarm, timed: smallTimed },
    ],
    rounds,
  );
  const [largeNs, smallNs] = timings as [Float64Array, Float64Array];

  const L = latencyStats(largeNs);
  const S = latencyStats(smallNs);
  const N = latencyStats(naiveNs);
  const linesAsked = largeTimed.map((q) => mg.engine.candidates(q).length);
  const fit = fitPerLine(linesAsked, largeNs);
  const bands = byLineBand(linesAsked, largeNs);
  const slow = [...largeNs]
    .map((ns, i) => ({ ns, i }))
    .filter((x) => x.ns / 1000 > CONFIG.targets.p99Us);
  const slowLines = slow.map((x) => linesAsked[x.i]!);

  const speedupP50 = N.p50 / L.p50;
  const speedupMean = N.mean / L.mean;
  const speedup = Math.min(speedupP50, speedupMean);
  const flat = L.p50 / S.p50;
  const verdicts: Verdict[] = [
    {
      name: 'decision p99 at >= 100k lines / 1,000 domains',
      pass:
        L.p99 <= CONFIG.targets.p99Us &&
        large.pLines.length >= 100_000 &&
        large.domains.length >= 1_000,
      value: fmt.us(L.p99),
      target: `<= ${CONFIG.targets.p99Us} us`,
      detail: `p99 ${L.p99.toFixed(1)} us over ${fmt.int(L.n)} decisions, ${fmt.int(large.pLines.length)} p lines, ${large.domains.length} domains`,
    },
    {
      name: 'speedup over one naive enforcer (min of p50, mean)',
      pass: speedup >= CONFIG.targets.speedup,
      value: fmt.x(speedup),
      target: `>= ${CONFIG.targets.speedup}x`,
      detail: `p50 ${speedupP50.toFixed(0)}x, mean ${speedupMean.toFixed(0)}x (the smaller counts)`,
    },
    {
      name: 'decision cost flat in total lines (p50 100k / p50 10k)',
      pass: flat <= CONFIG.targets.flatRatio,
      value: fmt.x(flat),
      target: `<= ${CONFIG.targets.flatRatio}x`,
      detail: `p50 ${L.p50.toFixed(1)} us at ${fmt.int(large.pLines.length)} lines, ${S.p50.toFixed(1)} us at ${fmt.int(small.pLines.length)} lines`,
    },
  ];

  const meshDesc = (m: Mesh) =>
    `${fmt.int(m.pLines.length)} p lines, ${fmt.int(m.domains.length)} domains`;
  const rows: Row[] = [
    { figure: 'mesh (Meshgate | naive)', value: meshDesc(large), baseline: 'same lines' },
    {
      figure: 'users, memberships',
      value: `${fmt.int(large.users.length)} users, ${fmt.int(large.memberships.length)} memberships`,
      baseline: 'same',
    },
    {
      figure: 'load time',
      value: fmt.s(mg.ms),
      baseline: fmt.s(naive.ms),
      ratio: fmt.x(mg.ms / naive.ms),
    },
    {
      figure: 'heap used by the loaded policy',
      value: fmt.mb(heap1 - heap0),
      baseline: fmt.mb(heap2 - heap1),
      ratio: fmt.x((heap1 - heap0) / (heap2 - heap1)),
    },
    {
      figure: 'same answers (allow/deny)',
      value: `${fmt.int(check.length + smallCheck.length)} vs reference`,
      baseline: `${fmt.int(naiveChecked)} vs node-casbin`,
      ratio: '0 differ',
      verdict: 'PASS',
    },
    { figure: 'allowed share of checked queries', value: `${(allowRate * 100).toFixed(1)} %` },
    {
      figure: 'lines Casbin evaluates per decision',
      value: `mean ${(linesAsked.reduce((a, b) => a + b, 0) / linesAsked.length).toFixed(1)}, p99 ${percentile(linesAsked, 99)}, max ${Math.max(...linesAsked)}`,
      baseline: fmt.int(large.pLines.length),
    },
    {
      figure: 'decision p50',
      value: fmt.us(L.p50),
      baseline: fmt.us(N.p50),
      ratio: `${fmt.x(speedupP50)} faster`,
    },
    {
      figure: 'decision p90',
      value: fmt.us(L.p90),
      baseline: fmt.us(N.p90),
      ratio: `${fmt.x(N.p90 / L.p90)} faster`,
    },
    {
      figure: 'decision p99',
      value: fmt.us(L.p99),
      baseline: fmt.us(N.p99),
      ratio: `target <= ${CONFIG.targets.p99Us} us`,
    },
    {
      figure: 'decision p99.9 / max',
      value: `${fmt.us(L.p999)} / ${fmt.us(L.max)}`,
      baseline: `- / ${fmt.us(N.max)}`,
    },
    {
      figure: 'decision mean',
      value: fmt.us(L.mean),
      baseline: fmt.us(N.mean),
      ratio: `${fmt.x(speedupMean)} faster`,
    },
    {
      figure: 'decisions/s (one core, 1/mean)',
      value: fmt.rate(L.perSecond),
      baseline: fmt.rate(N.perSecond),
    },
    {
      figure: 'timed decisions (timer cost each)',
      value: fmt.int(L.n),
      baseline: fmt.int(N.n),
      ratio: `timer ${timerNs.toFixed(0)} ns`,
    },
    {
      figure: 'CPU share of this process while timing',
      value: `${(cpuShare * 100).toFixed(0)} %`,
      ratio: cpuShare < 0.9 ? 'machine busy: tail inflated' : '',
    },
    {
      figure: 'cost model (fit): fixed + per line',
      value: `${fmt.us(fit.fixedUs)} + ${fmt.us(fit.perLineUs)}/line`,
    },
    {
      figure: `decisions over ${CONFIG.targets.p99Us} us`,
      value: `${((slow.length / L.n) * 100).toFixed(2)} %`,
      ratio: slow.length > 0 ? `their lines: median ${percentile(slowLines, 50)}` : '',
    },
    { figure: `small mesh: ${meshDesc(small)}`, value: `load ${fmt.s(mgSmall.ms)}` },
    {
      figure: 'small mesh decision p50',
      value: fmt.us(S.p50),
      baseline: `100k: ${fmt.us(L.p50)}`,
      ratio: `${fmt.x(flat)} (100k/10k)`,
    },
    {
      figure: 'small mesh decision p99',
      value: fmt.us(S.p99),
      baseline: `100k: ${fmt.us(L.p99)}`,
      ratio: `${fmt.x(L.p99 / S.p99)} (100k/10k)`,
    },
    ...bands.map((b) => ({
      figure: `  decisions over ${b.lines} lines`,
      value: `p50 ${fmt.us(b.p50Us)}`,
      baseline: `p99 ${fmt.us(b.p99Us)}`,
      ratio: `${(b.share * 100).toFixed(1)} % of decisions`,
    })),
    ...verdicts.map((v): Row => ({
      figure: `VERDICT ${v.name}`,
      value: v.value,
      ratio: v.target,
      verdict: v.pass ? 'PASS' : 'FAIL',
    })),
  ];

  const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
  return {
    name: 'policy',
    title: 'Policy decisions: Meshgate engine vs one naive node-casbin enforcer',
    rows,
    verdicts,
    figures: {
      seed: CONFIG.seed,
      config: CONFIG,
      timerOverheadNs: timerNs,
      mesh: {
        large: {
          pLines: large.pLines.length,
          globalPLines: large.globalPLines,
          domains: large.domains.length,
          wildcardDomains: large.domains.filter((d) => d.wildcard).length,
          users: large.users.length,
          memberships: large.memberships.length,
        },
        small: {
          pLines: small.pLines.length,
          globalPLines: small.globalPLines,
          domains: small.domains.length,
          wildcardDomains: small.domains.filter((d) => d.wildcard).length,
          users: small.users.length,
          memberships: small.memberships.length,
        },
      },
      load: { meshgateMs: mg.ms, naiveMs: naive.ms, meshgateSmallMs: mgSmall.ms },
      heapMB: { meshgate: mb(heap1 - heap0), naive: mb(heap2 - heap1), afterLoads: mb(heap2) },
      agreement: {
        referenceChecked: check.length + smallCheck.length,
        naiveChecked,
        differ: 0,
        allowedShare: allowRate,
      },
      latencyUs: { meshgate: L, naive: N, meshgateSmall: S },
      speedup: { p50: speedupP50, mean: speedupMean, p90: N.p90 / L.p90, p99: N.p99 / L.p99 },
      flatRatio: { p50: flat, p99: L.p99 / S.p99, mean: L.mean / S.mean },
      naiveRunMs: naiveMs,
      cpuShareWhileTiming: cpuShare,
      linesPerDecision: {
        mean: linesAsked.reduce((a, b) => a + b, 0) / linesAsked.length,
        p50: percentile(linesAsked, 50),
        p99: percentile(linesAsked, 99),
        max: Math.max(...linesAsked),
        fit,
        bands,
        overTargetShare: slow.length / L.n,
        overTargetMedianLines: slow.length > 0 ? percentile(slowLines, 50) : null,
      },
      verdicts,
    },
  };
}

export const policyBenchmark: Benchmark = {
  name: 'policy',
  title: 'Policy decisions: Meshgate engine vs one naive node-casbin enforcer',
  run,
};
