import {
  chooseSubjects,
  itemsOf,
  largeSize,
  mallocOfSmaps,
  rssOfStatus,
  scaleVerdicts,
  sizeRows,
  SIZES,
  tableMapsOfSmaps,
  type SizeFigures,
} from '../../bench/scale';

const call = (endpoint: string, p99Ms: number, maxBytes = 10_000) => ({
  endpoint,
  calls: 10,
  p50Ms: p99Ms / 2,
  p99Ms,
  maxBytes,
  items: 50,
  commands: 2,
  commandNames: { GetCommand: 1, QueryCommand: 1 },
  statuses: { '200': 10 },
});
const figures = (
  size: SizeFigures['size'],
  calls: SizeFigures['calls'],
  rssMB: number,
): SizeFigures => ({
  size,
  seed: { seconds: 10, cpuSeconds: 8, items: 70_000, itemsPerSecond: 7000, reused: false },
  startMs: 1200,
  startRssBytes: 100 * 1024 * 1024,
  rssBytes: rssMB * 1024 * 1024,
  calls,
});

test('the list of an answer: its items, or the array it is; nothing for anything else', () => {
  expect(itemsOf({ items: [1, 2], cursor: 'x' })).toEqual([1, 2]);
  expect(itemsOf([1])).toEqual([1]);
  expect(itemsOf({ id: 'p' })).toBeUndefined();
  expect(itemsOf(undefined)).toBeUndefined();
});

/** The listings every run measures beside `calls`, each reading what SAME_ITEMS asks. */
const withListings = (calls: ReturnType<typeof call>[]) => [
  ...calls,
  { ...call('one-product search', 4), items: 1 },
  ...['my requests', 'grants', 'audit page'].map((e) => call(e, 4)),
];

test('targets: p99 large within 1.5x of small per endpoint, no response over 1 MB, RSS under 512 MB', () => {
  const small = figures(SIZES.small, withListings([call('search', 10), call('inbox', 10)]), 200);
  const good = scaleVerdicts(
    small,
    figures(SIZES.large, withListings([call('search', 15), call('inbox', 12)]), 400),
  );
  expect(good.every((v) => v.pass)).toBe(true);

  const bad = scaleVerdicts(
    small,
    figures(SIZES.large, withListings([call('search', 15.1), call('inbox', 12, 2_000_000)]), 600),
  );
  const failed = bad.filter((v) => !v.pass).map((v) => v.name);
  expect(failed).toEqual([
    'search: p99 large / small',
    'largest response',
    'server RSS at the large size',
  ]);
});

test('a call answered with an error fails the run; rows name sizes, latencies and commands', () => {
  const small = figures(
    SIZES.small,
    [{ ...call('grants', 5), statuses: { '200': 9, '500': 1 } }],
    100,
  );
  const v = scaleVerdicts(small, figures(SIZES.large, [call('grants', 5)], 100));
  expect(v.find((x) => x.name === 'every call answered 2xx')!.pass).toBe(false);
  const rows = sizeRows(small);
  expect(rows[0]!.figure).toBe('small: 20 domains, 1,000 products, 10,000 requests');
  expect(rows.find((r) => r.figure.startsWith('small: grants'))!.ratio).toBe(
    '2 DynamoDB commands (1 Get, 1 Query)',
  );
  // The first call, before the warm-up calls that are not timed, is shown beside the timed ones.
  const warmed = sizeRows(figures(SIZES.small, [{ ...call('search', 5), firstMs: 41.5 }], 100));
  expect(warmed.find((r) => r.figure.startsWith('small: search'))!.figure).toBe(
    'small: search: p50 / p99 (10 calls; the first, before 5 not timed: 42 ms)',
  );
});

const MB = 1024 * 1024;
/** The large size's figures at 400 MB of RSS, with the server's memory read as `more` adds. */
const withMemory = (more: Partial<NonNullable<SizeFigures['memory']>>): SizeFigures => ({
  ...figures(SIZES.large, [call('search', 10)], 400),
  memory: {
    peakRssBytes: 450 * MB,
    heapUsedBytes: 60 * MB,
    heapTotalBytes: 100 * MB,
    externalBytes: 20 * MB,
    arrayBuffersBytes: 15 * MB,
    ...more,
  },
});

