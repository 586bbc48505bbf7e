// Shared pieces for the benchmarks: a seeded PRNG, latency statistics, heap readings and the
// shapes a benchmark hands back to bench/run.ts.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One row of the printed table. Empty cells are left blank. */
export interface Row {
  figure: string;
  value: string;
  baseline?: string;
  /** A ratio to the baseline, or the target the value is held to. */
  ratio?: string;
  verdict?: 'PASS' | 'FAIL';
}

export interface Verdict {
  name: string;
  pass: boolean;
  /** The measured figure, short. */
  value: string;
  target: string;
  detail: string;
}

export interface BenchResult {
  name: string;
  title: string;
  rows: Row[];
  verdicts: Verdict[];
  /** Every figure the benchmark measured, for the JSON report. */
  figures: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  title: string;
  /** Run only when named on the command line (it takes too long for every `npm run bench`). */
  onlyWhenNamed?: boolean;
  run(log: (msg: string) => void): Promise<BenchResult>;
}

/** Thrown when a benchmark finds a wrong answer (not just a slow one): the run exits non-zero. */
export class BenchAbort extends Error {
  constructor(
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

/** mulberry32: small, fast, deterministic. Returns a generator of floats in [0, 1). */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  /** Picks a key of `weights` with probability proportional to its weight. */
  const weighted = <K extends string>(weights: Readonly<Record<K, number>>): K => {
    const entries = Object.entries(weights) as [K, number][];
    let r = next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1]![0];
  };
  return { next, int, pick, chance, weighted };
}
export type Rng = ReturnType<typeof prng>;

export interface LatencyStats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Sequential decisions per second, 1e6 / mean. */
  perSecond: number;
}

/** Statistics in microseconds from timings in nanoseconds (nearest-rank percentiles). */
export function latencyStats(ns: ArrayLike<number>): LatencyStats {
  const us = Float64Array.from(ns, (v) => v / 1000).sort();
  const n = us.length;
  if (n === 0) throw new Error('no timings');
  const pct = (p: number) => us[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  const mean = us.reduce((s, v) => s + v, 0) / n;
  return {
    n,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    p999: pct(99.9),
    max: us[n - 1]!,
    mean,
    perSecond: 1e6 / mean,
  };
}

/** Cost of one `process.hrtime.bigint()` pair, in nanoseconds (median of many). */
export function timerOverheadNs(): number {
  const n = 100_000;
  const ns = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  return ns.sort()[n >> 1]!;
}

let gcFn: (() => void) | undefined | null = null;
/** A full GC if the runtime lets us have one (exposed at run time, no node flag needed). */
export function collectGarbage(): boolean {
  if (gcFn === null) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = undefined;
    }
  }
  if (!gcFn) return false;
  gcFn();
  gcFn();
  return true;
}

/** Heap used in bytes, after a full GC when one is available. */
export function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export const fmt = {
  us: (v: number) =>
    `${v < 10 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US')} us`,
  ms: (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`,
  s: (ms: number) => `${(ms / 1000).toFixed(2)} s`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
  int: (v: number) => Math.round(v).toLocaleString('en-US'),
  x: (v: number) =>
    `${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2)}x`,
  rate: (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`,
};

export const elapsedMs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A verdict on one figure against its target: `>=` a floor, `<=` a ceiling, or `=` exactly.
 * `show` formats the value and the target the same way.
 */
export function judge(
  name: string,
  value: number,
  op: '>=' | '<=' | '=',
  target: number,
  show: (v: number) => string,
  detail: string,
): Verdict {
  const pass = op === '>=' ? value >= target : op === '<=' ? value <= target : value === target;
  return {
    name,
    pass: Number.isFinite(value) && pass,
    value: show(value),
    target: `${op} ${show(target)}`,
    detail,
  };
}

/** The verdicts as table rows, after the figures they judge. */
export const verdictRows = (verdicts: readonly Verdict[]): Row[] =>
  verdicts.map((v) => ({
    figure: `VERDICT ${v.name}`,
    value: v.value,
    ratio: v.target,
    verdict: v.pass ? 'PASS' : 'FAIL',
  }));

export interface Section {
  title: string;
  rows: readonly Row[];
  /** Why there are no rows (the benchmark broke), printed in their place. */
  note?: string;
}

const HEADER = ['figure', 'Meshgate', 'baseline', 'ratio / target', 'verdict'] as const;

/**
 * One plain-text table of every section: the header once, then each section's title and its
 * rows, columns padded to the widest cell of the whole table.
 */
export function renderTable(sections: readonly Section[]): string {
  const cells = (r: Row) => [r.figure, r.value, r.baseline ?? '', r.ratio ?? '', r.verdict ?? ''];
  const all = [[...HEADER], ...sections.flatMap((s) => s.rows.map(cells))];
  const widths = HEADER.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const out = [line([...HEADER]), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const s of sections) {
    out.push('', `== ${s.title}`);
    if (s.note) out.push(s.note);
    out.push(...s.rows.map((r) => line(cells(r))));
  }
  return out.join('\n');
}

/** The same table in Markdown (for the README): a bold row names each section. */
export function renderMarkdown(sections: readonly Section[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const row = (cells: readonly string[]) => `| ${cells.map(esc).join(' | ')} |`;
  const out = [row(HEADER), row(HEADER.map(() => '---'))];
  for (const s of sections) {
    out.push(row([`**${s.title}**`, '', '', '', '']));
    if (s.note) out.push(row([s.note, '', '', '', '']));
    for (const r of s.rows)
      out.push(row([r.figure, r.value, r.baseline ?? '', r.ratio ?? '', r.verdict ?? '']));
  }
  return out.join('\n');
}

/**
 * Which benchmarks a command line asks for: every one when it names none (except those run only
 * when named), else those it names, in the order they are registered. Arguments starting with
 * `--` are options, not names.
 */
export function selectBenchmarks<B extends { name: string; onlyWhenNamed?: boolean }>(
  all: readonly B[],
  args: readonly string[],
): { selected: B[]; unknown: string[] } {
  const names = args.filter((a) => !a.startsWith('--'));
  const known = new Set(all.map((b) => b.name));
  const unknown = names.filter((n) => !known.has(n));
  const selected =
    names.length === 0
      ? all.filter((b) => !b.onlyWhenNamed)
      : all.filter((b) => names.includes(b.name));
  return { selected, unknown };
}

/**
 * Waits for a server the benchmark started to say it listens: the first stdout line matching
 * `pattern`. Rejects if the process exits first (with its last lines of `recent()`) or takes
 * longer than `seconds`.
 */
export function untilListening(
  child: import('node:child_process').ChildProcess,
  pattern: RegExp,
  seconds: number,
  recent: () => string[],
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not listen within ${seconds} s`)),
      seconds * 1000,
    );
    let pending = '';
    const onData = (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      const m = lines.map((line) => pattern.exec(line)).find((x) => x !== null);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(m);
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the server exited (${code}) before listening: ${recent().slice(-10).join(' | ')}`,
        ),
      );
    });
  });
}
