// Scale benchmark: the API's read paths on a small and a large generated mesh.
//
// Each store is seeded by `npm run seed` (bench/seed.ts, in its own process), then the embedded
// portal is built on the seeded folder in a process of its own (bench/scale-server.ts: one per
// size, with nothing else in it, so its memory is the server's), as `npm start` builds it
// (start-up chain check included, no timers) and started as `npm start` starts its server (tsx,
// with the start script's environment and node flags: bench/start-command.ts), with a counting
// middleware on its DynamoDB client.
// Each call is
// made through `app.request()` (no network) as the user it is about, `?limit=50` on lists; the
// answer's `items` is read when it is an object that has them, else the array itself (so the
// benchmark reads the lists as they are today and once they page). Per call: latency (p50, p99),
// response bytes, items, and DynamoDB commands. Targets: p99 at the large size within 1.5x of the
// small, no response over 1 MB, and the server process's RSS under 512 MB at the large size.
//
// Sizes: small 1k products / 10k requests; large 100k products / 1M requests, or with `--quick`
// 20k products / 100k requests. `--keep-data` keeps the seeded folders (in the system's temporary
// folder) and reuses them on the next run; a folder kept by an earlier run is reused and never
// deleted. Like with like: at each size the inbox, the audit window and a one-product search are
// chosen from the seeded data so that both sizes read the same page sizes (`chooseSubjects`).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedPortal } from '../functions/wiring/local';
import { policyWithLimits } from '../test/support/portal';
import {
  collectGarbage,
  fmt,
  judge,
  latencyStats,
  verdictRows,
  type Benchmark,
  type BenchResult,
  type Row,
  type Verdict,
} from './lib';
import type { SeedReport } from './seed';
import { npmStart } from './start-command';

const REPO = join(__dirname, '..');

export interface Size {
  label: 'small' | 'large';
  domains: number;
  products: number;
  requests: number;
}
export const SIZES = {
  small: { label: 'small', domains: 20, products: 1_000, requests: 10_000 },
  large: { label: 'large', domains: 1_000, products: 100_000, requests: 1_000_000 },
  quickLarge: { label: 'large', domains: 200, products: 20_000, requests: 100_000 },
} as const satisfies Record<string, Size>;
const SEED = 1;

/**
 * The large size: `--quick`'s, or the full one; `--large-requests=N` keeps the full catalog
 * (1,000 domains, 100,000 products) with N requests (a size that fits the time at hand).
 */
