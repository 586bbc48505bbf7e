import {
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteTableCommand,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  GrantPermissionsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
  RevokePermissionsCommand,
} from '@aws-sdk/client-lakeformation';
import {
  AcceptResourceShareInvitationCommand,
  GetResourceShareInvitationsCommand,
  RAMClient,
} from '@aws-sdk/client-ram';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import {
  BrokerError,
  LakeFormationError,
  type BrokerAccess,
  type BrokerFailure,
} from '../../ports/lakeformation';
import {
  LinkNameTakenError,
  resourceLinkInput,
  type ConsumerLinkPort,
  type LinkEntry,
  type LinkOutcome,
  type LinkSpec,
  type ListedLinks,
  withLinkEntries,
} from '../../ports/consumer-links';
import { awsErrorCode, brokerError } from './sts-credentials';

/** The SDK clients of one consumer account, all acting through its broker role. */
export interface ConsumerClients {
  ram: RAMClient;
  glue: GlueClient;
  lakeFormation: LakeFormationClient;
}

export interface AwsConsumerLinksOptions {
  /** The broker role's credentials (shared with the domain accounts': one AssumeRole per role). */
  credentials?: (access: BrokerAccess) => AwsCredentialIdentityProvider;
  /** The clients for an account and region; the SDK's standard ones when absent. */
  clientsFor?: (
    account: { accountId: string; region: string },
    credentials: AwsCredentialIdentityProvider | undefined,
  ) => ConsumerClients;
}

const REFUSED = new Set(['AccessDeniedException', 'AccessDenied']);
const EXISTS = 'AlreadyExistsException';
/** RAM's answer to accepting an invitation that is accepted already. */
const ALREADY_ACCEPTED = 'ResourceShareInvitationAlreadyAcceptedException';
/** How Glue and Lake Formation say that what is to be removed is not there. */
const GONE = new Set(['EntityNotFoundException']);
const NO_PERMISSIONS = /no permissions|not found|does not exist/i;

type Service = BrokerFailure['service'];

/**
 * Resource links in consumer accounts: RAM to accept the producing account's share, Glue for the
 * link database and tables, Lake Formation for DESCRIBE on the links. Every call goes through the
 * consumer account's broker role.
 */
export class AwsConsumerLinks implements ConsumerLinkPort {
  private readonly clients = new Map<string, ConsumerClients>();
  private readonly credentials?: (access: BrokerAccess) => AwsCredentialIdentityProvider;
  private readonly clientsFor: NonNullable<AwsConsumerLinksOptions['clientsFor']>;

  constructor(options: AwsConsumerLinksOptions = {}) {
    this.credentials = options.credentials;
    this.clientsFor =
      options.clientsFor ??
      ((a, credentials) => ({
        ram: new RAMClient({ region: a.region, credentials }),
        glue: new GlueClient({ region: a.region, credentials }),
        lakeFormation: new LakeFormationClient({ region: a.region, credentials }),
      }));
  }

  async link(spec: LinkSpec): Promise<LinkOutcome> {
    const c = this.client(spec);
    const entries: LinkEntry[] = [];
    try {
      const invitationAccepted = await this.acceptInvitations(spec, c, entries);
      const consumer = spec.consumer.accountId;
      const database = { CatalogId: consumer, DatabaseInput: { Name: spec.database } };
      entries.push({
        action: 'create-database',
        sent: database,
        result: await this.tolerate(spec, 'Glue', `CreateDatabase ${spec.database}`, EXISTS, () =>
          c.glue.send(
            new CreateDatabaseCommand({
              ...database,
              DatabaseInput: {
                ...database.DatabaseInput,
                Description: `Resource links to data products shared by account ${spec.producer.accountId}, made by Meshgate`,
              },
            }),
          ),
        ),
      });
      for (const l of spec.links) {
        const table = resourceLinkInput(spec, l);
        entries.push({
          action: 'create-link',
          sent: table,
          result: await this.createLink(spec, c, table),
        });
        const describe = describeOn(spec, l.name);
        entries.push({
          action: 'grant-describe',
          sent: describe,
          result: await this.tolerate(
            spec,
            'Lake Formation',
            `GrantPermissions DESCRIBE ${spec.database}.${l.name}`,
            EXISTS,
            () => c.lakeFormation.send(new GrantPermissionsCommand(describe)),
          ),
        });
      }
      return { invitationAccepted, entries };
    } catch (err) {
      throw withLinkEntries(err, entries);
    }
  }

  async unlink(spec: LinkSpec, deleteLinks: string[]): Promise<LinkEntry[]> {
    const c = this.client(spec);
    const entries: LinkEntry[] = [];
    for (const l of spec.links) {
      const describe = describeOn(spec, l.name);
      entries.push({
        action: 'revoke-describe',
        sent: describe,
        result: await this.tolerateGone(
          spec,
          'Lake Formation',
          `RevokePermissions DESCRIBE ${spec.database}.${l.name}`,
          () => c.lakeFormation.send(new RevokePermissionsCommand(describe)),
        ),
      });
    }
    for (const name of deleteLinks) {
      const sent = { CatalogId: spec.consumer.accountId, DatabaseName: spec.database, Name: name };
      entries.push({
        action: 'delete-link',
        sent,
        result: await this.tolerateGone(spec, 'Glue', `DeleteTable ${spec.database}.${name}`, () =>
          c.glue.send(new DeleteTableCommand(sent)),
        ),
      });
    }
    return entries;
  }

