import type { Metafile } from 'esbuild';
import {
  apiVerdicts,
  brokerClientInputs,
  brokerClientMarkers,
  bundleRows,
  partRows,
  bundleVerdict,
  bytesByPackage,
  aliasOf,
  lambdaBuildOptions,
  packageOf,
  type BundleFigures,
} from '../../bench/bundles';
import { exportFigures, syntheticEvents, type Pass } from '../../bench/export';
import {
  processTreeCpuMs,
  routeFigures,
  routeRows,
  routeVerdict,
  verificationVerdict,
  type RouteFigures,
  type Verification,
} from '../../bench/load';
import { storedDetailJson } from '../../functions/domain/detail-json';
import type autocannon from 'autocannon';

// The logic of the benchmarks' figures and verdicts, on made-up measurements: no benchmark runs here.

const pass = (ms: number, over: Partial<Pass> = {}): Pass => ({
  rows: 1_000_000,
  bytes: 300 * 1024 * 1024,
  chunks: 4_000,
  ms,
  rss: { start: 100 * 1024 * 1024, peak: 120 * 1024 * 1024, growth: 20 * 1024 * 1024 },
  ...over,
});
const TARGETS = { rowsPerSecond: 200_000, peakRssMB: 200, vsBaseline: 0.5 };

describe('export figures', () => {
  test('medians of the passes are compared; the ratio is baseline time over export time', () => {
    const f = exportFigures(
      'csv',
      [pass(4000), pass(2000), pass(3000)],
      [pass(900), pass(1500), pass(1000)],
      TARGETS,
    );
    expect(f.summary).toMatchObject({
      exportMs: 3000,
      baselineMs: 1000,
      rowsPerSecond: 1_000_000 / 3,
    });
    expect(f.summary.ratio).toBeCloseTo(1 / 3);
    const byName = Object.fromEntries(f.verdicts.map((v) => [v.name, v]));
    expect(byName['CSV export rows/s']).toMatchObject({ pass: true, value: '333,333/s' });
    expect(byName['CSV export speed vs raw write']).toMatchObject({
      pass: false,
      value: '33%',
      target: '>= 50%',
    });
    expect(byName['CSV export peak RSS']).toMatchObject({
      pass: true,
      value: '120 MB',
      target: '<= 200 MB',
    });
  });

  test('the ratio passes at half the baseline speed; the highest RSS of any pass is judged', () => {
    const hungry = pass(2000, {
      rss: { start: 100 * 1024 * 1024, peak: 250 * 1024 * 1024, growth: 150 * 1024 * 1024 },
    });
    const f = exportFigures('jsonl', [pass(2000), hungry], [pass(1000), pass(1000)], TARGETS);
    const byName = Object.fromEntries(f.verdicts.map((v) => [v.name, v]));
    expect(byName['JSON Lines export speed vs raw write']).toMatchObject({
      pass: true,
      value: '50%',
    });
    expect(byName['JSON Lines export peak RSS']).toMatchObject({ pass: false, value: '250 MB' });
    expect(f.rows.find((r) => r.figure.startsWith('JSON Lines: wall time'))!.value).toBe(
      '2.00 s (2.00 s..2.00 s)',
    );
  });

  test('passes with events made during the pass are shown beside, judged for memory only', () => {
    const hungry = pass(4000, {
      rss: { start: 100 * 1024 * 1024, peak: 260 * 1024 * 1024, growth: 160 * 1024 * 1024 },
    });
    const f = exportFigures('csv', [pass(2000), pass(2000)], [pass(1000), pass(1000)], TARGETS, [
      pass(3000),
      hungry,
      pass(5000),
    ]);
    const byName = Object.fromEntries(f.verdicts.map((v) => [v.name, v]));
    expect(byName['CSV export speed vs raw write']).toMatchObject({ pass: true, value: '50%' });
    expect(byName['CSV export peak RSS']).toMatchObject({ pass: false, value: '260 MB' });
    const info = f.rows.find((r) => r.figure.startsWith('CSV: each event made during the pass'))!;
    expect(info).toMatchObject({
      value: '4.00 s (3.00 s..5.00 s)',
      baseline: '1.00 s',
      ratio: '25% of baseline speed',
    });
    expect(f.summary).toMatchObject({ freshMs: 4000, freshRatio: 0.25 });
    expect(
      exportFigures('csv', [pass(2000)], [pass(1000)], TARGETS).rows.some((r) =>
        r.figure.includes('made during'),
      ),
    ).toBe(false);
  });

  test('no passes is an error, not a verdict', () => {
    expect(() => exportFigures('csv', [], [pass(1)], TARGETS)).toThrow('no passes');
  });

  test('the synthetic events are the same for a seed, unique in id, and carry the stored detail text', () => {
    const a = [...syntheticEvents(2_000, 7)];
    const b = [...syntheticEvents(2_000, 7)];
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
    expect(new Set(a.map((e) => e.id)).size).toBe(2_000);
    for (const e of a.slice(0, 50)) expect(storedDetailJson(e)).toBe(JSON.stringify(e.detail));
    // Each event holds its own copy of the text, though the pool repeats every 1,000 events.
    expect(storedDetailJson(a[0]!)).toBe(storedDetailJson(a[1_000]!));
  });
});

