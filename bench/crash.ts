// Crash benchmark: the embedded portal in its own process group (test/support/crash-server.ts, as
// `npm start` runs it) is killed with SIGKILL under load, `kills` times, and started again on the
// same data folder each time. Between kills, a few clients over loopback create requests (alice:
// sales/orders, which waits for bob, and finance/fx_rates, approved at once), approve them (bob)
// and revoke the grants they became (alice), so that writes, grant jobs and revoke jobs are in
// flight at every kill. After the last restart nothing is sent for `settleSeconds`; then:
//
//   acknowledged writes lost   a 2xx answer whose change is not in the store (a created request
//                              missing, an approval without bob's APPROVAL_RECORDED, a revoke whose
//                              grant is still ACTIVE)
//   without their record       any request whose status is not reached by its history's status
//                              events (each fromStatus the previous toStatus), or whose approvals
//                              lack their APPROVAL_RECORDED
//   stalled                    requests still APPROVED, GRANTING or REVOKING
//   chains                     GET /v1/audit/verify
//
// A request whose answer the kill took (no answer) is not acknowledged: it may be there or not.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BenchAbort,
  fmt,
  prng,
  untilListening,
  type Benchmark,
  type BenchResult,
  type Row,
  type Verdict,
} from './lib';

const REPO = join(__dirname, '..');
const SERVER = join(REPO, 'test', 'support', 'crash-server.ts');

export const CRASH_CONFIG = {
  kills: 10,
  /** Seconds without load after the last restart before the store is read. */
  settleSeconds: 15,
  /** Load between a restart and the next kill, in ms: drawn in this range (seeded). */
  loadMs: [700, 2500] as const,
  creators: 2,
  approvers: 2,
  revokers: 1,
  startSeconds: 60,
  seed: 14,
} as const;

const IN_FLIGHT = ['APPROVED', 'GRANTING', 'REVOKING'];

// ---------------------------------------------------------------------------------------------
// Figures (pure: see test/bench/crash.test.ts)
// ---------------------------------------------------------------------------------------------

export interface HistoryEvent {
  type: string;
  actor: string;
  fromStatus?: string;
  toStatus?: string;
}

/** A request as `GET /v1/requests/{id}` answers it, the parts read here. */
export interface RequestDetail {
  id: string;
  status: string;
  stages?: Array<{ approvals: Array<{ by: string }> }>;
  history: HistoryEvent[];
}

/**
 * What of a request's state its history does not account for: every status it went through must
 * have its event (the walk along fromStatus -> toStatus from REQUEST_CREATED must use every status
 * event and end at the status), and every approval its APPROVAL_RECORDED by the approver.
 */
export function auditGaps(r: RequestDetail): string[] {
  const gaps: string[] = [];
  const moves = r.history.filter((e) => e.toStatus !== undefined && e.fromStatus !== e.toStatus);
  const created = moves.filter((e) => e.fromStatus === undefined);
  if (created.length !== 1 || created[0]!.type !== 'REQUEST_CREATED')
    gaps.push(`${r.id}: ${created.length} creation events`);
  let at = created[0]?.toStatus;
  const left = moves.filter((e) => e.fromStatus !== undefined);
  while (left.length > 0) {
    const i = left.findIndex((e) => e.fromStatus === at);
    if (i < 0) break;
    at = left.splice(i, 1)[0]!.toStatus;
  }
  if (left.length > 0)
    gaps.push(
      `${r.id}: status events off the path: ${left.map((e) => `${e.type} ${e.fromStatus}->${e.toStatus}`).join(', ')}`,
    );
  if (at !== r.status)
    gaps.push(`${r.id}: status ${r.status}, its history ends at ${at ?? 'none'}`);
  const recorded = new Map<string, number>();
  for (const e of r.history)
    if (e.type === 'APPROVAL_RECORDED') recorded.set(e.actor, (recorded.get(e.actor) ?? 0) + 1);
  for (const a of (r.stages ?? []).flatMap((s) => s.approvals)) {
    const n = recorded.get(a.by) ?? 0;
    if (n === 0) gaps.push(`${r.id}: approval by ${a.by} without APPROVAL_RECORDED`);
    else recorded.set(a.by, n - 1);
  }
  return gaps;
}

