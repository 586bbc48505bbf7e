import { LINK_GRACE_MS } from '../../functions/domain/consumer';
import type { ConsumerLink, DataProduct, Domain, Grant } from '../../functions/domain/model';
import type { LinkSpec, ListedLinks } from '../../functions/ports/consumer-links';
import type { WorkerDeps } from '../../functions/usecases/deps';
import { removeLeftoverLinks } from '../../functions/usecases/consumer-links';
import { movingClock } from '../support/clock';

// What reconciliation of a consumer account's link database counts as in use, and what it never
// takes for a leftover, against a store and a consumer account that answer as the test says.

const CONSUMER = '777777777777';
const PRODUCER = '111111111111';
const role = (n: string) => `arn:aws:iam::${CONSUMER}:role/${n}`;
const domain = (id: string): Domain => ({
  id,
  name: id,
  accountId: PRODUCER,
  region: 'eu-west-1',
});
const product = (id: string, database: string, table: string) =>
  ({ id, location: { database, table } }) as unknown as DataProduct;

function grant(over: Partial<Grant> & Pick<Grant, 'id' | 'domain' | 'productId' | 'principal'>) {
  return {
    requestId: `req-${over.id}`,
    requester: 'alice',
    classification: 'internal',
    accountId: PRODUCER,
    scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
    grantedAt: '2026-12-01T00:00:00.000Z',
    expiresAt: '2027-12-01T00:00:00.000Z',
    status: 'ACTIVE',
    entries: [],
    ...over,
  } as Grant;
}

const linkOf = (database: string, name: string, target: string): ConsumerLink => ({
  account: CONSUMER,
  region: 'eu-west-1',
  database,
  table: name,
  tables: [{ name, target }],
  describeGranted: true,
  invitationAccepted: false,
  at: '2026-12-01T00:00:00.000Z',
});

function setup(opts: {
  domains: Domain[];
  products: DataProduct[];
  grants: Grant[];
  listed: ListedLinks;
}) {
  const clock = movingClock(new Date('2026-12-06T10:00:00.000Z'));
  const unlinked: Array<{ links: string[]; principal: string; deleted: string[] }> = [];
  const deps = {
    clock,
    store: {
      listConsumerAccountsPage: async () => ({
        items: [
          {
            id: 'analytics',
            accountId: CONSUMER,
            region: 'eu-west-1',
            broker: { roleArn: role('meshgate-broker'), externalId: 'x' },
          },
        ],
      }),
      listDomains: async () => opts.domains,
      listInFlightSince: async () => ({ items: [] }),
      listGrantsByDomain: async (d: string) => opts.grants.filter((g) => g.domain === d),
      getProduct: async (id: string) => opts.products.find((p) => p.id === id),
    },
    consumerLinks: {
      listLinks: async () => opts.listed,
      link: async () => ({ invitationAccepted: false, entries: [] }),
      unlink: async (spec: LinkSpec, deleted: string[]) => {
        unlinked.push({
          links: spec.links.map((l) => l.name),
          principal: spec.principal,
          deleted,
        });
        return [];
      },
    },
  } as unknown as Pick<WorkerDeps, 'store' | 'consumerLinks' | 'clock'>;
  return { deps, clock, unlinked };
}

const OLD = '2026-12-01T09:00:00.000Z';
const target = (database: string, table: string) => ({ catalogId: PRODUCER, database, table });

test('a live grant made before its consumer account was registered keeps the links and DESCRIBE its administrator made', async () => {
  // Granted with no recorded link (the account was not registered): its access block told the
  // administrator to make meshgate_sales.sales_gold__orders and grant DESCRIBE on it.
  const { deps, unlinked } = setup({
    domains: [domain('sales')],
    products: [product('sales/orders', 'sales_gold', 'orders')],
    grants: [
      grant({ id: 'g1', domain: 'sales', productId: 'sales/orders', principal: role('early') }),
      grant({
        id: 'g2',
        domain: 'sales',
        productId: 'sales/orders',
        principal: role('revoking'),
        status: 'REVOKING',
      }),
      // Ended: what it would need is not in use.
      grant({
        id: 'g3',
        domain: 'sales',
        productId: 'sales/orders',
        principal: role('ended'),
        status: 'REVOKED',
      }),
    ],
    listed: {
      tables: [{ name: 'sales_gold__orders', target: target('sales_gold', 'orders'), at: OLD }],
      describe: [
        { table: 'sales_gold__orders', principal: role('early'), at: OLD },
        { table: 'sales_gold__orders', principal: role('revoking'), at: OLD },
        { table: 'sales_gold__orders', principal: role('ended'), at: OLD },
      ],
    },
  });
  const out = await removeLeftoverLinks(deps, domain('sales'));
  expect(out.leftovers.map((l) => [l.what, l.table, l.principal])).toEqual([
    ['describe', 'sales_gold__orders', role('ended')],
  ]);
  expect(unlinked).toEqual([
    { links: ['sales_gold__orders'], principal: role('ended'), deleted: [] },
  ]);
});

