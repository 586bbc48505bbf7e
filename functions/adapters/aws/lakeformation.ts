import { setTimeout as delay } from 'node:timers/promises';
import {
  BatchGrantPermissionsCommand,
  BatchRevokePermissionsCommand,
  CreateDataCellsFilterCommand,
  DeleteDataCellsFilterCommand,
  GrantPermissionsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
  RevokePermissionsCommand,
  type BatchPermissionsFailureEntry,
  type DataCellsFilter,
  type Permission as LfPermissionName,
  type Resource,
} from '@aws-sdk/client-lakeformation';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import {
  cellsFilter,
  filterName,
  permissionKey,
  plannedEntries,
  type PlannedEntry,
} from '../../domain/lakeformation';
import {
  BrokerError,
  LakeFormationError,
  type DomainAccount,
  type LakeFormationPort,
  type LfPermission,
  type PermissionEntry,
  type GrantProgress,
  type TableGrant,
} from '../../ports/lakeformation';
import { brokerError, BrokerCredentials } from './sts-credentials';

/** The most entries BatchGrantPermissions and BatchRevokePermissions accept in one call. */
export const BATCH_LIMIT = 20;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 5_000;

const TRANSIENT = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ConcurrentModificationException',
  'InternalServiceException',
  'OperationTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNREFUSED',
]);
/** These fail again until someone changes a role, a table or the request. AccessDenied is STS's. */
const PERMANENT = new Set([
  'AccessDeniedException',
  'EntityNotFoundException',
  'InvalidInputException',
  'AccessDenied',
]);
/** The credentials lapsed between the SDK's check and the call: new ones fix it. */
const EXPIRED = new Set([
  'ExpiredTokenException',
  'ExpiredToken',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
]);
/** How Lake Formation says a revoked permission or filter is not there (e.g. "No permissions revoked."). */
const GONE_MESSAGE = /no permissions|not found|does not exist|doesn't exist/i;

type SdkError = {
  name?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
};

const errorCode = (err: unknown): string => {
  const e = err as SdkError;
  if (e?.name && e.name !== 'Error') return e.name;
  return e?.code ?? e?.name ?? 'UnknownError';
};
const errorMessage = (err: unknown): string => (err as SdkError)?.message || String(err);

function isTransient(err: unknown): boolean {
  const e = err as SdkError;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return (
    TRANSIENT.has(errorCode(err)) ||
    (e?.code !== undefined && TRANSIENT.has(e.code)) ||
    status >= 500 ||
    e?.$retryable !== undefined
  );
}

const isGone = (code: string, message: string) =>
  (code === 'InvalidInputException' || code === 'EntityNotFoundException') &&
  GONE_MESSAGE.test(message);

/** Unique within a request (the index) and readable in CloudTrail (the table). */
export const batchEntryId = (index: number, table: string) =>
  `${index}-${table}`.replace(/[^\w.-]/g, '_').slice(0, 255);

const sentOf = (p: PlannedEntry) => ({
  Principal: p.Principal,
  Resource: p.Resource,
  Permissions: p.Permissions,
});

function withEntries(err: unknown, entries: PermissionEntry[]): LakeFormationError {
  const e = err instanceof LakeFormationError ? err : toError('Lake Formation', err);
  return new LakeFormationError(e.code, e.message, e.permanent, [...entries], {
    cause: e.cause,
    broker: e.broker,
  });
}

/** Lake Formation refusing the broker role: no admin setting or grant option for it. */
const BROKER_REFUSALS = new Set(['AccessDeniedException', 'AccessDenied']);

/**
 * A failure of the broker role (AssumeRole refused, or Lake Formation refusing the role), as a
 * permanent LakeFormationError that names the role and the code and carries the failure.
 */
