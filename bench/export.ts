// Audit export benchmark: 1,000,000 audit events to CSV and to JSON Lines, formatted by the same
// csvRow/jsonlRow the API streams with and written to a temporary file through a WriteStream that is
// allowed to push back (await 'drain'). Measured: rows per second, peak RSS (sampled every 20 ms),
// and speed against a baseline that writes the same number of bytes, in pre-built chunks of the
// same size, the same way, with no formatting.
//
// Both passes start from what they write held in memory: the baseline from its bytes, the export
// from stored events, as the store hands them back (see syntheticEvents). Those are CONFIG.stored
// distinct events, built before the clock starts and cycled: formatting keeps nothing from one row
// to the next. Reading the store is not the export's work and is timed by neither pass. Beside
// them, for information, a third pass formats events made one by one during the pass (as a store
// read hands them over): it pays for making them (reported alone too) and for the cache misses and
// garbage of making them between rows, which cost from nothing to 23% more per row (less the time
// to make the events) over the runs measured when this was written.
//
// Export and baseline run in turn, CONFIG.rounds times each, and the medians are compared: one
// pass of either moves by a factor of two on a busy disk.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detailJson, eventWithDetailJson } from '../functions/domain/detail-json';
import { csvHeader, csvRow, jsonlRow } from '../functions/domain/export-format';
import type { AuditEvent, RequestStatus } from '../functions/domain/model';
import {
  BenchAbort,
  collectGarbage,
  elapsedMs,
  fmt,
  judge,
  median,
  prng,
  verdictRows,
  type Benchmark,
  type BenchResult,
  type Row,
  type Verdict,
} from './lib';

const CONFIG = {
  rows: 1_000_000,
  seed: 20260301,
  /**
   * Characters gathered before one write: the stream's unit of backpressure. 64 K measured best
   * on a 2-core machine; at 256 K and 1 M the rows' string ropes outlive the young generation
   * and the CSV export ran 1.1x to 4x slower.
   */
  chunkChars: 64 * 1024,
  /** Distinct realistic events the generator builds up front and makes every event from. */
  pool: 1_000,
  /** Distinct stored events the export formats, cycled: built before the passes, not timed. */
  stored: 10_000,
  sampleEveryMs: 20,
  /** Export and baseline passes per format, taken in turn; medians are reported. */
  rounds: 5,
  targets: { rowsPerSecond: 200_000, peakRssMB: 200, vsBaseline: 0.5 },
} as const;

const DOMAINS = ['sales', 'marketing', 'finance', 'hr', 'logistics', 'risk'] as const;
const PRODUCTS = [
  'orders',
  'leads',
  'customers',
  'invoices',
  'fx_rates',
  'employees',
  'shipments',
  'campaign_touches',
] as const;
const USERS = [
  'alice',
  'bob',
  'sam',
  'fiona',
  'grace',
  'henry',
  'carol',
  'dave',
  'erin',
  'meshgate',
] as const;
const PURPOSES = [
  'Quarterly campaign attribution',
  'Churn model, features for Q3 retraining',
  'Regulatory report: "large exposures", monthly',
  '=HYPERLINK("http://evil.example","click")',
  'Ad-hoc analysis for the finance close\nsee ticket FIN-2231',
  'Forecasting, weekly refresh; owner: data science',
];

const TYPES: Record<string, { from?: RequestStatus; to?: RequestStatus }> = {
  REQUEST_CREATED: { to: 'PENDING' },
  APPROVAL_RECORDED: {},
  REQUEST_APPROVED: { from: 'PENDING', to: 'APPROVED' },
  REQUEST_DENIED: { from: 'PENDING', to: 'DENIED' },
  FULFILMENT_STARTED: { from: 'APPROVED', to: 'GRANTING' },
  GRANT_ACTIVE: { from: 'GRANTING', to: 'ACTIVE' },
  REVOKE_REQUESTED: { from: 'ACTIVE', to: 'REVOKING' },
  GRANT_REVOKED: { from: 'REVOKING', to: 'REVOKED' },
  GRANT_EXPIRED: { from: 'REVOKING', to: 'EXPIRED' },
};
const WEIGHTS = {
  REQUEST_CREATED: 20,
  APPROVAL_RECORDED: 18,
  REQUEST_APPROVED: 16,
  REQUEST_DENIED: 3,
  FULFILMENT_STARTED: 14,
  GRANT_ACTIVE: 13,
  REVOKE_REQUESTED: 6,
  GRANT_REVOKED: 5,
  GRANT_EXPIRED: 5,
} as const;

