/**
 * Reads a domain's data products from the Glue Data Catalog of the domain account.
 *
 * The convention. A domain declares its products with Glue Parameters (string keys and values) on
 * its databases, tables and columns; Meshgate reads only the account's own catalog
 * (GetDatabases and GetTables with CatalogId = the account id, every page).
 *
 * Which entries are products
 *  - A table whose Parameters has `meshgate:product` = `true` is one product.
 *  - A database whose Parameters has `meshgate:product` = `true` is ONE product made of all its
 *    tables (its tables' own `meshgate:product` is then ignored). location.table is the first table
 *    name in sorted order, location.tables every table name, sorted. Such a product is granted
 *    whole: every table, all columns. Its `columns` are those of the first table (for display).
 *    A product database with no tables declares nothing.
 *  - Resource links (a database with TargetDatabase, a table with TargetTable) are never products:
 *    the data lives in another catalog, whose owner declares it.
 *
 * Product fields, read from the Parameters of the product's table (of the database, for a
 * database product)
 *  - name: `meshgate:name`, else the table (database) name; lower-cased, then every character
 *    outside [a-z0-9_-] replaced by `_`. id = `<domainId>/<name>`. Two products of one domain with
 *    the same name fail the whole listing (DUPLICATE_PRODUCT) rather than publish an ambiguous id.
 *  - title: `meshgate:title`, else the name with `_` as spaces and its first letter capitalised
 *    (`customer_orders` -> `Customer orders`).
 *  - description: the table's (database's) Description, else empty.
 *  - owner: `meshgate:owner`, else empty.
 *  - classification: `meshgate:classification`, one of public | internal | confidential |
 *    restricted. Missing -> internal. Any other value -> restricted: a classification that cannot
 *    be read is treated as the strictest (fail safe).
 *  - tags: `meshgate:tags`, comma-separated; blanks and repeats dropped.
 *  - freshness: `meshgate:freshness`, else empty.
 *  - columns: StorageDescriptor.Columns, then PartitionKeys; each { name, type, comment (from
 *    Comment), pii }. A column is pii when its name is listed in `meshgate:pii` (comma-separated
 *    column names; for a database product, the database's list and the first table's list) or
 *    when the column's own Parameters has `meshgate:pii` = `true`. Listed names that match no
 *    column are ignored. A restricted product with no pii column is valid.
 *  - location: { catalogId: the account id, database, table } (and tables, for a database
 *    product). status: ACTIVE.
 *
 * Values are trimmed; `true`, classification values and column names compare case-insensitively;
 * an empty or blank value counts as missing. Products come back sorted by id.
 */
import {
  GetDatabasesCommand,
  GetTablesCommand,
  GlueClient,
  type Column as GlueColumn,
  type Database,
  type Table,
} from '@aws-sdk/client-glue';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import {
  CLASSIFICATIONS,
  type Classification,
  type Column,
  type DataProduct,
} from '../../domain/model';
import { unprocessable } from '../../domain/errors';
import type { CatalogSource } from '../../ports/catalog';
import { BrokerError, type BrokerAccess, type DomainAccount } from '../../ports/lakeformation';
import { awsErrorCode, brokerError } from './sts-credentials';

export const PARAM = {
  product: 'meshgate:product',
  name: 'meshgate:name',
  title: 'meshgate:title',
  owner: 'meshgate:owner',
  classification: 'meshgate:classification',
  pii: 'meshgate:pii',
  tags: 'meshgate:tags',
  freshness: 'meshgate:freshness',
} as const;

type Params = Record<string, string> | undefined;

export interface GlueCatalogOptions {
  /** The Glue client for an account. Default: one per region and broker role, built once. */
  clientFor?: (account: DomainAccount) => GlueClient;
  /** Credentials for an account reached through its broker role (used by the default `clientFor`). */
  credentials?: (access: BrokerAccess) => AwsCredentialIdentityProvider;
}

const param = (p: Params, key: string): string | undefined => {
  const v = p?.[key]?.trim();
  return v ? v : undefined;
};

const isTrue = (p: Params, key: string) => param(p, key)?.toLowerCase() === 'true';

