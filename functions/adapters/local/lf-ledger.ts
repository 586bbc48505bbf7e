import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LakeFormationPort, PermissionEntry, TablePermission } from '../../ports/lakeformation';

/** The Lake Formation resource a table permission is granted on, in the API's own shape. */
export function lfResource(p: TablePermission): Record<string, unknown> {
  const table = { CatalogId: p.accountId, DatabaseName: p.database, Name: p.table };
  if (p.rowFilter) {
    return { DataCellsFilter: { TableCatalogId: p.accountId, DatabaseName: p.database, TableName: p.table, Name: `meshgate-${p.grantId}` } };
  }
  switch (p.columns.mode) {
    case 'all':
      return { Table: table };
    case 'include':
      return { TableWithColumns: { ...table, ColumnNames: p.columns.columns } };
    case 'exclude':
      return { TableWithColumns: { ...table, ColumnWildcard: { ExcludedColumnNames: p.columns.columns } } };
  }
}

export interface LedgerEntry {
  accountId: string;
  grantId: string;
  principal: string;
  resource: Record<string, unknown>;
  permissions: string[];
  rowFilter?: string;
  grantedAt: string;
}

/**
 * A local stand-in for Lake Formation: permissions are rows in a table of the embedded store,
 * one per (account, grant, table). Granting twice or revoking what is gone is answered like Lake
 * Formation answers it: as already done.
 */
export class LocalLakeFormationLedger implements LakeFormationPort {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private key = (p: TablePermission) => ({ pk: `LF#${p.accountId}`, sk: `${p.grantId}|${p.database}.${p.table}` });

  async grant(p: TablePermission): Promise<PermissionEntry[]> {
    const resource = lfResource(p);
    const entry: PermissionEntry = { action: 'grant', resource, permissions: p.permissions, principal: p.principal, result: 'ok' };
    const row: LedgerEntry = {
      accountId: p.accountId,
      grantId: p.grantId,
      principal: p.principal,
      resource,
      permissions: p.permissions,
      rowFilter: p.rowFilter,
      grantedAt: this.now().toISOString(),
    };
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { ...this.key(p), ...row }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      entry.result = 'already';
    }
    return [entry];
  }

  async revoke(p: TablePermission): Promise<PermissionEntry[]> {
    const out = await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(p), ReturnValues: 'ALL_OLD' }));
    return [
      { action: 'revoke', resource: lfResource(p), permissions: p.permissions, principal: p.principal, result: out.Attributes ? 'ok' : 'already' },
    ];
  }

  /** What is granted in one account (for the demo and tests). */
  async list(accountId: string): Promise<LedgerEntry[]> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `LF#${accountId}` } }),
    );
    return (out.Items ?? []).map(({ pk: _pk, sk: _sk, ...rest }) => rest as LedgerEntry);
  }
}
