// `npm run bench`: runs every benchmark below, prints one table of every figure beside its baseline
// and verdict, and writes one report, bench/results/latest.json. `npm run bench -- load bundles`
// runs only the benchmarks named (the report then holds those). `-- --markdown` also prints the
// table in Markdown, as the README shows it. A target that is missed is a FAIL row, not a failed
// run: the exit code is non-zero only when a benchmark breaks or finds a wrong answer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import {
  BenchAbort,
  renderMarkdown,
  renderTable,
  selectBenchmarks,
  type Benchmark,
  type BenchResult,
  type Section,
} from './lib';
import { authzBenchmark } from './authz';
import { bundleBenchmark } from './bundles';
import { crashBenchmark } from './crash';
import { exportBenchmark } from './export';
import { lakeFormationBenchmark } from './lakeformation';
import { loadBenchmark } from './load';
import { policyBenchmark } from './policy';
import { scaleBenchmark } from './scale';
import { webBenchmark } from './web';

/** Add a benchmark here to have it run, printed and reported. */
const BENCHMARKS: Benchmark[] = [
  policyBenchmark,
  lakeFormationBenchmark,
  exportBenchmark,
  loadBenchmark,
  authzBenchmark,
  bundleBenchmark,
  webBenchmark,
  crashBenchmark,
  scaleBenchmark,
];

const RESULTS_DIR = join(__dirname, 'results');

interface Outcome {
  name: string;
  title: string;
  status: 'ok' | 'aborted' | 'error';
  seconds: number;
  result?: BenchResult;
  error?: { message: string; details?: unknown };
}

async function main(args: string[]): Promise<number> {
  const { selected, unknown } = selectBenchmarks(BENCHMARKS, args);
  if (unknown.length > 0) {
    console.error(
      `Unknown benchmark ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.name).join(', ')} (none named: all).`,
    );
    return 2;
  }
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const cpu = cpus();
  const machine = {
    node: process.version,
    platform: platform(),
    release: release(),
    arch: arch(),
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    totalMemoryMB: Math.round(totalmem() / 1024 / 1024),
    loadAverageAtStart: loadavg(),
  };
  console.log(
    `Meshgate benchmarks (${selected.map((b) => b.name).join(', ')}): node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, ${machine.platform} ${machine.arch}`,
  );
  const [load1] = machine.loadAverageAtStart;
  if (load1! > machine.cores / 2) {
    console.log(
      `Note: load average ${load1!.toFixed(2)} on ${machine.cores} cores; other work on this machine inflates the latency tails.`,
    );
  }

  const outcomes: Outcome[] = [];
  for (const bench of selected) {
    const tb = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - tb) / 1e9;
    const log = (msg: string) => console.error(`[${bench.name} ${seconds().toFixed(1)}s] ${msg}`);
    try {
      const result = await bench.run(log);
      outcomes.push({
        name: bench.name,
        title: bench.title,
        status: 'ok',
        seconds: seconds(),
        result,
      });
    } catch (err) {
      const aborted = err instanceof BenchAbort;
      const e = err as Error;
      outcomes.push({
        name: bench.name,
        title: bench.title,
        status: aborted ? 'aborted' : 'error',
        seconds: seconds(),
        error: { message: e.message, details: aborted ? err.details : e.stack },
      });
    }
  }

  const sections: Section[] = outcomes.map((o) => ({
    title: `${o.result?.title ?? o.title} (${o.seconds.toFixed(1)} s)`,
    rows: o.result?.rows ?? [],
    note: o.result
      ? undefined
      : `${o.status === 'aborted' ? 'ABORTED' : 'ERROR'}: ${o.error!.message}`,
  }));
  console.log('');
  console.log(renderTable(sections));
  for (const o of outcomes.filter((x) => x.status !== 'ok')) {
    console.log(
      `\n${o.name}: ${o.status === 'aborted' ? 'ABORTED' : 'ERROR'}: ${o.error!.message}`,
    );
    const details = o.error!.details;
    if (o.status === 'aborted')
      console.log(
        `First differences:\n${JSON.stringify(Array.isArray(details) ? details.slice(0, 5) : details, null, 2)}`,
      );
    else console.log(details);
  }

  const verdicts = outcomes.flatMap((o) =>
    (o.result?.verdicts ?? []).map((v) => ({ bench: o.name, ...v })),
  );
  const failed = verdicts.filter((v) => !v.pass);
  const broken = outcomes.filter((o) => o.status !== 'ok');
  console.log('');
  for (const v of verdicts)
    console.log(
      `${v.pass ? 'PASS' : 'FAIL'}  ${v.bench}: ${v.name}: ${v.value} (target ${v.target}) - ${v.detail}`,
    );
  for (const o of broken) console.log(`${o.status.toUpperCase()}  ${o.name}: ${o.error!.message}`);
  if (args.includes('--markdown')) console.log(`\n${renderMarkdown(sections)}`);

  const report = {
    timestamp: started.toISOString(),
    wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
    command: ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' '),
    benchmarksRun: selected.map((b) => b.name),
    machine: { ...machine, loadAverageAtEnd: loadavg() },
    summary: {
      targets: verdicts.length,
      passed: verdicts.length - failed.length,
      failed: failed.map((v) => `${v.bench}: ${v.name}`),
      errors: broken.map((o) => `${o.name}: ${o.status}: ${o.error!.message}`),
    },
    benchmarks: outcomes.map((o) => ({
      name: o.name,
      title: o.title,
      status: o.status,
      seconds: o.seconds,
      ...(o.result
        ? { rows: o.result.rows, verdicts: o.result.verdicts, figures: o.result.figures }
        : {}),
      ...(o.error ? { error: o.error } : {}),
    })),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nReport: ${relative(process.cwd(), file)} (${report.wallSeconds.toFixed(1)} s)`);
  if (failed.length > 0)
    console.log(
      `${failed.length} of ${verdicts.length} targets FAILED (exit code stays 0: targets are reported, not enforced).`,
    );
  return broken.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