/** A 26-character ULID-like id from a counter and a random tail. */
function ulidLike(prefix: string, n: number, r: number): string {
  return `${prefix}01j${n.toString(32).padStart(11, '0')}${Math.floor(r * 2 ** 52)
    .toString(32)
    .padStart(12, '0')}`;
}

const TYPE_NAMES = Object.keys(WEIGHTS) as (keyof typeof WEIGHTS)[];
const CUMULATIVE = (() => {
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  let acc = 0;
  return TYPE_NAMES.map((t) => (acc += WEIGHTS[t] / total));
})();
const pickType = (x: number) => {
  for (let i = 0; i < CUMULATIVE.length; i++) if (x < CUMULATIVE[i]!) return TYPE_NAMES[i]!;
  return TYPE_NAMES[TYPE_NAMES.length - 1]!;
};

/** `n` realistic audit events, built one by one from the seed (the expensive way: used for the pool). */
function realisticEvents(n: number, seed: number): AuditEvent[] {
  const rnd = prng(seed);
  const out: AuditEvent[] = [];
  let t = Date.parse('2026-01-01T00:00:00.000Z');
  let requestId = '';
  for (let i = 0; i < n; i++) {
    t += 1 + rnd.int(30_000);
    const type = pickType(rnd.next());
    const domain = rnd.pick(DOMAINS);
    const product = `${domain}/${rnd.pick(PRODUCTS)}`;
    const requestN = Math.floor(i / 5);
    // Five events in a row share a request.
    if (i % 5 === 0) requestId = ulidLike('req_', requestN, rnd.next());
    const s = TYPES[type]!;
    let detail: Record<string, unknown>;
    switch (type) {
      case 'REQUEST_CREATED':
        detail = {
          purpose: rnd.pick(PURPOSES),
          principal: `arn:aws:iam::${100000000000 + rnd.int(900000000000)}:role/analyst-${rnd.int(500)}`,
          scope: {
            permissions: ['SELECT'],
            columns: rnd.chance(0.3)
              ? { mode: 'exclude', columns: ['email', 'phone'] }
              : { mode: 'all' },
          },
          duration: { value: 1 + rnd.int(30), unit: 'days' },
        };
        break;
      case 'APPROVAL_RECORDED':
        detail = {
          stage: rnd.chance(0.8) ? 'owner' : 'compliance',
          comment: rnd.chance(0.5) ? 'ok, for Q3' : '-- approved per policy, see "DG-12"',
        };
        break;
      case 'REQUEST_APPROVED':
        detail = {
          rule: rnd.chance(0.3) ? 'auto:public-within-limit' : 'stages-complete',
          decision: { allowed: true, reason: 'every stage approved' },
        };
        break;
      case 'GRANT_ACTIVE': {
        const tables = 1 + rnd.int(3);
        detail = {
          grantId: ulidLike('grt_', requestN, rnd.next()),
          entries: Array.from({ length: tables }, (_, k) => ({
            action: 'grant',
            catalogId: '111111111111',
            database: `${domain}_gold`,
            table: `${product.split('/')[1]}_${k}`,
            principal: 'arn:aws:iam::555555555555:role/analyst',
            permissions: ['SELECT'],
            result: 'ok',
          })),
        };
        break;
      }
      case 'REQUEST_DENIED':
      case 'REVOKE_REQUESTED':
        detail = {
          reason: rnd.pick([
            'project finished',
            'use the aggregated view, not the raw table',
            '@ops: rotate roles',
          ]),
        };
        break;
      default:
        detail = {};
    }
    out.push({
      id: ulidLike('evt_', i, rnd.next()),
      at: new Date(t).toISOString(),
      type,
      actor:
        type === 'FULFILMENT_STARTED' || type === 'GRANT_ACTIVE' || type === 'GRANT_EXPIRED'
          ? 'meshgate'
          : rnd.pick(USERS),
      domain,
      requestId,
      productId: product,
      fromStatus: s.from,
      toStatus: s.to,
      detail,
    });
  }
  return out;
}

/** "00".."99". */
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
/** Base-32 digits of ids, as in ulidLike (n.toString(32)). */
const B32 = '0123456789abcdefghijklmnopqrstuv';
/** The last two base-32 digits of every counter value below 1024. */
const LOW2 = Array.from({ length: 1024 }, (_, i) => B32[i >> 5]! + B32[i & 31]!);