  /**
   * Glue's GetTables of the database (a resource link is a table with a TargetTable), then Lake
   * Formation's ListPermissions of the consumer's catalog with `ResourceType: 'TABLE'`, kept to
   * DESCRIBE on the database's tables, both followed through NextToken. ListPermissions takes one
   * `Resource` (a catalog, a database, a table...), and its API reference does not document that
   * a database resource lists its tables' permissions, so the rows are narrowed by resource type,
   * not to the database. A database Glue does not know
   * lists nothing. Each entry carries `at`: a table's UpdateTime or CreateTime, a permission's
   * LastUpdated.
   */
  async listLinks(consumer: LinkSpec['consumer'], database: string): Promise<ListedLinks> {
    const c = this.client({ consumer });
    const catalog = consumer.accountId;
    const out: ListedLinks = { tables: [], describe: [] };
    let token: string | undefined;
    do {
      const next = token;
      let page;
      try {
        page = await this.call({ consumer }, 'Glue', `GetTables ${database}`, () =>
          c.glue.send(
            new GetTablesCommand({
              CatalogId: catalog,
              DatabaseName: database,
              ...(next ? { NextToken: next } : {}),
            }),
          ),
        );
      } catch (err) {
        if (err instanceof LakeFormationError && GONE.has(err.code)) return out;
        throw err;
      }
      for (const t of page.TableList ?? []) {
        if (!t.Name) continue;
        const target = t.TargetTable;
        const at = isoOf(t.UpdateTime ?? t.CreateTime);
        out.tables.push({
          name: t.Name,
          ...(at ? { at } : {}),
          ...(target?.DatabaseName && target.Name
            ? {
                target: {
                  catalogId: target.CatalogId ?? catalog,
                  database: target.DatabaseName,
                  table: target.Name,
                },
              }
            : {}),
        });
      }
      token = page.NextToken;
    } while (token);
    do {
      const next = token;
      const page = await this.call(
        { consumer },
        'Lake Formation',
        `ListPermissions ${catalog}`,
        () =>
          c.lakeFormation.send(
            new ListPermissionsCommand({
              CatalogId: catalog,
              ResourceType: 'TABLE',
              ...(next ? { NextToken: next } : {}),
            }),
          ),
      );
      for (const p of page.PrincipalResourcePermissions ?? []) {
        const table = p.Resource?.Table;
        const principal = p.Principal?.DataLakePrincipalIdentifier;
        if (!table?.Name || !principal || table.DatabaseName !== database) continue;
        if ((table.CatalogId ?? catalog) !== catalog) continue;
        // DESCRIBE as Meshgate grants it: a row with ALL is a creator's or an administrator's.
        const names = p.Permissions ?? [];
        if (!names.includes('DESCRIBE') || names.includes('ALL')) continue;
        const at = isoOf(p.LastUpdated);
        out.describe.push({ table: table.Name, principal, ...(at ? { at } : {}) });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  /**
   * Creates one resource link. A table of that name already there is this link only if it points
   * to the same table (catalog, database, name; Glue keeps names in lower case): link names fold
   * punctuation and case together, so another producing table, or a table someone made, may hold
   * it. That is a LinkNameTakenError naming both, never "already".
   */
  private async createLink(
    spec: LinkSpec,
    c: ConsumerClients,
    table: ReturnType<typeof resourceLinkInput>,
  ): Promise<'ok' | 'already'> {
    const name = table.TableInput.Name;
    const where = `${spec.database}.${name}`;
    for (let attempt = 1; ; attempt++) {
      const result = await this.tolerate(spec, 'Glue', `CreateTable ${where}`, EXISTS, () =>
        c.glue.send(new CreateTableCommand(table)),
      );
      if (result === 'ok') return result;
      let found;
      try {
        found = await this.call(spec, 'Glue', `GetTable ${where}`, () =>
          c.glue.send(
            new GetTableCommand({
              CatalogId: table.CatalogId,
              DatabaseName: spec.database,
              Name: name,
            }),
          ),
        );
      } catch (err) {
        // Deleted between the two calls: create it once more.
        if (attempt === 1 && err instanceof LakeFormationError && GONE.has(err.code)) continue;
        throw err;
      }
      const want = table.TableInput.TargetTable;
      const has = found?.Table?.TargetTable;
      const same =
        has !== undefined &&
        (has.CatalogId ?? table.CatalogId) === want.CatalogId &&
        has.DatabaseName?.toLowerCase() === want.DatabaseName.toLowerCase() &&
        has.Name?.toLowerCase() === want.Name.toLowerCase();
      if (same) return 'already';
      const theirs = has
        ? `a resource link to ${has.CatalogId ?? table.CatalogId}:${has.DatabaseName}.${has.Name}`
        : 'a table that is not a resource link';
      throw new LinkNameTakenError(
        name,
        `The resource link ${where} in consumer account ${spec.consumer.accountId} is taken by ${theirs}; ` +
          `this grant links ${want.CatalogId}:${want.DatabaseName}.${want.Name}. Rename or remove one of them.`,
      );
    }
  }

  /**
   * Accepts every PENDING invitation of the producing account (all pages). Inside an AWS
   * Organization with RAM sharing enabled there is none: Lake Formation shares without one.
   */
  private async acceptInvitations(
    spec: LinkSpec,
    c: ConsumerClients,
    entries: LinkEntry[],
  ): Promise<boolean> {
    let accepted = false;
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call(spec, 'RAM', 'GetResourceShareInvitations', () =>
        c.ram.send(new GetResourceShareInvitationsCommand(token ? { nextToken: token } : {})),
      );
      for (const inv of page.resourceShareInvitations ?? []) {
        if (inv.status !== 'PENDING' || inv.senderAccountId !== spec.producer.accountId) continue;
        if (!inv.resourceShareInvitationArn) continue;
        const sent = { resourceShareInvitationArn: inv.resourceShareInvitationArn };
        // Two grants to one consumer account may both find the invitation PENDING: the second
        // acceptance is refused as already accepted, which is what it wanted.
        const result = await this.tolerate(
          spec,
          'RAM',
          `AcceptResourceShareInvitation ${sent.resourceShareInvitationArn}`,
          ALREADY_ACCEPTED,
          () => c.ram.send(new AcceptResourceShareInvitationCommand(sent)),
        );
        entries.push({ action: 'accept-invitation', sent, result });
        accepted ||= result === 'ok';
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return accepted;
  }

  /** A call whose `code` means "done already" (AlreadyExistsException). */
  private async tolerate(
    spec: LinkSpec,
    service: Service,
    operation: string,
    code: string,
    send: () => Promise<unknown>,
  ): Promise<'ok' | 'already'> {
    try {
      await this.call(spec, service, operation, send);
      return 'ok';
    } catch (err) {
      if (err instanceof LakeFormationError && err.code === code) return 'already';
      throw err;
    }
  }

  /** A removal of what may be gone already (a second revoke, a link someone deleted). */
  private async tolerateGone(
    spec: LinkSpec,
    service: Service,
    operation: string,
    send: () => Promise<unknown>,
  ): Promise<'ok' | 'already'> {
    try {
      await this.call(spec, service, operation, send);
      return 'ok';
    } catch (err) {
      if (
        err instanceof LakeFormationError &&
        (GONE.has(err.code) ||
          (err.code === 'InvalidInputException' && NO_PERMISSIONS.test(err.message)))
      )
        return 'already';
      throw err;
    }
  }

  /** Every failure as a LakeFormationError naming the call; the broker role's refusals as such. */
  private async call<T>(
    spec: Pick<LinkSpec, 'consumer'>,
    service: Service,
    operation: string,
    send: () => Promise<T>,
  ): Promise<T> {
    try {
      return await send();
    } catch (err) {
      const code = awsErrorCode(err);
      const where = `${operation} in consumer account ${spec.consumer.accountId}`;
      if (err instanceof BrokerError || REFUSED.has(code)) {
        const b =
          err instanceof BrokerError
            ? err
            : brokerError(
                {
                  accountId: spec.consumer.accountId,
                  roleArn: spec.consumer.broker?.roleArn,
                  service,
                  awsCode: code,
                },
                where,
                err,
                spec.consumer.broker?.externalId,
              );
        throw new LakeFormationError(b.failure.awsCode, `${where}: ${b.message}`, true, [], {
          cause: err,
          broker: b.failure,
        });
      }
      const message = (err as { message?: string })?.message ?? String(err);
      throw new LakeFormationError(code, `${where}: ${message}`, false, [], { cause: err });
    }
  }

  private client(spec: Pick<LinkSpec, 'consumer'>): ConsumerClients {
    const a = spec.consumer;
    // The role and ExternalId are part of the key: credentials bound to a role that was changed
    // since (the account registered again) would be refused on every call.
    const key = JSON.stringify([a.accountId, a.region, a.broker?.roleArn, a.broker?.externalId]);
    let c = this.clients.get(key);
    if (!c) {
      c = this.clientsFor(a, a.broker && this.credentials ? this.credentials(a.broker) : undefined);
      this.clients.set(key, c);
    }
    return c;
  }
}

/** A service's time as ISO text (the SDK gives a Date; a recorded answer may hold the text). */
function isoOf(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** DESCRIBE for the principal on one link, in the consumer account's catalog. */
function describeOn(spec: LinkSpec, link: string) {
  return {
    CatalogId: spec.consumer.accountId,
    Principal: { DataLakePrincipalIdentifier: spec.principal },
    Resource: {
      Table: { CatalogId: spec.consumer.accountId, DatabaseName: spec.database, Name: link },
    },
    Permissions: ['DESCRIBE' as const],
  };
}
