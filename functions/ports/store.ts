import type {
  AccessRequest,
  AuditEvent,
  DataProduct,
  Domain,
  FulfilmentProgress,
  Grant,
  Membership,
  User,
} from '../domain/model';
import type { Expected, ExtensionLock, OpenCount } from '../domain/lifecycle';

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

/** One page of a listing: at most `limit` items, after the page whose `cursor` is given. */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** What must hold for a request write to go through: its status and version as last read. */
export type { Expected, ExtensionLock, OpenCount } from '../domain/lifecycle';

/**
 * The authorization state, one small item that every process reads before the decisions of a
 * call. `generation` is bumped in the same transaction as every change of memberships (and every
 * domain registration or update), so a process that has loaded the memberships of generation N
 * knows, with one read, whether they are still current. `policy` is the policy version recorded
 * as in force, with `seq`, which grows by one at every change of it.
 */
export interface AuthzState {
  generation: number;
  policy?: { version: string; seq: number; at: string };
}

/**
 * Which deployment configuration the store holds (see usecases/configuration.ts): the version last
 * applied, and `seq`, which grows by one at every write of a configuration's changes.
 */
export interface ConfigurationRecord {
  version?: string;
  seq: number;
}

/** A domain (new or replaced) or a new membership from the configuration, with its audit event. */
export type ConfigurationWrite =
  { domain: Domain; audit: AuditEvent } | { membership: Membership; audit: AuditEvent };

/** The most changes one `writeConfiguration` call carries (one transaction of the store). */
export const CONFIGURATION_WRITES_PER_CALL = 25;

/**
 * Persistence. Every request write is atomic with its audit events and conditional on the
 * prior state: a lost race raises a `conflict` MeshgateError and changes nothing.
 */
export interface Store {
  putDomain(domain: Domain): Promise<void>;
  /** Registers a new domain with its audit event; `conflict` if the id is taken. Bumps the authorization generation. */
  createDomain(domain: Domain, audit: AuditEvent): Promise<void>;
  /** Replaces a registered domain (its account, broker...) with its audit event. Bumps the authorization generation. */
  saveDomain(domain: Domain, audit: AuditEvent): Promise<void>;
  getDomain(id: string): Promise<Domain | undefined>;
  /** Every domain, read strongly consistently. */
  listDomains(): Promise<Domain[]>;

  putProduct(product: DataProduct): Promise<void>;
  /** Writes a product with the audit event of the change, in one transaction. */
  saveProduct(product: DataProduct, audit: AuditEvent): Promise<void>;
  getProduct(id: string): Promise<DataProduct | undefined>;
  listProducts(domain: string): Promise<DataProduct[]>;

  putUser(user: User): Promise<void>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;

  /** Adds or replaces a membership, with its audit event and a bump of the authorization generation, in one transaction. */
  putMembership(m: Membership, audit: AuditEvent): Promise<void>;
  /** Removes a membership with its audit event and a bump of the generation; `not_found` (and no bump) if it did not exist. */
  deleteMembership(m: Membership, audit: AuditEvent): Promise<void>;
  /** Every membership, read strongly consistently: it reflects every change committed before the call. */
  listMemberships(): Promise<Membership[]>;

  /** The authorization state: one strongly consistent read of one small item. */
  readAuthzState(): Promise<AuthzState>;
  /**
   * Records `policy` as the version in force (with seq = expected seq + 1, or 1 when none is
   * recorded), with its audit event, if the recorded policy is still `expected` (as read).
   * Returns false, writing nothing, when it is not (another process recorded one meanwhile).
   */
  claimPolicyVersion(
    policy: { version: string; at: string },
    expected: AuthzState['policy'],
    audit: AuditEvent,
  ): Promise<boolean>;

  /** The configuration record: one strongly consistent read of one small item. */
  readConfiguration(): Promise<ConfigurationRecord>;
  /**
   * Writes `changes` (at most CONFIGURATION_WRITES_PER_CALL) with their audit events, bumping the
   * authorization generation if there are any, and with `done` records its version as applied
   * with its audit event; all in one transaction, if the record's seq is still `expected.seq` (as
   * read), which moves it by one. Returns false, writing nothing, when it is not (another process
   * wrote a configuration meanwhile).
   */
  writeConfiguration(
    changes: ConfigurationWrite[],
    expected: ConfigurationRecord,
    done?: { version: string; audit: AuditEvent },
  ): Promise<boolean>;

