import type { Decision, Membership, RuleRef } from '../domain/model';

export interface PolicyQuery {
  /** The user asking. */
  user: string;
  /** `requester` when the user is the requester of the object, otherwise absent. */
  relation?: 'requester';
  domain: string;
  /** A product id, or a named resource such as `audit`, `membership`, `domain`. */
  object: string;
  /** The product's classification, when the object is a product. */
  classification?: string;
  action: string;
}

export interface Limit {
  value: number;
  rule: RuleRef;
}

/** A policy engine: one loaded policy and the memberships it was given. It fails closed: any problem is a deny with a reason. */
export interface PolicyEngine {
  decide(q: PolicyQuery): Decision;
  /** The largest grant duration in hours for the domain (the smallest of the global and domain limits). */
  maxDurationHours(domain: string): Limit;
  /** How many open (pending) requests one user may hold at once, over every domain. */
  maxOpenRequests(): Limit;
  /** How long a stage of a request in the domain waits before it is escalated to backup approvers (hours). */
  escalateAfterHours(domain: string): Limit;
  /** How long a request may stay pending before it times out (days, over every domain). */
  pendingTimeoutDays(): Limit;
  /** How many API calls one user may make in a minute. */
  maxCallsPerMinute(): Limit;
  /** Roles the user holds in the domain (including roles held in every domain). */
  rolesOf(user: string, domain: string): string[];
  /** The memberships of one user the engine decides with. */
  membershipsOf(user: string): Membership[];
  /** The memberships the engine decides with in the domain, and those held in every domain. */
  membersOf(domain: string): Membership[];
}

/**
 * The policy a process decides with, kept in step with the store: the policy files in force and
 * the memberships (the `g` lines) of the latest authorization generation. Use cases call
 * `refresh()` before the decisions of a call, and again after they change memberships.
 */
export interface PolicyInForce extends PolicyEngine {
  /**
   * Brings the policy up to date: one read of the store's authorization state; the memberships
   * are read again only when their generation moved, and watched policy files are loaded again
   * only when they changed. Throws an `unavailable` MeshgateError (503) when this process must
   * not decide: another policy version has been recorded since its own (`POLICY_SUPERSEDED`), or
   * its policy failed to load (`POLICY_LOAD_FAILED`).
   */
  refresh(): Promise<void>;
  /**
   * The authorization generation this process decides with: at least the one its last refresh
   * read. Every change of a membership or a domain moves it in its own transaction, so what a
   * process read of them while it held this generation is still current while it holds it.
   */
  readonly authzGeneration: number;
  /** The loaded policy's version and files, with their text. */
  text(): PolicyText;
}

/** Which policy: the SHA-256 of each file, and one version over all of them. */
export interface PolicyFingerprint {
  version: string;
  files: Array<{ source: string; sha256: string }>;
}

/** A policy read from its files, and the engine that decides with it. */
export interface LoadedPolicy extends PolicyFingerprint {
  engine: PolicyEngine & { setMemberships(memberships: Membership[]): Promise<void> };
  /** Why the whole policy refuses everything (the model or the global file did not load), if it does. */
  loadFailure?: string;
  /** Domains whose own file did not load (every decision there is a deny), with why. */
  domainFailures: Record<string, string>;
  /** The text of each file, as loaded (in the order of `files`): what `GET /v1/policy` shows. */
  texts: Array<{ source: string; text: string }>;
}

/** The policy a process decides with, as people read it: its version and its files' text. */
export interface PolicyText {
  version: string;
  files: Array<{ source: string; sha256: string; text: string }>;
  loadFailure?: string;
  domainFailures: Record<string, string>;
}

/** Where the policy files come from (a folder on disk, or the one bundled with the code). */
export interface PolicyFiles {
  /** Reads the files once and loads them with the memberships. Never throws: a policy that does not load denies. */
  load(memberships: Membership[]): Promise<LoadedPolicy>;
  /**
   * Whether the files may have changed since the last load: cheap, asked before every call's
   * decisions. Always false for files that cannot change (bundled with the code).
   */
  mayHaveChanged(): boolean;
}
