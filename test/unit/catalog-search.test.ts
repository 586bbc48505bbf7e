import type { DataProduct } from '../../functions/domain/model';
import {
  MAX_FACET_VALUES,
  MiniSearchCatalog,
} from '../../functions/adapters/search/minisearch-catalog';

const product = (id: string, over: Partial<DataProduct> = {}): DataProduct => {
  const [domain, name] = id.split('/') as [string, string];
  return {
    id,
    domain,
    name,
    title: name,
    description: '',
    owner: 'nobody',
    classification: 'internal',
    tags: [],
    location: { catalogId: '111111111111', database: domain, table: name },
    columns: [{ name: 'id', type: 'string', pii: false }],
    freshness: 'daily',
    status: 'ACTIVE',
    ...over,
  };
};

const CATALOG = [
  product('hr/employees', {
    title: 'Employees',
    description: 'Everyone on the payroll, with their team and manager.',
    owner: 'grace',
    classification: 'confidential',
    tags: ['people', 'pii'],
    columns: [
      { name: 'employee_id', type: 'string', pii: false },
      { name: 'email', type: 'string', comment: 'work address', pii: true },
    ],
  }),
  product('hr/headcount', {
    title: 'Headcount by team',
    description: 'How many employees each team has, monthly.',
    owner: 'grace',
    tags: ['people'],
  }),
  product('sales/orders', {
    title: 'Orders',
    description: 'Every order placed in the web shop.',
    owner: 'bob',
    tags: ['gold'],
    columns: [
      { name: 'order_id', type: 'string', pii: false },
      { name: 'customer_email', type: 'string', comment: 'who ordered', pii: true },
    ],
  }),
  product('sales/leads', {
    title: 'Leads',
    description: 'Prospects from campaigns.',
    owner: 'bob',
    classification: 'confidential',
    tags: ['gold', 'marketing'],
  }),
  product('finance/invoices', {
    title: 'Invoices',
    description: 'Invoices sent to customers, with their orders.',
    owner: 'fiona',
    tags: ['ledger'],
    columns: [{ name: 'invoice_no', type: 'string', comment: 'the invoice number', pii: false }],
  }),
];

const index = MiniSearchCatalog.build(7, CATALOG);
const ids = (r: { matches: { id: string }[] }) => r.matches.map((m) => m.id);
const none = new Set<string>();

describe('catalog search (MiniSearch)', () => {
  test('a typo still finds the product, and the title match ranks first', () => {
    expect(ids(index.search({ q: 'emplyee' }, none))[0]).toBe('hr/employees');
    expect(ids(index.search({ q: 'employees' }, none))).toEqual(['hr/employees', 'hr/headcount']);
  });

  test('a number is matched as written or as the start of one, never with a typo', () => {
    const numbered = MiniSearchCatalog.build(1, [
      product('sales/orders_16262', { title: 'Orders 2024' }),
      product('sales/orders_16263', { title: 'Orders 2025' }),
      product('sales/orders_162620', { title: 'Orders archive' }),
    ]);
    expect(ids(numbered.search({ q: '16262' }, none))).toEqual([
      'sales/orders_16262',
      'sales/orders_162620',
    ]);
    expect(ids(numbered.search({ q: '2025' }, none))).toEqual(['sales/orders_16263']);
    // Words keep their typo tolerance.
    expect(ids(numbered.search({ q: 'ordres 2024' }, none))).toEqual(['sales/orders_16262']);
  });

  test('a prefix finds whole words', () => {
    expect(ids(index.search({ q: 'invo' }, none))).toEqual(['finance/invoices']);
  });

  test('column names, column comments, tags and owners are searched', () => {
    expect(ids(index.search({ q: 'customer_email' }, none))).toEqual(['sales/orders']);
    expect(ids(index.search({ q: 'invoice number' }, none))).toEqual(['finance/invoices']);
    expect(ids(index.search({ q: 'marketing' }, none))).toEqual(['sales/leads']);
    expect(ids(index.search({ q: 'fiona' }, none))).toEqual(['finance/invoices']);
  });

  test('a title match outranks a description match', () => {
    // "orders" is the title of sales/orders and only in the description of finance/invoices.
    expect(ids(index.search({ q: 'orders' }, none))).toEqual(['sales/orders', 'finance/invoices']);
  });

  test('every word must match', () => {
    expect(ids(index.search({ q: 'orders grace' }, none))).toEqual([]);
  });

  test('without text: every product by id, filters applied', () => {
    expect(ids(index.search({}, none))).toEqual([
      'finance/invoices',
      'hr/employees',
      'hr/headcount',
      'sales/leads',
      'sales/orders',
    ]);
    expect(ids(index.search({ pii: true }, none))).toEqual(['hr/employees', 'sales/orders']);
    expect(ids(index.search({ tag: 'gold', classification: 'confidential' }, none))).toEqual([
      'sales/leads',
    ]);
    expect(ids(index.search({ owner: 'grace' }, none))).toEqual(['hr/employees', 'hr/headcount']);
  });

  test('facets count the matches, each without its own filter (other values stay visible)', () => {
    const r = index.search({ domain: 'sales' }, new Set(['sales/orders']));
    expect(ids(r)).toEqual(['sales/leads', 'sales/orders']);
    expect(r.facets.domain).toEqual([
      { value: 'hr', count: 2 },
      { value: 'sales', count: 2 },
      { value: 'finance', count: 1 },
    ]);
    expect(r.facets.classification).toEqual([
      { value: 'confidential', count: 1 },
      { value: 'internal', count: 1 },
    ]);
    expect(r.facets.tag).toEqual([
      { value: 'gold', count: 2 },
      { value: 'marketing', count: 1 },
    ]);
    expect(r.facets.owner).toEqual([{ value: 'bob', count: 2 }]);
    expect(r.facets.pii).toEqual([
      { value: 'false', count: 1 },
      { value: 'true', count: 1 },
    ]);
    expect(r.facets.access).toEqual([
      { value: 'false', count: 1 },
      { value: 'true', count: 1 },
    ]);
  });

  test('the access filter keeps the products the caller holds', () => {
    const held = new Set(['sales/orders', 'hr/employees']);
    expect(ids(index.search({ access: true }, held))).toEqual(['hr/employees', 'sales/orders']);
    expect(ids(index.search({ access: false, q: 'employees' }, held))).toEqual(['hr/headcount']);
  });

  test('facet lists are capped, and keep the value chosen', () => {
    const many = Array.from({ length: MAX_FACET_VALUES + 10 }, (_, i) =>
      product(`d/p${String(i).padStart(3, '0')}`, { owner: `owner${String(i).padStart(3, '0')}` }),
    );
    const big = MiniSearchCatalog.build(1, many);
    const chosen = `owner${String(MAX_FACET_VALUES + 5).padStart(3, '0')}`;
    const r = big.search({ owner: chosen }, none);
    expect(r.matches).toHaveLength(1);
    expect(r.facets.owner).toHaveLength(MAX_FACET_VALUES + 1);
    expect(r.facets.owner.at(-1)).toEqual({ value: chosen, count: 1 });
  });

  test('the serialised index answers as the one built', () => {
    const loaded = MiniSearchCatalog.load(index.serialise());
    expect(loaded.version).toBe(7);
    expect(loaded.size).toBe(CATALOG.length);
    for (const q of ['emplyee', 'invo', 'orders', 'customer_email', ''])
      expect(loaded.search({ q }, none)).toEqual(index.search({ q }, none));
    expect(loaded.search({ q: 'orders' }, none).matches).toEqual(
      index.search({ q: 'orders' }, none).matches,
    );
  });
});
