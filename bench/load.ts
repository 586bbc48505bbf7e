// API load benchmark: the embedded portal exactly as `npm start` runs it (its own process, on
// 127.0.0.1, an ephemeral port, a fresh temporary data folder), driven over loopback by
// autocannon. Each route is measured for a bounded number of requests AND a bounded time:
//
//   baseline   GET /health                      the cheapest route through the same server
//   search     GET /v1/products?q=...           catalog search, signed in
//   create     POST /v1/requests                new access requests by consumers, every body unique
//   approve    POST /v1/requests/{id}/approve   the domain owner approves the requests made above
//
// Afterwards every request created is read back through the API with its history (its audit
// events), and the audit chains are verified (GET /v1/audit/verify). A route that answered any
// error, timeout or non-2xx fails; so does a request that is missing or short of its events.
import { spawn, type ChildProcess } from 'node:child_process';
import { policyWithLimits } from '../test/support/portal';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  BenchAbort,
  fmt,
  untilListening,
  type Benchmark,
  type BenchResult,
  type Row,
  type Verdict,
} from './lib';

const REPO = join(__dirname, '..');

const CONFIG = {
  connections: 8,
  /** Seconds before a request with no answer counts as a timeout (an error). */
  requestTimeoutSeconds: 10,
  /** Requests and seconds (whichever comes first) per route. */
  warmup: { amount: 200, seconds: 5 },
  health: { amount: 20_000, seconds: 5 },
  search: { amount: 5_000, seconds: 8 },
  create: { amount: 600, seconds: 20 },
  /** The approvals are the requests created above, one each, within this time. */
  approve: { seconds: 20 },
  /** How long to wait for the server to listen, and for fulfilment to settle before verifying. */
  startSeconds: 90,
  settleSeconds: 20,
  searches: ['orders', 'customer', 'pay', 'leads', 'rates', 'traffic', 'segments', 'ledger'],
} as const;

/**
 * Products whose requests wait for their domain's owner (not public, not restricted, not
 * auto-approved by a domain's policy) and the owner who approves them. Consumers ask for them:
 * alice for every product, sam (a sales steward) for those outside sales.
 */
const PRODUCTS: ReadonlyArray<{ id: string; owner: string; consumers: readonly string[] }> = [
  { id: 'sales/orders', owner: 'bob', consumers: ['alice'] },
  { id: 'sales/regional_targets', owner: 'bob', consumers: ['alice'] },
  { id: 'marketing/customer_segments', owner: 'henry', consumers: ['alice', 'sam'] },
  { id: 'finance/general_ledger', owner: 'fiona', consumers: ['alice', 'sam'] },
  { id: 'finance/invoices', owner: 'fiona', consumers: ['alice', 'sam'] },
  { id: 'hr/headcount_by_team', owner: 'grace', consumers: ['alice', 'sam'] },
];
/** Every (product, consumer) pair, taken in turn. */
const ASKS = PRODUCTS.flatMap((p) => p.consumers.map((consumer) => ({ product: p, consumer })));

// ---------------------------------------------------------------------------------------------
// Figures and verdicts (pure: see test/bench)
// ---------------------------------------------------------------------------------------------

/** What one autocannon run answered, reduced to the figures we report. */
export interface RouteFigures {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Counts per status code. */
  statuses: Record<string, number>;
  /** Stopped by the time bound before its request bound. */
  stoppedByTime: boolean;
  /**
   * CPU the server's processes used during the run, per answer (ms): what a call costs the
   * server whatever else the machine runs, unlike the rate (Linux: /proc; absent elsewhere).
   */
  serverCpuMsPerAnswer?: number;
}

export function routeFigures(r: autocannon.Result, stoppedByTime: boolean): RouteFigures {
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count ?? 0;
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    requests,
    seconds: r.duration,
    perSecond: r.duration > 0 ? requests / r.duration : 0,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statuses,
    stoppedByTime,
  };
}