/** The writes the server answered with a 2xx, by request id. */
export interface Acknowledged {
  created: string[];
  approved: string[];
  revoked: string[];
}

/** Acknowledged writes whose change the store does not hold (`found`: the requests read back). */
export function lostWrites(acks: Acknowledged, found: ReadonlyMap<string, RequestDetail>) {
  const lost: string[] = [];
  for (const id of acks.created) if (!found.has(id)) lost.push(`created ${id}: missing`);
  for (const id of acks.approved) {
    const r = found.get(id);
    if (!r) continue; // counted above
    const byBob = (r.stages ?? []).some((s) => s.approvals.some((a) => a.by === 'bob'));
    if (!byBob || r.status === 'PENDING')
      lost.push(`approved ${id}: ${r.status}, ${byBob ? 'approval kept' : 'no approval by bob'}`);
  }
  for (const id of acks.revoked) {
    const r = found.get(id);
    if (!r) continue;
    if (
      !['REVOKING', 'REVOKED'].includes(r.status) ||
      !r.history.some((e) => e.type === 'REVOKE_REQUESTED')
    )
      lost.push(`revoked ${id}: ${r.status}`);
  }
  return lost;
}

export interface CrashFigures {
  kills: number;
  settleSeconds: number;
  acknowledged: { created: number; approved: number; revoked: number };
  /** Calls the kill took the answer of. */
  unanswered: number;
  /** Non-2xx answers (none expected), first few. */
  refused: string[];
  refusedCount: number;
  /** Every request of the run, read back after the last restart. */
  requests: number;
  statuses: Record<string, number>;
  lost: string[];
  withoutRecord: string[];
  stalled: string[];
  chains: { ok: boolean; count: number; events: number; bad: string[] };
  /** Per restart: what the new process handed to its worker, and the time to listen. */
  restarts: Array<{ grants: number; revokes: number; ms: number }>;
  /** Per kill: how long it ran under load, and the writes acknowledged meanwhile. */
  runs: Array<{ loadMs: number; acknowledged: number }>;
  /** After the last restart, when nothing was in flight any more (none: not within settleSeconds). */
  drainedMs?: number;
}

export function crashVerdicts(f: CrashFigures): Verdict[] {
  const total = f.acknowledged.created + f.acknowledged.approved + f.acknowledged.revoked;
  const first = (xs: string[]) => (xs.length ? `; first: ${xs.slice(0, 3).join('; ')}` : '');
  return [
    {
      name: 'acknowledged writes lost',
      pass: total > 0 && f.lost.length === 0,
      value: `${f.lost.length} of ${fmt.int(total)}`,
      target: '0',
      detail: `${f.kills} kills${first(f.lost)}`,
    },
    {
      name: 'changes without their audit record',
      pass: f.requests > 0 && f.withoutRecord.length === 0,
      value: `${f.withoutRecord.length} of ${fmt.int(f.requests)} requests`,
      target: '0',
      detail: `every status with its event, every approval with its APPROVAL_RECORDED${first(f.withoutRecord)}`,
    },
    {
      name: `requests in flight ${f.settleSeconds} s after the last restart`,
      pass: f.stalled.length === 0,
      value: String(f.stalled.length),
      target: '0',
      detail: `APPROVED, GRANTING or REVOKING${first(f.stalled)}`,
    },
    {
      name: 'audit chains verify',
      pass: f.chains.ok && f.chains.count > 0,
      value: f.chains.ok ? 'ok' : 'BROKEN',
      target: 'ok',
      detail: `${f.chains.count} chains, ${fmt.int(f.chains.events)} events${first(f.chains.bad)}`,
    },
  ];
}