test("the server process's memory: RSS after the calls, its peak, the heap and what lies outside it", () => {
  const f = withMemory({ rssAfterGcBytes: 380 * MB, heapUsedAfterGcBytes: 50 * MB });
  expect(sizeRows(f).at(-1)).toEqual({
    figure: 'large: server RSS after the calls',
    value: '400.0 MB',
    baseline: 'peak 450.0 MB',
    ratio:
      'heap 60.0 MB of 100.0 MB, external 20.0 MB; after a full GC: RSS 380.0 MB, heap 50.0 MB',
  });
});

test('the large size: the full one, --quick, or the full catalog with --large-requests=N', () => {
  expect(largeSize(['scale'])).toEqual(SIZES.large);
  expect(largeSize(['scale', '--quick'])).toEqual(SIZES.quickLarge);
  expect(largeSize(['scale', '--large-requests=300_000'])).toEqual({
    label: 'large',
    domains: 1_000,
    products: 100_000,
    requests: 300_000,
  });
  expect(() => largeSize(['--large-requests=many'])).toThrow(/number of requests/);
});

test('the RSS by kind of page: anonymous, file-backed, and the LevelDB tables mapped', () => {
  const status =
    'Name:\tnode\nVmRSS:\t  600000 kB\nRssAnon:\t  500000 kB\nRssFile:\t   99000 kB\nRssShmem:\t    1000 kB\n';
  expect(rssOfStatus(status)).toEqual({
    anonBytes: 500000 * 1024,
    fileBytes: 99000 * 1024,
    shmemBytes: 1000 * 1024,
  });
  const smaps = [
    '7f0000000000-7f0000200000 r--s 00000000 08:01 123 /data/dynamodb/014605.ldb',
    'Size:               2048 kB',
    'Rss:                 300 kB',
    '7f0000200000-7f0000400000 r--s 00000000 08:01 124 /data/dynamodb/014606.ldb',
    'Rss:                  20 kB',
    '7f0000400000-7f0000600000 rw-p 00000000 00:00 0 ',
    'Rss:                5000 kB',
    '7f0000600000-7f0000800000 r-xp 00000000 08:01 9 /usr/bin/node',
    'Rss:                1000 kB',
  ].join('\n');
  expect(tableMapsOfSmaps(smaps)).toEqual({ tableMapBytes: 320 * 1024, tableMaps: 2 });
  const f = withMemory({
    breakdown: {
      anonBytes: 300 * MB,
      fileBytes: 100 * MB,
      shmemBytes: 0,
      tableMapBytes: 12 * MB,
      tableMaps: 55,
    },
  });
  expect(sizeRows(f).at(-1)).toEqual({
    figure: 'large: server RSS by kind of page',
    value: 'anonymous 300.0 MB',
    baseline: 'file-backed 100.0 MB',
    ratio: 'of which LevelDB tables mapped: 12.0 MB (55 files)',
  });
});

test("the anonymous memory by owner: V8's heap, glibc's malloc heaps (main arena and 64 MB thread arenas), the rest", () => {
  const smaps = [
    '01000000-01800000 rw-p 00000000 00:00 0 [heap]',
    'Rss:                8000 kB',
    // A thread arena: 64 MB-aligned, 12 MB in use, the rest of its 64 MB reserved.
    '7f0004000000-7f0004c00000 rw-p 00000000 00:00 0 ',
    'Rss:               10000 kB',
    '7f0004c00000-7f0008000000 ---p 00000000 00:00 0 ',
    'Rss:                   0 kB',
    // A full arena: 64 MB, nothing reserved after it.
    '7f0008000000-7f000c000000 rw-p 00000000 00:00 0 ',
    'Rss:               30000 kB',
    // Aligned, but not an arena's 64 MB (a V8 page, a buffer mapped on its own).
    '7f0010000000-7f0010040000 rw-p 00000000 00:00 0 ',
    'Rss:                 256 kB',
    '7f0010040000-7f0010080000 ---p 00000000 00:00 0 ',
    'Rss:                   0 kB',
    // Not aligned.
    '7f0014100000-7f0018000000 rw-p 00000000 00:00 0 ',
    'Rss:               50000 kB',
    '7f001c000000-7f001c200000 r--s 00000000 08:01 124 /data/dynamodb/014606.ldb',
    'Rss:                 500 kB',
  ].join('\n');
  expect(mallocOfSmaps(smaps)).toEqual({ mallocBytes: 48000 * 1024, mallocArenas: 3 });
  const f = withMemory({
    heapTotalBytes: 100 * MB,
    breakdown: {
      anonBytes: 300 * MB,
      fileBytes: 100 * MB,
      shmemBytes: 0,
      tableMapBytes: 12 * MB,
      tableMaps: 55,
      mallocBytes: 150 * MB,
      mallocArenas: 12,
      threads: 13,
    },
  });
  expect(sizeRows(f).at(-1)).toEqual({
    figure: 'large: server anonymous memory by owner',
    value: 'V8 heap 100.0 MB',
    baseline: 'malloc heaps 150.0 MB (12 arenas, 13 threads)',
    ratio:
      "the rest 50.0 MB (blocks of 128 KB or more, each mapped on its own: the search index's arrays, LevelDB's index blocks; stacks)",
  });
});

