import { ALL_DOMAINS, type Decision, type Membership } from '../domain/model';
import { unavailable, type CodeOf } from '../domain/errors';
import type {
  Limit,
  LoadedPolicy,
  PolicyFiles,
  PolicyFingerprint,
  PolicyInForce,
  PolicyQuery,
  PolicyText,
} from '../ports/policy';
import type { AuthzState } from '../ports/store';
import { auditEvent, SYSTEM, type Deps } from './deps';

type PolicyDeps = Pick<Deps, 'store' | 'clock' | 'ids'>;

export interface PolicyInForceOptions {
  /**
   * Whether this process records its policy as the one in force and refuses to decide while
   * another version is recorded: every process that decides (the API, the local processes). The
   * fulfilment worker and the schedules on Lambda carry out decisions already made and make none;
   * they neither record nor check.
   */
  record: boolean;
}

/** How many times a process tries to record its policy while others record theirs. */
const CLAIM_ATTEMPTS = 5;

const short = (version: string) => version.slice(0, 12);

/**
 * The policy a process decides with, kept in step with the store (see README "Policies").
 *
 * - Memberships: the store's authorization state carries a generation that every membership
 *   change bumps in its own transaction. `refresh()` reads it (one GetItem) and reads the
 *   memberships again only when it moved. The generation is read before the memberships, so the
 *   memberships loaded are never older than the generation they are filed under; loads are run one
 *   at a time and a load for a generation not newer than the one held is skipped, so a slow load
 *   can never put back an older view.
 * - Policy files: at start the process records its policy version as in force (audited as
 *   POLICY_CHANGED) unless it already is. While another version is recorded, `refresh()` refuses
 *   with 503 POLICY_SUPERSEDED and every decision is a deny; it decides again if its own version
 *   is recorded again. Watched files (the local processes) that change are loaded again on the
 *   next call and recorded, with the old and new fingerprints.
 * - A policy that does not load refuses every call with 503 POLICY_LOAD_FAILED (its record in
 *   the audit trail says why); it is never replaced by an older one or by an allow.
 */
export class StorePolicy implements PolicyInForce {
  /** Whether the loaded policy has been recorded as in force (by this process or another). */
  private recorded = false;
  /** The sequence number of that record: a state read before it is older news. */
  private recordedSeq = -1;
  /** The newest record followed: calls that read the state at once may finish in any order. */
  private followedSeq = -1;
  /** Why this process may not decide now, if it may not. */
  private refusal?: { code: CodeOf<'unavailable'>; message: string };
  /** Reloads and records, one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly deps: PolicyDeps,
    private readonly files: PolicyFiles,
    private readonly opts: PolicyInForceOptions,
    private policy: LoadedPolicy,
    private memberships: Membership[],
    private generation: number,
  ) {}

  /** Loads the policy with the store's memberships and, when recording, records it if it is new. */
  static async start(
    deps: PolicyDeps,
    files: PolicyFiles,
    opts: PolicyInForceOptions,
  ): Promise<StorePolicy> {
    const state = await deps.store.readAuthzState(); // before the memberships: they are at least this generation
    const memberships = await deps.store.listMemberships();
    const policy = await files.load(memberships);
    const p = new StorePolicy(deps, files, opts, policy, memberships, state.generation);
    if (opts.record) await p.exclusive(() => p.record(state.policy));
    return p;
  }

  async refresh(): Promise<void> {
    if (this.files.mayHaveChanged()) await this.exclusive(() => this.reloadFiles());
    const state = await this.deps.store.readAuthzState();
    if (this.opts.record) {
      if (!this.recorded || !state.policy) await this.exclusive(() => this.record(state.policy));
      else this.follow(state.policy);
    }
    if (state.generation > this.generation)
      await this.exclusive(() => this.loadMemberships(state.generation));
    if (this.refusal)
      throw unavailable(
        this.refusal.code,
        `${this.refusal.message[0]!.toUpperCase()}${this.refusal.message.slice(1)}.`,
      );
    if (this.policy.loadFailure)
      throw unavailable(
        'POLICY_LOAD_FAILED',
        `No decision can be made: the ${this.policy.loadFailure}.`,
      );
  }

  get authzGeneration(): number {
    return this.generation;
  }

  /** The generation of the memberships and the version of the policy this process decides with. */
  get state() {
    return {
      generation: this.generation,
      version: this.policy.version,
      loadFailure: this.policy.loadFailure,
      refusal: this.refusal?.code,
    };
  }

  text(): PolicyText {
    const texts = new Map(this.policy.texts.map((t) => [t.source, t.text]));
    return {
      version: this.policy.version,
      files: this.policy.files.map((f) => ({ ...f, text: texts.get(f.source) ?? '' })),
      loadFailure: this.policy.loadFailure,
      domainFailures: this.policy.domainFailures,
    };
  }

