// Lake Formation fulfilment benchmark: how many calls AwsLakeFormation.grant makes for requests
// of 1, 20 and 1,000 tables, against a stubbed LakeFormationClient (aws-sdk-client-mock, every
// call a success without Failures). Nothing reaches AWS. The count is the point: Lake Formation
// throttles per account, so a 1,000-table request must be 50 batches, not 1,000 calls. The wall
// time is the adapter's own overhead (no network), as a guard against accidental quadratic work.
import {
  BatchGrantPermissionsCommand,
  GrantPermissionsCommand,
  LakeFormationClient,
} from '@aws-sdk/client-lakeformation';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsLakeFormation, BATCH_LIMIT } from '../functions/adapters/aws/lakeformation';
import type { TableGrant } from '../functions/ports/lakeformation';
import {
  BenchAbort,
  elapsedMs,
  fmt,
  type Benchmark,
  type BenchResult,
  type Row,
  type Verdict,
} from './lib';

const CONFIG = {
  sizes: [1, 20, 1_000],
  warmup: 2,
  runs: 7,
} as const;

const grantOf = (tables: number): TableGrant => ({
  grantId: `bench_${tables}`,
  accountId: '111122223333',
  region: 'eu-west-1',
  principal: 'arn:aws:iam::444455556666:role/analyst',
  database: 'sales_gold',
  tables: Array.from({ length: tables }, (_, i) => `table_${String(i).padStart(4, '0')}`),
  permissions: ['SELECT'],
  columns: { mode: 'exclude', columns: ['email'] },
});

/** One GrantPermissions for one table; otherwise one BatchGrantPermissions per 20 tables. */
const expectation = (n: number) =>
  n === 1 ? { grants: 1, batches: 0 } : { grants: 0, batches: Math.ceil(n / BATCH_LIMIT) };
const describeCalls = (c: { grants: number; batches: number }) =>
  [
    c.grants ? `${c.grants} GrantPermissions` : '',
    c.batches ? `${c.batches} BatchGrantPermissions` : '',
  ]
    .filter(Boolean)
    .join(' + ') || 'none';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface SizeResult {
  tables: number;
  grants: number;
  batches: number;
  calls: number;
  expected: number;
  expectedGrants: number;
  expectedBatches: number;
  maxEntriesPerBatch: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  pass: boolean;
}

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const lf = mockClient(LakeFormationClient);
  lf.onAnyCommand().resolves({});
  const sizes: SizeResult[] = [];
  try {
    const adapter = new AwsLakeFormation({ sleep: async () => {} });
    for (const n of CONFIG.sizes) {
      const g = grantOf(n);
      for (let i = 0; i < CONFIG.warmup; i++) await adapter.grant(g);
      const ms: number[] = [];
      let counted:
        { grants: number; batches: number; other: number; maxEntries: number } | undefined;
      for (let r = 0; r < CONFIG.runs; r++) {
        lf.resetHistory();
        const t0 = process.hrtime.bigint();
        const entries = await adapter.grant(g);
        ms.push(elapsedMs(t0));

        const wrong = entries.filter(
          (e, i) => e.action !== 'grant' || e.result !== 'ok' || e.table !== g.tables[i],
        );
        if (entries.length !== n || wrong.length > 0) {
          throw new BenchAbort(
            `grant of ${n} tables returned ${entries.length} entries, ${wrong.length} of them wrong`,
            wrong.slice(0, 5),
          );
        }
        const batchSizes = lf
          .commandCalls(BatchGrantPermissionsCommand)
          .map((c) => c.args[0].input.Entries?.length ?? 0);
        const sentTables =
          batchSizes.reduce((a, b) => a + b, 0) + lf.commandCalls(GrantPermissionsCommand).length;
        if (sentTables !== n || batchSizes.some((s) => s > BATCH_LIMIT)) {
          throw new BenchAbort(
            `grant of ${n} tables sent ${sentTables} entries in batches of ${batchSizes.join(', ')}`,
            batchSizes,
          );
        }
        const now = {
          grants: lf.commandCalls(GrantPermissionsCommand).length,
          batches: batchSizes.length,
          other:
            lf.calls().length - lf.commandCalls(GrantPermissionsCommand).length - batchSizes.length,
          maxEntries: Math.max(0, ...batchSizes),
        };
        if (counted && JSON.stringify(counted) !== JSON.stringify(now)) {
          throw new BenchAbort(`grant of ${n} tables made different calls on different runs`, [
            counted,
            now,
          ]);
        }
        counted = now;
      }
      const c = counted!;
      const exp = expectation(n);
      const calls = c.grants + c.batches;
      const result: SizeResult = {
        tables: n,
        grants: c.grants,
        batches: c.batches,
        calls,
        expected: exp.grants + exp.batches,
        expectedGrants: exp.grants,
        expectedBatches: exp.batches,
        maxEntriesPerBatch: c.maxEntries,
        medianMs: median(ms),
        minMs: Math.min(...ms),
        maxMs: Math.max(...ms),
        pass: c.grants === exp.grants && c.batches === exp.batches && c.other === 0,
      };
      sizes.push(result);
      log(
        `${fmt.int(n)} table${n === 1 ? '' : 's'}: ${describeCalls(c)}, median ${fmt.ms(result.medianMs)} over ${CONFIG.runs} runs`,
      );
    }
  } finally {
    lf.restore();
  }

  const label = (n: number) => `${fmt.int(n)} table${n === 1 ? '' : 's'}`;
  const verdicts: Verdict[] = sizes.map((s) => ({
    name: `Lake Formation calls to grant ${label(s.tables)}`,
    pass: s.pass,
    value: String(s.calls),
    target: `= ${s.expected} (${describeCalls({ grants: s.expectedGrants, batches: s.expectedBatches })})`,
    detail: `${describeCalls(s)}, at most ${s.maxEntriesPerBatch || 1} entries per call, median wall ${fmt.ms(s.medianMs)} over ${CONFIG.runs} runs`,
  }));

  const rows: Row[] = [
    ...sizes.flatMap((s): Row[] => [
      {
        figure: `${label(s.tables)}: Lake Formation calls`,
        value: describeCalls(s),
        baseline: describeCalls({ grants: s.expectedGrants, batches: s.expectedBatches }),
        ratio: s.batches ? `<= ${BATCH_LIMIT} entries/call (max ${s.maxEntriesPerBatch})` : '',
      },
      {
        figure: `${label(s.tables)}: grant wall time (median of ${CONFIG.runs})`,
        value: fmt.ms(s.medianMs),
        baseline: `min ${fmt.ms(s.minMs)}`,
        ratio: `max ${fmt.ms(s.maxMs)}`,
      },
    ]),
    ...verdicts.map((v, i): Row => ({
      figure: `VERDICT ${v.name}`,
      value: v.value,
      baseline: String(sizes[i]!.expected),
      ratio: v.target,
      verdict: v.pass ? 'PASS' : 'FAIL',
    })),
  ];

  return {
    name: 'lakeformation',
    title: 'Lake Formation fulfilment: calls per request (stubbed client)',
    rows,
    verdicts,
    figures: { config: { ...CONFIG, batchLimit: BATCH_LIMIT }, sizes, verdicts },
  };
}

export const lakeFormationBenchmark: Benchmark = {
  name: 'lakeformation',
  title: 'Lake Formation fulfilment: calls per request (stubbed client)',
  run,
};
