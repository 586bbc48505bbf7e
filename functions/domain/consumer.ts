import type {
  Access,
  ColumnScope,
  ConsumerLink,
  DataProduct,
  Domain,
  Grant,
  SetupStep,
} from './model';

export type { Access, ConsumerAccount, ConsumerLink, SetupStep } from './model';

// The consumer's last mile, in the API's own terms. Pure: the worker links tables through these
// names, the API builds the access block from them.

/** The 12-digit account of an IAM principal ARN, or the principal itself when it is an account id. */
export function accountOfPrincipal(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const m = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):/.exec(principal);
  return m?.[1];
}

/**
 * The database holding a producing domain's links in a consumer catalog: one per domain, so a
 * consumer finds every table of `sales` under `meshgate_sales`. Glue and Athena want lower-case
 * letters, digits and underscores.
 */
export const linkDatabase = (domain: string) =>
  `meshgate_${domain.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 255);

/**
 * A link's name: the producing database and the table, so two databases of one domain with a
 * table of the same name do not collide.
 */
export const linkTableName = (database: string, table: string) =>
  `${database}__${table}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 255);

/** The granted columns of a product, in the product's order; `undefined` means every column. */
export function grantedColumns(product: Pick<DataProduct, 'columns'>, scope: ColumnScope) {
  const names = product.columns.map((c) => c.name);
  switch (scope.mode) {
    case 'all':
      return undefined;
    case 'include':
      return names.filter((n) => scope.columns.includes(n));
    case 'exclude':
      return names.filter((n) => !scope.columns.includes(n));
  }
}

/** An Athena (Trino) identifier in double quotes, a quote inside doubled. */
export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A ready-to-run Athena query over the granted columns only. */
export function athenaQuery(database: string, table: string, columns: string[] | undefined) {
  const select = columns === undefined ? '*' : columns.map(quoteIdent).join(', ');
  return `SELECT ${select} FROM ${quoteIdent(database)}.${quoteIdent(table)} LIMIT 10`;
}

/**
 * The commands a consumer account's administrator runs to see a table shared with it: accept the
 * RAM share of the producing account, create the resource link database and table, and grant the
 * principal DESCRIBE on the link.
 */
export function setupSteps(
  consumerAccount: string,
  region: string,
  producer: { account: string; domain: string; database: string; table: string },
  principal: string,
): SetupStep[] {
  const db = linkDatabase(producer.domain);
  const link = linkTableName(producer.database, producer.table);
  const r = `--region ${region}`;
  const json = (v: unknown) => `'${JSON.stringify(v)}'`;
  return [
    {
      what: `Accept the AWS RAM resource share from account ${producer.account} (not needed inside one AWS Organization with sharing enabled).`,
      command:
        `aws ram get-resource-share-invitations ${r} --query "resourceShareInvitations[?senderAccountId=='${producer.account}' && status=='PENDING'].resourceShareInvitationArn" --output text` +
        ` | xargs -n1 aws ram accept-resource-share-invitation ${r} --resource-share-invitation-arn`,
    },
    {
      what: `Create the database ${db} for the links of domain ${producer.domain} (once).`,
      command: `aws glue create-database ${r} --catalog-id ${consumerAccount} --database-input ${json({ Name: db })}`,
    },
    {
      what: `Create the resource link ${db}.${link} to ${producer.database}.${producer.table}.`,
      command: `aws glue create-table ${r} --catalog-id ${consumerAccount} --database-name ${db} --table-input ${json(
        {
          Name: link,
          TargetTable: {
            CatalogId: producer.account,
            DatabaseName: producer.database,
            Name: producer.table,
          },
        },
      )}`,
    },
    {
      what: `Let ${principal} see the link (DESCRIBE); the data itself is granted by Meshgate.`,
      command: `aws lakeformation grant-permissions ${r} --catalog-id ${consumerAccount} --principal DataLakePrincipalIdentifier=${principal} --permissions DESCRIBE --resource ${json(
        { Table: { CatalogId: consumerAccount, DatabaseName: db, Name: link } },
      )}`,
    },
  ];
}

/**
 * The access block of an ACTIVE grant; undefined for any other. The query names the resource link
 * when there is one; a principal of another account that Meshgate does not manage gets the setup
 * its administrator must run, and the query names the link those steps create.
 */
