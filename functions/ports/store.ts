import type {
  AccessRequest,
  AuditEvent,
  ConsumerAccount,
  DataProduct,
  Domain,
  FulfilmentProgress,
  Grant,
  Membership,
  User,
} from '../domain/model';
import type { Expected, ExtensionLock, OpenCount } from '../domain/lifecycle';
import type { RequestStatus } from '../domain/model';

/**
 * Audit events in [from, to], newest... oldest first. `after` is where the page resumes (the
 * position a previous page returned as `next`); the use case seals it into the caller's cursor.
 */
export interface AuditQuery extends KeyPage {
  from: string;
  to: string;
  domain?: string;
  actor?: string;
}

/**
 * One page of a listing keyed by a unique sort key: at most `limit` items after `after` (the
 * position a previous page returned as `next`). Positions are raw keys: the use cases seal them
 * into the callers' cursors (domain/paging.ts) and open them before they reach a store.
 */
export interface KeyPage {
  limit: number;
  after?: string;
}

/** A page of a keyed listing; `next` (where the next page resumes) is absent on the last page. */
export interface KeyedPage<T> {
  items: T[];
  next?: string;
}

/** Whose requests or grants a listing merges: a requester's, a domain's, or every domain's. */
export type ListingSource = { requester: string } | { domain: string } | { everyDomain: true };

/** Whose pending requests an inbox merges: one domain's at one stage, or every domain's at one stage. */
export type InboxSource = { domain: string; stage: string } | { stage: string };

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

/** The catalog: domains, products, users. */
export interface CatalogStore {
  putDomain(domain: Domain): Promise<void>;
  /** Registers a new domain with its audit event; `conflict` if the id is taken. Bumps the authorization generation. */
  createDomain(domain: Domain, audit: AuditEvent): Promise<void>;
  /** Replaces a registered domain (its account, broker...) with its audit event. Bumps the authorization generation. */
  saveDomain(domain: Domain, audit: AuditEvent): Promise<void>;
  getDomain(id: string): Promise<Domain | undefined>;
  /** Every domain, read strongly consistently (configuration, jobs: not for the API). */
  listDomains(): Promise<Domain[]>;
  /** One page of the domains, by id. */
  listDomainsPage(page: KeyPage): Promise<KeyedPage<Domain>>;

  /** Registers a consumer account with its audit event; `conflict` CONSUMER_ACCOUNT_EXISTS if its AWS account is registered. */
  createConsumerAccount(account: ConsumerAccount, audit: AuditEvent): Promise<void>;
  /** The consumer account registered for an AWS account id, read strongly consistently. */
  getConsumerAccount(accountId: string): Promise<ConsumerAccount | undefined>;
  listConsumerAccounts(): Promise<ConsumerAccount[]>;
  /** One page of the consumer accounts, by AWS account id. */
  listConsumerAccountsPage(page: KeyPage): Promise<KeyedPage<ConsumerAccount>>;

  putProduct(product: DataProduct): Promise<void>;
  /** Writes a product with the audit event of the change, in one transaction. */
  saveProduct(product: DataProduct, audit: AuditEvent): Promise<void>;
  getProduct(id: string): Promise<DataProduct | undefined>;
  /** The products of these ids that exist (one batch read per 100 ids), in no order. */
  getProducts(ids: string[]): Promise<DataProduct[]>;
  listProducts(domain: string): Promise<DataProduct[]>;

  putUser(user: User): Promise<void>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
}

