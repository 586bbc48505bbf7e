import {
  itemsOf,
  largeSize,
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

test('targets: p99 large within 1.5x of small per endpoint, no response over 1 MB, RSS under 512 MB', () => {
  const small = figures(SIZES.small, [call('search', 10), call('inbox', 10)], 200);
  const good = scaleVerdicts(
    small,
    figures(SIZES.large, [call('search', 15), call('inbox', 12)], 400),
  );
  expect(good.every((v) => v.pass)).toBe(true);

  const bad = scaleVerdicts(
    small,
    figures(SIZES.large, [call('search', 15.1), call('inbox', 12, 2_000_000)], 600),
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
});

test("the server process's memory: RSS after the calls, its peak, the heap and what lies outside it", () => {
  const MB = 1024 * 1024;
  const f: SizeFigures = {
    ...figures(SIZES.large, [call('search', 10)], 400),
    memory: {
      peakRssBytes: 450 * MB,
      heapUsedBytes: 60 * MB,
      heapTotalBytes: 100 * MB,
      externalBytes: 20 * MB,
      arrayBuffersBytes: 15 * MB,
      rssAfterGcBytes: 380 * MB,
      heapUsedAfterGcBytes: 50 * MB,
    },
  };
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
  const MB = 1024 * 1024;
  const f: SizeFigures = {
    ...figures(SIZES.large, [call('search', 10)], 400),
    memory: {
      peakRssBytes: 450 * MB,
      heapUsedBytes: 60 * MB,
      heapTotalBytes: 100 * MB,
      externalBytes: 20 * MB,
      arrayBuffersBytes: 15 * MB,
      breakdown: {
        anonBytes: 300 * MB,
        fileBytes: 100 * MB,
        shmemBytes: 0,
        tableMapBytes: 12 * MB,
        tableMaps: 55,
      },
    },
  };
  expect(sizeRows(f).at(-1)).toEqual({
    figure: 'large: server RSS by kind of page',
    value: 'anonymous 300.0 MB',
    baseline: 'file-backed 100.0 MB',
    ratio: 'of which LevelDB tables mapped: 12.0 MB (55 files)',
  });
});