  decide(q: PolicyQuery): Decision {
    if (this.refusal)
      return { allowed: false, reason: `Denied: ${this.refusal.message}`, rules: [] };
    return this.policy.engine.decide(q);
  }

  maxDurationHours(domain: string): Limit {
    if (this.refusal) return { value: 0, rule: { source: 'policy', line: this.refusal.message } };
    return this.policy.engine.maxDurationHours(domain);
  }

  maxOpenRequests(): Limit {
    if (this.refusal) return { value: 0, rule: { source: 'policy', line: this.refusal.message } };
    return this.policy.engine.maxOpenRequests();
  }

  maxCallsPerMinute(): Limit {
    return this.policy.engine.maxCallsPerMinute();
  }

  escalateAfterHours(domain: string): Limit {
    return this.policy.engine.escalateAfterHours(domain);
  }

  pendingTimeoutDays(): Limit {
    return this.policy.engine.pendingTimeoutDays();
  }

  rolesOf(user: string, domain: string): string[] {
    return this.policy.engine.rolesOf(user, domain);
  }

  membershipsOf(user: string): Membership[] {
    return this.policy.engine.membershipsOf(user);
  }

  membersOf(domain: string): Membership[] {
    return this.policy.engine.membersOf(domain);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Decides only while the recorded version is this process's own. */
  private follow(recorded: NonNullable<AuthzState['policy']>) {
    // A read older than one already followed (a concurrent call's, or one taken before this
    // process's own record) changes nothing: it must not lift a refusal a newer read set.
    if (recorded.seq < Math.max(this.recordedSeq, this.followedSeq)) return;
    this.followedSeq = recorded.seq;
    if (recorded.version === this.policy.version) {
      this.refusal = undefined;
      return;
    }
    this.refusal = {
      code: 'POLICY_SUPERSEDED',
      message:
        `this instance decides with policy ${short(this.policy.version)}, but policy ${short(recorded.version)} ` +
        `has been in force since ${recorded.at}; an instance that runs it will answer (retry)`,
    };
  }

  private async loadMemberships(generation: number) {
    if (generation <= this.generation) return; // another call loaded this generation, or a newer one
    const memberships = await this.deps.store.listMemberships();
    await this.policy.engine.setMemberships(memberships);
    this.memberships = memberships;
    this.generation = generation;
  }

  private async reloadFiles() {
    if (!this.files.mayHaveChanged()) return; // another call has loaded them
    const next = await this.files.load(this.memberships);
    if (next.version === this.policy.version) return; // touched, same bytes
    const previous = this.policy;
    this.policy = next;
    this.recorded = false;
    if (this.opts.record)
      await this.record((await this.deps.store.readAuthzState()).policy, previous);
  }

  /**
   * Records this process's policy as the one in force unless it already is, with a POLICY_CHANGED
   * event: the version, each file's SHA-256, whether it loaded, and the version it replaces (with
   * the files that changed, when this process ran the previous one). Conditional on the recorded
   * version as read: of processes recording at once, each retries from what the other recorded.
   */
  private async record(recorded: AuthzState['policy'], previous?: PolicyFingerprint) {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (recorded?.version === this.policy.version) {
        this.recorded = true;
        this.recordedSeq = recorded.seq;
        this.follow(recorded);
        return;
      }
      const p = this.policy;
      const seq = (recorded?.seq ?? 0) + 1;
      const audit = auditEvent(
        this.deps,
        'POLICY_CHANGED',
        SYSTEM,
        { domain: ALL_DOMAINS },
        {
          version: p.version,
          seq,
          files: p.files,
          loadFailure: p.loadFailure,
          domainFailures: Object.keys(p.domainFailures).length > 0 ? p.domainFailures : undefined,
          previousVersion: recorded?.version ?? null,
          changes:
            previous && previous.version === recorded?.version
              ? fileChanges(previous, p)
              : undefined,
        },
      );
      if (
        await this.deps.store.claimPolicyVersion(
          { version: p.version, at: audit.at },
          recorded,
          audit,
        )
      ) {
        this.recorded = true;
        this.recordedSeq = seq;
        this.refusal = undefined;
        return;
      }
      recorded = (await this.deps.store.readAuthzState()).policy;
    }
    throw unavailable(
      'POLICY_BUSY',
      'The policy in force kept changing while this instance recorded its own; try again.',
    );
  }
}

/** The files added, changed or removed between two fingerprints, with their SHA-256 before and after. */
function fileChanges(before: PolicyFingerprint, after: PolicyFingerprint) {
  const was = new Map(before.files.map((f) => [f.source, f.sha256]));
  const now = new Map(after.files.map((f) => [f.source, f.sha256]));
  return [...new Set([...was.keys(), ...now.keys()])]
    .filter((source) => was.get(source) !== now.get(source))
    .sort()
    .map((source) => ({ source, from: was.get(source) ?? null, to: now.get(source) ?? null }));
}
