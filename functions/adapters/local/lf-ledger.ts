import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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
 * A row as stored: `rev` is a fresh token at every change, so that each change is conditional on
 * the row read. Never a counter: a row deleted and made again would restart it, and a write read
 * before the delete would match the new row (a revoked name brought back). Rows of older versions
 * hold a number.
 */
type StoredRow = LedgerEntry & { pk: string; sk: string; rev?: string | number };

/**
 * A local stand-in for Lake Formation: permissions (and data cells filters) are rows in a table of
 * the embedded store holding the exact entry the AWS adapter would send. As in Lake Formation, a
 * principal holds one set of permission names per resource, whichever request asked for it first
 * (the row names that request): a grant adds the names it sends, a revoke removes only the names
 * it sends (the row goes with the last one). Granting what is held, or revoking what is gone, is
 * answered as already done.
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
      const result = await this.addNames(row);
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
      const result = await this.removeNames(
        g.accountId,
        permissionKey(e.Principal.DataLakePrincipalIdentifier, e.Resource),
        e.Permissions,
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

  /** Adds the row's names to what its principal holds on its resource (the row itself if none). */
  private async addNames(row: LedgerEntry): Promise<'ok' | 'already'> {
    const key = { pk: `LF#${row.accountId}`, sk: permissionKey(row.principal, row.resource) };
    for (;;) {
      const held = await this.read(key);
      if (!held) {
        if ((await this.putOnce({ ...key, ...row, rev: randomUUID() })) === 'ok') return 'ok';
        continue; // granted meanwhile: add to that row
      }
      const missing = row.permissions.filter((n) => !held.permissions.includes(n));
      if (missing.length === 0) return 'already';
      const next = { ...held, permissions: [...held.permissions, ...missing] };
      if (await this.replace(held, next)) return 'ok';
    }
  }

  /** Removes `names` from what is held on the resource of `sk`; the row goes with its last name. */
  private async removeNames(
    accountId: string,
    sk: string,
    names: readonly string[],
  ): Promise<'ok' | 'already'> {
    const key = { pk: `LF#${accountId}`, sk };
    for (;;) {
      const held = await this.read(key);
      if (!held) return 'already';
      const left = held.permissions.filter((n) => !names.includes(n));
      if (left.length === held.permissions.length) return 'already';
      if (await this.replace(held, left.length ? { ...held, permissions: left } : undefined))
        return 'ok';
    }
  }

  private async read(key: { pk: string; sk: string }): Promise<StoredRow | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return out.Item as StoredRow | undefined;
  }

  /**
   * Writes `next` (or deletes the row when undefined) if the row is still as read: false when a
   * concurrent change got there first, for the caller to read again. Rows written before `rev`
   * existed are matched by its absence.
   */
  private async replace(held: StoredRow, next: StoredRow | undefined): Promise<boolean> {
    const condition =
      held.rev === undefined
        ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(rev)' }
        : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': held.rev } };
    try {
      if (next)
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...next, rev: randomUUID() },
            ...condition,
          }),
        );
      else
        await this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: held.pk, sk: held.sk },
            ...condition,
          }),
        );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
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
      for (const { pk: _pk, sk: _sk, rev: _rev, ...rest } of out.Items ?? [])
        items.push(rest as LedgerEntry);
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}