/** A route passes when it answered something, and everything it answered was a 2xx in time. */
export function routeVerdict(name: string, f: RouteFigures): Verdict {
  const bad = f.errors + f.timeouts + f.non2xx;
  const others = Object.entries(f.statuses)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, n]) => `${n} x ${code}`);
  return {
    name: `${name}: errors and non-2xx`,
    pass: f.requests > 0 && bad === 0,
    value: `${f.errors} errors, ${f.timeouts} timeouts, ${f.non2xx} non-2xx`,
    target: '0 of each',
    detail: `${fmt.int(f.requests)} answers in ${f.seconds.toFixed(1)} s${others.length ? `; ${others.join(', ')}` : ''}${f.requests === 0 ? '; nothing answered' : ''}`,
  };
}

/** Table rows of a route beside the baseline route. */
export function routeRows(label: string, f: RouteFigures, base: RouteFigures): Row[] {
  const pct = (a: number, b: number) => (b > 0 ? `${((a / b) * 100).toFixed(0)}% of /health` : '');
  const times = (a: number, b: number) => (b > 0 ? `${fmt.x(a / b)} /health` : '');
  return [
    {
      figure: `${label}: req/s (${fmt.int(f.requests)} requests in ${f.seconds.toFixed(1)} s${f.stoppedByTime ? ', time bound' : ''})`,
      value: fmt.rate(f.perSecond),
      baseline: fmt.rate(base.perSecond),
      ratio: pct(f.perSecond, base.perSecond),
    },
    {
      figure: `${label}: latency p50`,
      value: fmt.ms(f.p50Ms),
      baseline: fmt.ms(base.p50Ms),
      ratio: times(f.p50Ms, base.p50Ms),
    },
    {
      figure: `${label}: latency p99`,
      value: fmt.ms(f.p99Ms),
      baseline: fmt.ms(base.p99Ms),
      ratio: times(f.p99Ms, base.p99Ms),
    },
    ...(f.serverCpuMsPerAnswer !== undefined && base.serverCpuMsPerAnswer !== undefined
      ? [
          {
            figure: `${label}: server CPU per answer`,
            value: fmt.ms(f.serverCpuMsPerAnswer),
            baseline: fmt.ms(base.serverCpuMsPerAnswer),
            ratio: pct(base.serverCpuMsPerAnswer, f.serverCpuMsPerAnswer),
          },
        ]
      : []),
    {
      figure: `${label}: errors / timeouts / non-2xx`,
      value: `${f.errors} / ${f.timeouts} / ${f.non2xx}`,
      baseline: `${base.errors} / ${base.timeouts} / ${base.non2xx}`,
      ratio: '0 / 0 / 0',
      verdict: f.requests > 0 && f.errors + f.timeouts + f.non2xx === 0 ? 'PASS' : 'FAIL',
    },
  ];
}

/** What reading every created request back found. */
export interface Verification {
  created: number;
  found: number;
  withCreatedEvent: number;
  approved: number;
  approvedWithEvents: number;
  /** Approved requests that reached ACTIVE (granted by the fulfilment worker) before verifying. */
  active: number;
  chainsOk: boolean;
  chains: number;
  chainEvents: number;
  /** Time waited, after reading every request once, for the approved ones to be granted. */
  settleMs: number;
  problems: string[];
}

export function verificationVerdict(v: Verification): Verdict {
  const pass =
    v.created > 0 &&
    v.found === v.created &&
    v.withCreatedEvent === v.created &&
    v.approvedWithEvents === v.approved &&
    v.chainsOk;
  return {
    name: 'every created request stored with its audit events; audit chains verify',
    pass,
    value: `${v.withCreatedEvent}/${v.created} created, ${v.approvedWithEvents}/${v.approved} approved, chains ${v.chainsOk ? 'ok' : 'BROKEN'}`,
    target: 'all, and ok',
    detail: `${v.active}/${v.approved} approved requests granted (ACTIVE) within ${(v.settleMs / 1000).toFixed(1)} s more; ${v.chains} chains, ${fmt.int(v.chainEvents)} events${v.problems.length ? `; first problems: ${v.problems.slice(0, 3).join('; ')}` : ''}`,
  };
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

interface Server {
  url: string;
  child: ChildProcess;
  startMs: number;
  output: string[];
  stop(): Promise<void>;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU time (ms, user and system) used so far by `pid` and the processes under it (tsx runs the
 * server in a child of its own), from /proc; undefined where there is no /proc.
 */
export function processTreeCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, in parentheses): utime and stime are 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    for (const child of children ? children.split(' ') : [])
      ms += processTreeCpuMs(Number(child)) ?? 0;
    return ms;
  } catch {
    return undefined;
  }
}

