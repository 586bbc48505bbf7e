import type { Permission } from '../domain/model';

/** One table permission to grant or revoke in a domain account. */
export interface TablePermission {
  /** Deterministic: derived from the request, so that a retry finds what the first try made. */
  grantId: string;
  accountId: string;
  region: string;
  principal: string;
  database: string;
  table: string;
  permissions: Permission[];
  columns: { mode: 'all' } | { mode: 'include'; columns: string[] } | { mode: 'exclude'; columns: string[] };
  rowFilter?: string;
}

/** What was sent to the permission store and what it answered, kept on the grant for audit. */
export interface PermissionEntry {
  action: 'grant' | 'revoke';
  resource: Record<string, unknown>;
  permissions: Permission[];
  principal: string;
  result: 'ok' | 'already' | 'failed';
  error?: string;
}

/** Lake Formation, as seen by fulfilment. Both calls are safe to repeat. */
export interface LakeFormationPort {
  grant(p: TablePermission): Promise<PermissionEntry[]>;
  revoke(p: TablePermission): Promise<PermissionEntry[]>;
}