export function crashRows(f: CrashFigures): Row[] {
  const [lost, record, stalled, chains] = crashVerdicts(f).map((v) =>
    v.pass ? ('PASS' as const) : ('FAIL' as const),
  );
  const resumed = f.restarts.slice(1);
  const last = f.restarts[f.restarts.length - 1] ?? { grants: 0, revokes: 0 };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const ms = f.restarts.map((r) => r.ms).sort((a, b) => a - b);
  return [
    {
      figure: `kills (SIGKILL of the process group under load), restarts on the same folder`,
      value: `${f.kills} kills`,
      baseline: `${fmt.s(sum(f.runs.map((r) => r.loadMs)))} under load`,
    },
    {
      figure: 'acknowledged writes: creates / approvals / revokes',
      value: `${fmt.int(f.acknowledged.created)} / ${fmt.int(f.acknowledged.approved)} / ${fmt.int(f.acknowledged.revoked)}`,
      baseline: `${fmt.int(f.unanswered)} calls unanswered (killed)`,
      ratio: `${f.refusedCount} non-2xx`,
    },
    {
      figure: 'jobs resumed at restart: grants / revokes (all restarts)',
      value: `${fmt.int(sum(resumed.map((r) => r.grants)))} / ${fmt.int(sum(resumed.map((r) => r.revokes)))}`,
      baseline: `restart to listening: median ${fmt.ms(ms[ms.length >> 1] ?? 0)}`,
      ratio: `max ${fmt.ms(ms[ms.length - 1] ?? 0)}`,
    },
    {
      figure: 'after the last restart: in flight at its start, none left after',
      value: `${fmt.int(last.grants + last.revokes)} requests`,
      baseline: f.drainedMs === undefined ? 'still some' : fmt.s(f.drainedMs),
      ratio: `checked at ${f.settleSeconds} s`,
    },
    {
      figure: 'acknowledged writes lost',
      value: String(f.lost.length),
      ratio: '0',
      verdict: lost,
    },
    {
      figure: 'changes without their audit record',
      value: `${f.withoutRecord.length} of ${fmt.int(f.requests)} requests`,
      ratio: '0',
      verdict: record,
    },
    {
      figure: `still APPROVED / GRANTING / REVOKING ${f.settleSeconds} s after the last restart`,
      value: String(f.stalled.length),
      baseline: Object.entries(f.statuses)
        .sort()
        .map(([s, n]) => `${s} ${n}`)
        .join(', '),
      ratio: '0',
      verdict: stalled,
    },
    {
      figure: 'audit chains (GET /v1/audit/verify)',
      value: f.chains.ok ? 'ok' : 'BROKEN',
      baseline: `${f.chains.count} chains, ${fmt.int(f.chains.events)} events`,
      ratio: 'ok',
      verdict: chains,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The server and the clients
// ---------------------------------------------------------------------------------------------

interface Server {
  url: string;
  child: ChildProcess;
  resumed: { grants: number; revokes: number };
  ms: number;
  output: string[];
  exited: Promise<void>;
  kill(): Promise<void>;
}

/** The portal on `dataDir` in a process group of its own, so that a kill takes all of it. */
async function startServer(dataDir: string): Promise<Server> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, dataDir], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const resumed = { grants: 0, revokes: 0 };
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const lines = stderr.split('\n');
    stderr = lines.pop()!;
    for (const line of lines) {
      if (output.length < 50) output.push(line);
      const m = /resumed (\d+) grant\(s\) and (\d+) revoke\(s\)/.exec(line);
      if (m) Object.assign(resumed, { grants: Number(m[1]), revokes: Number(m[2]) });
    }
  });
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      resolve();
    }),
  );
  const port = Number(
    (await untilListening(child, /listening (\d+)/, CRASH_CONFIG.startSeconds, () => output))[1],
  );
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    resumed,
    ms: Date.now() - t0,
    output,
    exited,
    async kill() {
      if (code === undefined) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}

/** Thrown by `api` when the call got no answer (the server was killed under it). */
class NoAnswer extends Error {}

async function api(
  url: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the benchmark reads whatever the API answers
): Promise<{ status: number; json: any }> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    text = await res.text();
  } catch (err) {
    throw new NoAnswer(err instanceof Error ? err.message : String(err));
  }
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, json };
}

async function signIn(url: string, users: string[]): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const user of users) {
    const r = await api(url, null, 'POST', '/auth/dev-login', { user });
    if (r.status !== 200) throw new BenchAbort(`dev-login ${user}: ${r.status}`, r.json);
    tokens[user] = r.json.token;
  }
  return tokens;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the clients share across runs: what was acknowledged, and what is left to do. */