/** `npm start` in its own process, on an ephemeral loopback port, with a fresh data folder. */
async function startServer(dataDir: string): Promise<Server> {
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [require.resolve('tsx/cli'), join(REPO, 'functions', 'entry', 'local.ts')],
    {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        MESHGATE_BACKEND: 'embedded',
        MESHGATE_DATA_DIR: dataDir,
        // The load comes from a handful of demo users: what is measured is the portal's
        // throughput, not the per-user limits (those have their tests in test/http/abuse.test.ts).
        MESHGATE_POLICY_DIR: policyWithLimits({
          'max-calls-per-minute': 1_000_000,
          'max-open-requests': 1_000_000,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 200) output.splice(0, output.length - 100);
  };
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').forEach(keep));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').forEach(keep));
  const [, port] = await untilListening(
    child,
    /running at http:\/\/localhost:(\d+)/,
    CONFIG.startSeconds,
    () => output,
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    child,
    startMs: Date.now() - t0,
    output,
    async stop() {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

async function api(
  url: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the load test reads whatever the API answers
): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, json };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const cpuOf = (f: RouteFigures) =>
  f.serverCpuMsPerAnswer === undefined ? 'n/a' : fmt.ms(f.serverCpuMsPerAnswer);

// ---------------------------------------------------------------------------------------------
// The runs
// ---------------------------------------------------------------------------------------------

/**
 * Waits until the server's processes stop using CPU (less than `quietMs` in a 100 ms interval),
 * at most `maxMs`: the work a route hands over after its answers (the notifications `npm start`
 * queues after a creation's response) is then counted in the route's CPU per answer.
 */
async function settled(pid: number, quietMs = 3, maxMs = 3_000): Promise<number | undefined> {
  let last = processTreeCpuMs(pid);
  for (let waited = 0; last !== undefined && waited < maxMs; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const now = processTreeCpuMs(pid);
    if (now === undefined || now - last < quietMs) return now;
    last = now;
  }
  return last;
}

/**
 * One autocannon run, bounded by `amount` requests and `seconds` of time (stopped when it runs
 * out). With `settle`, the server's CPU is read once it has finished what the route handed over.
 */
async function cannon(
  url: string,
  bound: { amount: number; seconds: number },
  requests: autocannon.Request[],
  serverPid?: number,
  settle = false,
): Promise<RouteFigures> {
  const cpu0 = serverPid === undefined ? undefined : processTreeCpuMs(serverPid);
  let stoppedByTime = false;
  let timer: NodeJS.Timeout | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: Math.min(CONFIG.connections, bound.amount),
        pipelining: 1,
        amount: bound.amount,
        timeout: CONFIG.requestTimeoutSeconds,
        requests,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    timer = setTimeout(() => {
      stoppedByTime = true;
      instance.stop();
    }, bound.seconds * 1000);
  }).finally(() => clearTimeout(timer));
  const figures = routeFigures(result, stoppedByTime);
  const cpu1 =
    serverPid === undefined
      ? undefined
      : settle
        ? await settled(serverPid)
        : processTreeCpuMs(serverPid);
  if (cpu0 !== undefined && cpu1 !== undefined && figures.requests > 0)
    figures.serverCpuMsPerAnswer = (cpu1 - cpu0) / figures.requests;
  return figures;
}

