// Lambda bundle benchmark: each Lambda entry bundled with esbuild exactly as the CDK stacks bundle
// it (the options are imported from infra/constructs/meshgate-function.ts), then measured: bytes
// and gzip bytes of the bundle, and cold load time, the median over several fresh `node`
// processes of the time to require the bundle until its handler is exported. Beside them, in the
// same run and the same way: a minimal Hono hello-world Lambda (bench/fixtures/hello-lambda.ts).
//
// The API is also held to issue 16's targets: its cold load at most API_LOAD_TARGET times that of
// a Hono + DynamoDB-client Lambda (bench/fixtures/hono-dynamodb-lambda.ts) bundled and loaded in
// the same run, and no Glue, Lake Formation or STS client in it: none of their packages among
// the bundle's inputs (esbuild metafile), and none of their code in its text beyond what the
// baseline carries too (the SDK's default credential chain has its own small STS client, in
// @aws-sdk/nested-clients, in every bundle with an AWS client).
//
// More bundles: pass entries to bundlesBenchmark(), or add them to EXTRA_BUNDLES below. The web
// UI's bundle, once web/build.ts exists, is one entry with its own esbuild options and no cold
// load (it runs in a browser), for example:
//
//   import { webBuildOptions } from '../web/build';
//   export const EXTRA_BUNDLES: BundleEntry[] = [
//     { name: 'web', entry: join(REPO, 'web', 'src', 'main.tsx'), options: webBuildOptions, load: false },
//   ];
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BuildOptions, Metafile } from 'esbuild';
import {
  elapsedMs,
  fmt,
  median,
  type Benchmark,
  type BenchResult,
  type Row,
  type Verdict,
} from './lib';

const REPO = join(__dirname, '..');

/** The name of the Hono + DynamoDB-client baseline bundle in the table. */
const API_BASELINE = 'baseline (Hono + DynamoDB client)';

const CONFIG = {
  /** Fresh processes per bundle for the cold load; the median is reported. */
  loads: 7,
  /** gzip level of the reported compressed size (the zip Lambda receives deflates much the same). */
  gzipLevel: 9,
  /** Seconds one cold load may take before it counts as failed. */
  loadTimeoutSeconds: 30,
} as const;

export interface BundleEntry {
  /** Short name in the table. */
  name: string;
  /** Absolute path of the entry file. */
  entry: string;
  /** esbuild options of this bundle; default: those of the Lambda functions. */
  options?: BuildOptions;
  /** Whether to measure its cold load in `node` (a bundle for the browser: false). Default true. */
  load?: boolean;
  /** The API less this part (see API_PARTS): measured, reported beside the API, no verdict. */
  leftOut?: string;
}

const LEFT_OUT = join(__dirname, 'fixtures', 'left-out');

/**
 * What each part of the API costs at cold load: the API bundled again with the part's packages
 * replaced by a module that does nothing (esbuild aliases to bench/fixtures/left-out/), loaded in
 * the same rounds as the others. Such a bundle loads but cannot serve. Information, no target:
 * it says what leaving a part out of the API's start would buy.
 */
export const API_PARTS: ReadonlyArray<{ part: string; alias: Record<string, string> }> = [
  {
    part: 'the SQS and EventBridge clients (imported at the first job or event)',
    alias: {
      '@aws-sdk/client-sqs': join(LEFT_OUT, 'empty.ts'),
      '@aws-sdk/client-eventbridge': join(LEFT_OUT, 'empty.ts'),
    },
  },
  { part: 'casbin (the policy engine)', alias: { casbin: join(LEFT_OUT, 'casbin.ts') } },
  {
    part: 'zod-to-openapi (the OpenAPI document)',
    alias: { '@asteasolutions/zod-to-openapi': join(LEFT_OUT, 'zod-to-openapi.ts') },
  },
  {
    part: 'the Powertools logger',
    alias: { '@aws-lambda-powertools/logger': join(LEFT_OUT, 'logger.ts') },
  },
];