interface Work {
  acks: Acknowledged;
  /** sales/orders requests acknowledged as created, waiting for bob. */
  toApprove: string[];
  /** Approved requests (by bob or at once) to revoke once ACTIVE. */
  toRevoke: string[];
  unanswered: number;
  refused: string[];
  refusedCount: number;
  n: number;
  stamp: string;
}

/**
 * The clients against one server until `killed()`: creators, approvers and revokers in loops. A
 * call the kill takes stops its loop; what it was doing is neither acknowledged nor retried.
 */
async function load(url: string, tokens: Record<string, string>, w: Work, killed: () => boolean) {
  const refuse = (what: string, r: { status: number; json: unknown }) => {
    w.refusedCount++;
    if (w.refused.length < 5)
      w.refused.push(`${what}: ${r.status} ${JSON.stringify(r.json).slice(0, 160)}`);
  };
  const creator = async () => {
    const i = w.n++;
    const productId = i % 3 === 2 ? 'finance/fx_rates' : 'sales/orders';
    const r = await api(url, tokens.alice!, 'POST', '/v1/requests', {
      productId,
      principal: `arn:aws:iam::555555555555:role/crash-${w.stamp}-${i}`,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 7, unit: 'days' },
      purpose: `Crash benchmark request ${i}`,
    });
    if (r.status !== 201) return refuse('create', r);
    w.acks.created.push(r.json.id);
    (r.json.status === 'PENDING' ? w.toApprove : w.toRevoke).push(r.json.id);
  };
  const approver = async () => {
    const id = w.toApprove.shift();
    if (!id) return sleep(5);
    const r = await api(url, tokens.bob!, 'POST', `/v1/requests/${id}/approve`, {
      comment: 'approved under the crash benchmark',
    });
    if (r.status !== 200) return refuse('approve', r);
    w.acks.approved.push(id);
    w.toRevoke.push(id);
  };
  const revoker = async () => {
    const id = w.toRevoke.shift();
    if (!id) return sleep(5);
    const got = await api(url, tokens.alice!, 'GET', `/v1/requests/${id}`);
    if (got.status !== 200) return refuse('read', got);
    if (got.json.status !== 'ACTIVE') {
      // Not granted yet: later (it is resumed after a kill). Ended or failed: nothing to revoke.
      if (IN_FLIGHT.includes(got.json.status)) w.toRevoke.push(id);
      return sleep(5);
    }
    const r = await api(url, tokens.alice!, 'POST', `/v1/grants/${got.json.grantId}/revoke`, {
      reason: 'revoked under the crash benchmark',
    });
    if (r.status !== 202) return refuse('revoke', r);
    w.acks.revoked.push(id);
  };
  const loop = async (step: () => Promise<unknown>) => {
    while (!killed()) {
      try {
        await step();
      } catch (err) {
        if (!(err instanceof NoAnswer)) throw err;
        w.unanswered++;
        return;
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: CRASH_CONFIG.creators }, () => loop(creator)),
    ...Array.from({ length: CRASH_CONFIG.approvers }, () => loop(approver)),
    ...Array.from({ length: CRASH_CONFIG.revokers }, () => loop(revoker)),
  ]);
}

export interface CrashOptions {
  kills: number;
  settleSeconds?: number;
  log?: (msg: string) => void;
}