/** Memberships, the authorization state and the configuration record. */
export interface MembershipStore {
  /** Adds or replaces a membership, with its audit event and a bump of the authorization generation, in one transaction. */
  putMembership(m: Membership, audit: AuditEvent): Promise<void>;
  /** Removes a membership with its audit event and a bump of the generation; `not_found` (and no bump) if it did not exist. */
  deleteMembership(m: Membership, audit: AuditEvent): Promise<void>;
  /** Every membership, read strongly consistently: it reflects every change committed before the call. */
  listMemberships(): Promise<Membership[]>;
  /** One page of a domain's memberships, by user then role. */
  listMembers(domain: string, page: KeyPage): Promise<KeyedPage<Membership>>;
  /**
   * The memberships of the domains from `first` to `last` (ids, in the order domains are listed),
   * with one of `roles`: the owners and stewards of one page of domains.
   */
  listMembershipsBetween(first: string, last: string, roles: string[]): Promise<Membership[]>;
  /**
   * The deployment's cursor key (32 random bytes): created once with a conditional put, read
   * back by every later process, so that every process of a deployment seals cursors alike.
   */
  cursorKey(): Promise<Uint8Array>;

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
}

/**
 * Requests and grants, the extension locks, the open-request counters and the refusal windows.
 * Every request write is atomic with its audit events and conditional on the prior state: a lost
 * race raises a `conflict` MeshgateError and changes nothing.
 */
export interface RequestStore {
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
  /**
   * One page of the requests of `sources` merged (newest first, each once), with `status` and
   * `domain` if given: one Query per source. Filters apply within the page (except PENDING for
   * every domain, served by its own partitions), which may then come back short (with `next`).
   */
  listRequests(
    sources: ListingSource[],
    q: KeyPage & { status?: RequestStatus; domain?: string },
  ): Promise<KeyedPage<AccessRequest>>;
  /** One page of the pending requests of `sources` merged, oldest first: one Query per source. */
  listPending(sources: InboxSource[], page: KeyPage): Promise<KeyedPage<AccessRequest>>;
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
  /** Every grant of a domain (the reconcile job). */
  listGrantsByDomain(domain: string): Promise<Grant[]>;
  /** The ACTIVE grants of one principal in one domain (revoking: which permissions others still need). */
  listActiveGrantsOf(domain: string, principal: string): Promise<Grant[]>;
  /**
   * The version of `user`'s grants: one strongly consistent read of an item (`GRANTS#<user>` /
   * `VERSION`) that every write of one of their grants moves in its own transaction, with the time
   * it last moved (`movedAt`; absent before the first move). Their grants are listed from an index,
   * which DynamoDB updates after the transaction: a listing read soon after a move may not show it
   * yet (see usecases/held-grants.ts).
   */
  grantsVersion(user: string): Promise<{ version: number; movedAt?: string }>;
  /** One page of the grants of `sources` merged (newest first, each once), filtered by status within the page. */
  listGrants(
    sources: ListingSource[],
    q: KeyPage & { status?: Grant['status']; domain?: string },
  ): Promise<KeyedPage<Grant>>;
  /** ACTIVE grants whose expiry is at or before `at`, soonest first, one page at a time. */
  listGrantsExpiringBy(at: string, page: PageRequest): Promise<Page<Grant>>;
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
}

/**
 * The audit trail: every other aggregate writes its events through it, sealed into their hash
 * chains in the transaction of the change (see domain/audit-chain.ts).
 */
export interface AuditLog {
  /** Records an audit event that belongs to no request (a sync, a reconciliation). */
  appendAudit(event: AuditEvent): Promise<void>;

  /** Audit events of one request, oldest first. */
  listRequestAudit(requestId: string): Promise<AuditEvent[]>;
  /** Audit events in a time range, oldest first: one Query per page. */
  queryAudit(q: AuditQuery): Promise<KeyedPage<AuditEvent>>;
  /**
   * The events of one hash chain (a domain, '*' for global events) in seq order, after `afterSeq`
   * (default: from the start). Every write that carries audit events seals them into their chain
   * atomically with the write; see domain/audit-chain.ts.
   */
  listChain(chain: string, afterSeq?: number): Promise<AuditEvent[]>;
}

/** Persistence: every aggregate's store over the one table, as one object (`deps.store`). */
export type Store = CatalogStore & MembershipStore & RequestStore & AuditLog;