const route = (over: Partial<RouteFigures> = {}): RouteFigures => ({
  requests: 1000,
  seconds: 2,
  perSecond: 500,
  p50Ms: 4,
  p99Ms: 20,
  errors: 0,
  timeouts: 0,
  non2xx: 0,
  statuses: { '200': 1000 },
  stoppedByTime: false,
  ...over,
});

describe('load figures', () => {
  test('an autocannon result: answers counted per status code, rate over the run time', () => {
    const result = {
      duration: 4,
      latency: { p50: 3, p99: 40 },
      errors: 1,
      timeouts: 1,
      non2xx: 2,
      statusCodeStats: { '201': { count: 98 }, '409': { count: 2 } },
    } as unknown as autocannon.Result;
    expect(routeFigures(result, true)).toEqual({
      requests: 100,
      seconds: 4,
      perSecond: 25,
      p50Ms: 3,
      p99Ms: 40,
      errors: 1,
      timeouts: 1,
      non2xx: 2,
      statuses: { '201': 98, '409': 2 },
      stoppedByTime: true,
    });
  });

  test('a route fails on any error, timeout or non-2xx, and when nothing answered', () => {
    expect(routeVerdict('r', route()).pass).toBe(true);
    expect(routeVerdict('r', route({ errors: 1 })).pass).toBe(false);
    expect(routeVerdict('r', route({ timeouts: 1 })).pass).toBe(false);
    const conflict = routeVerdict('r', route({ non2xx: 3, statuses: { '200': 997, '409': 3 } }));
    expect(conflict).toMatchObject({ pass: false });
    expect(conflict.detail).toContain('3 x 409');
    expect(routeVerdict('r', route({ requests: 0, statuses: {} })).pass).toBe(false);
  });

  test('route rows stand beside the /health baseline', () => {
    const rows = routeRows(
      'search',
      route({ perSecond: 100, p50Ms: 40 }),
      route({ perSecond: 4000, p50Ms: 1 }),
    );
    expect(rows[0]).toMatchObject({ value: '100/s', baseline: '4,000/s', ratio: '3% of /health' });
    expect(rows[1]).toMatchObject({ value: '40 ms', baseline: '1.00 ms', ratio: '40.0x /health' });
    expect(rows[3]!.verdict).toBe('PASS');
    expect(routeRows('x', route({ non2xx: 1 }), route())[3]!.verdict).toBe('FAIL');
  });

  test("the server's CPU per answer stands beside /health's, as a share of its rate", () => {
    const rows = routeRows(
      'search',
      route({ serverCpuMsPerAnswer: 1.6 }),
      route({ serverCpuMsPerAnswer: 0.2 }),
    );
    expect(rows[3]).toMatchObject({
      figure: 'search: server CPU per answer',
      value: '1.60 ms',
      baseline: '0.20 ms',
      ratio: '13% of /health',
    });
    expect(rows[4]!.figure).toContain('errors');
    // Not measured (no /proc): no row.
    expect(routeRows('x', route(), route({ serverCpuMsPerAnswer: 0.2 }))).toHaveLength(4);
  });

  test("a process's CPU time counts its children's", () => {
    const own = processTreeCpuMs(process.pid);
    if (process.platform !== 'linux') return expect(own).toBeUndefined();
    expect(own).toBeGreaterThan(0);
    expect(processTreeCpuMs(2 ** 22 + 1)).toBeUndefined(); // no such process
  });

  const verified = (over: Partial<Verification> = {}): Verification => ({
    created: 10,
    found: 10,
    withCreatedEvent: 10,
    approved: 10,
    approvedWithEvents: 10,
    active: 7,
    chainsOk: true,
    chains: 5,
    chainEvents: 100,
    settleMs: 1000,
    problems: [],
    ...over,
  });

  test('verification passes only when every request and approval is there and the chains verify', () => {
    expect(verificationVerdict(verified()).pass).toBe(true);
    // Granting is the worker's business, after the approval: not yet ACTIVE is no failure.
    expect(verificationVerdict(verified({ active: 0 })).pass).toBe(true);
    expect(verificationVerdict(verified({ found: 9 })).pass).toBe(false);
    expect(verificationVerdict(verified({ withCreatedEvent: 9 })).pass).toBe(false);
    expect(verificationVerdict(verified({ approvedWithEvents: 9 })).pass).toBe(false);
    expect(verificationVerdict(verified({ chainsOk: false })).pass).toBe(false);
    expect(
      verificationVerdict(
        verified({ created: 0, found: 0, withCreatedEvent: 0, approved: 0, approvedWithEvents: 0 }),
      ).pass,
    ).toBe(false);
  });
});