const sample = {
  requester: 'alice',
  requesterRequests: 100,
  domain: 'sales-00',
  domainOwner: 'u0',
  domainRequests: 1000,
  product: 'sales-00/hourly_invoices_0',
  compliance: 'carol',
  auditor: 'dave',
  admin: 'erin',
  searchWord: 'invoices',
};
const page = (n: number, more: Record<string, unknown> = {}) => ({
  items: Array.from({ length: n }, (_, i) => ({ id: `x${i}` })),
  ...more,
});

test('like with like: an inbox and an audit window holding a full page, a search finding one product', async () => {
  const asked: string[] = [];
  const get = async (user: string, path: string): Promise<unknown> => {
    asked.push(`${user} ${path}`);
    if (path.startsWith('/v1/approvals')) return page(user === 'u7' ? 50 : user === 'u0' ? 3 : 0);
    if (path.startsWith('/v1/domains'))
      return { items: [{ owners: ['u0', 'u5'] }, { owners: ['u7'] }, { owners: ['u9'] }] };
    if (path.startsWith('/v1/audit'))
      return page(path.includes('from=2026-10-07') ? 50 : path.includes('from=2026-11-06') ? 9 : 0);
    if (path.includes('domain=sales-00'))
      return { items: [{ id: 'sales-00/a_1' }, { id: 'sales-00/b_2' }, { id: 'sales-00/c_3' }] };
    if (path.includes(encodeURIComponent('sales-00/b_2'))) return { ...page(1), total: 1 };
    return { ...page(3), total: 3 };
  };
  const s = await chooseSubjects(sample, get, '2026-12-06T10:00:00.000Z');
  expect(s).toEqual({
    approver: 'u7',
    auditWindow: { from: '2026-10-07T10:00:00.000Z', to: '2026-11-06T10:00:00.000Z' },
    oneProductQuery: 'sales-00/b_2',
  });
  // The sample owner first, then the domains' owners in order, each asked once.
  expect(asked.filter((a) => a.includes('/v1/approvals')).map((a) => a.split(' ')[0])).toEqual([
    'u0',
    'u5',
    'u7',
  ]);

  // None to be found: the sizes would not do the same work, so the run stops.
  await expect(
    chooseSubjects(
      sample,
      async (u, p) => (p.startsWith('/v1/approvals') ? page(1) : get(u, p)),
      '2026-12-06T10:00:00.000Z',
    ),
  ).rejects.toThrow(/no approver's inbox holds 50/);
  await expect(
    chooseSubjects(
      sample,
      async (u, p) => (p.startsWith('/v1/audit') ? page(0) : get(u, p)),
      '2026-12-06T10:00:00.000Z',
    ),
  ).rejects.toThrow(/no 30-day audit window holds 50/);
});

test('a verdict says whether both sizes read the same items: a full page, or the one product', () => {
  const same = ['one-product search', 'my requests', 'inbox', 'grants', 'audit page'].map((e) =>
    call(e, 5),
  );
  same[0] = { ...same[0]!, items: 1 };
  const ok = scaleVerdicts(figures(SIZES.small, same, 100), figures(SIZES.large, same, 100));
  expect(ok.find((v) => v.name.startsWith('same work'))!.pass).toBe(true);
  const emptyInbox = same.map((c) => (c.endpoint === 'inbox' ? { ...c, items: 0 } : c));
  const bad = scaleVerdicts(figures(SIZES.small, emptyInbox, 100), figures(SIZES.large, same, 100));
  const v = bad.find((x) => x.name.startsWith('same work'))!;
  expect(v.pass).toBe(false);
  expect(v.value).toBe('small inbox: 0');
  // A listing not measured at one size is no evidence of the same work.
  const noGrants = same.filter((c) => c.endpoint !== 'grants');
  const missing = scaleVerdicts(
    figures(SIZES.small, same, 100),
    figures(SIZES.large, noGrants, 100),
  );
  const m = missing.find((x) => x.name.startsWith('same work'))!;
  expect(m.pass).toBe(false);
  expect(m.value).toBe('large grants: not measured');
});