  /**
   * Creates a request with its audit events. With `lock` (`claim`), also takes the grant's one
   * extension lock, conditional on nobody holding it: `conflict` EXTENSION_OPEN otherwise, and
   * nothing is written. With `open` (`claim`), also adds one to the requester's count of open
   * requests, conditional on it being below `open.max`: `unprocessable` OPEN_REQUEST_LIMIT
   * otherwise, and nothing is written.
   */
  createRequest(
    request: AccessRequest,
    audit: AuditEvent[],
    lock?: ExtensionLock,
    open?: OpenCount,
  ): Promise<void>;
  /**
   * How many open (pending) requests the user holds: one strongly consistent read of their
   * counter item, which every write that opens or closes a pending request moves in its own
   * transaction. Never a read of the user's requests.
   */
  countOpenRequests(user: string): Promise<number>;
  getRequest(id: string): Promise<AccessRequest | undefined>;
  /**
   * Notes how far fulfilment of a GRANTING request has come. Not a state change: no version, no
   * audit event (the attempt's entries are audited when it ends); ignored once the request moved on.
   */
  recordProgress(id: string, progress: FulfilmentProgress): Promise<void>;
  /**
   * Writes `next` only if the stored request still has `expected`; `next.version` must be
   * expected + 1. The grant and the extension lock change (claim or release) go in the same
   * transaction; a lock claimed by another request is `conflict` EXTENSION_OPEN. `open`
   * (`release`) takes one from the requester's count of open requests in the same transaction.
   */
  updateRequest(
    next: AccessRequest,
    expected: Expected,
    audit: AuditEvent[],
    grant?: Grant,
    lock?: ExtensionLock,
    open?: OpenCount,
  ): Promise<void>;
  listRequestsByRequester(requester: string): Promise<AccessRequest[]>;
  listRequestsByDomain(domain: string): Promise<AccessRequest[]>;
  listPendingByDomain(domain: string): Promise<AccessRequest[]>;
  /**
   * Requests APPROVED or GRANTING whose last change is before `before` (fulfilment to resume or
   * stalled), oldest change first, one page at a time.
   */
  listInFlightSince(before: string, page: PageRequest): Promise<Page<AccessRequest>>;
  /**
   * PENDING requests whose next deadline (their current stage's escalation or their timeout, see
   * nextDeadline in domain/lifecycle.ts) is at or before `at`, earliest first: what the sweeper
   * escalates or times out.
   */
  listPendingDue(at: string, page: PageRequest): Promise<Page<AccessRequest>>;

  getGrant(id: string): Promise<Grant | undefined>;
  listGrantsByDomain(domain: string): Promise<Grant[]>;
  listGrantsByRequester(requester: string): Promise<Grant[]>;
  /** ACTIVE grants whose expiry is at or before `at`, soonest first. */
  listGrantsExpiringBy(at: string): Promise<Grant[]>;
  /** Grants being revoked (REVOKING), soonest expiry first, one page at a time. */
  listGrantsEnding(page: PageRequest): Promise<Page<Grant>>;

  /**
   * Counts one refusal of `user` for `action` in its window (item `REFUSALS#<user>` / `<action>`).
   * Within the open window it only adds one to the count (one UpdateItem) and returns false. When
   * no window is open (none yet, or it ended before `now`), it opens one from `now` until `until`
   * and, in one transaction with that: writes `refusal` (the first of the new window) and, if the
   * ended window counted refusals not yet in the trail, `summary(count, window)` for them. Returns
   * true then. A race with another process opening the window is retried. While a window counts
   * refusals not yet in the trail it is listed for `flushRefusals`.
   */
  countRefusal(
    user: string,
    action: string,
    at: { now: string; until: string },
    refusal: AuditEvent,
    summary: (count: number, window: { from: string; to: string }) => AuditEvent,
  ): Promise<boolean>;

  /**
   * Writes the refusals counted in windows that ended at or before `now` and that no later
   * refusal has summed up (count > recorded): for each, `summary(user, action, count, window)`
   * for the unrecorded ones, in one transaction with marking them recorded, conditional on the
   * window and its count as read. At most `limit` windows, those that ended first (a Query, no
   * scan); a window whose count moved meanwhile is left for the next call. Returns how many
   * windows it summed up.
   */
  flushRefusals(
    now: string,
    limit: number,
    summary: (
      user: string,
      action: string,
      count: number,
      window: { from: string; to: string },
    ) => AuditEvent,
  ): Promise<number>;

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
