import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrincipalResourcePermissions } from '@aws-sdk/client-lakeformation';
import {
  holderKey,
  mergeHeld,
  normalisedKey,
  plannedEntries,
  resourceKey,
  type GrantShape,
  type HeldPermission,
} from '../../functions/domain/lakeformation';

// One key for a permission whichever shape Lake Formation is sent it or lists it in.

const ACCOUNT = '111111111111';
const at = { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' };
const ROLES = {
  whole: 'arn:aws:iam::555555555555:role/whole',
  wholeSelect: 'arn:aws:iam::555555555555:role/whole-select',
  include: 'arn:aws:iam::555555555555:role/include',
  exclude: 'arn:aws:iam::555555555555:role/exclude',
  filter: 'arn:aws:iam::555555555555:role/filter',
  filterRequest: 'req_01JFILTER',
};

/** A recorded ListPermissions page, its placeholders filled in. */
function page(n: number): PrincipalResourcePermissions[] {
  const text = readFileSync(
    join(__dirname, `../fixtures/lakeformation/list-permissions.page${n}.json`),
    'utf8',
  ).replace(/\{\{(\w+)\}\}/g, (_, k: keyof typeof ROLES) => ROLES[k]);
  return JSON.parse(text).PrincipalResourcePermissions;
}
const listed: HeldPermission[] = [...page(1), ...page(2)].map((p) => ({
  principal: p.Principal!.DataLakePrincipalIdentifier!,
  resource: p.Resource as Record<string, unknown>,
  permissions: p.Permissions ?? [],
  permissionsWithGrantOption: p.PermissionsWithGrantOption ?? [],
}));

const shape = (principal: string, over: Partial<GrantShape>): GrantShape => ({
  grantId: 'req_01JX',
  accountId: ACCOUNT,
  principal,
  database: 'sales_gold',
  tables: ['orders'],
  permissions: ['SELECT'],
  columns: { mode: 'all' },
  ...over,
});
/** What Meshgate holds by holder after granting `g`, as it sends it. */
const planned = (g: GrantShape) =>
  mergeHeld(
    plannedEntries(g).map((e) => ({
      principal: e.Principal.DataLakePrincipalIdentifier,
      resource: e.Resource,
      permissions: e.Permissions,
    })),
  );
const listedFor = (principal: string) => mergeHeld(listed.filter((p) => p.principal === principal));

describe('resourceKey', () => {
  test('a whole table is the same as Table, as TableWithColumns with an empty ColumnWildcard, and with no exclusions', () => {
    const table = resourceKey({ Table: at });
    expect(resourceKey({ TableWithColumns: { ...at, ColumnWildcard: {} } })).toBe(table);
    expect(
      resourceKey({ TableWithColumns: { ...at, ColumnWildcard: { ExcludedColumnNames: [] } } }),
    ).toBe(table);
    expect(resourceKey({ Table: { ...at, Name: 'lines' } })).not.toBe(table);
  });

  test('every table of a database: TableWildcard, and ALL_TABLES as it is listed', () => {
    const { Name: _, ...db } = at;
    const wildcard = resourceKey({ Table: { ...db, TableWildcard: {} } });
    expect(resourceKey({ Table: { ...db, Name: 'ALL_TABLES' } })).toBe(wildcard);
    expect(
      resourceKey({ TableWithColumns: { ...db, Name: 'ALL_TABLES', ColumnWildcard: {} } }),
    ).toBe(wildcard);
    expect(resourceKey({ Table: at })).not.toBe(wildcard);
  });

  test('column lists compare in any order; include, exclude and whole table differ', () => {
    const include = resourceKey({ TableWithColumns: { ...at, ColumnNames: ['a', 'b'] } });
    expect(resourceKey({ TableWithColumns: { ...at, ColumnNames: ['b', 'a'] } })).toBe(include);
    const exclude = resourceKey({
      TableWithColumns: { ...at, ColumnWildcard: { ExcludedColumnNames: ['a', 'b'] } },
    });
    expect(
      resourceKey({
        TableWithColumns: { ...at, ColumnWildcard: { ExcludedColumnNames: ['b', 'a'] } },
      }),
    ).toBe(exclude);
    expect(new Set([include, exclude, resourceKey({ Table: at })]).size).toBe(3);
    expect(resourceKey({ TableWithColumns: { ...at, ColumnNames: ['a'] } })).not.toBe(include);
  });

  test('a data cells filter is its table and its name; other resources keep their canonical JSON', () => {
    const f = { TableCatalogId: ACCOUNT, DatabaseName: 'sales_gold', TableName: 'orders' };
    const a = resourceKey({ DataCellsFilter: { ...f, Name: 'meshgate-a' } });
    expect(resourceKey({ DataCellsFilter: { Name: 'meshgate-a', ...f } })).toBe(a);
    expect(resourceKey({ DataCellsFilter: { ...f, Name: 'meshgate-b' } })).not.toBe(a);
    expect(resourceKey({ Table: at })).not.toBe(a);
    expect(resourceKey({ Database: { CatalogId: ACCOUNT, Name: 'sales_gold' } })).toBe(
      resourceKey({ Database: { Name: 'sales_gold', CatalogId: ACCOUNT } }),
    );
  });
});

describe('normalisedKey', () => {
  const whole = { principal: ROLES.whole, resource: { Table: at } };
  test('permission names in any order; names and grant options are part of the key', () => {
    const key = normalisedKey({ ...whole, permissions: ['SELECT', 'DESCRIBE'] });
    expect(normalisedKey({ ...whole, permissions: ['DESCRIBE', 'SELECT'] })).toBe(key);
    expect(
      normalisedKey({
        principal: ROLES.whole,
        resource: { TableWithColumns: { ...at, ColumnWildcard: {} } },
        permissions: ['DESCRIBE', 'SELECT'],
      }),
    ).toBe(key);
    expect(normalisedKey({ ...whole, permissions: ['SELECT'] })).not.toBe(key);
    expect(
      normalisedKey({
        ...whole,
        permissions: ['SELECT', 'DESCRIBE'],
        permissionsWithGrantOption: ['SELECT'],
      }),
    ).not.toBe(key);
    expect(
      normalisedKey({ ...whole, principal: ROLES.include, permissions: ['SELECT', 'DESCRIBE'] }),
    ).not.toBe(key);
  });
});

describe('what Meshgate sends is what ListPermissions lists back (recorded answers)', () => {
  test('whole table: SELECT listed under TableWithColumns with ColumnWildcard, DESCRIBE under Table', () => {
    const g = shape(ROLES.whole, { permissions: ['SELECT', 'DESCRIBE'] });
    expect(plannedEntries(g)[0]!.Resource).toEqual({ Table: at });
    expect(listedFor(ROLES.whole)).toEqual(planned(g));
    expect([...listedFor(ROLES.whole).values()]).toEqual([new Set(['SELECT', 'DESCRIBE'])]);
  });

  test('whole table, SELECT alone: one TableWithColumns row, nothing under Table', () => {
    const g = shape(ROLES.wholeSelect, {});
    expect(listedFor(ROLES.wholeSelect)).toEqual(planned(g));
  });

  test('include list, listed in another order', () => {
    const g = shape(ROLES.include, {
      columns: { mode: 'include', columns: ['order_id', 'region', 'amount'] },
    });
    expect(listedFor(ROLES.include)).toEqual(planned(g));
  });

  test('exclude list, ExcludedColumnNames in another order', () => {
    const g = shape(ROLES.exclude, {
      columns: { mode: 'exclude', columns: ['amount_eur', 'customer_id'] },
    });
    expect(listedFor(ROLES.exclude)).toEqual(planned(g));
  });

  test('a grant on a data cells filter', () => {
    const g = shape(ROLES.filter, { grantId: ROLES.filterRequest, rowFilter: "region = 'EMEA'" });
    expect(listedFor(ROLES.filter)).toEqual(planned(g));
  });

  test('a listed permission is one holder per principal and resource, whatever its shape', () => {
    expect(new Set(listed.map((p) => holderKey(p.principal, p.resource))).size).toBe(5);
  });
});