/**
 * Strings built by joining pieces are ropes until something reads their characters; events read
 * from a store hold flat strings. Reading one character flattens them here, in the generator.
 */
function flat(s: string): string {
  return s.charCodeAt(0) >= 0 ? s : s;
}

/**
 * `n` audit events, lazily, the same ones for the same seed: the realistic events of a pool of
 * CONFIG.pool (built once, seeded), cycled, each yielded as a shallow copy with its own id, time
 * and request (five events in a row share one). Each is what the store hands back (see
 * domain/detail-json.ts): the detail with the JSON text the store wrote for it, each event holding
 * its own copy of that text, as each read does, and its place in its domain's hash chain (chain,
 * seq, prevHash, hash: every event the store writes is sealed, and both formats export the seal;
 * the hashes are drawn from a seeded pool, linked as a chain links them). The export's input is
 * the first CONFIG.stored of them; the time to make CONFIG.rows is reported as information.
 */
const GENESIS = '0'.repeat(64);

export function* syntheticEvents(n: number, seed: number): Generator<AuditEvent> {
  const pool = realisticEvents(Math.min(n, CONFIG.pool), seed);
  // What the store wrote for each detail (domain/detail-json.ts); each event gets its own copy.
  const texts = pool.map((e) => detailJson(e.detail)!);
  // The id tail and the milliseconds come from the pool event; the counter makes ids unique.
  const tails = pool.map((e) => e.id.slice(-12));
  const reqTails = pool.map((e) => (e.requestId ?? '').slice(-12));
  const millis = pool.map((e) => e.at.slice(19));
  const hashes = pool.map((_, k) => createHash('sha256').update(`${seed}:${k}`).digest('hex'));
  const heads = new Map<string, { seq: number; hash: string }>();
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let day = -1;
  let datePrefix = '';
  let requestId = '';
  let high = '';
  for (let i = 0, p = 0; i < n; i++, p = p + 1 === pool.length ? 0 : p + 1) {
    const e = pool[p]!;
    // One event per second: the date part changes once a day (86,400 events).
    const d = Math.floor(i / 86_400);
    if (d !== day) {
      day = d;
      datePrefix = new Date(start + d * 86_400_000).toISOString().slice(0, 11);
    }
    const sec = i - d * 86_400;
    const at = flat(
      datePrefix +
        PAD2[Math.floor(sec / 3600)]! +
        ':' +
        PAD2[Math.floor(sec / 60) % 60]! +
        ':' +
        PAD2[sec % 60]! +
        millis[p]!,
    );
    // 11 base-32 digits of the counter: the 9 high ones change every 1,024 events.
    if ((i & 1023) === 0) high = (i >> 10).toString(32).padStart(9, '0');
    const c = high + LOW2[i & 1023]!;
    if (i % 5 === 0) requestId = flat('req_01j' + c + reqTails[p]!);
    const text = texts[p]!;
    const event = eventWithDetailJson(e.detail, flat(text.slice(0, 1) + text.slice(1)));
    event.id = flat('evt_01j' + c + tails[p]!);
    event.at = at;
    event.type = e.type;
    event.actor = e.actor;
    event.domain = e.domain;
    event.requestId = requestId;
    event.productId = e.productId;
    event.fromStatus = e.fromStatus;
    event.toStatus = e.toStatus;
    event.detail = e.detail;
    const head = heads.get(e.domain) ?? { seq: 0, hash: GENESIS };
    event.chain = e.domain;
    event.seq = head.seq + 1;
    event.prevHash = head.hash;
    event.hash = hashes[p]!;
    head.seq++;
    head.hash = hashes[p]!;
    heads.set(e.domain, head);
    yield event as unknown as AuditEvent;
  }
}

/** Samples RSS every few milliseconds; `stop()` gives the peak. */
function rssSampler() {
  collectGarbage();
  const start = process.memoryUsage().rss;
  let peak = start;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, CONFIG.sampleEveryMs);
  return {
    start,
    stop: () => {
      clearInterval(timer);
      sample();
      return { start, peak, growth: peak - start };
    },
  };
}

export interface Pass {
  rows: number;
  bytes: number;
  chunks: number;
  ms: number;
  rss: { start: number; peak: number; growth: number };
}

