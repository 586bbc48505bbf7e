import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { BrokerError, type BrokerAccess, type BrokerFailure } from '../../ports/lakeformation';

const defaultClient = new STSClient({});

/** Refreshed this early so that no call starts with credentials about to lapse mid-batch. */
const REFRESH_BEFORE_MS = 5 * 60_000;
const DURATION_SECONDS = 3600;

/**
 * How STS refuses a role: AccessDenied when the role does not exist, its trust policy does not
 * name Meshgate, or the ExternalId is wrong (STS does not say which). Throttling and Meshgate's
 * own expired credentials are not the broker's and stay as they are, for the callers' retries.
 */
const STS_REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'RegionDisabledException']);

/** The AWS error code of an SDK error: its name (the modeled exception), else its Code. */
export function awsErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string } | undefined;
  if (e?.name && e.name !== 'Error') return e.name;
  return e?.Code ?? e?.code ?? e?.name ?? 'UnknownError';
}

/**
 * A broker failure as a project error, the SDK error as its cause. The message names the role,
 * the account and the code; AWS's own text is kept with any ExternalId blanked out (STS does not
 * echo it, but no secret reaches an error, a log or the trail even if it did).
 */
export function brokerError(
  failure: BrokerFailure,
  doing: string,
  err: unknown,
  externalId?: string,
): BrokerError {
  const raw = (err as { message?: string } | undefined)?.message ?? '';
  const text = externalId ? raw.split(externalId).join('***') : raw;
  const who = failure.roleArn
    ? `the broker role ${failure.roleArn} of account ${failure.accountId}`
    : `account ${failure.accountId} (no broker role)`;
  return new BrokerError(
    failure,
    `${failure.service} refused ${doing} through ${who}: ${failure.awsCode}${text ? ` (${text})` : ''}`,
    { cause: err },
  );
}

type Credentials = AwsCredentialIdentity & { expiration: Date };

/** Role session names allow [\w+=,.@-], 2 to 64 characters; CloudTrail shows it, so name the account. */
export function sessionName(roleArn: string): string {
  const account = roleArn.split(':')[4] || 'broker';
  return `meshgate-${account}`.replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
}

export interface BrokerCredentialsOptions {
  sts?: STSClient;
  now?: () => Date;
}

/**
 * Credentials for the broker role of each domain account, one AssumeRole per role per hour:
 * a batch of grants across many tables must not assume the role once per call.
 */
export class BrokerCredentials {
  private readonly sts: STSClient;
  private readonly now: () => Date;
  // Promises, so concurrent callers share one AssumeRole instead of racing.
  private readonly cache = new Map<string, Promise<Credentials>>();

  constructor(options: BrokerCredentialsOptions = {}) {
    this.sts = options.sts ?? defaultClient;
    this.now = options.now ?? (() => new Date());
  }

  provider(access: BrokerAccess): AwsCredentialIdentityProvider {
    return () => this.get(access);
  }

  /** Forgets the role's credentials: the next call assumes it again (they were rejected as expired). */
  invalidate(roleArn: string): void {
    this.cache.delete(roleArn);
  }

  private async get(access: BrokerAccess): Promise<Credentials> {
    const hit = this.cache.get(access.roleArn);
    if (hit) {
      const creds = await hit.catch(() => undefined);
      if (creds && creds.expiration.getTime() - REFRESH_BEFORE_MS > this.now().getTime())
        return creds;
      // Someone else already replaced it while we waited: use theirs.
      const current = this.cache.get(access.roleArn);
      if (current && current !== hit) return this.get(access);
    }
    const pending = this.assume(access);
    this.cache.set(access.roleArn, pending);
    pending.catch(() => {
      if (this.cache.get(access.roleArn) === pending) this.cache.delete(access.roleArn);
    });
    return pending;
  }

  private async assume(access: BrokerAccess): Promise<Credentials> {
    let out;
    try {
      out = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: access.roleArn,
          RoleSessionName: sessionName(access.roleArn),
          ExternalId: access.externalId,
          DurationSeconds: DURATION_SECONDS,
        }),
      );
    } catch (err) {
      const awsCode = awsErrorCode(err);
      if (!STS_REFUSALS.has(awsCode)) throw err;
      const accountId = access.roleArn.split(':')[4] || 'unknown';
      throw brokerError(
        { accountId, roleArn: access.roleArn, service: 'STS', awsCode },
        'sts:AssumeRole',
        err,
        access.externalId,
      );
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`AssumeRole ${access.roleArn} returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration),
    };
  }
}