function brokerToError(
  operation: string,
  account: DomainAccount,
  err: unknown,
): LakeFormationError | undefined {
  const b =
    err instanceof BrokerError
      ? err
      : BROKER_REFUSALS.has(errorCode(err))
        ? brokerError(
            {
              accountId: account.accountId,
              roleArn: account.broker?.roleArn,
              service: 'Lake Formation',
              awsCode: errorCode(err),
            },
            operation,
            err,
            account.broker?.externalId,
          )
        : undefined;
  if (!b) return undefined;
  const message = err instanceof BrokerError ? `${operation}: ${b.message}` : b.message;
  return new LakeFormationError(b.failure.awsCode, message, true, [], {
    cause: err,
    broker: b.failure,
  });
}

function toError(
  operation: string,
  err: unknown,
  permanent = PERMANENT.has(errorCode(err)),
): LakeFormationError {
  return new LakeFormationError(
    errorCode(err),
    `${operation}: ${errorMessage(err)}`,
    permanent,
    [],
    { cause: err },
  );
}

export type ClientFactory = (
  account: DomainAccount,
  credentials: AwsCredentialIdentityProvider | undefined,
) => LakeFormationClient;

export interface AwsLakeFormationOptions {
  sts?: STSClient;
  /** Called once per account and region (and again after credentials expire). */
  clientFor?: ClientFactory;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  now?: () => Date;
}

/** Lake Formation in the domain accounts, reached through each account's broker role. */
export class AwsLakeFormation implements LakeFormationPort {
  readonly credentials: BrokerCredentials;
  private readonly clientFor: ClientFactory;
  private readonly clients = new Map<string, LakeFormationClient>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;

  constructor(options: AwsLakeFormationOptions = {}) {
    this.credentials = new BrokerCredentials({ sts: options.sts, now: options.now });
    // maxAttempts 1: this class retries, with backoff that knows about batches and expired credentials.
    this.clientFor =
      options.clientFor ??
      ((a, credentials) =>
        new LakeFormationClient({ region: a.region, credentials, maxAttempts: 1 }));
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.random = options.random ?? Math.random;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  }

  async grant(g: TableGrant, progress?: GrantProgress): Promise<PermissionEntry[]> {
    const done: PermissionEntry[] = [];
    try {
      if (g.rowFilter) {
        for (const table of g.onlyTables ?? g.tables) done.push(await this.createFilter(g, table));
      }
      await this.apply('grant', g, done, progress);
    } catch (err) {
      throw withEntries(err, done);
    }
    return done;
  }

  async revoke(g: TableGrant): Promise<PermissionEntry[]> {
    const done: PermissionEntry[] = [];
    try {
      await this.apply('revoke', g, done);
      if (g.rowFilter) {
        // A table whose revoke failed keeps its filter, so the retry revokes the very same resource.
        const failed = new Set(done.filter((e) => e.result === 'failed').map((e) => e.table));
        for (const table of g.onlyTables ?? g.tables) {
          if (!failed.has(table)) done.push(await this.deleteFilter(g, table));
        }
      }
    } catch (err) {
      throw withEntries(err, done);
    }
    return done;
  }

