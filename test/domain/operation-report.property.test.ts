import fc from 'fast-check';
import { boundReport, REPORT_MAX_BYTES } from '../../functions/domain/operations';

// A finished operation's report is stored whole in two items of one transaction (the operation
// and its report event), so it is bounded: these are the properties of the bound, over random
// reports shaped like a sync's or a reconciliation's (a few plain fields, a few lists).

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

const entry = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.record({
    kind: fc.constantFrom('missing', 'stray', 'foreign'),
    principal: fc.string({ maxLength: 60 }),
    resource: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 40 })),
  }),
);
const reportArb = fc.record({
  domain: fc.string({ maxLength: 20 }),
  at: fc.string({ maxLength: 24 }),
  unchanged: fc.nat(),
  checked: fc.record({ permissions: fc.nat(), grants: fc.nat() }),
  added: fc.array(entry, { maxLength: 60 }),
  missing: fc.array(entry, { maxLength: 60 }),
  foreign: fc.array(entry, { maxLength: 200 }),
});
/** Small bounds, so that a report of a few dozen entries is over some and under others. */
const maxArb = fc.integer({ min: 1_000, max: 12_000 });

const LISTS = ['added', 'missing', 'foreign'] as const;

test('a report that fits is stored as it is', () => {
  fc.assert(
    fc.property(reportArb, (r) => {
      expect(boundReport(r, bytes(r))).toBe(r);
      expect(boundReport(r)).toBe(r);
    }),
  );
});

test('a bounded report fits, keeps every plain field, and lists a prefix of each list with the count left out', () => {
  fc.assert(
    fc.property(reportArb, maxArb, (r, max) => {
      const out = boundReport(r, max);
      expect(bytes(out)).toBeLessThanOrEqual(max);
      if (bytes(r) <= max) return;
      expect(out).toMatchObject({
        domain: r.domain,
        at: r.at,
        unchanged: r.unchanged,
        checked: r.checked,
      });
      const omitted = out.omitted as Record<string, number>;
      for (const k of LISTS) {
        const kept = out[k] as unknown[];
        expect(kept).toEqual(r[k].slice(0, kept.length));
        expect(kept.length + (omitted[k] ?? 0)).toBe(r[k].length);
        if (omitted[k] !== undefined) expect(omitted[k]).toBeGreaterThan(0);
      }
    }),
  );
});

test('a bounded report keeps as many entries of each list as fit: one more each would not', () => {
  fc.assert(
    fc.property(reportArb, maxArb, (r, max) => {
      const out = boundReport(r, max);
      const omitted = (out.omitted ?? {}) as Record<string, number>;
      const cut = LISTS.filter((k) => omitted[k]);
      if (!cut.length) return;
      // Every list that was cut keeps the same number of entries, the most that fit.
      const keep = (out[cut[0]!] as unknown[]).length;
      for (const k of cut) expect((out[k] as unknown[]).length).toBe(keep);
      const more: Record<string, unknown> = { ...out, omitted: { ...omitted } };
      for (const k of cut) {
        more[k] = r[k].slice(0, keep + 1);
        (more.omitted as Record<string, number>)[k] = r[k].length - keep - 1;
      }
      expect(bytes(more)).toBeGreaterThan(max);
    }),
  );
});

test('a report of thousands of findings is cut to the default bound', () => {
  const foreign = Array.from({ length: 5000 }, (_, i) => ({
    kind: 'foreign',
    principal: `arn:aws:iam::999999999999:role/dba-${i}`,
    resource: { Table: { CatalogId: '111111111111', DatabaseName: 'sales_gold', Name: 'orders' } },
    permissions: ['SELECT'],
    action: 'reported only',
  }));
  const report = { domain: 'sales', missing: [], stray: [], foreign };
  expect(bytes(report)).toBeGreaterThan(400 * 1024);
  const out = boundReport(report);
  expect(bytes(out)).toBeLessThanOrEqual(REPORT_MAX_BYTES);
  expect((out.foreign as unknown[]).length).toBeGreaterThan(1000);
  expect(out.omitted).toEqual({ foreign: 5000 - (out.foreign as unknown[]).length });
  expect(out.missing).toEqual([]);
});