export function largeSize(argv: readonly string[]): Size {
  if (argv.includes('--quick')) return SIZES.quickLarge;
  const arg = argv.find((a) => a.startsWith('--large-requests='));
  if (!arg) return SIZES.large;
  const n = Number(arg.slice('--large-requests='.length).replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new Error('--large-requests takes a number of requests');
  return { ...SIZES.large, requests: n };
}

const CONFIG = {
  /** Calls per endpoint: at most `calls`, and no more once `seconds` have passed (at least `min`). */
  calls: 200,
  /**
   * Calls per endpoint before the timed ones, at both sizes alike, reported apart (the first
   * call's time): the first calls of a route run its code before V8 has optimised it and fill
   * the per-process caches (the caller's held grants, the index's version), work that at the large
   * size lands in the p99 of the steady state it is not part of.
   */
  warmup: 5,
  min: 3,
  seconds: 20,
  limit: 50,
  maxResponseBytes: 1024 * 1024,
  maxRssBytes: 512 * 1024 * 1024,
  maxP99Ratio: 1.5,
} as const;

// ---------------------------------------------------------------------------------------------
// Figures and verdicts (pure: see test/bench/scale.test.ts)
// ---------------------------------------------------------------------------------------------

/** The list of an answer: its `items` when it is an object holding them, else the array itself. */
export function itemsOf(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json;
  if (json && typeof json === 'object' && Array.isArray((json as { items?: unknown }).items))
    return (json as { items: unknown[] }).items;
  return undefined;
}

export interface CallFigures {
  endpoint: string;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  /** The first call's time (the first of CONFIG.warmup calls, not in p50 / p99). */
  firstMs?: number;
  /** Largest response, in bytes. */
  maxBytes: number;
  /** Items in the last answer (undefined: not a list). */
  items?: number;
  /** DynamoDB commands per call: mean, and the last call's by command name. */
  commands: number;
  commandNames: Record<string, number>;
  statuses: Record<string, number>;
}

export interface SizeFigures {
  size: Size;
  seed: Pick<SeedReport, 'seconds' | 'cpuSeconds' | 'items' | 'itemsPerSecond'> & {
    reused: boolean;
  };
  /** Time to a portal ready to serve (start-up chain check, in-flight work done). */
  startMs: number;
  /** RSS once started, and after every call. */
  startRssBytes: number;
  rssBytes: number;
  /** The server process's memory after every call (before any forced GC), and its peak RSS. */
  memory?: ServerMemory;
  /** Who and what was asked (chosen so that both sizes read the same page sizes). */
  subjects?: Subjects;
  calls: CallFigures[];
}

export interface ServerMemory {
  peakRssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Memory held outside the JS heap by JS objects (Buffers, typed arrays). */
  externalBytes: number;
  arrayBuffersBytes: number;
  /** RSS and heap used after a full GC (information: the target is read before it). */
  rssAfterGcBytes?: number;
  heapUsedAfterGcBytes?: number;
  /** What the RSS is made of (Linux: /proc/self/status and /proc/self/smaps), after the calls. */
  breakdown?: RssBreakdown;
}

/**
 * The RSS by kind of page: anonymous (the JS heap, native heaps such as LevelDB's block cache
 * and write buffer, stacks) and file-backed (code, and LevelDB's table files mapped for reading),
 * with the share of the file-backed pages that are LevelDB tables (`*.ldb` maps).
 */
export interface RssBreakdown {
  anonBytes: number;
  fileBytes: number;
  shmemBytes: number;
  tableMapBytes: number;
  tableMaps: number;
  /**
   * The resident pages of glibc's malloc heaps: the main arena (`[heap]`) and the arenas of other
   * threads (each reserved as 64 MB, aligned on 64 MB). Native memory: LevelDB's blocks and
   * tables, Buffers and typed arrays under glibc's mmap threshold, V8's and libuv's own.
   */
  mallocBytes?: number;
  /** How many malloc heaps (the main arena and the threads' arenas) are mapped. */
  mallocArenas?: number;
  /** The process's threads. */
  threads?: number;
}

/** The 64 MB reserved for each glibc malloc arena of a thread (HEAP_MAX_SIZE on 64-bit). */
const ARENA_BYTES = 64n * 1024n * 1024n;

/**
 * The resident bytes of glibc's malloc heaps in a /proc/PID/smaps text: `[heap]` (the main arena)
 * and each thread arena, an anonymous read-write mapping that starts on a 64 MB boundary and,
 * with the reserved (`---p`) mapping right after it, spans exactly 64 MB.
 */
export function mallocOfSmaps(smaps: string): Pick<RssBreakdown, 'mallocBytes' | 'mallocArenas'> {
  const maps: Array<{ start: bigint; end: bigint; perms: string; name: string; rss: number }> = [];
  for (const line of smaps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+ *(.*)$/.exec(line);
    if (m)
      maps.push({
        start: BigInt(`0x${m[1]}`),
        end: BigInt(`0x${m[2]}`),
        perms: m[3]!,
        name: m[4]!.trim(),
        rss: 0,
      });
    else if (line.startsWith('Rss:') && maps.length)
      maps[maps.length - 1]!.rss = Number(/(\d+) kB/.exec(line)?.[1] ?? 0) * 1024;
  }
  let bytes = 0;
  let arenas = 0;
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    const reserved =
      next && next.start === m.end && next.perms === '---p' && !next.name
        ? next.end - next.start
        : 0n;
    const arena =
      !m.name &&
      m.perms.startsWith('rw') &&
      m.start % ARENA_BYTES === 0n &&
      m.end - m.start + reserved === ARENA_BYTES;
    if (m.name === '[heap]' || arena) {
      bytes += m.rss;
      arenas++;
    }
  });
  return { mallocBytes: bytes, mallocArenas: arenas };
}