  async listPermissions(account: DomainAccount): Promise<LfPermission[]> {
    const out: LfPermission[] = [];
    let NextToken: string | undefined;
    do {
      const token = NextToken;
      const page = await this.call(account, `ListPermissions ${account.accountId}`, (c) =>
        c.send(
          new ListPermissionsCommand({
            CatalogId: account.accountId,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const p of page.PrincipalResourcePermissions ?? []) {
        out.push({
          principal: p.Principal?.DataLakePrincipalIdentifier ?? '',
          resource: (p.Resource ?? {}) as Record<string, unknown>,
          permissions: p.Permissions ?? [],
          permissionsWithGrantOption: p.PermissionsWithGrantOption ?? [],
        });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  /** Grants or revokes the planned entries: one plain call for one table, batches of 20 beyond. */
  private async apply(
    action: 'grant' | 'revoke',
    g: TableGrant,
    done: PermissionEntry[],
    progress?: GrantProgress,
  ): Promise<void> {
    const planned = plannedEntries(g);
    const where = `${g.accountId}/${g.database}`;
    if (planned.length === 1) {
      const p = planned[0]!;
      const input = {
        CatalogId: g.accountId,
        ...sentOf(p),
        Resource: p.Resource as Resource,
        Permissions: p.Permissions as LfPermissionName[],
      };
      const op = `${action === 'grant' ? 'GrantPermissions' : 'RevokePermissions'} ${where}.${p.table}`;
      try {
        await this.call(g, op, (c) =>
          action === 'grant'
            ? c.send(new GrantPermissionsCommand(input))
            : c.send(new RevokePermissionsCommand(input)),
        );
        done.push({ action, table: p.table, sent: sentOf(p), result: 'ok' });
      } catch (err) {
        if (
          action === 'revoke' &&
          err instanceof LakeFormationError &&
          isGone(err.code, err.message)
        ) {
          done.push({ action, table: p.table, sent: sentOf(p), result: 'already' });
        } else {
          throw err;
        }
      }
      await progress?.(1, 1);
      return;
    }

    const ids = planned.map((p, i) => batchEntryId(i, p.table));
    for (let start = 0; start < planned.length; start += BATCH_LIMIT) {
      const chunk = planned
        .slice(start, start + BATCH_LIMIT)
        .map((p, i) => ({ p, id: ids[start + i]! }));
      const input = {
        CatalogId: g.accountId,
        Entries: chunk.map(({ p, id }) => ({
          Id: id,
          ...sentOf(p),
          Resource: p.Resource as Resource,
          Permissions: p.Permissions as LfPermissionName[],
        })),
      };
      const op = `${action === 'grant' ? 'BatchGrantPermissions' : 'BatchRevokePermissions'} ${where} (${chunk.length} tables)`;
      const out = await this.call(g, op, (c) =>
        action === 'grant'
          ? c.send(new BatchGrantPermissionsCommand(input))
          : c.send(new BatchRevokePermissionsCommand(input)),
      );
      const failures = attribute(out.Failures ?? [], chunk);
      for (const { p, id } of chunk) {
        const f = failures.get(id);
        if (!f) {
          done.push({ action, table: p.table, sent: sentOf(p), result: 'ok' });
        } else if (action === 'revoke' && isGone(f.code, f.message)) {
          done.push({ action, table: p.table, sent: sentOf(p), result: 'already' });
        } else {
          done.push({ action, table: p.table, sent: sentOf(p), result: 'failed', error: f });
        }
      }
      await progress?.(start + chunk.length, planned.length);
    }
  }

  private async createFilter(g: TableGrant, table: string): Promise<PermissionEntry> {
    const TableData = cellsFilter(g, table);
    try {
      await this.call(g, `CreateDataCellsFilter ${g.accountId}/${g.database}.${table}`, (c) =>
        c.send(
          new CreateDataCellsFilterCommand({ TableData: TableData as unknown as DataCellsFilter }),
        ),
      );
      return { action: 'create-filter', table, sent: TableData, result: 'ok' };
    } catch (err) {
      // Same request, same filter name: an earlier try made it.
      if (err instanceof LakeFormationError && err.code === 'AlreadyExistsException') {
        return { action: 'create-filter', table, sent: TableData, result: 'already' };
      }
      throw err;
    }
  }

  private async deleteFilter(g: TableGrant, table: string): Promise<PermissionEntry> {
    const sent = {
      TableCatalogId: g.accountId,
      DatabaseName: g.database,
      TableName: table,
      Name: filterName(g.grantId),
    };
    try {
      await this.call(g, `DeleteDataCellsFilter ${g.accountId}/${g.database}.${table}`, (c) =>
        c.send(new DeleteDataCellsFilterCommand(sent)),
      );
      return { action: 'delete-filter', table, sent, result: 'ok' };
    } catch (err) {
      if (err instanceof LakeFormationError && err.code === 'EntityNotFoundException') {
        return { action: 'delete-filter', table, sent, result: 'already' };
      }
      throw err;
    }
  }

  /**
   * One Lake Formation call with retries. A fresh command per attempt: a sent command carries
   * middleware state. Every failure comes out as a LakeFormationError with the SDK error as cause.
   */
  private async call<T>(
    account: DomainAccount,
    operation: string,
    send: (client: LakeFormationClient) => Promise<T>,
  ): Promise<T> {
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const client = this.client(account);
      try {
        return await send(client);
      } catch (err) {
        const code = errorCode(err);
        const broker = brokerToError(operation, account, err);
        if (broker) throw broker;
        if (EXPIRED.has(code) && !refreshed) {
          // Not counted as an attempt: nothing was wrong with the call itself.
          refreshed = true;
          attempt--;
          this.dropClient(account, client);
          continue;
        }
        if (EXPIRED.has(code)) throw toError(operation, err, false);
        if (!isTransient(err)) throw toError(operation, err);
        if (attempt >= this.maxAttempts) {
          throw new LakeFormationError(
            code,
            `${operation}: ${errorMessage(err)} (gave up after ${attempt} attempts)`,
            false,
            [],
            { cause: err },
          );
        }
        await this.sleep(this.backoff(attempt));
      }
    }
  }

  /** Full jitter: uniform in [0, min(cap, base * 2^(n-1))), so retrying workers spread out. */
  backoff(retry: number): number {
    return this.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
  }

  private client(account: DomainAccount): LakeFormationClient {
    const key = clientKey(account);
    let client = this.clients.get(key);
    if (!client) {
      client = this.clientFor(
        account,
        account.broker ? this.credentials.provider(account.broker) : undefined,
      );
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * The SDK memoizes credentials per client, so expired ones need a new client as well as new
   * credentials. Only if `stale` is still current: a concurrent call may have replaced it already.
   */
  private dropClient(account: DomainAccount, stale: LakeFormationClient): void {
    const key = clientKey(account);
    if (this.clients.get(key) !== stale) return;
    if (account.broker) this.credentials.invalidate(account.broker.roleArn);
    // Not destroyed: a concurrent call may still be using it; its idle sockets time out.
    this.clients.delete(key);
  }
}

/**
 * The failed entries of one batch call, by entry id. A failure that names no entry of ours is
 * charged to every entry of the batch: reporting a granted table as failed costs a harmless
 * re-grant, while a dropped failure would leave a request ACTIVE without its permission.
 */
function attribute(
  failures: BatchPermissionsFailureEntry[],
  chunk: { p: PlannedEntry; id: string }[],
): Map<string, { code: string; message: string }> {
  const byId = new Map<string, { code: string; message: string }>();
  const byKey = new Map(
    chunk.map(({ p, id }) => [
      permissionKey(p.Principal.DataLakePrincipalIdentifier, p.Resource),
      id,
    ]),
  );
  const ids = new Set(chunk.map((c) => c.id));
  for (const f of failures) {
    const error = {
      code: f.Error?.ErrorCode ?? 'UnknownError',
      message: f.Error?.ErrorMessage ?? 'Lake Formation reported a failure without a message',
    };
    const req = f.RequestEntry;
    let id = req?.Id !== undefined && ids.has(req.Id) ? req.Id : undefined;
    if (id === undefined && req?.Principal?.DataLakePrincipalIdentifier && req.Resource) {
      id = byKey.get(
        permissionKey(
          req.Principal.DataLakePrincipalIdentifier,
          req.Resource as Record<string, unknown>,
        ),
      );
    }
    if (id !== undefined) {
      byId.set(id, error);
    } else {
      for (const c of chunk) if (!byId.has(c.id)) byId.set(c.id, error);
    }
  }
  return byId;
}

/**
 * A client per account, region and broker role: the role and ExternalId are part of the key, so
 * a domain registered again with another role or ExternalId gets credentials of that one, not
 * those of the role it had (refused on every call until a restart).
 */
const clientKey = (a: DomainAccount) =>
  JSON.stringify([a.accountId, a.region, a.broker?.roleArn, a.broker?.externalId]);
