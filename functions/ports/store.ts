import type {
  AccessRequest,
  AuditEvent,
  DataProduct,
  Domain,
  FulfilmentProgress,
  Grant,
  Membership,
  RequestStatus,
  User,
} from '../domain/model';

export interface AuditQuery {
  from: string;
  to: string;
  domain?: string;
  actor?: string;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** What must hold for a request write to go through: its status and version as last read. */
export interface Expected {
  status: RequestStatus;
  version: number;
}

/**
 * Persistence. Every request write is atomic with its audit events and conditional on the
 * prior state: a lost race raises a `conflict` MeshgateError and changes nothing.
 */
export interface Store {
  putDomain(domain: Domain): Promise<void>;
  /** Registers a new domain with its audit event; `conflict` if the id is taken. */
  createDomain(domain: Domain, audit: AuditEvent): Promise<void>;
  getDomain(id: string): Promise<Domain | undefined>;
  listDomains(): Promise<Domain[]>;

  putProduct(product: DataProduct): Promise<void>;
  /** Writes a product with the audit event of the change, in one transaction. */
  saveProduct(product: DataProduct, audit: AuditEvent): Promise<void>;
  getProduct(id: string): Promise<DataProduct | undefined>;
  listProducts(domain: string): Promise<DataProduct[]>;

  putUser(user: User): Promise<void>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;

  /** Adds or replaces a membership, with its audit event, in one transaction. */
  putMembership(m: Membership, audit: AuditEvent): Promise<void>;
  /** Removes a membership with its audit event; `not_found` if it did not exist. */
  deleteMembership(m: Membership, audit: AuditEvent): Promise<void>;
  listMemberships(): Promise<Membership[]>;

  createRequest(request: AccessRequest, audit: AuditEvent[]): Promise<void>;
  getRequest(id: string): Promise<AccessRequest | undefined>;
  /**
   * Notes how far fulfilment of a GRANTING request has come. Not a state change: no version, no
   * audit event (the attempt's entries are audited when it ends); ignored once the request moved on.
   */
  recordProgress(id: string, progress: FulfilmentProgress): Promise<void>;
  /** Writes `next` only if the stored request still has `expected`; `next.version` must be expected + 1. */
  updateRequest(next: AccessRequest, expected: Expected, audit: AuditEvent[], grant?: Grant): Promise<void>;
  listRequestsByRequester(requester: string): Promise<AccessRequest[]>;
  listRequestsByDomain(domain: string): Promise<AccessRequest[]>;
  listPendingByDomain(domain: string): Promise<AccessRequest[]>;
  /** Requests APPROVED or GRANTING whose last change is before `before` (stalled fulfilment). */
  listInFlightSince(before: string): Promise<AccessRequest[]>;

  getGrant(id: string): Promise<Grant | undefined>;
  listGrantsByDomain(domain: string): Promise<Grant[]>;
  listGrantsByRequester(requester: string): Promise<Grant[]>;
  /** ACTIVE grants whose expiry is at or before `at`, soonest first. */
  listGrantsExpiringBy(at: string): Promise<Grant[]>;
  /** Grants being revoked (REVOKING), oldest first. */
  listGrantsEnding(): Promise<Grant[]>;

  /**
   * Records the policy version in force, with its audit event, if it differs from the one last
   * recorded. Returns whether it did (false: that version was already recorded).
   */
  recordPolicyVersion(version: string, audit: AuditEvent): Promise<boolean>;

  /** Records an audit event that belongs to no request (a sync, a reconciliation). */
  appendAudit(event: AuditEvent): Promise<void>;

  /** Audit events of one request, oldest first. */
  listRequestAudit(requestId: string): Promise<AuditEvent[]>;
  /** Audit events in a time range, oldest first. */
  queryAudit(q: AuditQuery): Promise<Page<AuditEvent>>;
  /**
   * The events of one hash chain (a domain, '*' for global events) in seq order, after `afterSeq`
   * (default: from the start). Every write that carries audit events seals them into their chain
   * atomically with the write; see domain/audit-chain.ts.
   */
  listChain(chain: string, afterSeq?: number): Promise<AuditEvent[]>;
}
