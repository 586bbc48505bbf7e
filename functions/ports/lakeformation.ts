import type { GrantShape } from '../domain/lakeformation';

/** How Meshgate reaches a domain account: the broker role it assumes, with its ExternalId. */
export interface BrokerAccess {
  roleArn: string;
  externalId: string;
}

/** Where a domain's catalog lives. `broker` is absent on the embedded default. */
export interface DomainAccount {
  accountId: string;
  region: string;
  broker?: BrokerAccess;
}

/**
 * The permissions of one approved request, on one or more tables of one database (the shape the
 * domain's builders work from), and the account that holds them.
 */
export interface TableGrant extends GrantShape, DomainAccount {}

/** One call's worth of what was sent to Lake Formation and what it answered, kept for audit. */
export interface PermissionEntry {
  action: 'grant' | 'revoke' | 'create-filter' | 'delete-filter';
  /** The table this entry is about; absent for the database-level DESCRIBE. */
  table?: string;
  /** The exact entry sent: Principal, Resource and Permissions (or the filter). */
  sent: Record<string, unknown>;
  result: 'ok' | 'already' | 'failed';
  error?: { code: string; message: string };
}

/**
 * What Meshgate knows of a failure to act through a domain account's broker role: the role (never
 * its ExternalId), the account, the AWS service that refused and its error code (err.name / Code).
 */
export interface BrokerFailure {
  accountId: string;
  /** Absent when the account has no broker role (Meshgate's own credentials were refused). */
  roleArn?: string;
  service: 'STS' | 'Lake Formation' | 'Glue' | 'RAM';
  awsCode: string;
}

/**
 * Meshgate could not act in a domain account through its broker role: AssumeRole was refused (the
 * role is missing, or its trust policy refuses the ExternalId: STS answers AccessDenied for both),
 * or the role lacks Lake Formation or Glue rights. The SDK error is the `cause`; the message names
 * the role and the code, never the ExternalId.
 */
export class BrokerError extends Error {
  constructor(
    readonly failure: BrokerFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/**
 * A Lake Formation call that failed as a whole. `permanent` errors (access denied, no such
 * entity, invalid input) will fail again until something changes; the others were retried and
 * ran out of attempts.
 */
export class LakeFormationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
    readonly entries: PermissionEntry[] = [],
    options?: { cause?: unknown; broker?: BrokerFailure },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LakeFormationError';
    this.broker = options?.broker;
  }
  /** Set when the broker role could not be assumed or lacks Lake Formation rights. */
  readonly broker?: BrokerFailure;
}

/** A permission as Lake Formation lists it. */
export interface LfPermission {
  principal: string;
  resource: Record<string, unknown>;
  permissions: string[];
  /** The permissions the principal may grant on (PermissionsWithGrantOption). */
  permissionsWithGrantOption?: string[];
}

/** Tables handled so far of those a grant covers. */
export type GrantProgress = (tablesDone: number, tablesTotal: number) => Promise<void> | void;

/** Lake Formation in a domain account, as fulfilment and reconciliation see it. Safe to repeat. */
export interface LakeFormationPort {
  /**
   * Grants; a table that fails comes back as a `failed` entry, never silently dropped.
   * `progress` hears how many of the tables have been handled as calls complete.
   */
  grant(g: TableGrant, progress?: GrantProgress): Promise<PermissionEntry[]>;
  /** Revokes exactly what `grant` granted, and deletes the data cells filter it made. */
  revoke(g: TableGrant): Promise<PermissionEntry[]>;
  /** Every permission in the account's catalog (all pages). */
  listPermissions(account: DomainAccount): Promise<LfPermission[]>;
}

/** The broker failure behind an error of a Lake Formation or catalog call, if it is one. */
export function brokerFailureOf(err: unknown): BrokerFailure | undefined {
  if (err instanceof BrokerError) return err.failure;
  if (err instanceof LakeFormationError) return err.broker;
  return undefined;
}