/**
 * Writes chunks to `file` with backpressure, one chunk ahead: `write` hands a chunk to the stream
 * and returns at once, so the caller makes the next chunk while this one is being written; it
 * waits (for 'drain') only before handing over the next. That is how the API streams an export:
 * the HTTP response pulls the next chunk from the use case while the socket writes the last one.
 * A writer with nothing to make between chunks (the baseline) is not helped: it writes, waits,
 * writes, as a plain `if (!write()) await drain` loop does.
 */
async function writeAll(
  file: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<number>,
): Promise<Pass> {
  const ws = createWriteStream(file);
  let chunks = 0;
  let drained: Promise<unknown> | undefined;
  const write = async (chunk: string) => {
    chunks++;
    if (drained) await drained;
    drained = ws.write(chunk) ? undefined : once(ws, 'drain');
  };
  const mem = rssSampler();
  const t0 = process.hrtime.bigint();
  const rows = await produce(write);
  if (drained) await drained;
  ws.end();
  await once(ws, 'finish');
  const ms = elapsedMs(t0);
  const rss = mem.stop();
  return { rows, bytes: ws.bytesWritten, chunks, ms, rss };
}

/** The events of `stored` over and over, to `rows` of them. */
function* cycled(stored: readonly AuditEvent[], rows: number): Generator<AuditEvent> {
  for (let i = 0, p = 0; i < rows; i++, p = p + 1 === stored.length ? 0 : p + 1) yield stored[p]!;
}

async function exportPass(
  file: string,
  format: 'csv' | 'jsonl',
  events: Iterable<AuditEvent>,
): Promise<Pass> {
  const row = format === 'csv' ? csvRow : jsonlRow;
  return writeAll(file, async (write) => {
    let buf = format === 'csv' ? csvHeader() : '';
    let rows = 0;
    for (const e of events) {
      buf += row(e);
      rows++;
      if (buf.length >= CONFIG.chunkChars) {
        await write(buf);
        buf = '';
      }
    }
    if (buf) await write(buf);
    return rows;
  });
}

/** The same bytes, in pre-built chunks of the export's average chunk size, written the same way. */
async function baselinePass(file: string, bytes: number, chunks: number): Promise<Pass> {
  const size = Math.ceil(bytes / chunks);
  const chunk = 'x'.repeat(size - 2) + '\r\n';
  return writeAll(file, async (write) => {
    let left = bytes;
    while (left >= size) {
      await write(chunk);
      left -= size;
    }
    if (left > 0) await write(chunk.slice(0, left));
    return 0;
  });
}

/** Making CONFIG.rows events as a store read does (no formatting, no writing): timed by neither pass. */
function generatorOnlyMs(): number {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (const e of syntheticEvents(CONFIG.rows, CONFIG.seed)) n += e.id.length;
  if (n === 0) throw new Error('unreachable');
  return elapsedMs(t0);
}

