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