/** Kills the server `kills` times under load, restarts it once more, and reads what it holds. */
export async function runCrash(opts: CrashOptions): Promise<CrashFigures> {
  const log = opts.log ?? (() => {});
  const settleSeconds = opts.settleSeconds ?? CRASH_CONFIG.settleSeconds;
  const rng = prng(CRASH_CONFIG.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'meshgate-bench-crash-'));
  const work: Work = {
    acks: { created: [], approved: [], revoked: [] },
    toApprove: [],
    toRevoke: [],
    unanswered: 0,
    refused: [],
    refusedCount: 0,
    n: 0,
    stamp: Date.now().toString(36),
  };
  const restarts: CrashFigures['restarts'] = [];
  const runs: CrashFigures['runs'] = [];
  let server: Server | undefined;
  const acked = () =>
    work.acks.created.length + work.acks.approved.length + work.acks.revoked.length;
  try {
    for (let k = 1; k <= opts.kills; k++) {
      server = await startServer(dataDir);
      restarts.push({ ...server.resumed, ms: server.ms });
      const tokens = await signIn(server.url, ['alice', 'bob']);
      const [lo, hi] = CRASH_CONFIG.loadMs;
      const loadMs = Math.round(lo + rng.next() * (hi - lo));
      const before = acked();
      let killed = false;
      const clients = load(server.url, tokens, work, () => killed);
      await sleep(loadMs);
      killed = true;
      await server.kill();
      await clients;
      runs.push({ loadMs, acknowledged: acked() - before });
      log(
        `kill ${k}/${opts.kills} after ${loadMs} ms under load: ${acked() - before} writes acknowledged (${server.resumed.grants} grants, ${server.resumed.revokes} revokes resumed at its start)`,
      );
    }

    server = await startServer(dataDir);
    const listening = Date.now();
    restarts.push({ ...server.resumed, ms: server.ms });
    log(
      `last restart in ${fmt.ms(server.ms)}: ${server.resumed.grants} grants, ${server.resumed.revokes} revokes resumed; waiting ${settleSeconds} s`,
    );
    const { url } = server;
    const tokens = await signIn(url, ['alice', 'dave']);
    const list = async () => {
      const listed = await api(url, tokens.alice!, 'GET', '/v1/requests?mine=true');
      if (listed.status !== 200)
        throw new BenchAbort(`listing requests: ${listed.status}`, listed.json);
      return listed.json.items as Array<{ id: string; status: string }>;
    };
    // For information: when the last request in flight was done, looked at twice a second.
    let drainedMs: number | undefined;
    while (Date.now() < listening + settleSeconds * 1000) {
      if (!(await list()).some((r) => IN_FLIGHT.includes(r.status))) {
        drainedMs = Date.now() - listening;
        break;
      }
      await sleep(500);
    }
    await sleep(Math.max(0, listening + settleSeconds * 1000 - Date.now()));

    const all = await list();
    const statuses: Record<string, number> = {};
    for (const r of all) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const stalled = all
      .filter((r) => IN_FLIGHT.includes(r.status))
      .map((r) => `${r.id} ${r.status}`);
    log(`${all.length} requests, ${stalled.length} in flight; reading each with its history`);

    const found = new Map<string, RequestDetail>();
    const withoutRecord: string[] = [];
    const ids = [...new Set([...all.map((r) => r.id), ...work.acks.created])];
    for (const id of ids) {
      const r = await api(url, tokens.alice!, 'GET', `/v1/requests/${id}`);
      if (r.status === 404) continue;
      if (r.status !== 200) throw new BenchAbort(`reading ${id}: ${r.status}`, r.json);
      found.set(id, r.json);
      withoutRecord.push(...auditGaps(r.json));
    }
    const verify = await api(url, tokens.dave!, 'GET', '/v1/audit/verify');
    if (verify.status !== 200) throw new BenchAbort(`audit verify: ${verify.status}`, verify.json);
    const chains = verify.json.chains as Array<{
      chain: string;
      count: number;
      ok: boolean;
      firstBad?: { seq: number; problem: string };
    }>;
    return {
      kills: opts.kills,
      settleSeconds,
      acknowledged: {
        created: work.acks.created.length,
        approved: work.acks.approved.length,
        revoked: work.acks.revoked.length,
      },
      unanswered: work.unanswered,
      refused: work.refused,
      refusedCount: work.refusedCount,
      requests: found.size,
      statuses,
      lost: lostWrites(work.acks, found),
      withoutRecord,
      stalled,
      chains: {
        ok: verify.json.ok === true,
        count: chains.length,
        events: chains.reduce((s, c) => s + c.count, 0),
        bad: chains
          .filter((c) => !c.ok)
          .map((c) => `${c.chain} at seq ${c.firstBad?.seq}: ${c.firstBad?.problem}`),
      },
      restarts,
      runs,
      drainedMs,
    };
  } finally {
    await server?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const f = await runCrash({ kills: CRASH_CONFIG.kills, log });
  return {
    name: 'crash',
    title: `Crash and restart: ${f.kills} kills of the server under load, on one data folder`,
    rows: crashRows(f),
    verdicts: crashVerdicts(f),
    figures: f as unknown as Record<string, unknown>,
  };
}

export const crashBenchmark: Benchmark = {
  name: 'crash',
  title: 'Crash and restart under load',
  run,
};
