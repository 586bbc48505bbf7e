import fc from 'fast-check';
import { describeKey, leftoverLinks } from '../../functions/domain/consumer';

// What a consumer account's link database holds that no grant in use accounts for.

const ROLE = (n: string) => `arn:aws:iam::777777777777:role/${n}`;
const BROKER = ROLE('meshgate-broker');
const target = (table: string) => ({ catalogId: '111111111111', database: 'sales_gold', table });

const listed = {
  tables: [
    { name: 'sales_gold__orders', target: target('orders') },
    { name: 'sales_gold__leads', target: target('leads') },
    { name: 'analyst_notes' },
  ],
  describe: [
    { table: 'sales_gold__orders', principal: ROLE('active') },
    { table: 'sales_gold__orders', principal: ROLE('ended') },
    { table: 'sales_gold__orders', principal: ROLE('ended') },
    { table: 'sales_gold__orders', principal: BROKER },
    { table: 'sales_gold__leads', principal: 'IAM_ALLOWED_PRINCIPALS' },
    { table: 'sales_gold__leads', principal: '555555555555' },
  ],
};

test('only DESCRIBE of principals no grant uses, and only links no grant uses, are left over', () => {
  const inUse = {
    tables: new Set(['sales_gold__orders']),
    describe: new Set([describeKey('sales_gold__orders', ROLE('active'))]),
  };
  expect(leftoverLinks(listed, inUse, BROKER)).toEqual({
    // Once each; never the broker role, nor a group of Lake Formation's.
    describe: [
      { table: 'sales_gold__orders', principal: ROLE('ended') },
      { table: 'sales_gold__leads', principal: '555555555555' },
    ],
    // A table that is not a resource link is not Meshgate's.
    links: [{ name: 'sales_gold__leads', target: 'sales_gold.leads' }],
  });
});

test('everything in use: nothing left over', () => {
  const inUse = {
    tables: new Set(['sales_gold__orders', 'sales_gold__leads']),
    describe: new Set([
      describeKey('sales_gold__orders', ROLE('active')),
      describeKey('sales_gold__orders', ROLE('ended')),
      describeKey('sales_gold__leads', '555555555555'),
    ]),
  };
  expect(leftoverLinks(listed, inUse, BROKER)).toEqual({ describe: [], links: [] });
});

test('property: what is left over is exactly what is listed, not in use, and a grant principal could hold', () => {
  const tables = fc.constantFrom('t1', 't2', 't3', 't4');
  const principal = fc.constantFrom(ROLE('a'), ROLE('b'), BROKER, 'IAM_ALLOWED_PRINCIPALS');
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.record({ name: tables, link: fc.boolean() }), {
        selector: (t) => t.name,
      }),
      fc.array(fc.record({ table: tables, principal })),
      fc.array(fc.record({ table: tables, principal })),
      (listedTables, listedDescribe, used) => {
        const inUse = {
          tables: new Set(used.map((u) => u.table)),
          describe: new Set(used.map((u) => describeKey(u.table, u.principal))),
        };
        const out = leftoverLinks(
          {
            tables: listedTables.map((t) => ({
              name: t.name,
              ...(t.link ? { target: target(t.name) } : {}),
            })),
            describe: listedDescribe,
          },
          inUse,
          BROKER,
        );
        const expectedDescribe = new Set(
          listedDescribe
            .filter(
              (d) =>
                d.principal !== BROKER &&
                d.principal !== 'IAM_ALLOWED_PRINCIPALS' &&
                !inUse.describe.has(describeKey(d.table, d.principal)),
            )
            .map((d) => describeKey(d.table, d.principal)),
        );
        expect(out.describe.map((d) => describeKey(d.table, d.principal)).sort()).toEqual(
          [...expectedDescribe].sort(),
        );
        expect(out.links.map((l) => l.name).sort()).toEqual(
          listedTables
            .filter((t) => t.link && !inUse.tables.has(t.name))
            .map((t) => t.name)
            .sort(),
        );
      },
    ),
    { seed: 16, numRuns: 500 },
  );
});