function head(file: string, bytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A wrong file is a broken benchmark: the header, and the first lines parse back. */
function check(file: string, format: 'csv' | 'jsonl', pass: Pass) {
  if (pass.rows !== CONFIG.rows)
    throw new BenchAbort(`${format}: exported ${pass.rows} rows, not ${CONFIG.rows}`, pass);
  if (statSync(file).size !== pass.bytes)
    throw new BenchAbort(`${format}: file size differs from the bytes written`, {
      size: statSync(file).size,
      pass,
    });
  const text = head(file, 256 * 1024);
  const first = syntheticEvents(50, CONFIG.seed);
  if (format === 'csv') {
    const expected = csvHeader() + [...first].map(csvRow).join('');
    if (!text.startsWith(expected))
      throw new BenchAbort(
        'csv: the file does not start with the header and the first 50 rows',
        text.slice(0, 500),
      );
  } else {
    const lines = text.split('\n').slice(0, 50);
    const events = [...first];
    const wrong = lines.filter(
      (l, i) => JSON.stringify(JSON.parse(l)) !== jsonlRow(events[i]!).slice(0, -1),
    );
    if (wrong.length)
      throw new BenchAbort(
        'jsonl: the first lines do not parse back to their events',
        wrong.slice(0, 3),
      );
  }
}

type Format = 'csv' | 'jsonl';
const FORMAT_NAME: Record<Format, string> = { csv: 'CSV', jsonl: 'JSON Lines' };

/**
 * Rows and verdicts of one format from its passes: medians of the wall times (and of the rates
 * they give), the highest RSS of any export pass, the ratio of the medians.
 */
export function exportFigures(
  format: Format,
  exports: readonly Pass[],
  baselines: readonly Pass[],
  targets: { rowsPerSecond: number; peakRssMB: number; vsBaseline: number },
  fresh: readonly Pass[] = [],
): { rows: Row[]; verdicts: Verdict[]; summary: Record<string, number> } {
  if (exports.length === 0 || baselines.length === 0) throw new Error('no passes');
  const name = FORMAT_NAME[format];
  const e = exports[0]!;
  const ms = median(exports.map((p) => p.ms));
  const baseMs = median(baselines.map((p) => p.ms));
  const rate = (e.rows / ms) * 1000;
  const ratio = baseMs / ms;
  const freshMs = fresh.length ? median(fresh.map((p) => p.ms)) : NaN;
  // Every pass that formats counts for memory, those with events made during the pass too.
  const peak = [...exports, ...fresh].reduce((a, p) => (p.rss.peak > a.rss.peak ? p : a));
  const peakMB = peak.rss.peak / 1024 / 1024;
  const basePeak = Math.max(...baselines.map((p) => p.rss.peak));
  const mbps = (bytes: number, t: number) =>
    `${(bytes / 1024 / 1024 / (t / 1000)).toFixed(0)} MB/s`;
  const perRow = (t: number) => `${((t * 1000) / e.rows).toFixed(2)} us`;
  const spread = (ps: readonly Pass[]) =>
    `${fmt.s(Math.min(...ps.map((p) => p.ms)))}..${fmt.s(Math.max(...ps.map((p) => p.ms)))}`;
  const rows: Row[] = [
    {
      figure: `${name}: rows/s (${fmt.int(e.rows)} rows, ${fmt.mb(e.bytes)})`,
      value: fmt.rate(rate),
      ratio: `>= ${fmt.int(targets.rowsPerSecond)}/s`,
    },
    {
      figure: `${name}: wall time, median of ${exports.length} (range)`,
      value: `${fmt.s(ms)} (${spread(exports)})`,
      baseline: `${fmt.s(baseMs)} (${spread(baselines)})`,
      ratio: `${(ratio * 100).toFixed(0)}% of baseline speed`,
    },
    { figure: `${name}: time per row`, value: perRow(ms), baseline: perRow(baseMs) },
    ...(fresh.length
      ? [
          {
            figure: `${name}: each event made during the pass, as a store read would (information)`,
            value: `${fmt.s(freshMs)} (${spread(fresh)})`,
            baseline: fmt.s(baseMs),
            ratio: `${((baseMs / freshMs) * 100).toFixed(0)}% of baseline speed`,
          },
        ]
      : []),
    { figure: `${name}: MB/s written`, value: mbps(e.bytes, ms), baseline: mbps(e.bytes, baseMs) },
    {
      figure: `${name}: peak RSS (absolute, highest pass)`,
      value: fmt.mb(peak.rss.peak),
      baseline: fmt.mb(basePeak),
      ratio: `<= ${targets.peakRssMB} MB`,
    },
    {
      figure: `${name}: peak RSS minus RSS at start`,
      value: `+${fmt.mb(peak.rss.growth)}`,
      ratio: `start ${fmt.mb(peak.rss.start)}`,
    },
  ];
  const verdicts: Verdict[] = [
    judge(
      `${name} export rows/s`,
      rate,
      '>=',
      targets.rowsPerSecond,
      fmt.rate,
      `${fmt.int(e.rows)} rows, ${fmt.mb(e.bytes)} in ${fmt.s(ms)} (median)`,
    ),
    judge(
      `${name} export peak RSS`,
      peakMB,
      '<=',
      targets.peakRssMB,
      (v) => `${v.toFixed(v % 1 ? 1 : 0)} MB`,
      `absolute peak; +${fmt.mb(peak.rss.growth)} over the ${fmt.mb(peak.rss.start)} at start`,
    ),
    judge(
      `${name} export speed vs raw write`,
      ratio,
      '>=',
      targets.vsBaseline,
      (v) => `${(v * 100).toFixed(0)}%`,
      `${fmt.s(ms)} vs ${fmt.s(baseMs)} (medians) to write the same ${fmt.mb(e.bytes)} unformatted`,
    ),
  ];
  return {
    rows,
    verdicts,
    summary: {
      rowsPerSecond: rate,
      exportMs: ms,
      baselineMs: baseMs,
      ratio,
      peakRssMB: peakMB,
      ...(fresh.length ? { freshMs, freshRatio: baseMs / freshMs } : {}),
    },
  };
}

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const dir = tmpdir();
  const stamp = `${process.pid}-${Date.now()}`;
  const files: string[] = [];
  const passes: Record<Format, { exports: Pass[]; baselines: Pass[]; fresh: Pass[] }> = {
    csv: { exports: [], baselines: [], fresh: [] },
    jsonl: { exports: [], baselines: [], fresh: [] },
  };
  try {
    const t0 = process.hrtime.bigint();
    const stored = [...syntheticEvents(CONFIG.stored, CONFIG.seed)];
    const storedMs = elapsedMs(t0);
    log(`${fmt.int(stored.length)} stored events built in ${fmt.ms(storedMs)}`);
    // Warm the formatters (JIT) on other events, writing nothing.
    let warm = 0;
    for (const e of syntheticEvents(20_000, CONFIG.seed + 1))
      warm += csvRow(e).length + jsonlRow(e).length;
    log(`warmed up (${fmt.int(warm)} chars)`);
    const genMs = generatorOnlyMs();
    log(
      `making ${fmt.int(CONFIG.rows)} events as a store read does: ${fmt.ms(genMs)} (in neither pass)`,
    );

    for (const format of ['csv', 'jsonl'] as const) {
      const file = join(dir, `meshgate-bench-export-${stamp}.${format}`);
      const baseFile = join(dir, `meshgate-bench-export-${stamp}.${format}.baseline`);
      files.push(file, baseFile);
      for (let round = 1; round <= CONFIG.rounds; round++) {
        const exp = await exportPass(file, format, cycled(stored, CONFIG.rows));
        check(file, format, exp);
        rmSync(file, { force: true });
        log(
          `${format} ${round}/${CONFIG.rounds}: ${fmt.int(exp.rows)} rows, ${fmt.mb(exp.bytes)} in ${fmt.ms(exp.ms)}, peak RSS ${fmt.mb(exp.rss.peak)} (+${fmt.mb(exp.rss.growth)})`,
        );
        const base = await baselinePass(baseFile, exp.bytes, exp.chunks);
        if (base.bytes !== exp.bytes)
          throw new BenchAbort(
            `${format}: the baseline wrote ${base.bytes} bytes, not ${exp.bytes}`,
            { base, exp },
          );
        rmSync(baseFile, { force: true });
        log(
          `${format} baseline ${round}/${CONFIG.rounds}: ${fmt.mb(base.bytes)} in ${fmt.ms(base.ms)}`,
        );
        // For information: the events made during the pass, as a store read would hand them over.
        const fresh = await exportPass(file, format, syntheticEvents(CONFIG.rows, CONFIG.seed));
        check(file, format, fresh);
        rmSync(file, { force: true });
        log(
          `${format} with events made during the pass ${round}/${CONFIG.rounds}: ${fmt.ms(fresh.ms)}`,
        );
        passes[format].exports.push(exp);
        passes[format].baselines.push(base);
        passes[format].fresh.push(fresh);
      }
    }

    const rows: Row[] = [];
    const verdicts: Verdict[] = [];
    const summary: Record<string, Record<string, number>> = {};
    for (const format of ['csv', 'jsonl'] as const) {
      const f = exportFigures(
        format,
        passes[format].exports,
        passes[format].baselines,
        CONFIG.targets,
        passes[format].fresh,
      );
      rows.push(...f.rows);
      verdicts.push(...f.verdicts);
      summary[format] = f.summary;
    }
    rows.push({
      figure: `export input: ${fmt.int(stored.length)} distinct stored events, cycled`,
      value: `built in ${fmt.ms(storedMs)}`,
      ratio: 'before the clock starts',
    });
    rows.push({
      figure: `making ${fmt.int(CONFIG.rows)} events as a store read does (information)`,
      value: fmt.s(genMs),
      ratio: 'timed by neither pass',
    });
    rows.push(...verdictRows(verdicts));

    return {
      name: 'export',
      title: `Audit export: ${fmt.int(CONFIG.rows)} events to CSV and JSON Lines (streamed to a file)`,
      rows,
      verdicts,
      figures: { config: CONFIG, storedBuildMs: storedMs, generatorOnlyMs: genMs, summary, passes },
    };
  } finally {
    for (const f of files) rmSync(f, { force: true });
  }
}

export const exportBenchmark: Benchmark = {
  name: 'export',
  title: 'Audit export: CSV and JSON Lines, streamed',
  run,
};
