import type { ColumnScope, Permission } from './model';

// The shape of Lake Formation permissions Meshgate makes, in the API's own terms. Pure: the AWS
// adapter sends these, the local ledger stores them, the reconciler compares against them.

export interface GrantShape {
  /** The request id: names the data cells filter, so a retry finds what the first try made. */
  grantId: string;
  accountId: string;
  /** An IAM role ARN, or a 12-digit account id for cross-account sharing. */
  principal: string;
  database: string;
  tables: string[];
  permissions: Permission[];
  columns: ColumnScope;
  rowFilter?: string;
  /** Only these tables (the retry of a partial failure). */
  onlyTables?: string[];
}

export interface PlannedEntry {
  table: string;
  Principal: { DataLakePrincipalIdentifier: string };
  Resource: Record<string, unknown>;
  Permissions: Permission[];
}

/** Lake Formation filter names allow letters, digits and punctuation; a request id fits as is. */
export const filterName = (grantId: string) => `meshgate-${grantId}`;

/** The resource a table permission goes on: the table, some of its columns, or a data cells filter. */
export function tableResource(g: GrantShape, table: string): Record<string, unknown> {
  if (g.rowFilter) {
    return {
      DataCellsFilter: {
        TableCatalogId: g.accountId,
        DatabaseName: g.database,
        TableName: table,
        Name: filterName(g.grantId),
      },
    };
  }
  const t = { CatalogId: g.accountId, DatabaseName: g.database, Name: table };
  switch (g.columns.mode) {
    case 'all':
      return { Table: t };
    case 'include':
      return { TableWithColumns: { ...t, ColumnNames: g.columns.columns } };
    case 'exclude':
      return {
        TableWithColumns: { ...t, ColumnWildcard: { ExcludedColumnNames: g.columns.columns } },
      };
  }
}

/**
 * One entry per table (of `onlyTables` when given: a revoke of the tables that lose exactly some
 * names). No database-level DESCRIBE: Lake
 * Formation lets a principal with permissions on a table see its database, and a database grant
 * would be shared by every request of that principal on that database, so revoking one request
 * would take it from the others.
 */
export function plannedEntries(g: GrantShape): PlannedEntry[] {
  return (g.onlyTables ?? g.tables).map((table) => ({
    table,
    Principal: { DataLakePrincipalIdentifier: g.principal },
    Resource: tableResource(g, table),
    Permissions: g.permissions,
  }));
}

/** The data cells filter a row-filtered grant goes on, as CreateDataCellsFilter's TableData. */
export function cellsFilter(g: GrantShape, table: string): Record<string, unknown> {
  return {
    TableCatalogId: g.accountId,
    DatabaseName: g.database,
    TableName: table,
    Name: filterName(g.grantId),
    RowFilter: { FilterExpression: g.rowFilter },
    ...(g.columns.mode === 'include'
      ? { ColumnNames: g.columns.columns }
      : {
          ColumnWildcard: {
            ExcludedColumnNames: g.columns.mode === 'exclude' ? g.columns.columns : [],
          },
        }),
  };
}

/** JSON with object keys sorted and arrays of scalars sorted: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical).sort()
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(canonical(value));
}

/** A stable identity for "this principal holds a permission on this resource", to compare listings. */
export function permissionKey(principal: string, resource: Record<string, unknown>): string {
  return `${principal} ${canonicalJson(resource)}`;
}

/**
 * How ListPermissions names the tables of a `Table {TableWildcard}` grant. Glue table names are
 * lower case, so no real table is called this.
 */
export const ALL_TABLES = 'ALL_TABLES';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const names = (v: unknown): string[] =>
  Array.isArray(v) ? [...new Set(v.map(String))].sort() : [];

/**
 * One text for a resource, whichever shape it is written or listed in. Lake Formation lists a
 * permission on a whole table (granted on `Table`) under `TableWithColumns` with an empty
 * `ColumnWildcard` for SELECT, and under `Table` for the rest (DESCRIBE); `Table {TableWildcard}`
 * comes back named `ALL_TABLES`. Column lists compare in any order. Shapes Meshgate never makes
 * (databases, locations, tags) fall back to their canonical JSON.
 */
export function resourceKey(resource: Record<string, unknown>): string {
  const table = resource.Table ?? resource.TableWithColumns;
  if (isObj(table) && !resource.DataCellsFilter) {
    const name =
      isObj(table.TableWildcard) || table.Name === undefined || table.Name === ALL_TABLES
        ? '*'
        : String(table.Name);
    const where = JSON.stringify([table.CatalogId ?? '', table.DatabaseName ?? '', name]);
    let columns = 'all';
    if (resource.TableWithColumns) {
      if (Array.isArray(table.ColumnNames))
        columns = `include ${JSON.stringify(names(table.ColumnNames))}`;
      else if (isObj(table.ColumnWildcard)) {
        const excluded = names(table.ColumnWildcard.ExcludedColumnNames);
        if (excluded.length) columns = `exclude ${JSON.stringify(excluded)}`;
      } else columns = canonicalJson(table);
    }
    return `table ${where} ${columns}`;
  }
  const filter = resource.DataCellsFilter;
  if (isObj(filter) && Object.keys(resource).length === 1) {
    return `filter ${JSON.stringify([filter.TableCatalogId ?? '', filter.DatabaseName ?? '', filter.TableName ?? '', filter.Name ?? ''])}`;
  }
  return `other ${canonicalJson(resource)}`;
}

/** A principal on a resource, in any of the resource's shapes: the unit permissions are compared per. */
export function holderKey(principal: string, resource: Record<string, unknown>): string {
  return `${principal} ${resourceKey(resource)}`;
}

/** A permission as planned or listed: the resource in either shape, the names, those with grant option. */
export interface HeldPermission {
  principal: string;
  resource: Record<string, unknown>;
  permissions: readonly string[];
  permissionsWithGrantOption?: readonly string[];
}

/**
 * What one principal holds on one resource, as atoms: each permission name, and each name held
 * with grant option as `<name> WITH GRANT OPTION`. Lake Formation may list one grant in several
 * rows (SELECT under TableWithColumns, DESCRIBE under Table): the atoms of all of them, together,
 * are what was granted.
 */
export function permissionAtoms(
  p: Pick<HeldPermission, 'permissions' | 'permissionsWithGrantOption'>,
): string[] {
  return [
    ...names(p.permissions),
    ...names(p.permissionsWithGrantOption ?? []).map((n) => `${n} WITH GRANT OPTION`),
  ];
}

/**
 * The normalised key of a permission: principal, resource (in any shape), the permission names
 * sorted and those with grant option. The same for a grant as Meshgate sends it and as Lake
 * Formation lists it back (merge the listed rows of one holder first: `mergeHeld`).
 */
export function normalisedKey(p: HeldPermission): string {
  return `${holderKey(p.principal, p.resource)} ${JSON.stringify(permissionAtoms(p))}`;
}

/** Listed permissions by holder (principal and normalised resource), the atoms of all their rows together. */
export function mergeHeld(listed: readonly HeldPermission[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of listed) {
    const key = holderKey(p.principal, p.resource);
    const atoms = out.get(key) ?? new Set<string>();
    for (const a of permissionAtoms(p)) atoms.add(a);
    out.set(key, atoms);
  }
  return out;
}
