import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LedgerTable } from './ledger-table';
import {
  resourceLinkInput,
  type ConsumerLinkPort,
  type LinkEntry,
  type LinkOutcome,
  type LinkSpec,
  type ListedLinks,
  withLinkEntries,
} from '../../ports/consumer-links';

/** A resource link as the local stand-in records it. */
export interface LocalLink {
  account: string;
  database: string;
  name: string;
  target: { CatalogId: string; DatabaseName: string; Name: string };
  /** Principals holding DESCRIBE on it. */
  describe: string[];
  /** When it was made (ISO), as Glue's CreateTime. */
  at?: string;
  /** When each DESCRIBE was granted, by principal, as Lake Formation's LastUpdated. */
  describedAt?: Record<string, string>;
}

/**
 * A local stand-in for the consumer accounts' catalogs: link databases, resource links and the
 * DESCRIBE permissions on them are rows of the Lake Formation ledger's table, holding the exact
 * input the AWS adapter would send. There is no RAM locally: no invitation is ever pending.
 */
export class LocalConsumerLinks extends LedgerTable implements ConsumerLinkPort {
  constructor(
    client: DynamoDBClient,
    tableName: string,
    /** The time each link and DESCRIBE is stamped with (the portal's clock). */
    private readonly now: () => Date = () => new Date(),
  ) {
    super(client, tableName);
  }

  async link(spec: LinkSpec): Promise<LinkOutcome> {
    const account = spec.consumer.accountId;
    const at = this.now().toISOString();
    const entries: LinkEntry[] = [];
    try {
      const database = { CatalogId: account, DatabaseInput: { Name: spec.database } };
      entries.push({
        action: 'create-database',
        sent: database,
        result: await this.putOnce({ pk: `LINKDB#${account}`, sk: spec.database, ...database }),
      });
      for (const l of spec.links) {
        const sent = resourceLinkInput(spec, l);
        entries.push({
          action: 'create-link',
          sent,
          result: await this.putOnce({
            pk: `LINK#${account}`,
            sk: `${spec.database}.${l.name}`,
            ...sent,
            at,
          }),
        });
        const describe = describeOn(spec, l.name);
        entries.push({
          action: 'grant-describe',
          sent: describe,
          result: await this.putOnce({
            pk: `LINKDESCRIBE#${account}`,
            sk: `${spec.database}.${l.name}|${spec.principal}`,
            ...describe,
            at,
          }),
        });
      }
      return { invitationAccepted: false, entries };
    } catch (err) {
      throw withLinkEntries(err, entries);
    }
  }

  async unlink(spec: LinkSpec, deleteLinks: string[]): Promise<LinkEntry[]> {
    const account = spec.consumer.accountId;
    const entries: LinkEntry[] = [];
    for (const l of spec.links) {
      entries.push({
        action: 'revoke-describe',
        sent: describeOn(spec, l.name),
        result: await this.remove(
          `LINKDESCRIBE#${account}`,
          `${spec.database}.${l.name}|${spec.principal}`,
        ),
      });
    }
    for (const name of deleteLinks) {
      entries.push({
        action: 'delete-link',
        sent: { CatalogId: account, DatabaseName: spec.database, Name: name },
        result: await this.remove(`LINK#${account}`, `${spec.database}.${name}`),
      });
    }
    return entries;
  }

  async listLinks(consumer: LinkSpec['consumer'], database: string): Promise<ListedLinks> {
    const links = (await this.list(consumer.accountId)).filter((l) => l.database === database);
    return {
      tables: links.map((l) => ({
        name: l.name,
        ...(l.at ? { at: l.at } : {}),
        target: {
          catalogId: l.target.CatalogId,
          database: l.target.DatabaseName,
          table: l.target.Name,
        },
      })),
      describe: links.flatMap((l) =>
        l.describe.map((principal) => {
          const at = l.describedAt?.[principal];
          return { table: l.name, principal, ...(at ? { at } : {}) };
        }),
      ),
    };
  }

  /** The links of one consumer account, with who may see each (for the demo and tests). */
  async list(account: string): Promise<LocalLink[]> {
    const [links, describes] = await Promise.all([
      this.query(`LINK#${account}`),
      this.query(`LINKDESCRIBE#${account}`),
    ]);
    return links.map((l) => {
      const input = l.TableInput as { Name: string; TargetTable: LocalLink['target'] };
      const key = `${String(l.DatabaseName)}.${input.Name}|`;
      const on = describes.filter((d) => String(d.sk).startsWith(key));
      const describedAt = Object.fromEntries(
        on
          .filter((d) => typeof d.at === 'string')
          .map((d) => [String(d.sk).slice(key.length), d.at]),
      ) as Record<string, string>;
      return {
        account,
        database: String(l.DatabaseName),
        name: input.Name,
        target: input.TargetTable,
        describe: on.map((d) => String(d.sk).slice(key.length)),
        ...(typeof l.at === 'string' ? { at: l.at } : {}),
        ...(Object.keys(describedAt).length ? { describedAt } : {}),
      };
    });
  }

  private async query(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey,
        }),
      );
      items.push(...(out.Items ?? []));
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

function describeOn(spec: LinkSpec, link: string) {
  return {
    CatalogId: spec.consumer.accountId,
    Principal: { DataLakePrincipalIdentifier: spec.principal },
    Resource: {
      Table: { CatalogId: spec.consumer.accountId, DatabaseName: spec.database, Name: link },
    },
    Permissions: ['DESCRIBE'],
  };
}