/** RssAnon, RssFile and RssShmem of a /proc/PID/status text (kB), in bytes. */
export function rssOfStatus(
  status: string,
): Pick<RssBreakdown, 'anonBytes' | 'fileBytes' | 'shmemBytes'> {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { anonBytes: kb('RssAnon'), fileBytes: kb('RssFile'), shmemBytes: kb('RssShmem') };
}

/** The resident bytes and number of the mappings of LevelDB table files in a /proc/PID/smaps text. */
export function tableMapsOfSmaps(smaps: string): Pick<RssBreakdown, 'tableMapBytes' | 'tableMaps'> {
  let bytes = 0;
  let maps = 0;
  let inTable = false;
  for (const line of smaps.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      inTable = /\.(ldb|sst)$/.test(line.trim());
      if (inTable) maps++;
    } else if (inTable && line.startsWith('Rss:')) {
      bytes += Number(/(\d+) kB/.exec(line)?.[1] ?? 0) * 1024;
    }
  }
  return { tableMapBytes: bytes, tableMaps: maps };
}

function rssBreakdown(): RssBreakdown | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const threads = /^Threads:\s+(\d+)/m.exec(status);
    return {
      ...rssOfStatus(status),
      ...tableMapsOfSmaps(smaps),
      ...mallocOfSmaps(smaps),
      ...(threads ? { threads: Number(threads[1]) } : {}),
    };
  } catch {
    return undefined; // not Linux
  }
}

/** The items each of these answers holds at both sizes: a full page, or the one product. */
export const SAME_ITEMS: Record<string, number> = {
  'one-product search': 1,
  'my requests': CONFIG.limit,
  inbox: CONFIG.limit,
  grants: CONFIG.limit,
  'audit page': CONFIG.limit,
};

export function scaleVerdicts(small: SizeFigures, large: SizeFigures): Verdict[] {
  const out: Verdict[] = [];
  for (const l of large.calls) {
    const s = small.calls.find((c) => c.endpoint === l.endpoint);
    if (!s) continue;
    out.push(
      judge(
        `${l.endpoint}: p99 large / small`,
        s.p99Ms > 0 ? l.p99Ms / s.p99Ms : Infinity,
        '<=',
        CONFIG.maxP99Ratio,
        fmt.x,
        `${fmt.ms(l.p99Ms)} at ${fmt.int(large.size.requests)} requests vs ${fmt.ms(s.p99Ms)} at ${fmt.int(small.size.requests)}`,
      ),
    );
  }
  const all = [...small.calls, ...large.calls];
  const biggest = all.reduce((a, b) => (b.maxBytes > a.maxBytes ? b : a), all[0]!);
  out.push(
    judge(
      'largest response',
      biggest?.maxBytes ?? 0,
      '<=',
      CONFIG.maxResponseBytes,
      fmt.mb,
      biggest ? `${biggest.endpoint}` : 'no calls',
    ),
  );
  out.push(
    judge(
      'server RSS at the large size',
      large.rssBytes,
      '<=',
      CONFIG.maxRssBytes,
      fmt.mb,
      'after every call, the server process (embedded store and API, one size alone)',
    ),
  );
  // Like with like: each listing reads a full page at both sizes, the one-product search one.
  const uneven: string[] = [];
  for (const [endpoint, want] of Object.entries(SAME_ITEMS)) {
    for (const f of [small, large]) {
      const c = f.calls.find((x) => x.endpoint === endpoint);
      if (!c || c.items !== want)
        uneven.push(`${f.size.label} ${endpoint}: ${c ? (c.items ?? 'none') : 'not measured'}`);
    }
  }
  out.push({
    name: 'same work at both sizes (items per answer)',
    pass: uneven.length === 0,
    value: uneven.length === 0 ? 'same' : uneven.join('; '),
    target: 'same',
    detail: Object.entries(SAME_ITEMS)
      .map(([e, n]) => `${e}: ${n}`)
      .join(', '),
  });
  const failed = all.filter((c) => Object.keys(c.statuses).some((k) => !k.startsWith('2')));
  out.push({
    name: 'every call answered 2xx',
    pass: failed.length === 0,
    value:
      failed.length === 0
        ? 'all'
        : failed.map((c) => `${c.endpoint} ${JSON.stringify(c.statuses)}`).join('; '),
    target: 'all',
    detail: `${all.reduce((n, c) => n + c.calls, 0)} calls`,
  });
  return out;
}

