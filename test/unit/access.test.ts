import {
  accessFor,
  accountOfPrincipal,
  linkDatabase,
  linkTableName,
} from '../../functions/domain/consumer';
import type { Grant } from '../../functions/domain/model';

const product = {
  location: { catalogId: '111111111111', database: 'sales_gold', table: 'orders' },
  columns: ['order_id', 'customer_id', 'amount', 'odd"name'].map((name) => ({
    name,
    type: 'string',
    pii: false,
  })),
};
const domain = { accountId: '111111111111', region: 'eu-west-1' };
const grant = (over: Partial<Grant> = {}) => ({
  status: 'ACTIVE' as const,
  principal: 'arn:aws:iam::111111111111:role/analyst',
  accountId: '111111111111',
  expiresAt: '2026-12-13T10:00:00.000Z',
  domain: 'sales',
  scope: { permissions: ['SELECT' as const], columns: { mode: 'all' as const } },
  ...over,
});

test('a whole-table grant in the producing account: every column, the table itself', () => {
  expect(accessFor(grant(), product, domain)).toEqual({
    account: '111111111111',
    region: 'eu-west-1',
    catalogId: '111111111111',
    database: 'sales_gold',
    table: 'orders',
    principal: 'arn:aws:iam::111111111111:role/analyst',
    expiresAt: '2026-12-13T10:00:00.000Z',
    query: 'SELECT * FROM "sales_gold"."orders" LIMIT 10',
  });
});

test('include lists keep the product order; exclude lists are resolved against the columns', () => {
  const include = accessFor(
    grant({
      scope: {
        permissions: ['SELECT'],
        columns: { mode: 'include', columns: ['amount', 'order_id'] },
      },
    }),
    product,
    domain,
  );
  expect(include?.columns).toEqual(['order_id', 'amount']);
  expect(include?.query).toBe('SELECT "order_id", "amount" FROM "sales_gold"."orders" LIMIT 10');
  const exclude = accessFor(
    grant({
      scope: { permissions: ['SELECT'], columns: { mode: 'exclude', columns: ['customer_id'] } },
    }),
    product,
    domain,
  );
  expect(exclude?.query).toBe(
    'SELECT "order_id", "amount", "odd""name" FROM "sales_gold"."orders" LIMIT 10',
  );
});

test('with a resource link the query names the link', () => {
  const a = accessFor(
    {
      ...grant({ principal: 'arn:aws:iam::777777777777:role/analyst' }),
      consumerLink: {
        account: '777777777777',
        region: 'eu-west-1',
        database: 'meshgate_sales',
        table: 'sales_gold__orders',
        tables: [{ name: 'sales_gold__orders', target: 'sales_gold.orders' }],
        describeGranted: true,
        invitationAccepted: true,
        at: '2026-12-06T10:00:00.000Z',
      },
    },
    product,
    domain,
  );
  expect(a?.link).toEqual({
    account: '777777777777',
    region: 'eu-west-1',
    database: 'meshgate_sales',
    table: 'sales_gold__orders',
  });
  expect(a?.query).toBe('SELECT * FROM "meshgate_sales"."sales_gold__orders" LIMIT 10');
  expect(a?.setup).toBeUndefined();
});

test('another account without a link gets the setup its administrator runs', () => {
  const a = accessFor(grant({ principal: 'arn:aws:iam::888888888888:role/x' }), product, domain);
  expect(a?.setup?.account).toBe('888888888888');
  expect(a?.setup?.steps.map((s) => s.command.split(' ').slice(0, 3).join(' '))).toEqual([
    'aws ram get-resource-share-invitations',
    'aws glue create-database',
    'aws glue create-table',
    'aws lakeformation grant-permissions',
  ]);
  expect(a?.query).toBe('SELECT * FROM "meshgate_sales"."sales_gold__orders" LIMIT 10');
});

test('only an ACTIVE grant has an access block', () => {
  for (const status of ['REVOKING', 'REVOKED', 'EXPIRED'] as const)
    expect(accessFor(grant({ status }), product, domain)).toBeUndefined();
});

test('names: accounts of principals, link databases and tables, quoted identifiers', () => {
  expect(accountOfPrincipal('arn:aws:iam::123456789012:role/a/b')).toBe('123456789012');
  expect(accountOfPrincipal('123456789012')).toBe('123456789012');
  expect(accountOfPrincipal('arn:aws:iam::role')).toBeUndefined();
  expect(linkDatabase('customer-360')).toBe('meshgate_customer_360');
  expect(linkTableName('Sales-Gold', 'Orders')).toBe('sales_gold__orders');
});