export function accessFor(
  grant: Pick<Grant, 'status' | 'principal' | 'accountId' | 'expiresAt' | 'scope' | 'domain'> & {
    consumerLink?: ConsumerLink;
  },
  product: Pick<DataProduct, 'columns' | 'location'>,
  domain: Pick<Domain, 'accountId' | 'region'>,
): Access | undefined {
  if (grant.status !== 'ACTIVE') return undefined;
  const { database, table, tables } = product.location;
  const catalogId = grant.accountId || product.location.catalogId || domain.accountId;
  const columns = grantedColumns(product, grant.scope.columns);
  const base = {
    account: catalogId,
    region: domain.region,
    catalogId,
    database,
    table,
    ...(tables && tables.length > 1 ? { tables } : {}),
    principal: grant.principal,
    expiresAt: grant.expiresAt,
    ...(columns ? { columns } : {}),
    ...(grant.scope.rowFilter ? { rowFilter: grant.scope.rowFilter } : {}),
  };
  const link = grant.consumerLink;
  if (link) {
    return {
      ...base,
      link: {
        account: link.account,
        region: link.region,
        database: link.database,
        table: link.table,
      },
      query: athenaQuery(link.database, link.table, columns),
    };
  }
  const consumer = accountOfPrincipal(grant.principal);
  if (consumer && consumer !== catalogId) {
    return {
      ...base,
      setup: {
        account: consumer,
        steps: setupSteps(
          consumer,
          domain.region,
          { account: catalogId, domain: grant.domain, database, table },
          grant.principal,
        ),
      },
      query: athenaQuery(linkDatabase(grant.domain), linkTableName(database, table), columns),
    };
  }
  return { ...base, query: athenaQuery(database, table, columns) };
}

/** What Meshgate's grants account for in a link database: link names, and DESCRIBE per principal. */
export interface LinksInUse {
  tables: Set<string>;
  /** `<link>|<principal>` */
  describe: Set<string>;
}

export const describeKey = (table: string, principal: string) => `${table}|${principal}`;

/**
 * How long a link or a DESCRIBE permission is never taken for a leftover, after it was made or
 * last changed. The grants and requests in use are read from secondary indexes that DynamoDB
 * keeps eventually consistent: a grant just made ACTIVE, or a request linking now, may be in
 * neither when reconciliation reads them, while its links are already there.
 */
export const LINK_GRACE_MS = 15 * 60 * 1000;

/**
 * What one database of a consumer account's catalog holds, as its listings answer: its tables
 * (`target` for a resource link) and the principals holding DESCRIBE on them, each with `at`
 * (ISO) when it was made or last changed, when the service says.
 */
export interface ListedLinks {
  tables: Array<{
    name: string;
    target?: { catalogId: string; database: string; table: string };
    at?: string;
  }>;
  describe: Array<{ table: string; principal: string; at?: string }>;
}

/**
 * What a link database holds that no grant in use accounts for: DESCRIBE permissions of IAM
 * principals (the broker role, which made the links and holds its creator's permissions on them,
 * and Lake Formation's groups such as IAM_ALLOWED_PRINCIPALS are not grants' principals), and
 * resource links (a table of the database that is not a link was not made by Meshgate). DESCRIBE
 * first: a link is removed after the permissions on it. Nothing made or changed after
 * `settledBefore` (an ISO time, LINK_GRACE_MS ago) is left over, nor a link with such a DESCRIBE
 * on it (deleting the link would take the DESCRIBE with it).
 */
export function leftoverLinks(
  listed: ListedLinks,
  inUse: LinksInUse,
  broker?: string,
  settledBefore?: string,
): {
  describe: Array<{ table: string; principal: string }>;
  links: Array<{ name: string; target: string }>;
} {
  const young = (at?: string) =>
    settledBefore !== undefined && at !== undefined && Date.parse(at) > Date.parse(settledBefore);
  const recent = listed.describe.filter((d) => young(d.at));
  const recentlyDescribed = new Set(recent.map((d) => d.table));
  const recentKeys = new Set(recent.map((d) => describeKey(d.table, d.principal)));
  const seen = new Set<string>();
  const describe = listed.describe
    .filter((d) => {
      const key = describeKey(d.table, d.principal);
      if (seen.has(key) || d.principal === broker || !accountOfPrincipal(d.principal)) return false;
      seen.add(key);
      return !inUse.describe.has(key) && !recentKeys.has(key);
    })
    .map((d) => ({ table: d.table, principal: d.principal }));
  const links = listed.tables
    .filter(
      (t) =>
        t.target && !inUse.tables.has(t.name) && !young(t.at) && !recentlyDescribed.has(t.name),
    )
    .map((t) => ({ name: t.name, target: `${t.target!.database}.${t.target!.table}` }));
  return { describe, links };
}