export function sizeRows(f: SizeFigures): Row[] {
  const { size } = f;
  const rows: Row[] = [
    {
      figure: `${size.label}: ${fmt.int(size.domains)} domains, ${fmt.int(size.products)} products, ${fmt.int(size.requests)} requests`,
      value: `${fmt.int(f.seed.items)} items`,
      baseline: f.seed.reused
        ? 'seeded earlier (--keep-data)'
        : `seeded in ${f.seed.seconds.toFixed(0)} s, ${fmt.rate(f.seed.itemsPerSecond)}`,
      ratio: f.seed.reused ? '' : `${f.seed.cpuSeconds.toFixed(0)} s of CPU`,
    },
    {
      figure: `${size.label}: portal start (chain check, in-flight requests finished)`,
      value: fmt.s(f.startMs),
      baseline: `RSS ${fmt.mb(f.startRssBytes)}`,
    },
  ];
  if (f.subjects)
    rows.push({
      figure: `${size.label}: asked about`,
      value: `inbox of ${f.subjects.approver}`,
      baseline: `audit ${f.subjects.auditWindow.from.slice(0, 10)} .. ${f.subjects.auditWindow.to.slice(0, 10)}`,
      ratio: `one-product search "${f.subjects.oneProductQuery}"`,
    });
  for (const c of f.calls) {
    const names = Object.entries(c.commandNames)
      .map(([n, k]) => `${k} ${n.replace(/Command$/, '')}`)
      .join(', ');
    rows.push({
      figure: `${size.label}: ${c.endpoint}: p50 / p99 (${c.calls} calls${c.firstMs === undefined ? '' : `; the first, before ${CONFIG.warmup} not timed: ${fmt.ms(c.firstMs)}`})`,
      value: `${fmt.ms(c.p50Ms)} / ${fmt.ms(c.p99Ms)}`,
      baseline: `${fmt.mb(c.maxBytes)}${c.items === undefined ? '' : `, ${fmt.int(c.items)} items`}`,
      ratio: `${c.commands.toFixed(c.commands % 1 ? 1 : 0)} DynamoDB commands (${names})`,
    });
  }
  const m = f.memory;
  rows.push({
    figure: `${size.label}: server RSS after the calls`,
    value: fmt.mb(f.rssBytes),
    baseline: m ? `peak ${fmt.mb(m.peakRssBytes)}` : undefined,
    ratio: m
      ? `heap ${fmt.mb(m.heapUsedBytes)} of ${fmt.mb(m.heapTotalBytes)}, external ${fmt.mb(m.externalBytes)}` +
        (m.rssAfterGcBytes === undefined
          ? ''
          : `; after a full GC: RSS ${fmt.mb(m.rssAfterGcBytes)}, heap ${fmt.mb(m.heapUsedAfterGcBytes ?? 0)}`)
      : undefined,
  });
  const b = m?.breakdown;
  if (b)
    rows.push({
      figure: `${size.label}: server RSS by kind of page`,
      value: `anonymous ${fmt.mb(b.anonBytes)}`,
      baseline: `file-backed ${fmt.mb(b.fileBytes)}`,
      ratio: `of which LevelDB tables mapped: ${fmt.mb(b.tableMapBytes)} (${fmt.int(b.tableMaps)} files)${b.shmemBytes ? `; shared ${fmt.mb(b.shmemBytes)}` : ''}`,
    });
  if (m && b?.mallocBytes !== undefined)
    rows.push({
      figure: `${size.label}: server anonymous memory by owner`,
      value: `V8 heap ${fmt.mb(m.heapTotalBytes)}`,
      baseline: `malloc heaps ${fmt.mb(b.mallocBytes)} (${fmt.int(b.mallocArenas ?? 0)} arenas${b.threads === undefined ? '' : `, ${fmt.int(b.threads)} threads`})`,
      ratio: `the rest ${fmt.mb(Math.max(0, b.anonBytes - m.heapTotalBytes - b.mallocBytes))} (blocks of 128 KB or more, each mapped on its own: the search index's arrays, LevelDB's index blocks; stacks)`,
    });
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Seeding and calling
// ---------------------------------------------------------------------------------------------

async function seeded(size: Size, dir: string, log: (m: string) => void) {
  const reportFile = join(dir, 'seed-report.json');
  if (existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as SeedReport;
    log(`${size.label}: reusing the store seeded in ${dir}`);
    return { report, reused: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const args = [
    require.resolve('tsx/cli'),
    join(REPO, 'bench', 'seed.ts'),
    '--data-dir',
    dir,
    '--domains',
    String(size.domains),
    '--products',
    String(size.products),
    '--requests',
    String(size.requests),
    '--seed',
    String(SEED),
  ];
  log(`${size.label}: seeding ${dir}`);
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n'))
      if (line.startsWith('seed:')) log(`${size.label}: ${line}`);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`npm run seed exited ${code} for the ${size.label} store`);
  return { report: JSON.parse(readFileSync(reportFile, 'utf8')) as SeedReport, reused: false };
}

/**
 * The store seeded (or reused), then its portal measured in a process of its own
 * (bench/scale-server.ts), which hands its figures back as one JSON line on stdout.
 */
async function measure(
  size: Size,
  dir: string,
  auditTo: string,
  log: (m: string) => void,
): Promise<SizeFigures> {
  const { reused } = await seeded(size, dir, log);
  // Started as `npm start` starts the server: tsx, with the start script's node flags and environment.
  const start = npmStart();
  const args = [
    require.resolve('tsx/cli'),
    ...start.nodeFlags,
    join(REPO, 'bench', 'scale-server.ts'),
    JSON.stringify({ size, dir, reused, auditTo }),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, ...start.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.startsWith('scale:')) log(line.slice(7));
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const line = out.split('\n').find((l) => l.startsWith(FIGURES));
  if (code !== 0 || !line)
    throw new Error(`the ${size.label} portal's process exited ${code} without its figures`);
  return JSON.parse(line.slice(FIGURES.length)) as SizeFigures;
}

/** What each size is asked about, so that both sizes do the same work (see `chooseSubjects`). */
export interface Subjects {
  /** An approver whose inbox holds at least a full page. */
  approver: string;
  /** An audit window (the API's default length, 30 days) holding at least a full page. */
  auditWindow: { from: string; to: string };
  /** A search that finds exactly one product. */
  oneProductQuery: string;
}

const DAY_MS = 86_400_000;
/** The audit window's length: the API's default window. */
const AUDIT_WINDOW_DAYS = 30;
/** How far back the audit windows are looked for (the seed's requests span 365 days). */
const AUDIT_WINDOWS = 13;
/** How many approvers are asked at most. */
const MAX_APPROVERS = 100;

/**
 * Like with like: at each size, from the seeded data and deterministically, the inbox of an
 * approver whose inbox holds a full page (the sample domain's owner, else the domains' owners in
 * domain order), the most recent 30-day audit window ending at `auditTo`, or 30, 60... days
 * before it, whose first page is full, and a search returning one product (a product's id as the
 * query: the sample product's, else those of its domain in the catalog's order). Throws when there is none: the sizes would not do the same work.
 */
export async function chooseSubjects(
  s: SeedReport['sample'],
  get: (user: string, path: string) => Promise<unknown>,
  auditTo: string,
  log: (m: string) => void = () => {},
): Promise<Subjects> {
  const full = (json: unknown) => (itemsOf(json)?.length ?? 0) >= CONFIG.limit;
  const page = `limit=${CONFIG.limit}`;

  let approver: string | undefined;
  const asked = new Set<string>();
  const tryApprover = async (user: string) => {
    if (asked.has(user) || asked.size >= MAX_APPROVERS) return false;
    asked.add(user);
    return full(await get(user, `/v1/approvals?${page}`));
  };
  if (await tryApprover(s.domainOwner)) approver = s.domainOwner;
  let cursor: string | undefined;
  while (!approver && asked.size < MAX_APPROVERS) {
    const domains = (await get(
      s.admin,
      `/v1/domains?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )) as { items: Array<{ owners: string[] }>; cursor?: string };
    for (const d of domains.items)
      for (const owner of d.owners) if (!approver && (await tryApprover(owner))) approver = owner;
    cursor = domains.cursor;
    if (!cursor) break;
  }
  if (!approver)
    throw new Error(`no approver's inbox holds ${CONFIG.limit} requests (${asked.size} asked)`);

  let auditWindow: Subjects['auditWindow'] | undefined;
  const end = Date.parse(auditTo);
  for (let k = 0; k < AUDIT_WINDOWS && !auditWindow; k++) {
    const to = new Date(end - k * AUDIT_WINDOW_DAYS * DAY_MS).toISOString();
    const from = new Date(end - (k + 1) * AUDIT_WINDOW_DAYS * DAY_MS).toISOString();
    if (full(await get(s.auditor, `/v1/audit?from=${from}&to=${to}&${page}`)))
      auditWindow = { from, to };
    else log(`audit window ${from} .. ${to}: less than a page`);
  }
  if (!auditWindow)
    throw new Error(`no ${AUDIT_WINDOW_DAYS}-day audit window holds ${CONFIG.limit} events`);

  // The sample product's id, else the ids of its domain's products in the catalog's order.
  const domainProducts = (await get(
    'alice',
    `/v1/products?domain=${encodeURIComponent(s.domain)}&${page}`,
  )) as { items: Array<{ id: string }> };
  let oneProductQuery: string | undefined;
  for (const q of [s.product, ...domainProducts.items.map((p) => p.id)]) {
    const found = (await get('alice', `/v1/products?q=${encodeURIComponent(q)}&${page}`)) as {
      total?: number;
    };
    if (found.total === 1) {
      oneProductQuery = q;
      break;
    }
  }
  if (!oneProductQuery)
    throw new Error(`no search for a product of ${s.domain} returns that product alone`);
  return { approver, auditWindow, oneProductQuery };
}

/** The line the server process writes its figures on (stdout). */
export const FIGURES = 'scale-figures ';

/**
 * In the server process (bench/scale-server.ts): the portal built on the seeded folder, every
 * endpoint called, and this process's memory read after the calls.
 */
export async function measureHere(
  size: Size,
  dir: string,
  reused: boolean,
  log: (m: string) => void,
  auditTo = new Date().toISOString(),
): Promise<SizeFigures> {
  const report = JSON.parse(readFileSync(join(dir, 'seed-report.json'), 'utf8')) as SeedReport;
  const t0 = Date.now();
  const portal = await createEmbeddedPortal({
    dataDir: dir,
    seed: false,
    policyDir: policyWithLimits({
      'max-calls-per-minute': 1_000_000,
      'max-open-requests': 1_000_000,
    }),
  });
  // The requests seeded in flight (approved, granting, revoking) are handed to the worker at
  // start: measured with the start, not with the first call.
  await portal.queue.onIdle();
  const startMs = Date.now() - t0;
  const startRssBytes = process.memoryUsage().rss;
  log(`${size.label}: portal ready in ${fmt.s(startMs)}`);
  const counts: Record<string, number> = {};
  portal.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown');
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'scaleBenchCommandCounter' },
  );
  try {
    const tokens = new Map<string, string>();
    const token = async (user: string) => {
      if (!tokens.has(user)) {
        const res = await portal.app.request('/auth/dev-login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user }),
        });
        if (res.status !== 200) throw new Error(`dev-login ${user}: ${res.status}`);
        tokens.set(user, ((await res.json()) as { token: string }).token);
      }
      return tokens.get(user)!;
    };
    const s = report.sample;
    const [domain, name] = s.product.split('/');
    const get = async (user: string, path: string) => {
      const res = await portal.app.request(path, {
        headers: { authorization: `Bearer ${await token(user)}` },
      });
      if (res.status !== 200) throw new Error(`GET ${path} as ${user}: ${res.status}`);
      return (await res.json()) as unknown;
    };
    const subjects = await chooseSubjects(s, get, auditTo, log);
    log(
      `${size.label}: inbox of ${subjects.approver}, audit window ${subjects.auditWindow.from} .. ${subjects.auditWindow.to}, one-product search "${subjects.oneProductQuery}"`,
    );
    const endpoints: Array<{ endpoint: string; user: string; path: string }> = [
      {
        endpoint: 'search',
        user: 'alice',
        path: `/v1/products?q=${s.searchWord}&limit=${CONFIG.limit}`,
      },
      {
        endpoint: 'one-product search',
        user: 'alice',
        path: `/v1/products?q=${encodeURIComponent(subjects.oneProductQuery)}&limit=${CONFIG.limit}`,
      },
      { endpoint: 'product page', user: 'alice', path: `/v1/products/${domain}/${name}` },
      {
        endpoint: 'my requests',
        user: s.requester,
        path: `/v1/requests?mine=true&limit=${CONFIG.limit}`,
      },
      {
        endpoint: 'inbox',
        user: subjects.approver,
        path: `/v1/approvals?limit=${CONFIG.limit}`,
      },
      { endpoint: 'grants', user: s.domainOwner, path: `/v1/grants?limit=${CONFIG.limit}` },
      {
        endpoint: 'audit page',
        user: s.auditor,
        path: `/v1/audit?from=${subjects.auditWindow.from}&to=${subjects.auditWindow.to}&limit=${CONFIG.limit}`,
      },
    ];
    const calls: CallFigures[] = [];
    for (const e of endpoints) {
      const auth = { authorization: `Bearer ${await token(e.user)}` };
      const ns: number[] = [];
      const statuses: Record<string, number> = {};
      let maxBytes = 0;
      let items: number | undefined;
      let commands = 0;
      let last: Record<string, number> = {};
      let firstMs: number | undefined;
      for (let i = 0; i < CONFIG.warmup; i++) {
        const t = process.hrtime.bigint();
        const res = await portal.app.request(e.path, { headers: auth });
        await res.text();
        firstMs ??= Number(process.hrtime.bigint() - t) / 1e6;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
      const started = Date.now();
      while (
        ns.length < CONFIG.calls &&
        (ns.length < CONFIG.min || Date.now() - started < CONFIG.seconds * 1000)
      ) {
        for (const k of Object.keys(counts)) delete counts[k];
        const t = process.hrtime.bigint();
        const res = await portal.app.request(e.path, { headers: auth });
        const body = await res.text();
        ns.push(Number(process.hrtime.bigint() - t));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        maxBytes = Math.max(maxBytes, Buffer.byteLength(body));
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        items = itemsOf(json)?.length;
        last = { ...counts };
        commands += Object.values(counts).reduce((a, b) => a + b, 0);
      }
      const st = latencyStats(ns);
      calls.push({
        endpoint: e.endpoint,
        calls: ns.length,
        p50Ms: st.p50 / 1000,
        p99Ms: st.p99 / 1000,
        firstMs,
        maxBytes,
        items,
        commands: commands / ns.length,
        commandNames: last,
        statuses,
      });
      log(`${size.label}: ${e.endpoint}: p99 ${fmt.ms(st.p99 / 1000)}, ${fmt.mb(maxBytes)}`);
    }
    const mem = process.memoryUsage();
    const breakdown = rssBreakdown();
    const memory: ServerMemory = {
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
      arrayBuffersBytes: mem.arrayBuffers,
      ...(breakdown ? { breakdown } : {}),
    };
    if (collectGarbage()) {
      const after = process.memoryUsage();
      memory.rssAfterGcBytes = after.rss;
      memory.heapUsedAfterGcBytes = after.heapUsed;
    }
    log(
      `${size.label}: RSS ${fmt.mb(mem.rss)} (peak ${fmt.mb(memory.peakRssBytes)}), heap ${fmt.mb(mem.heapUsed)}, external ${fmt.mb(mem.external)}`,
    );
    return {
      size,
      seed: {
        seconds: report.seconds,
        cpuSeconds: report.cpuSeconds,
        items: report.items,
        itemsPerSecond: report.itemsPerSecond,
        reused,
      },
      startMs,
      startRssBytes,
      rssBytes: mem.rss,
      memory,
      subjects,
      calls,
    };
  } finally {
    await portal.close();
  }
}

export const scaleBenchmark: Benchmark = {
  name: 'scale',
  title: 'Scale: read paths on a small and a large seeded mesh (embedded portal)',
  onlyWhenNamed: true,
  async run(log): Promise<BenchResult> {
    const quick = process.argv.includes('--quick');
    const keep = process.argv.includes('--keep-data');
    const sizes: Size[] = [SIZES.small, largeSize(process.argv)];
    const root = join(tmpdir(), 'meshgate-scale');
    const dirOf = (s: Size) =>
      join(root, `${s.domains}d-${s.products}p-${s.requests}r-seed${SEED}`);
    const figures: SizeFigures[] = [];
    // A store seeded by an earlier run (kept with --keep-data) is never deleted here: at the full
    // size it took tens of minutes to seed.
    const earlier = new Set(
      sizes.filter((s) => existsSync(join(dirOf(s), 'seed-report.json'))).map(dirOf),
    );
    try {
      // Both sizes' audit windows end at the same time (see chooseSubjects).
      const auditTo = new Date().toISOString();
      for (const size of sizes) figures.push(await measure(size, dirOf(size), auditTo, log));
    } finally {
      if (!keep)
        for (const size of sizes)
          if (!earlier.has(dirOf(size))) rmSync(dirOf(size), { recursive: true, force: true });
    }
    const [small, large] = figures as [SizeFigures, SizeFigures];
    const verdicts = scaleVerdicts(small, large);
    const start = npmStart();
    const started: Row = {
      figure: 'server processes: started as npm start starts its own',
      value: [
        ...Object.entries(start.env).map(([k, v]) => `${k}=${v}`),
        'tsx',
        ...start.nodeFlags,
      ].join(' '),
      baseline: "the start script's environment and node flags",
    };
    return {
      name: 'scale',
      title: `Scale: read paths at ${fmt.int(small.size.requests)} and ${fmt.int(large.size.requests)} requests (embedded portal, a server process per size${quick ? ', --quick' : ''})`,
      rows: [started, ...sizeRows(small), ...sizeRows(large), ...verdictRows(verdicts)],
      verdicts,
      figures: { quick, server: start, sizes: figures },
    };
  },
};