interface Created {
  id: string;
  consumer: string;
  owner: string;
}

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshgate-bench-load-'));
  let server: Server | undefined;
  try {
    server = await startServer(dataDir);
    const { url } = server;
    log(`server listening at ${url} after ${fmt.s(server.startMs)} (data in ${dataDir})`);

    const tokens: Record<string, string> = {};
    for (const user of ['alice', 'sam', 'bob', 'henry', 'fiona', 'grace', 'dave']) {
      const r = await api(url, null, 'POST', '/auth/dev-login', { user });
      if (r.status !== 200) throw new BenchAbort(`dev-login ${user}: ${r.status}`, r.json);
      tokens[user] = r.json.token;
    }
    const auth = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });

    const healthRequests: autocannon.Request[] = [{ method: 'GET', path: '/health' }];
    let q = 0;
    const searchRequests: autocannon.Request[] = [
      {
        method: 'GET',
        headers: auth('alice'),
        setupRequest: (req) => ({
          ...req,
          path: `/v1/products?q=${CONFIG.searches[q++ % CONFIG.searches.length]}`,
        }),
      },
    ];

    log('warming up (not measured)');
    await cannon(url, CONFIG.warmup, healthRequests);
    await cannon(url, CONFIG.warmup, searchRequests);

    log('baseline: GET /health');
    const health = await cannon(url, CONFIG.health, healthRequests, server.child.pid);
    log(
      `  ${fmt.rate(health.perSecond)}, p50 ${fmt.ms(health.p50Ms)}, p99 ${fmt.ms(health.p99Ms)}, server CPU ${cpuOf(health)} per answer`,
    );

    log('catalog search: GET /v1/products?q=...');
    const search = await cannon(url, CONFIG.search, searchRequests, server.child.pid);
    log(
      `  ${fmt.rate(search.perSecond)}, p50 ${fmt.ms(search.p50Ms)}, p99 ${fmt.ms(search.p99Ms)}, server CPU ${cpuOf(search)} per answer`,
    );

    log('request creation: POST /v1/requests');
    const created: Created[] = [];
    const createFailures: string[] = [];
    const stamp = Date.now().toString(36);
    let n = 0;
    const createRequests: autocannon.Request[] = [
      {
        method: 'POST',
        setupRequest: (req, context) => {
          const i = n++;
          const { product, consumer } = ASKS[i % ASKS.length]!;
          Object.assign(context, { consumer, owner: product.owner });
          const body = {
            productId: product.id,
            principal: `arn:aws:iam::555555555555:role/bench-${stamp}-${i}`,
            scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
            duration: { value: 7, unit: 'days' },
            purpose: `Load benchmark request ${i}`,
          };
          return {
            ...req,
            path: '/v1/requests',
            headers: { ...auth(consumer), 'content-type': 'application/json' },
            body: JSON.stringify(body),
          };
        },
        onResponse: (status, body, context) => {
          const c = context as { consumer: string; owner: string };
          if (status === 201)
            created.push({
              id: (JSON.parse(body) as { id: string }).id,
              consumer: c.consumer,
              owner: c.owner,
            });
          else if (createFailures.length < 5)
            createFailures.push(`${status} ${body.slice(0, 200)}`);
        },
      },
    ];
    // Its CPU counts the approvers' notifications, which npm start writes after the response.
    const create = await cannon(url, CONFIG.create, createRequests, server.child.pid, true);
    log(
      `  ${fmt.rate(create.perSecond)}, p50 ${fmt.ms(create.p50Ms)}, p99 ${fmt.ms(create.p99Ms)}, server CPU ${cpuOf(create)} per answer; ${created.length} created`,
    );
    if (createFailures.length) log(`  failures: ${createFailures.join(' | ')}`);

    log(`approval: POST /v1/requests/{id}/approve (${created.length} requests, by their owners)`);
    const toApprove = [...created];
    const approved = new Set<string>();
    const approveFailures: string[] = [];
    let dry = 0;
    const approveRequests: autocannon.Request[] = [
      {
        method: 'POST',
        setupRequest: (req, context) => {
          const next = toApprove.shift();
          // Never expected (one request per approval): a missing id answers 404 and fails the route.
          if (!next) dry++;
          Object.assign(context, { id: next?.id });
          return {
            ...req,
            path: `/v1/requests/${next?.id ?? 'req_none'}/approve`,
            headers: { ...auth(next?.owner ?? 'bob'), 'content-type': 'application/json' },
            body: JSON.stringify({ comment: 'approved by the load benchmark' }),
          };
        },
        onResponse: (status, body, context) => {
          const { id } = context as { id?: string };
          if (status === 200 && id) approved.add(id);
          else if (approveFailures.length < 5)
            approveFailures.push(`${status} ${body.slice(0, 200)}`);
        },
      },
    ];
    const approve =
      created.length > 0
        ? await cannon(
            url,
            { amount: created.length, seconds: CONFIG.approve.seconds },
            approveRequests,
            server.child.pid,
            true,
          )
        : undefined;
    if (approve)
      log(
        `  ${fmt.rate(approve.perSecond)}, p50 ${fmt.ms(approve.p50Ms)}, p99 ${fmt.ms(approve.p99Ms)}; ${approved.size} approved`,
      );
    if (approveFailures.length) log(`  failures: ${approveFailures.join(' | ')}`);

    log('verifying: every created request with its history, then the audit chains');
    const verification = await verify(url, tokens, created, approved, log);
    log(`  ${verificationVerdict(verification).value}`);

    const routes: Array<[string, string, RouteFigures | undefined]> = [
      ['search', 'catalog search GET /v1/products?q=...', search],
      ['create', 'request creation POST /v1/requests', create],
      ['approve', 'approval POST /v1/requests/{id}/approve', approve],
    ];
    const verdicts: Verdict[] = [routeVerdict('baseline GET /health', health)];
    const rows: Row[] = [
      {
        figure: `baseline GET /health: req/s, p50, p99 (${fmt.int(health.requests)} requests in ${health.seconds.toFixed(1)} s)`,
        value: `${fmt.rate(health.perSecond)}, ${fmt.ms(health.p50Ms)}, ${fmt.ms(health.p99Ms)}`,
        ratio: `${health.errors} / ${health.timeouts} / ${health.non2xx} errors / timeouts / non-2xx`,
        verdict: verdicts[0]!.pass ? 'PASS' : 'FAIL',
      },
    ];
    for (const [, label, f] of routes) {
      if (!f) {
        rows.push({
          figure: `${label}: not run (no request was created)`,
          value: '-',
          verdict: 'FAIL',
        });
        verdicts.push({
          name: `${label}: errors and non-2xx`,
          pass: false,
          value: 'not run',
          target: '0 of each',
          detail: 'no request was created to approve',
        });
        continue;
      }
      rows.push(...routeRows(label, f, health));
      verdicts.push(routeVerdict(label, f));
    }
    const vv = verificationVerdict(verification);
    verdicts.push(vv);
    rows.push(
      {
        figure: 'requests created / found with REQUEST_CREATED',
        value: `${verification.created} / ${verification.withCreatedEvent}`,
        ratio: 'all',
        verdict:
          verification.withCreatedEvent === verification.created &&
          verification.found === verification.created &&
          verification.created > 0
            ? 'PASS'
            : 'FAIL',
      },
      {
        figure: 'approvals answered 200 / recorded (APPROVAL_RECORDED, REQUEST_APPROVED)',
        value: `${verification.approved} / ${verification.approvedWithEvents}`,
        ratio: `${verification.active} granted (ACTIVE) ${(verification.settleMs / 1000).toFixed(1)} s after`,
        verdict: verification.approvedWithEvents === verification.approved ? 'PASS' : 'FAIL',
      },
      {
        figure: 'audit chains (GET /v1/audit/verify)',
        value: verification.chainsOk ? 'ok' : 'BROKEN',
        ratio: `${verification.chains} chains, ${fmt.int(verification.chainEvents)} events`,
        verdict: verification.chainsOk ? 'PASS' : 'FAIL',
      },
      {
        figure: 'server start (spawn to listening, seeded demo mesh)',
        value: fmt.s(server.startMs),
      },
    );
    if (dry > 0)
      rows.push({
        figure: 'approval setups with no request left (answered 404)',
        value: String(dry),
        verdict: 'FAIL',
      });

    return {
      name: 'load',
      title: `API under load: autocannon, ${CONFIG.connections} connections over loopback, against npm start`,
      rows,
      verdicts,
      figures: {
        config: CONFIG,
        serverStartMs: server.startMs,
        health,
        search,
        create,
        approve,
        createFailures,
        approveFailures,
        dryApprovals: dry,
        verification,
      },
    };
  } finally {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Reads every created request back, waits (bounded) for fulfilment to settle, and verifies the chains. */
async function verify(
  url: string,
  tokens: Record<string, string>,
  created: readonly Created[],
  approved: ReadonlySet<string>,
  log: (msg: string) => void,
): Promise<Verification> {
  type Read = { status: number; json: { status?: string; history?: Array<{ type: string }> } };
  const read = (i: number) =>
    api(
      url,
      tokens[created[i]!.consumer]!,
      'GET',
      `/v1/requests/${created[i]!.id}`,
    ) as Promise<Read>;
  const all = created.map((_, i) => i);
  const reads = await pool(all, CONFIG.connections, read);
  // The worker grants approved requests in the background: give it a bounded time to finish,
  // reading again only those still on their way.
  const t0 = Date.now();
  const unsettled = () =>
    all.filter(
      (i) =>
        approved.has(created[i]!.id) &&
        !['ACTIVE', 'FAILED'].includes(reads[i]!.json?.status ?? ''),
    );
  for (
    let left = unsettled();
    left.length > 0 && Date.now() - t0 < CONFIG.settleSeconds * 1000;
    left = unsettled()
  ) {
    await new Promise((r) => setTimeout(r, 1000));
    const again = await pool(left, CONFIG.connections, read);
    left.forEach((i, k) => (reads[i] = again[k]!));
  }
  const settleMs = Date.now() - t0;
  if (unsettled().length > 0) log(`  fulfilment had not settled after ${CONFIG.settleSeconds} s`);
  const problems: string[] = [];
  let found = 0;
  let withCreatedEvent = 0;
  let approvedWithEvents = 0;
  let active = 0;
  reads.forEach((r, i) => {
    const c = created[i]!;
    if (r.status !== 200) {
      problems.push(`${c.id}: GET answered ${r.status}`);
      return;
    }
    found++;
    const types = new Set((r.json.history ?? []).map((e) => e.type));
    if (types.has('REQUEST_CREATED')) withCreatedEvent++;
    else problems.push(`${c.id}: no REQUEST_CREATED`);
    if (approved.has(c.id)) {
      if (types.has('APPROVAL_RECORDED') && types.has('REQUEST_APPROVED')) approvedWithEvents++;
      else problems.push(`${c.id}: approved but its history has ${[...types].join(',')}`);
      if (r.json.status === 'ACTIVE') active++;
    }
  });
  const chains = await api(url, tokens.dave!, 'GET', '/v1/audit/verify');
  if (chains.status !== 200) problems.push(`audit verify answered ${chains.status}`);
  const list = (chains.json?.chains ?? []) as Array<{ chain: string; ok: boolean; count: number }>;
  for (const c of list.filter((x) => !x.ok)) problems.push(`chain ${c.chain} broken`);
  return {
    created: created.length,
    found,
    withCreatedEvent,
    approved: approved.size,
    approvedWithEvents,
    active,
    chainsOk: chains.status === 200 && chains.json?.ok === true,
    chains: list.length,
    chainEvents: list.reduce((a, c) => a + (c.count ?? 0), 0),
    settleMs,
    problems,
  };
}

export const loadBenchmark: Benchmark = {
  name: 'load',
  title: 'API under load (autocannon against npm start)',
  run,
};
