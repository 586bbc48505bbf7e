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
 * One entry per table (or per table still to do, on a retry). No database-level DESCRIBE: Lake
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