test('two domains sharing one link database (sales-eu, sales_eu) keep each other’s live links', async () => {
  const db = 'meshgate_sales_eu';
  const { deps, unlinked } = setup({
    domains: [domain('sales-eu'), domain('sales_eu'), domain('finance')],
    products: [
      product('sales-eu/orders', 'eu_a', 'orders'),
      product('sales_eu/leads', 'eu_b', 'leads'),
    ],
    grants: [
      grant({
        id: 'a',
        domain: 'sales-eu',
        productId: 'sales-eu/orders',
        principal: role('a'),
        consumerLink: linkOf(db, 'eu_a__orders', 'eu_a.orders'),
      }),
      grant({
        id: 'b',
        domain: 'sales_eu',
        productId: 'sales_eu/leads',
        principal: role('b'),
        consumerLink: linkOf(db, 'eu_b__leads', 'eu_b.leads'),
      }),
    ],
    listed: {
      tables: [
        { name: 'eu_a__orders', target: target('eu_a', 'orders'), at: OLD },
        { name: 'eu_b__leads', target: target('eu_b', 'leads'), at: OLD },
        { name: 'eu_b__gone', target: target('eu_b', 'gone'), at: OLD },
      ],
      describe: [
        { table: 'eu_a__orders', principal: role('a'), at: OLD },
        { table: 'eu_b__leads', principal: role('b'), at: OLD },
      ],
    },
  });
  // Reconciling either domain removes only what neither uses.
  for (const d of ['sales-eu', 'sales_eu']) {
    unlinked.length = 0;
    const out = await removeLeftoverLinks(deps, domain(d));
    expect(out.leftovers.map((l) => [l.what, l.table])).toEqual([['link', 'eu_b__gone']]);
    expect(unlinked).toEqual([{ links: [], principal: '', deleted: ['eu_b__gone'] }]);
  }
});

test('a link or DESCRIBE younger than the grace period is never a leftover; once older, it is', async () => {
  const { deps, clock, unlinked } = setup({
    domains: [domain('sales')],
    products: [],
    grants: [],
    listed: {
      tables: [
        // Made a moment ago by a grant the lagging indexes do not show yet.
        { name: 'sales_gold__fresh', target: target('sales_gold', 'fresh'), at: '' },
        // An old link someone granted DESCRIBE on a moment ago: deleting it would take that too.
        { name: 'sales_gold__old', target: target('sales_gold', 'old'), at: OLD },
      ],
      describe: [
        { table: 'sales_gold__fresh', principal: role('fresh'), at: '' },
        { table: 'sales_gold__old', principal: role('new'), at: '' },
      ],
    },
  });
  const listed = await deps.consumerLinks.listLinks({} as LinkSpec['consumer'], '');
  const stamp = (at: string) => {
    for (const e of [...listed.tables, ...listed.describe]) if (e.at !== OLD) e.at = at;
  };
  // One millisecond inside the grace period: nothing is removed.
  stamp(new Date(clock.now().getTime() - LINK_GRACE_MS + 1).toISOString());
  expect((await removeLeftoverLinks(deps, domain('sales'))).leftovers).toEqual([]);
  expect(unlinked).toEqual([]);
  // Still left over once the grace period has passed: removed then.
  clock.advance(1);
  const out = await removeLeftoverLinks(deps, domain('sales'));
  expect(out.leftovers.map((l) => [l.what, l.table, l.principal])).toEqual([
    ['describe', 'sales_gold__fresh', role('fresh')],
    ['describe', 'sales_gold__old', role('new')],
    ['link', 'sales_gold__fresh', undefined],
    ['link', 'sales_gold__old', undefined],
  ]);
});
