import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LedgerTable } from './ledger-table';
import { cellsFilter, filterName, permissionKey, plannedEntries } from '../../domain/lakeformation';
import type {
  DomainAccount,
  GrantProgress,
  LakeFormationPort,
  LfPermission,
  PermissionEntry,
  TableGrant,
} from '../../ports/lakeformation';

export interface LedgerEntry extends LfPermission {
  accountId: string;
  grantId: string;
  table: string;
  grantedAt: string;
}

/**
 * A local stand-in for Lake Formation: permissions (and data cells filters) are rows in a table of
 * the embedded store holding the exact entry the AWS adapter would send. As in Lake Formation, a
 * principal holds one permission per resource, whichever request asked for it first (the row
 * names that request); granting it twice or revoking what is gone is answered as already done.
 */
export class LocalLakeFormationLedger extends LedgerTable implements LakeFormationPort {
  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    super(client, tableName);
  }

  async grant(g: TableGrant, progress?: GrantProgress): Promise<PermissionEntry[]> {
    const out: PermissionEntry[] = [];
    for (const table of g.onlyTables ?? g.tables) {
      if (!g.rowFilter) continue;
      const sent = cellsFilter(g, table);
      const result = await this.putOnce({
        pk: `LFFILTER#${g.accountId}`,
        sk: `${g.database}.${table}|${filterName(g.grantId)}`,
        ...sent,
      });
      out.push({ action: 'create-filter', table, sent, result });
    }
    const planned = plannedEntries(g);
    for (const e of planned) {
      const row: LedgerEntry = {
        accountId: g.accountId,
        grantId: g.grantId,
        table: e.table,
        principal: e.Principal.DataLakePrincipalIdentifier,
        resource: e.Resource,
        permissions: e.Permissions,
        grantedAt: this.now().toISOString(),
      };
      const result = await this.putOnce({
        pk: `LF#${g.accountId}`,
        sk: permissionKey(row.principal, e.Resource),
        ...row,
      });
      out.push({
        action: 'grant',
        table: e.table,
        sent: { Principal: e.Principal, Resource: e.Resource, Permissions: e.Permissions },
        result,
      });
      await progress?.(out.filter((x) => x.action === 'grant').length, planned.length);
    }
    return out;
  }

  async revoke(g: TableGrant): Promise<PermissionEntry[]> {
    const out: PermissionEntry[] = [];
    for (const e of plannedEntries(g)) {
      const result = await this.remove(
        `LF#${g.accountId}`,
        permissionKey(e.Principal.DataLakePrincipalIdentifier, e.Resource),
      );
      out.push({
        action: 'revoke',
        table: e.table,
        sent: { Principal: e.Principal, Resource: e.Resource, Permissions: e.Permissions },
        result,
      });
    }
    for (const table of g.onlyTables ?? g.tables) {
      if (!g.rowFilter) continue;
      const result = await this.remove(
        `LFFILTER#${g.accountId}`,
        `${g.database}.${table}|${filterName(g.grantId)}`,
      );
      out.push({
        action: 'delete-filter',
        table,
        sent: {
          TableCatalogId: g.accountId,
          DatabaseName: g.database,
          TableName: table,
          Name: filterName(g.grantId),
        },
        result,
      });
    }
    return out;
  }

  async listPermissions(account: DomainAccount): Promise<LfPermission[]> {
    return (await this.list(account.accountId)).map(({ principal, resource, permissions }) => ({
      principal,
      resource,
      permissions,
    }));
  }

  /** Every permission row of one account, with the request that made it (for the demo and tests). */
  async list(accountId: string): Promise<LedgerEntry[]> {
    const items: LedgerEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `LF#${accountId}` },
          ExclusiveStartKey,
        }),
      );
      for (const { pk: _pk, sk: _sk, ...rest } of out.Items ?? []) items.push(rest as LedgerEntry);
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}