describe('bundle figures', () => {
  test('esbuild options are those the CDK passes for the construct bundling props', () => {
    expect(
      lambdaBuildOptions({
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: 'cjs',
        mainFields: ['module', 'main'],
        externalModules: [],
      }),
    ).toEqual({
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: [],
      metafile: true,
      logLevel: 'warning',
    });
  });

  test("the CDK's esbuildArgs become esbuild's alias; an argument the bench cannot translate is refused", () => {
    const b = {
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node22',
      format: 'cjs',
      mainFields: ['module', 'main'],
      externalModules: [],
    };
    expect(
      lambdaBuildOptions({ ...b, esbuildArgs: { '--alias': ['zod=/x/zod.ts', 'a=./b'] } }).alias,
    ).toEqual({ zod: '/x/zod.ts', a: './b' });
    expect(aliasOf({ '--alias': 'zod=/x/zod.ts' })).toEqual({ zod: '/x/zod.ts' });
    expect(aliasOf({ '--alias': [] })).toBeUndefined();
    expect(aliasOf(undefined)).toBeUndefined();
    expect(() => aliasOf({ '--log-limit': '0' })).toThrow(/--log-limit/);
    expect(() => aliasOf({ '--alias': 'zod' })).toThrow(/name=path/);
  });

  test('inputs are grouped by package, scoped ones by scope and name', () => {
    expect(packageOf('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(packageOf('node_modules/@aws-sdk/client-s3/dist-cjs/index.js')).toBe(
      '@aws-sdk/client-s3',
    );
    expect(packageOf('node_modules/a/node_modules/@smithy/core/x.js')).toBe('@smithy/core');
    expect(packageOf('functions/entry/api.ts')).toBe('(meshgate)');
    const meta = {
      inputs: {},
      outputs: {
        'index.js': {
          bytes: 0,
          imports: [],
          exports: [],
          inputs: {
            'node_modules/zod/a.js': { bytesInOutput: 10 },
            'node_modules/zod/b.js': { bytesInOutput: 5 },
            'functions/x.ts': { bytesInOutput: 20 },
          },
        },
      },
    } as unknown as Metafile;
    expect(bytesByPackage(meta)).toEqual([
      { pkg: '(meshgate)', bytes: 20 },
      { pkg: 'zod', bytes: 15 },
    ]);
  });

  const bundle = (over: Partial<BundleFigures> = {}): BundleFigures => ({
    name: 'api',
    bytes: 200 * 1024,
    gzipBytes: 50 * 1024,
    mapBytes: 10,
    buildMs: 1,
    loadMs: [30, 10, 20],
    readyMs: [60, 40, 50],
    failures: [],
    topPackages: [{ pkg: 'zod', bytes: 100 * 1024 }],
    load: true,
    ...over,
  });

  test('rows compare size and median load time with the baseline', () => {
    const rows = bundleRows(
      bundle(),
      bundle({
        name: 'hello',
        bytes: 20 * 1024,
        gzipBytes: 10 * 1024,
        loadMs: [2, 2, 2],
        readyMs: [30, 30, 30],
      }),
    );
    expect(rows[0]).toMatchObject({
      value: '200 KB (50 KB)',
      baseline: '20 KB (10 KB)',
      ratio: '10.0x (5.00x gzip)',
    });
    expect(rows[1]).toMatchObject({
      value: '20 ms (50 ms)',
      baseline: '2.00 ms (30 ms)',
      ratio: '10.0x',
    });
    expect(rows[2]).toMatchObject({ value: 'zod 50%' });
    // A bundle that is not loaded in node (for a browser) has no load row.
    expect(bundleRows(bundle({ load: false }), bundle()).map((r) => r.figure)).toEqual([
      'api: bundle (gzip)',
      'api: largest parts',
    ]);
  });

  test('a part left out saves the median of its differences from the whole API loaded just before it', () => {
    const api = bundle({ loadMs: [100, 100, 100] });
    const base = bundle({ name: 'base', loadMs: [50, 50, 50, 50] });
    // The second pair met a busy moment: the differences are 10, 30, 9, 12, their median 11; the
    // medians' difference (101.5 - 91) would say 10.5, and against the API's own median 9.
    const less = bundle({
      name: 'api less x',
      leftOut: 'x',
      loadMs: [90, 110, 92, 90],
      pairedApiMs: [100, 140, 101, 102],
    });
    const [row] = partRows([less], api, base);
    expect(row).toMatchObject({
      figure: 'api less x: cold load, median of 4 (information)',
      value: '91 ms, 200 KB',
      baseline: 'api 100 ms, 200 KB',
      ratio: "saves 11 ms (0.22x of the baseline's load)",
    });
    // A part whose bundle failed to load says so rather than saving anything.
    expect(
      partRows([bundle({ leftOut: 'y', loadMs: [], failures: ['boom'] })], api, base)[0],
    ).toMatchObject({ value: 'not measured', detail: 'boom' });
  });

  test('a bundle passes when every cold load exported a handler', () => {
    expect(bundleVerdict(bundle(), 3).pass).toBe(true);
    expect(
      bundleVerdict(bundle({ loadMs: [1, 2], failures: ['no handler exported'] }), 3),
    ).toMatchObject({ pass: false, detail: 'no handler exported' });
    expect(bundleVerdict(bundle({ load: false, loadMs: [] }), 3).pass).toBe(true);
    expect(bundleVerdict(bundle({ bytes: 0 }), 3).pass).toBe(false);
  });

  test('the API is held to 1.5 times the Hono + DynamoDB baseline, and to no broker client beyond what the baseline carries', () => {
    const base = bundle({ name: 'hono+ddb', loadMs: [100, 100, 100], markers: { sts: 2 } });
    const [load, clients] = apiVerdicts(
      bundle({ loadMs: [150, 150, 150], clientInputs: [], markers: { sts: 2 } }),
      base,
    );
    expect(load).toMatchObject({ pass: true, value: '1.50x' });
    expect(clients).toMatchObject({ pass: true });
    expect(apiVerdicts(bundle({ loadMs: [151, 151, 151] }), base)[0]!.pass).toBe(false);
    expect(apiVerdicts(bundle({ loadMs: [] }), base)[0]).toMatchObject({ pass: false });
    const withGlue = apiVerdicts(
      bundle({ clientInputs: ['node_modules/@aws-sdk/client-glue/dist-cjs/index.js'] }),
      base,
    )[1]!;
    expect(withGlue).toMatchObject({ pass: false, value: '1 input(s), 0 client(s) in the text' });
    expect(apiVerdicts(bundle({ markers: { sts: 3 } }), base)[1]!.pass).toBe(false);
  });

  test('broker clients are found by package among the inputs and by service name in the text', () => {
    const meta = {
      inputs: {
        'node_modules/@aws-sdk/client-sts/dist-cjs/index.js': {},
        'node_modules/@aws-sdk/nested-clients/dist-cjs/submodules/sts/index.js': {},
        'node_modules/@aws-sdk/client-dynamodb/dist-cjs/index.js': {},
      },
      outputs: {},
    } as unknown as Metafile;
    expect(brokerClientInputs(meta)).toEqual([
      'node_modules/@aws-sdk/client-sts/dist-cjs/index.js',
    ]);
    expect(
      brokerClientMarkers('x.s("AWSLakeFormation","GrantPermissions");y.s("AWSLakeFormation","X")'),
    ).toEqual({
      '@aws-sdk/client-glue': 0,
      '@aws-sdk/client-lakeformation': 2,
      '@aws-sdk/client-sts': 0,
    });
  });
});
