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
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LakeFormationError';
  }
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