const list = (v: string | undefined): string[] => [
  ...new Set(
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
];

export const sanitiseName = (raw: string) => raw.toLowerCase().replace(/[^a-z0-9_-]/g, '_');

export const defaultTitle = (name: string) => {
  const spaced = name.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

export function readClassification(v: string | undefined): Classification {
  if (v === undefined) return 'internal';
  const c = v.toLowerCase();
  return (CLASSIFICATIONS as readonly string[]).includes(c) ? (c as Classification) : 'restricted';
}

function columnsOf(table: Table, piiNames: Set<string>): Column[] {
  const glueColumns: GlueColumn[] = [
    ...(table.StorageDescriptor?.Columns ?? []),
    ...(table.PartitionKeys ?? []),
  ];
  return glueColumns.map((c) => {
    const name = c.Name ?? '';
    return {
      name,
      type: c.Type ?? '',
      ...(c.Comment ? { comment: c.Comment } : {}),
      pii: piiNames.has(name.toLowerCase()) || isTrue(c.Parameters, PARAM.pii),
    };
  });
}

const piiList = (...ps: Params[]) =>
  new Set(ps.flatMap((p) => list(param(p, PARAM.pii)).map((n) => n.toLowerCase())));

/** Glue refusing the broker role (or AssumeRole refused on the way): a broker failure. */
function asBrokerError(account: DomainAccount, err: unknown): BrokerError | undefined {
  if (err instanceof BrokerError) return err;
  const awsCode = awsErrorCode(err);
  if (awsCode !== 'AccessDeniedException' && awsCode !== 'AccessDenied') return undefined;
  return brokerError(
    {
      accountId: account.accountId,
      roleArn: account.broker?.roleArn,
      service: 'Glue',
      awsCode,
    },
    `reading the catalog of account ${account.accountId}`,
    err,
    account.broker?.externalId,
  );
}

export class GlueCatalog implements CatalogSource {
  private readonly clientFor: (account: DomainAccount) => GlueClient;
  private readonly credentials?: (access: BrokerAccess) => AwsCredentialIdentityProvider;
  private readonly clients = new Map<string, GlueClient>();

  constructor(opts: GlueCatalogOptions = {}) {
    this.credentials = opts.credentials;
    this.clientFor = opts.clientFor ?? ((account) => this.defaultClient(account));
  }

  /** One client per region and broker role; the credentials provider refreshes itself. */
  private defaultClient(account: DomainAccount): GlueClient {
    const { region, broker } = account;
    const key = JSON.stringify([region, broker?.roleArn ?? null, broker?.externalId ?? null]);
    let client = this.clients.get(key);
    if (!client) {
      if (broker && !this.credentials) {
        // Falling back to the default chain would read another account's catalog as ourselves.
        throw new Error(
          `GlueCatalog: account ${account.accountId} has a broker role but no credentials provider was given.`,
        );
      }
      client = new GlueClient({
        region,
        ...(broker ? { credentials: this.credentials!(broker) } : {}),
      });
      this.clients.set(key, client);
    }
    return client;
  }

  async listProducts(domainId: string, account: DomainAccount): Promise<DataProduct[]> {
    try {
      return await this.read(domainId, account);
    } catch (err) {
      throw asBrokerError(account, err) ?? err;
    }
  }

  private async read(domainId: string, account: DomainAccount): Promise<DataProduct[]> {
    const glue = this.clientFor(account);
    const catalogId = account.accountId;
    const products: DataProduct[] = [];

    for (const db of await this.databases(glue, catalogId)) {
      if (!db.Name || db.TargetDatabase) continue;
      const tables = (await this.tables(glue, catalogId, db.Name)).filter(
        (t) => t.Name && !t.TargetTable,
      );
      if (isTrue(db.Parameters, PARAM.product)) {
        const p = this.databaseProduct(domainId, catalogId, db, tables);
        if (p) products.push(p);
        continue;
      }
      for (const t of tables) {
        if (isTrue(t.Parameters, PARAM.product))
          products.push(this.tableProduct(domainId, catalogId, db.Name, t));
      }
    }

    products.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (let i = 1; i < products.length; i++) {
      const [a, b] = [products[i - 1]!, products[i]!];
      if (a.id === b.id) {
        throw unprocessable(
          'DUPLICATE_PRODUCT',
          `Two catalog entries of account ${catalogId} declare the product ${a.id}.`,
          {
            id: a.id,
            locations: [a.location, b.location],
          },
        );
      }
    }
    return products;
  }

  private async databases(glue: GlueClient, catalogId: string): Promise<Database[]> {
    const out: Database[] = [];
    let NextToken: string | undefined;
    do {
      const page = await glue.send(
        new GetDatabasesCommand({ CatalogId: catalogId, ...(NextToken ? { NextToken } : {}) }),
      );
      out.push(...(page.DatabaseList ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  private async tables(glue: GlueClient, catalogId: string, database: string): Promise<Table[]> {
    const out: Table[] = [];
    let NextToken: string | undefined;
    do {
      const page = await glue.send(
        new GetTablesCommand({
          CatalogId: catalogId,
          DatabaseName: database,
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      out.push(...(page.TableList ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  private tableProduct(
    domainId: string,
    catalogId: string,
    database: string,
    t: Table,
  ): DataProduct {
    return this.product(
      domainId,
      t.Name!,
      t.Parameters,
      t.Description,
      columnsOf(t, piiList(t.Parameters)),
      {
        catalogId,
        database,
        table: t.Name!,
      },
    );
  }

  private databaseProduct(
    domainId: string,
    catalogId: string,
    db: Database,
    tables: Table[],
  ): DataProduct | undefined {
    const sorted = [...tables].sort((a, b) => (a.Name! < b.Name! ? -1 : a.Name! > b.Name! ? 1 : 0));
    const first = sorted[0];
    if (!first) return undefined;
    return this.product(
      domainId,
      db.Name!,
      db.Parameters,
      db.Description,
      columnsOf(first, piiList(db.Parameters, first.Parameters)),
      {
        catalogId,
        database: db.Name!,
        table: first.Name!,
        tables: sorted.map((t) => t.Name!),
      },
    );
  }

  private product(
    domainId: string,
    entryName: string,
    p: Params,
    description: string | undefined,
    columns: Column[],
    location: DataProduct['location'],
  ): DataProduct {
    const name = sanitiseName(param(p, PARAM.name) ?? entryName);
    return {
      id: `${domainId}/${name}`,
      domain: domainId,
      name,
      title: param(p, PARAM.title) ?? defaultTitle(name),
      description: description ?? '',
      owner: param(p, PARAM.owner) ?? '',
      classification: readClassification(param(p, PARAM.classification)),
      tags: list(param(p, PARAM.tags)),
      location,
      columns,
      freshness: param(p, PARAM.freshness) ?? '',
      status: 'ACTIVE',
    };
  }
}
