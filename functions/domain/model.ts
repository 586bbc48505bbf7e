// Entities of the mesh. Plain data: adapters persist them, use cases change them.
import type { AuditEventType } from './audit-events';

export type { AuditEventType };

export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const PERMISSIONS = ['SELECT', 'DESCRIBE'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Roles held inside one domain (membership) or everywhere (domain `*`). A `backup` approver may
 * decide a stage only once it has waited too long and was escalated (see the policy's
 * `approve:<stage>:escalated`).
 */
export const ROLES = ['owner', 'steward', 'compliance', 'auditor', 'admin', 'backup'] as const;
export type Role = (typeof ROLES)[number];

/** The domain id that stands for "every domain" in a membership. */
export const ALL_DOMAINS = '*';

export interface Domain {
  id: string;
  name: string;
  accountId: string;
  region: string;
  description?: string;
  /** The role Meshgate assumes in the domain account, and its ExternalId (AWS backend only). */
  broker?: { roleArn: string; externalId: string };
}

/** An AWS account where consumers query from, registered with its broker role (like a domain's). */
export interface ConsumerAccount {
  id: string;
  name?: string;
  accountId: string;
  region: string;
  /** The role Meshgate assumes in the consumer account, and its ExternalId (AWS backend only). */
  broker?: { roleArn: string; externalId: string };
}

/**
 * What the worker made in a consumer account for a grant: a resource link per table of the
 * product in `database`, DESCRIBE on them for the principal, and whether it accepted a pending
 * RAM invitation of the producing account.
 */
export interface ConsumerLink {
  account: string;
  region: string;
  database: string;
  /** The link to the product's main table (the one the Athena query names). */
  table: string;
  /** Every link of the grant, main table first, each with the table it points to. */
  tables: { name: string; target: string }[];
  describeGranted: boolean;
  invitationAccepted: boolean;
  at: string;
}

/** What the consumer's administrator runs when Meshgate cannot (an account not registered). */
export interface SetupStep {
  what: string;
  command: string;
}

/** How to use an active grant: where the data is, who may read it until when, and a query. */
export interface Access {
  account: string;
  region: string;
  catalogId: string;
  database: string;
  table: string;
  /** Every table of the product, when it has several. */
  tables?: string[];
  principal: string;
  expiresAt: string;
  /** The granted columns; absent when every column is granted. */
  columns?: string[];
  rowFilter?: string;
  /** The resource link the query names, when Meshgate made one in the consumer's account. */
  link?: { account: string; region: string; database: string; table: string };
  query: string;
  /** For a principal of an account Meshgate does not manage: what its administrator must do. */
  setup?: { account: string; steps: SetupStep[] };
}

export interface Column {
  name: string;
  type: string;
  comment?: string;
  pii: boolean;
}

export interface DataProduct {
  /** `domain/name`: stable and addressable. */
  id: string;
  domain: string;
  name: string;
  title: string;
  description: string;
  owner: string;
  classification: Classification;
  tags: string[];
  /** Where the data lives. `tables`, when present, makes a product of several tables of the database. */
  location: { catalogId: string; database: string; table: string; tables?: string[] };
  columns: Column[];
  freshness: string;
  status: 'ACTIVE' | 'RETIRED';
}

export interface User {
  id: string;
  name: string;
  title?: string;
  /** Where notifications are e-mailed (on AWS, unless the user opted out). */
  email?: string;
}

export interface Membership {
  user: string;
  /** A domain id, or `*` for a role held in every domain. */
  domain: string;
  role: Role;
  /** `group`: granted because of an identity-provider group, and taken away with it. */
  source?: 'group';
}

/** Who is calling, as established by authentication. Roles come from memberships. */
export interface Principal {
  userId: string;
  name: string;
  /** Identity-provider groups (Cognito), when the sign-in carries them. */
  groups?: string[];
}

export type ColumnScope =
  { mode: 'all' } | { mode: 'include'; columns: string[] } | { mode: 'exclude'; columns: string[] };

export interface Scope {
  permissions: Permission[];
  columns: ColumnScope;
  rowFilter?: string;
}

export interface Duration {
  value: number;
  unit: 'hours' | 'days';
}

/** One policy line that took part in a decision. */
export interface RuleRef {
  source: string;
  line: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
  rules: RuleRef[];
}

export interface Approval {
  by: string;
  at: string;
  comment: string;
  rule: RuleRef | null;
  narrowedScope?: Scope;
  narrowedDuration?: Duration;
}

export interface Stage {
  name: 'owner' | 'compliance';
  /** Approvals needed to pass this stage. */
  required: number;
  approvals: Approval[];
  /** The policy line that made this stage necessary. */
  rule: RuleRef | null;
  /**
   * When the stage, once it is the current one, is escalated to the domain's backup approvers if
   * still undecided: set when it starts, from the policy's `stage-escalate-after-hours` then.
   */
  escalatesAt?: string;
  /** When it was escalated (at most once): from then on backup approvers may decide it too. */
  escalatedAt?: string;
}

/** Some permission names on some of a product's tables. */
export interface NamesOnTables {
  names: Permission[];
  tables: string[];
}

export interface FulfilmentProgress {
  done: number;
  total: number;
  at: string;
  /**
   * The attempt that noted it: each notes itself (done 0) before its first Lake Formation call, so
   * a later attempt knows an earlier one may have granted, even one killed before noting a table.
   */
  attempt?: string;
  /** Set when an attempt before the one noting began too (its note was replaced). */
  earlier?: boolean;
}

/** What a consumer asks for (the body of `POST /v1/requests`). */
export interface RequestInput {
  productId: string;
  principal: string;
  scope: Scope;
  duration: Duration;
  purpose: string;
}

export interface AccessRequest {
  id: string;
  requester: string;
  principal: string;
  productId: string;
  domain: string;
  classification: Classification;
  scope: Scope;
  duration: Duration;
  purpose: string;
  status: RequestStatus;
  stages: Stage[];
  /** Why it was routed, approved automatically or refused. */
  explanation: Decision[];
  denial?: { by: string; reason: string; at: string };
  /** Why a pending request was cancelled by Meshgate itself (it timed out); absent when its requester cancelled it. */
  cancellation?: { by: string; reason: string; at: string };
  /**
   * When the request, if still pending, times out (CANCELLED): set when it is submitted, from the
   * policy's `pending-timeout-days` then.
   */
  timesOutAt?: string;
  /** Why fulfilment failed, and which tables failed (a retry grants every table: a FAILED request holds nothing). */
  failure?: {
    reason: string;
    at: string;
    code?: string;
    failedTables?: string[];
    failedTablesOmitted?: number;
  };
  grantId?: string;
  /** While GRANTING: how many of the product's tables Lake Formation has granted so far. */
  progress?: FulfilmentProgress;
  /**
   * While APPROVED or GRANTING: the permission names a revoke of another grant or request of the
   * same principal left in Lake Formation because this request needs them (it may find them held
   * and grant nothing itself). Should it fail, they are its own to revoke.
   */
  keptNames?: NamesOnTables[];
  /** Tables kept for it beyond those `keptNames` names (bounded): should it fail, it undoes all it asks for. */
  keptNamesOmitted?: number;
  /** Set on an extension: the grant it extends (and replaces once active). */
  extendsGrantId?: string;
  /** Set on an extension: the expiry of the grant it extends when it was asked; it runs on from there. */
  extendsFrom?: string;
  /**
   * The policy's maximum grant length (hours) when the request was decided: checked against the
   * whole time the grant would run, and the cap on its expiry when it becomes active.
   */
  maxDurationHours?: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type GrantStatus = 'ACTIVE' | 'REVOKING' | 'REVOKED' | 'EXPIRED';

export interface Grant {
  id: string;
  requestId: string;
  requester: string;
  principal: string;
  productId: string;
  domain: string;
  classification: Classification;
  accountId: string;
  scope: Scope;
  grantedAt: string;
  expiresAt: string;
  status: GrantStatus;
  /** What the permission store recorded for this grant (exact entries sent, and results). */
  entries: unknown[];
  endedAt?: string;
  endReason?: string;
  /** How an ending grant ends once its permission is gone: revoked by someone, or expired. */
  ending?: 'REVOKED' | 'EXPIRED';
  /** The resource links Meshgate made in the principal's (registered) consumer account. */
  consumerLink?: ConsumerLink;
}

export interface AuditEvent {
  id: string;
  at: string;
  /** One of the catalogue (audit-events.ts) when written; events read back are not checked. */
  type: AuditEventType;
  actor: string;
  domain: string;
  requestId?: string;
  productId?: string;
  fromStatus?: RequestStatus;
  toStatus?: RequestStatus;
  detail: Record<string, unknown>;
  /** Hash chain (see audit-chain.ts), set by the store when the event is written: the chain (domain, '*' for global). */
  chain?: string;
  /** 1-based position in the chain. */
  seq?: number;
  /** Hash of the previous event of the chain (64 zeros for seq 1). */
  prevHash?: string;
  /** Hex SHA-256 of the canonical JSON of this event without `hash`. */
  hash?: string;
}

export type RequestStatus =
  | 'PENDING'
  | 'APPROVED'
  | 'GRANTING'
  | 'ACTIVE'
  | 'REVOKING'
  | 'REVOKED'
  | 'EXPIRED'
  | 'DENIED'
  | 'CANCELLED'
  | 'FAILED';