/** Bundles added to every run besides the Lambda entries (see the top of this file). */
export const EXTRA_BUNDLES: BundleEntry[] = [];

/** The Lambda entries, as the stacks deploy them (infra/stacks reference them by these names). */
export const LAMBDA_ENTRIES = ['api', 'worker', 'scheduled', 'notifier', 'archiver'] as const;

/** The part of infra's BUNDLING the esbuild call depends on. */
export interface LambdaBundling {
  minify: boolean;
  sourceMap: boolean;
  sourcesContent: boolean;
  target: string;
  format: string;
  /** Which package.json fields name a package's entry, in order. */
  mainFields: readonly string[];
  externalModules: readonly string[];
  /** Extra esbuild command-line arguments, as the CDK's `esbuildArgs`; only `--alias` is known here. */
  esbuildArgs?: Readonly<Record<string, string | boolean | readonly string[]>>;
}

/**
 * esbuild's `alias` option for the CDK's `esbuildArgs` (`--alias:name=path`, one or several). Any
 * other argument is refused: the bench would not bundle as the stacks do.
 */
export function aliasOf(args: LambdaBundling['esbuildArgs']): Record<string, string> | undefined {
  if (!args) return undefined;
  const alias: Record<string, string> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key !== '--alias' || typeof value === 'boolean')
      throw new Error(`esbuildArgs ${key}: not translated to esbuild's options (bench/bundles.ts)`);
    for (const item of typeof value === 'string' ? [value] : value) {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new Error(`esbuildArgs --alias ${item}: expected name=path`);
      alias[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return Object.keys(alias).length ? alias : undefined;
}

/**
 * esbuild options equal to what aws-cdk-lib's NodejsFunction runs for these bundling props
 * (`esbuild --bundle <entry> --target=... --platform=node --format=... --minify --sourcemap
 * --sources-content=false --external:... --alias:...`), plus a metafile (which changes nothing in
 * the output).
 */
export function lambdaBuildOptions(b: LambdaBundling): BuildOptions {
  const alias = aliasOf(b.esbuildArgs);
  return {
    bundle: true,
    platform: 'node',
    target: b.target,
    format: b.format as BuildOptions['format'],
    mainFields: [...b.mainFields],
    minify: b.minify,
    sourcemap: b.sourceMap,
    sourcesContent: b.sourcesContent,
    external: [...b.externalModules],
    ...(alias ? { alias } : {}),
    metafile: true,
    logLevel: 'warning',
  };
}

/** The package an input file belongs to (`node_modules/@scope/name/...` -> `@scope/name`), or `(meshgate)`. */
export function packageOf(input: string): string {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return '(meshgate)';
  const parts = input.slice(i + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Bytes in the output per package, largest first. */
export function bytesByPackage(meta: Metafile): Array<{ pkg: string; bytes: number }> {
  const sums = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const pkg = packageOf(input);
      sums.set(pkg, (sums.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...sums].map(([pkg, bytes]) => ({ pkg, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** The API's cold load may be at most this many times the Hono + DynamoDB-client baseline's. */
export const API_LOAD_TARGET = 1.5;

/** The clients only the worker may carry: the API reaches no domain account. */
export const BROKER_CLIENTS = [
  '@aws-sdk/client-glue',
  '@aws-sdk/client-lakeformation',
  '@aws-sdk/client-sts',
] as const;

/**
 * Text that each broker client's code puts in a bundle: the service name its commands are
 * serialised with (present once per command schema, so even one command leaves it).
 */
export const BROKER_CLIENT_MARKERS: Record<(typeof BROKER_CLIENTS)[number], string> = {
  '@aws-sdk/client-glue': '"AWSGlue"',
  '@aws-sdk/client-lakeformation': '"AWSLakeFormation"',
  '@aws-sdk/client-sts': '"AWSSecurityTokenServiceV20110615"',
};

/** The inputs of a bundle that belong to a broker client package. */
export function brokerClientInputs(meta: Metafile): string[] {
  return Object.keys(meta.inputs).filter((input) =>
    (BROKER_CLIENTS as readonly string[]).includes(packageOf(input)),
  );
}

/** How often each broker client's marker occurs in a bundle's text. */
export function brokerClientMarkers(text: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(BROKER_CLIENT_MARKERS).map(([pkg, marker]) => [
      pkg,
      text.split(marker).length - 1,
    ]),
  );
}

/**
 * The API's verdicts: its load against the Hono + DynamoDB baseline, and no broker client (no
 * input of their packages; no more of their markers than the baseline has).
 */
export function apiVerdicts(api: BundleFigures, base: BundleFigures): Verdict[] {
  const ratio =
    api.loadMs.length && base.loadMs.length ? median(api.loadMs) / median(base.loadMs) : NaN;
  const extra = Object.entries(api.markers ?? {}).filter(
    ([pkg, n]) => n > (base.markers?.[pkg] ?? 0),
  );
  const inputs = api.clientInputs ?? [];
  return [
    {
      name: `${api.name}: cold load against ${base.name}`,
      pass: ratio <= API_LOAD_TARGET,
      value: Number.isNaN(ratio) ? 'not measured' : fmt.x(ratio),
      target: `<= ${API_LOAD_TARGET}x`,
      detail: Number.isNaN(ratio)
        ? 'a load failed'
        : `${fmt.ms(median(api.loadMs))} against ${fmt.ms(median(base.loadMs))}`,
    },
    {
      name: `${api.name}: no Glue, Lake Formation or STS client`,
      pass: inputs.length === 0 && extra.length === 0,
      value: `${inputs.length} input(s), ${extra.length} client(s) in the text`,
      target: '0, 0',
      detail:
        inputs.length || extra.length
          ? [...inputs.slice(0, 3), ...extra.map(([pkg, n]) => `${pkg} marker x${n}`)].join('; ')
          : `metafile inputs and bundle text scanned for ${BROKER_CLIENTS.join(', ')}`,
    },
  ];
}

export interface BundleFigures {
  name: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  buildMs: number;
  /** Cold loads: ms to require the bundle (until its handler is exported), and from process start. */
  loadMs: number[];
  readyMs: number[];
  /** Loads that failed (no handler, a throw, a timeout), with why. */
  failures: string[];
  topPackages: Array<{ pkg: string; bytes: number }>;
  load: boolean;
  /** Inputs of a broker client package (brokerClientInputs). */
  clientInputs?: string[];
  /** Broker client markers found in the bundle's text (brokerClientMarkers). */
  markers?: Record<string, number>;
  /** The API less this part (BundleEntry.leftOut). */
  leftOut?: string;
  /** For a part left out: the whole API's load just before each of its loads. */
  pairedApiMs?: number[];
}

/**
 * A row per part of the API left out: its cold load beside the API's, and what leaving it out
 * saves: the median of the differences between a load of the whole API and the load of the API
 * less the part right after it.
 */
export function partRows(parts: BundleFigures[], api: BundleFigures, base: BundleFigures): Row[] {
  if (!api.loadMs.length || !base.loadMs.length) return [];
  const apiMs = median(api.loadMs);
  return parts.map((f) => {
    const figure = `api less ${f.leftOut}: cold load, median of ${f.loadMs.length} (information)`;
    if (!f.loadMs.length || f.failures.length || f.pairedApiMs?.length !== f.loadMs.length)
      return { figure, value: 'not measured', detail: f.failures.slice(0, 1).join('; ') };
    // Each load beside the whole API's just before it: the median of those differences is steadier
    // than the difference of the medians when the machine is busy.
    const paired = f.pairedApiMs ?? [];
    const saved = median(paired.map((whole, k) => whole - f.loadMs[k]!));
    return {
      figure,
      value: `${fmt.ms(median(f.loadMs))}, ${kb(f.bytes)}`,
      baseline: `api ${fmt.ms(apiMs)}, ${kb(api.bytes)}`,
      ratio: `saves ${fmt.ms(saved)} (${fmt.x(saved / median(base.loadMs))} of the baseline's load)`,
    };
  });
}

const kb = (b: number) =>
  b < 10 * 1024 ? `${(b / 1024).toFixed(1)} KB` : `${fmt.int(b / 1024)} KB`;

/** Table rows of one bundle beside the baseline bundle. */
export function bundleRows(f: BundleFigures, base: BundleFigures): Row[] {
  const rows: Row[] = [
    {
      figure: `${f.name}: bundle (gzip)`,
      value: `${kb(f.bytes)} (${kb(f.gzipBytes)})`,
      baseline: `${kb(base.bytes)} (${kb(base.gzipBytes)})`,
      ratio: `${fmt.x(f.bytes / base.bytes)} (${fmt.x(f.gzipBytes / base.gzipBytes)} gzip)`,
    },
  ];
  if (f.load && f.loadMs.length > 0) {
    const lm = median(f.loadMs);
    const blm = median(base.loadMs);
    rows.push({
      figure: `${f.name}: cold load to handler, median of ${f.loadMs.length} (from process start)`,
      value: `${fmt.ms(lm)} (${fmt.ms(median(f.readyMs))})`,
      baseline: `${fmt.ms(blm)} (${fmt.ms(median(base.readyMs))})`,
      ratio: `${fmt.x(lm / blm)}`,
    });
  }
  const top = f.topPackages
    .slice(0, 3)
    .map((p) => `${p.pkg} ${((p.bytes / f.bytes) * 100).toFixed(0)}%`)
    .join(', ');
  rows.push({ figure: `${f.name}: largest parts`, value: top });
  return rows;
}

/** A bundle passes when it built and every cold load exported a handler. */
export function bundleVerdict(f: BundleFigures, loads: number): Verdict {
  const ok = f.bytes > 0 && (!f.load || (f.failures.length === 0 && f.loadMs.length === loads));
  return {
    name: `${f.name}: bundles${f.load ? ' and loads with a handler' : ''}`,
    pass: ok,
    value: f.load ? `${f.loadMs.length}/${loads} loads` : kb(f.bytes),
    target: f.load ? `${loads}/${loads}` : 'built',
    detail: f.failures.length
      ? f.failures.slice(0, 2).join('; ')
      : `${kb(f.bytes)}, ${kb(f.gzipBytes)} gzip, source map ${kb(f.mapBytes)}`,
  };
}

/**
 * The cold load: a fresh `node` requires the bundle and reports the time until its handler is
 * exported. The AWS wiring the entries start at load (reading the table, loading the policy) goes
 * on asynchronously and is not part of it; it is pointed at a closed local port with dummy
 * settings and fake keys, so that nothing ever leaves this machine, and the process exits as soon
 * as it has measured.
 */
const LOADER = `
const { performance } = require('node:perf_hooks');
process.on('unhandledRejection', () => {});
const t0 = performance.now();
let handler = false;
try { handler = typeof require(process.argv[2]).handler === 'function'; }
catch (e) { process.stdout.write(JSON.stringify({ error: String(e && e.message || e) })); process.exit(0); }
const t1 = performance.now();
process.stdout.write(JSON.stringify({ handler, loadMs: t1 - t0, readyMs: t1 }));
process.exit(0);
`;

function loadEnv(nodeOptions: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_OPTIONS: nodeOptions,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench-not-a-key',
    AWS_SECRET_ACCESS_KEY: 'bench-not-a-secret',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_EC2_METADATA_DISABLED: 'true',
    MESHGATE_TABLE_NAME: 'meshgate-bench',
    MESHGATE_QUEUE_URL: 'http://127.0.0.1:9/queue',
    MESHGATE_EVENT_BUS_NAME: 'meshgate-bench',
    MESHGATE_POLICY_DIR: join(REPO, 'policies'),
    MESHGATE_AUDIT_BUCKET: 'meshgate-bench-audit',
  };
}

function coldLoad(
  loader: string,
  bundle: string,
  env: NodeJS.ProcessEnv,
): { loadMs: number; readyMs: number } | string {
  const r = spawnSync(process.execPath, [loader, bundle], {
    env,
    encoding: 'utf8',
    timeout: CONFIG.loadTimeoutSeconds * 1000,
  });
  if (r.error) return r.error.message;
  try {
    const out = JSON.parse(r.stdout) as {
      handler?: boolean;
      loadMs?: number;
      readyMs?: number;
      error?: string;
    };
    if (out.error) return out.error;
    if (!out.handler) return 'no handler exported';
    return { loadMs: out.loadMs!, readyMs: out.readyMs! };
  } catch {
    return `exit ${r.status}: ${(r.stderr || r.stdout).slice(0, 200)}`;
  }
}

export function bundlesBenchmark(extra: readonly BundleEntry[] = EXTRA_BUNDLES): Benchmark {
  async function run(log: (msg: string) => void): Promise<BenchResult> {
    const { build } = await import('esbuild');
    const infra = await import('../infra/constructs/meshgate-function');
    const lambdaOptions = lambdaBuildOptions(infra.BUNDLING);
    const entries: BundleEntry[] = [
      {
        name: 'baseline (Hono hello world)',
        entry: join(__dirname, 'fixtures', 'hello-lambda.ts'),
      },
      {
        name: API_BASELINE,
        entry: join(__dirname, 'fixtures', 'hono-dynamodb-lambda.ts'),
      },
      ...LAMBDA_ENTRIES.map((name) => ({ name, entry: infra.functionEntry(name) })),
      ...extra,
      ...API_PARTS.map(({ part, alias }) => ({
        name: `api less ${part}`,
        entry: infra.functionEntry('api'),
        options: { ...lambdaOptions, alias: { ...lambdaOptions.alias, ...alias } },
        leftOut: part,
      })),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-bench-bundles-'));
    try {
      const loader = join(dir, 'load.cjs');
      writeFileSync(loader, LOADER);
      const figures: BundleFigures[] = [];
      const outFiles: string[] = [];
      for (const [i, e] of entries.entries()) {
        const outfile = join(dir, `${i}`, 'index.js');
        const t0 = process.hrtime.bigint();
        const result = await build({
          ...(e.options ?? lambdaOptions),
          entryPoints: [e.entry],
          outfile,
          metafile: true,
        });
        const buildMs = elapsedMs(t0);
        const code = readFileSync(outfile);
        let mapBytes = 0;
        try {
          mapBytes = readFileSync(`${outfile}.map`).length;
        } catch {
          // no source map for this bundle
        }
        figures.push({
          name: e.name,
          bytes: code.length,
          gzipBytes: gzipSync(code, { level: CONFIG.gzipLevel }).length,
          mapBytes,
          buildMs,
          loadMs: [],
          readyMs: [],
          failures: [],
          topPackages: result.metafile ? bytesByPackage(result.metafile) : [],
          load: e.load ?? true,
          clientInputs: result.metafile ? brokerClientInputs(result.metafile) : undefined,
          markers: brokerClientMarkers(code.toString('utf8')),
          ...(e.leftOut ? { leftOut: e.leftOut } : {}),
        });
        outFiles.push(outfile);
        log(`${e.name}: ${kb(code.length)} in ${fmt.ms(buildMs)} (${relative(REPO, e.entry)})`);
      }
      // Cold loads, round robin over the bundles so that a busy moment spreads over all of them.
      const env = loadEnv(infra.FUNCTION_NODE_OPTIONS);
      // A part left out is loaded right after a load of the whole API, which is kept beside it
      // (pairedApiMs): the two loads meet the same moment of the machine.
      const apiAt = figures.findIndex((f) => f.name === 'api');
      const loadInto = (f: BundleFigures, file: string) => {
        const r = coldLoad(loader, file, env);
        if (typeof r === 'string') f.failures.push(r);
        else {
          f.loadMs.push(r.loadMs);
          f.readyMs.push(r.readyMs);
        }
        return typeof r === 'string' ? undefined : r.loadMs;
      };
      for (let k = 0; k < CONFIG.loads; k++) {
        figures.forEach((f, i) => {
          if (!f.load) return;
          if (!f.leftOut) return void loadInto(f, outFiles[i]!);
          const whole = coldLoad(loader, outFiles[apiAt]!, env);
          const less = loadInto(f, outFiles[i]!);
          if (typeof whole !== 'string' && less !== undefined)
            (f.pairedApiMs ??= []).push(whole.loadMs);
          else if (less !== undefined) f.loadMs.pop(); // only pairs count
        });
      }
      for (const f of figures.filter((x) => x.load && x.loadMs.length))
        log(`${f.name}: cold load median ${fmt.ms(median(f.loadMs))}`);

      const parts = figures.filter((f) => f.leftOut);
      const [base, ...rest] = figures.filter((f) => !f.leftOut);
      const rows: Row[] = [
        {
          figure: `bundled as deployed (${infra.FUNCTION_RUNTIME.name} ${infra.FUNCTION_ARCHITECTURE.name}), loaded here`,
          value: `esbuild ${infra.BUNDLING.target}, minified`,
          baseline: 'the same',
          ratio: `node ${process.version} ${process.arch}, ${infra.FUNCTION_NODE_OPTIONS}`,
        },
        ...bundleRows(base!, base!)
          .filter((r) => !r.figure.endsWith('largest parts'))
          .map((r) => ({ ...r, ratio: undefined, baseline: undefined })),
        ...rest.flatMap((f) => bundleRows(f, base!)),
      ];
      const apiFigures = figures.find((f) => f.name === 'api')!;
      const apiBase = figures.find((f) => f.name === API_BASELINE)!;
      if (apiFigures.loadMs.length && apiBase.loadMs.length)
        rows.push({
          figure: `api: cold load against ${API_BASELINE}, median of ${CONFIG.loads}`,
          value: fmt.ms(median(apiFigures.loadMs)),
          baseline: fmt.ms(median(apiBase.loadMs)),
          ratio: fmt.x(median(apiFigures.loadMs) / median(apiBase.loadMs)),
        });
      rows.push(...partRows(parts, apiFigures, apiBase));
      for (const f of rest)
        rows.push({
          figure: `${f.name}: Glue, Lake Formation, STS client inputs / markers in the text`,
          value: `${f.clientInputs?.length ?? 0} / ${BROKER_CLIENTS.map((c) => f.markers?.[c] ?? 0).join(', ')}`,
        });
      const verdicts = [
        ...[base!, ...rest].map((f) => bundleVerdict(f, CONFIG.loads)),
        ...apiVerdicts(apiFigures, apiBase),
      ];
      rows.push(
        ...verdicts.map((v): Row => ({
          figure: `VERDICT ${v.name}`,
          value: v.value,
          ratio: v.target,
          verdict: v.pass ? 'PASS' : 'FAIL',
        })),
      );
      return {
        name: 'bundles',
        title: `Lambda bundles: size and cold load beside a Hono hello world (median of ${CONFIG.loads} loads)`,
        rows,
        verdicts,
        figures: {
          config: CONFIG,
          esbuild: lambdaOptions,
          bundles: figures.map((f) => ({ ...f, topPackages: f.topPackages.slice(0, 10) })),
        },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { name: 'bundles', title: 'Lambda bundles: size and cold load', run };
}

export const bundleBenchmark = bundlesBenchmark();
