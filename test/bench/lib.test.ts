import {
  judge,
  latencyStats,
  median,
  renderMarkdown,
  renderTable,
  selectBenchmarks,
  verdictRows,
} from '../../bench/lib';

describe('bench helpers', () => {
  test('median of odd and even counts, unsorted input left alone', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow('no values');
  });

  test('judge: floors, ceilings and exact targets; a value that is not a number never passes', () => {
    const show = (v: number) => `${v}`;
    expect(judge('rate', 200, '>=', 200, show, 'd')).toEqual({
      name: 'rate',
      pass: true,
      value: '200',
      target: '>= 200',
      detail: 'd',
    });
    expect(judge('rate', 199.9, '>=', 200, show, 'd').pass).toBe(false);
    expect(judge('rss', 200, '<=', 200, show, 'd').pass).toBe(true);
    expect(judge('rss', 201, '<=', 200, show, 'd').pass).toBe(false);
    expect(judge('calls', 50, '=', 50, show, 'd').pass).toBe(true);
    expect(judge('calls', 51, '=', 50, show, 'd').pass).toBe(false);
    expect(judge('ratio', NaN, '<=', 1, show, 'd').pass).toBe(false);
    expect(judge('ratio', Infinity, '>=', 1, show, 'd').pass).toBe(false);
  });

  test('verdict rows carry the verdict', () => {
    const rows = verdictRows([
      judge('a', 1, '>=', 2, String, ''),
      judge('b', 3, '>=', 2, String, ''),
    ]);
    expect(rows.map((r) => [r.figure, r.verdict])).toEqual([
      ['VERDICT a', 'FAIL'],
      ['VERDICT b', 'PASS'],
    ]);
  });

  test('one table for every section: one header, columns as wide as the widest cell anywhere', () => {
    const text = renderTable([
      { title: 'First', rows: [{ figure: 'short', value: '1' }] },
      {
        title: 'Second',
        rows: [
          {
            figure: 'a much longer figure',
            value: '22',
            baseline: '3',
            ratio: 'r',
            verdict: 'PASS',
          },
        ],
      },
      { title: 'Broken', rows: [], note: 'ERROR: boom' },
    ]);
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('figure'))).toHaveLength(1);
    expect(lines).toContain('== First');
    expect(lines).toContain('ERROR: boom');
    const short = lines.find((l) => l.startsWith('short'))!;
    const long = lines.find((l) => l.startsWith('a much longer figure'))!;
    // The value column starts at the same place in both sections.
    expect(short.indexOf('1')).toBe(long.indexOf('22'));
    expect(long.endsWith('PASS')).toBe(true);
  });

  test('the Markdown table escapes pipes and names each section', () => {
    const md = renderMarkdown([
      { title: 'S', rows: [{ figure: 'a|b', value: '1', verdict: 'FAIL' }] },
    ]);
    expect(md.split('\n')).toEqual([
      '| figure | Meshgate | baseline | ratio / target | verdict |',
      '| --- | --- | --- | --- | --- |',
      '| **S** |  |  |  |  |',
      '| a\\|b | 1 |  |  | FAIL |',
    ]);
  });

  test('selecting benchmarks from the command line', () => {
    const all = [{ name: 'policy' }, { name: 'export' }, { name: 'load' }];
    expect(selectBenchmarks(all, [])).toEqual({ selected: all, unknown: [] });
    expect(selectBenchmarks(all, ['--markdown'])).toEqual({ selected: all, unknown: [] });
    // Registered order, whatever the order asked.
    expect(selectBenchmarks(all, ['load', 'policy']).selected.map((b) => b.name)).toEqual([
      'policy',
      'load',
    ]);
    expect(selectBenchmarks(all, ['load', 'nope']).unknown).toEqual(['nope']);
  });

  test('a benchmark run only when named is left out of a run that names none', () => {
    const all = [{ name: 'policy' }, { name: 'scale', onlyWhenNamed: true }];
    expect(selectBenchmarks(all, ['--markdown']).selected.map((b) => b.name)).toEqual(['policy']);
    expect(selectBenchmarks(all, ['scale', '--quick']).selected.map((b) => b.name)).toEqual([
      'scale',
    ]);
  });

  test('latency statistics from nanoseconds, nearest rank', () => {
    const s = latencyStats(Array.from({ length: 100 }, (_, i) => (i + 1) * 1000));
    expect([s.n, s.p50, s.p99, s.max, s.mean]).toEqual([100, 50, 99, 100, 50.5]);
  });
});
