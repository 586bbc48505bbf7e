import type {
  AccessRequest,
  FulfilmentProgress,
  Grant,
  NamesOnTables,
  Permission,
  Principal,
} from '../domain/model';
import { MeshgateError, notFound } from '../domain/errors';
import {
  activate,
  end,
  expire,
  fail,
  noteRevokeFailure,
  noteRestored,
  noteStrayRemoved,
  keepNames,
  mergeNames,
  noteUndoFailure,
  orThrow,
  retry,
  revoke,
  startEnding,
  startGranting,
  type Context,
  type Failure,
} from '../domain/lifecycle';
import { checkDescribeScope, effectiveTerms } from '../domain/request';
import { isInFlight } from '../domain/status';
import { capList } from '../domain/entries';
import { holderKey, plannedEntries } from '../domain/lakeformation';
import { parseRowFilter } from '../domain/row-filter';
import { LakeFormationError, type PermissionEntry, type TableGrant } from '../ports/lakeformation';
import type { Job } from '../ports/queue';
import type { ConsumerLink } from '../domain/model';
import { linkEntriesOf, type LinkEntry } from '../ports/consumer-links';
import { makeLinks, removeAttemptLinks, removeLinks } from './consumer-links';
import type { Page, PageRequest } from '../ports/store';
import {
  aboutRequest,
  commitChange,
  loadVisibleGrant,
  loadVisibleRequest,
  SYSTEM,
  type Deps,
  type WorkerDeps,
} from './deps';

export { extendGrant } from './requests';

/**
 * A request APPROVED or GRANTING whose last change is older than this is handed to the worker
 * again by the sweeper (its job was lost: a send that failed, a process killed with its in-memory
 * queue). Long enough that a worker still on it has usually moved it on: a grant of 1,000 tables
 * is 50 Lake Formation calls. Progress notes do not count as a change, so a grant still running
 * past it gets a second job; jobs are idempotent (runJob), and the two end in one grant.
 */
export const DEFAULT_STALLED_AFTER_MS = 2 * 60_000;

/** How many requests or grants the sweeper and the resumption hold at a time. */
const PAGE_SIZE = 100;

/** Every item of a paged listing, a page at a time: never the whole list in memory. */
async function* everyItem<T>(list: (page: PageRequest) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await list({ limit: PAGE_SIZE, cursor });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

/**
 * What to grant (or revoke) in Lake Formation for a request, from its product and domain. To
 * grant (`checkRowFilter`), the row filter is parsed again against the product's columns as they
 * are now, and sent in canonical form: a filter stored before filters were checked, or one that a
 * catalog change has broken, fails the request (ROW_FILTER_INVALID) and never reaches Lake
 * Formation; so does a scope Lake Formation would refuse (DESCRIBE with a column list or a row
 * filter, DESCRIBE_NEEDS_WHOLE_TABLE). Revoking needs only the filter's name, so it never depends
 * on the filter parsing.
 */
export async function tableGrantFor(
  deps: Pick<Deps, 'store'>,
  r: Pick<AccessRequest, 'id' | 'productId' | 'domain' | 'principal'> & {
    scope: AccessRequest['scope'];
  },
  opts: { checkRowFilter?: boolean } = {},
): Promise<TableGrant> {
  const product = await deps.store.getProduct(r.productId);
  if (!product)
    throw notFound('PRODUCT_NOT_FOUND', `Data product ${r.productId} no longer exists.`);
  const domain = await deps.store.getDomain(r.domain);
  if (!domain) throw notFound('DOMAIN_NOT_FOUND', `Domain ${r.domain} is not registered.`);
  if (opts.checkRowFilter) checkDescribeScope(r.scope);
  return {
    grantId: r.id,
    accountId: product.location.catalogId || domain.accountId,
    region: domain.region,
    broker: domain.broker,
    principal: r.principal,
    database: product.location.database,
    tables: product.location.tables ?? [product.location.table],
    permissions: r.scope.permissions,
    columns: r.scope.columns,
    rowFilter:
      opts.checkRowFilter && r.scope.rowFilter !== undefined
        ? parseRowFilter(r.scope.rowFilter, product.columns).canonical
        : r.scope.rowFilter,
  };
}

/**
 * Notes fulfilment progress on the request as Lake Formation calls complete: about twenty notes
 * for a grant of any size (each is one small write), and always the last one.
 */
function progressNoter(deps: WorkerDeps, requestId: string, attempt: string, earlier: boolean) {
  let noted = 0;
  return async (done: number, total: number) => {
    if (done < total && done - noted < Math.max(1, Math.ceil(total / 20))) return;
    noted = done;
    // Only a note for people watching: a failed note never fails the grant.
    await deps.store
      .recordProgress(requestId, noteOf(deps, done, total, attempt, earlier))
      .catch(() => undefined);
  };
}

const noteOf = (
  deps: WorkerDeps,
  done: number,
  total: number,
  attempt: string,
  earlier: boolean,
): FulfilmentProgress => ({
  done,
  total,
  at: deps.clock.now().toISOString(),
  attempt,
  ...(earlier ? { earlier } : {}),
});

/** The note of an attempt's start was refused by the store (not a grant failure). */
class NotNoted extends Error {
  constructor(override readonly cause: unknown) {
    super('the attempt could not be noted');
  }
}

/** The worker: carries out one job. Safe to run twice, or at once, for the same job. */
export async function runJob(deps: WorkerDeps, job: Job): Promise<void> {
  if (job.kind === 'grant') await fulfil(deps, job.requestId);
  else if (job.kind === 'revoke') await completeRevoke(deps, job.requestId);
}

/** The failures in words: the first ten named (a product may have 1,000 tables), the rest counted. */
const describeFailures = (failed: PermissionEntry[], of: number) => {
  const named = capList(failed, 10);
  return (
    `${failed.length} of ${of} table(s) failed: ` +
    named.items
      .map((e) => `${e.table}: ${e.error?.code ?? 'error'} ${e.error?.message ?? ''}`.trim())
      .join('; ') +
    (named.omitted ? `; and ${named.omitted} more` : '')
  );
};

/**
 * APPROVED (or GRANTING, after a crash or a retry) -> GRANTING -> ACTIVE, or FAILED with the
 * reason and the tables that failed. Lake Formation grants are idempotent, so a worker that runs
 * again after a crash between the grant and the state write grants again harmlessly and records
 * the one grant. A FAILED request holds nothing: before it is failed, what it granted is revoked
 * and the links it made are removed (`failHoldingNothing`).
 */
export async function fulfil(deps: WorkerDeps, requestId: string): Promise<void> {
  let r = await deps.store.getRequest(requestId);
  if (!r) return;
  if (r.status === 'APPROVED') {
    const started = orThrow(startGranting(r, systemAt(deps)));
    try {
      await commitChange(deps, started);
    } catch (err) {
      if (!(err instanceof MeshgateError && err.kind === 'conflict')) throw err;
      // Another worker has it; still APPROVED, it was names kept for it (NAMES_KEPT) that moved
      // its version: the job comes back.
      if ((await deps.store.getRequest(requestId))?.status === 'APPROVED') throw err;
      return;
    }
    r = started.request;
  }
  if (r.status === 'ACTIVE' && r.extendsGrantId) {
    // Delivered again after the extension became active: finish replacing the old grant, which
    // the first delivery may not have done (it throws, so the job comes back).
    const old = await deps.store.getGrant(r.extendsGrantId);
    if (old?.status === 'ACTIVE') await endReplaced(deps, old, r.id);
    return;
  }
  if (r.status !== 'GRANTING') return; // already done, or not ours to do

  const { scope } = effectiveTerms(r);
  const attempt = deps.ids.next('att');
  // Progress noted before this attempt means an earlier one began (progress is cleared when a
  // request ends ACTIVE or FAILED): it may have granted, and the notes carry that on.
  const earlier = r.progress !== undefined;
  let spec: TableGrant | undefined;
  let entries: PermissionEntry[];
  try {
    // Every table, a retry too: a FAILED request held nothing.
    spec = await tableGrantFor(deps, { ...r, scope }, { checkRowFilter: true });
    // This attempt notes itself before its first Lake Formation call: a later attempt then knows
    // this one may have granted, even if it was killed before noting any table (earlierMayHold).
    const total = (spec.onlyTables ?? spec.tables).length;
    await deps.store
      .recordProgress(r.id, { ...noteOf(deps, 0, total, attempt, earlier) })
      .catch((cause: unknown) => {
        throw new NotNoted(cause);
      });
    entries = await deps.lakeFormation.grant(spec, progressNoter(deps, r.id, attempt, earlier));
  } catch (err) {
    if (err instanceof NotNoted) throw err.cause; // the store refused the note: the job comes back
    // Transient errors have been retried by the adapter; what is left needs a person (retry).
    const code =
      err instanceof LakeFormationError || err instanceof MeshgateError ? err.code : 'ERROR';
    const reason = `${code}: ${err instanceof Error ? err.message : String(err)}`;
    await failHoldingNothing(
      deps,
      r,
      { reason, code },
      // A refusal of ours sent nothing, and a permanent refusal of Lake Formation's (AccessDenied,
      // EntityNotFound, InvalidInput) applied nothing beyond its entries; any other error (a
      // timeout, a 500, throttling past the retries) may have come after a grant was applied.
      err instanceof LakeFormationError && err.permanent
        ? err.entries
        : err instanceof MeshgateError && !(err instanceof LakeFormationError)
          ? []
          : undefined,
      spec,
      attempt,
    );
    return;
  }
  const failed = entries.filter((e) => e.result === 'failed');
  if (failed.length > 0) {
    await failHoldingNothing(
      deps,
      r,
      {
        reason: describeFailures(failed, spec.tables.length),
        code: failed[0]!.error?.code ?? 'PARTIAL_FAILURE',
        failedTables: failed.map((e) => e.table!),
      },
      entries,
      spec,
      attempt,
    );
    return;
  }

  // The consumer's last mile: the links in the principal's registered account, after the Lake
  // Formation grant (a link to a table not yet shared cannot be made). Idempotent, so a worker
  // that crashed after it makes nothing twice; a failure fails the request (its Lake Formation
  // grant revoked, the links made removed), and a retry redoes it.
  let consumerLink: ConsumerLink | undefined;
  let linkEntries: LinkEntry[];
  try {
    const made = await makeLinks(deps, r.domain, r.principal, spec);
    consumerLink = made?.link;
    linkEntries = made?.entries ?? [];
  } catch (err) {
    const code = err instanceof LakeFormationError ? err.code : 'ERROR';
    await failHoldingNothing(
      deps,
      r,
      {
        reason: `${code}: resource link in the consumer account: ${err instanceof Error ? err.message : String(err)}`,
        code,
      },
      entries,
      spec,
      attempt,
      { made: linkEntriesOf(err) ?? [] },
    );
    return;
  }

  const extended = r.extendsGrantId ? await deps.store.getGrant(r.extendsGrantId) : undefined;
  // The grant keeps what every attempt sent: earlier (partly failed) attempts are in the trail.
  const earlierEntries = (await deps.store.listRequestAudit(r.id))
    .filter((e) => e.type === 'FULFILMENT_FAILED')
    .flatMap((e) =>
      [e.detail.entries, e.detail.revoked].flatMap((x) =>
        Array.isArray(x) ? (x as PermissionEntry[]) : [],
      ),
    );
  const activated = orThrow(
    activate(
      r,
      {
        grantId: r.grantId ?? deps.ids.next('grt'),
        accountId: spec.accountId,
        // What Lake Formation was sent: the row filter in canonical form.
        scope: spec.rowFilter === undefined ? scope : { ...scope, rowFilter: spec.rowFilter },
        entries: [...entries, ...linkEntries],
        earlierEntries,
        extended,
        consumerLink,
      },
      systemAt(deps),
    ),
  );
  try {
    await commitChange(deps, activated);
  } catch (err) {
    ignoreConflict(err);
    // Still GRANTING, its version moved under this attempt (names kept for it, NAMES_KEPT): the
    // job comes back and activates it.
    if ((await deps.store.getRequest(r.id))?.status === 'GRANTING') throw err;
    await removeIfStray(deps, r.id, spec, consumerLink);
    return;
  }
  if (extended) await endReplaced(deps, extended, r.id);
}

/** Meshgate itself acting now. */
const systemAt = (deps: Pick<Deps, 'clock'>): Context => ({ actor: SYSTEM, now: deps.clock.now() });

/** The grant an extension replaces ends; its Lake Formation permission stays, now the extension's. */
async function endReplaced(deps: WorkerDeps, old: Grant, byRequest: string) {
  const oldRequest = await deps.store.getRequest(old.requestId);
  if (!oldRequest || oldRequest.status !== 'ACTIVE') return;
  const ending = startEnding(
    oldRequest,
    old,
    { ending: 'REVOKED', reason: `replaced by extension ${byRequest}` },
    systemAt(deps),
  );
  if (!ending.ok) return;
  await commitChange(deps, ending).catch(ignoreConflict);
  await deps.queue.send({ kind: 'revoke', requestId: oldRequest.id });
}

/** The holder whose other ACTIVE grants keep what they need when a request's grant is taken back. */
const holderOf = (r: AccessRequest) => ({
  id: r.grantId ?? '',
  requestId: r.id,
  domain: r.domain,
  principal: r.principal,
});

/**
 * GRANTING -> FAILED, holding nothing. What the request may hold in Lake Formation (this attempt's
 * grants, and those of an attempt that crashed before recording them) is revoked first: every
 * table of its spec, the names no other grant or request in flight of the principal needs
 * (`revokeOwn`); then, after a failure in the consumer account (`links`), the links the attempt
 * made are removed, best effort (a failure is recorded, and reconciliation removes the leftovers).
 *
 * Nothing is revoked when nothing can be held: this attempt granted nothing (every entry failed,
 * or none was sent, as when Lake Formation refuses the grant itself) and no earlier attempt of
 * this request since it was taken may have (`earlierMayHold`). If the revoke fails, the request is
 * not failed while it may hold access: it stays GRANTING with the failure shown on it (recorded in
 * the trail when its reason changes), and the error is thrown, so the job is delivered again (and
 * the sweeper hands the stalled request back), and the next attempt ends ACTIVE or FAILED.
 *
 * If a write loses a race (another attempt of the request went on meanwhile), what this attempt
 * revoked is granted again for it (`afterLostUndo`).
 *
 * `spec` is what was sent, if the attempt got that far; otherwise it is built again without the
 * grant-time checks (revoking needs only the filter's name, and what a scope Lake Formation would
 * refuse may be held all the same). Not at all when the product or the domain is gone (nothing
 * can be named to revoke).
 */
async function failHoldingNothing(
  deps: WorkerDeps,
  r: AccessRequest,
  failure: Failure,
  /** This attempt's entries; undefined when unknown (it may have granted). */
  attempted: PermissionEntry[] | undefined,
  spec: TableGrant | undefined,
  /** This attempt's id, as its progress notes carry it. */
  attempt: string,
  links?: { made: LinkEntry[] },
) {
  const entries = attempted ?? [];
  let revokeSpec = spec;
  if (!revokeSpec) {
    const { scope } = effectiveTerms(r);
    try {
      revokeSpec = await tableGrantFor(deps, { ...r, scope });
    } catch (err) {
      if (!(err instanceof MeshgateError)) throw err;
    }
  }
  const grantedNow = attempted === undefined || entries.some((e) => e.result !== 'failed');
  const mayHold =
    links !== undefined ||
    grantedNow ||
    // More was kept for it than its record names: all it asks for is undone.
    (r.keptNamesOmitted ?? 0) > 0 ||
    (await earlierMayHold(deps, r, attempt));
  // What to take back: all it asks for when it may hold some of it; otherwise only what a revoke
  // of another grant or request kept for it (it may have found those names held).
  const undo: TableGrant[] = !revokeSpec
    ? []
    : mayHold
      ? [revokeSpec]
      : keptToUndo(revokeSpec, r.keptNames ?? []);
  const revoked: PermissionEntry[] = [];
  if (revokeSpec && undo.length > 0) {
    try {
      for (const part of undo) revoked.push(...(await revokeOwn(deps, holderOf(r), part)));
    } catch (err) {
      const undo = {
        reason: err instanceof Error ? err.message : String(err),
        entries: err instanceof LakeFormationError ? err.entries : [],
      };
      const noted = noteUndoFailure(r, failure, undo, systemAt(deps));
      if (noted?.ok) {
        try {
          await commitChange(deps, noted);
        } catch (lost) {
          // Another attempt went on meanwhile, and this one's revoke may have taken part of what
          // it holds before it failed: granted again (idempotent), and recorded.
          ignoreConflict(lost);
          if (await afterLostUndo(deps, r.id, revokeSpec)) return;
        }
      }
      throw err; // the queue delivers the job again
    }
  }
  let linksRemoved: unknown[] | undefined;
  if (links && revokeSpec) {
    try {
      linksRemoved = await removeAttemptLinks(deps, holderOf(r), revokeSpec, links.made);
    } catch (err) {
      linksRemoved = [linkRemovalFailure(revokeSpec.accountId, err)];
    }
  }
  const failedChange = fail(
    r,
    failure,
    entries,
    { revoked, ...(linksRemoved ? { links: linksRemoved } : {}) },
    systemAt(deps),
  );
  if (!failedChange.ok) return;
  try {
    await commitChange(deps, failedChange);
    if (revokeSpec) await takeBackKeptForFailed(deps, r.id, revokeSpec, revoked);
  } catch (err) {
    ignoreConflict(err);
    const now = await deps.store.getRequest(r.id);
    // Still GRANTING, and no other attempt began since this one: names were kept for it meanwhile
    // (NAMES_KEPT), which are its to revoke. The job comes back and the next attempt, reading
    // them, fails it again.
    if (now?.status === 'GRANTING' && now.progress?.attempt === attempt) throw err;
    if (revokeSpec && mayHold) await afterLostUndo(deps, r.id, revokeSpec);
    else if (now?.status === 'GRANTING') throw err;
  }
}

/**
 * After a request is FAILED: the names its undo kept for another request in flight are looked at
 * again. Two requests of one principal failing at once would each keep them for the other; the
 * later to fail finds the other FAILED here (each request read again), and takes them back,
 * recorded as STRAY_GRANT_REMOVED. A failure here is logged; reconciliation reports what is left.
 */
async function takeBackKeptForFailed(
  deps: WorkerDeps,
  requestId: string,
  spec: TableGrant,
  undone: PermissionEntry[],
): Promise<void> {
  const kept = mergeNames(
    undone
      .filter((e) => e.error?.code === 'KEPT' && e.table !== undefined)
      .map((e) => ({ names: (e.sent.Permissions ?? []) as Permission[], tables: [e.table!] })),
  );
  if (kept.length === 0) return;
  try {
    const now = await deps.store.getRequest(requestId);
    if (now?.status !== 'FAILED') return;
    const entries: PermissionEntry[] = [];
    for (const part of keptToUndo(spec, kept))
      entries.push(...(await revokeOwn(deps, holderOf(now), part)));
    if (!entries.some((e) => e.action === 'revoke' && e.result === 'ok')) return;
    await commitChange(deps, orThrow(noteStrayRemoved(now, entries, systemAt(deps)))).catch(
      ignoreConflict,
    );
  } catch (err) {
    (deps.log ?? console.error)(`could not look again at what ${requestId} kept`, err);
  }
}

/** The parts of `spec` naming only what was kept for the request (`keptNames`), by set of names. */
function keptToUndo(spec: TableGrant, kept: readonly NamesOnTables[]): TableGrant[] {
  const tables = new Set(spec.tables);
  return kept
    .map((g) => ({
      ...spec,
      permissions: spec.permissions.filter((n) => g.names.includes(n)),
      onlyTables: g.tables.filter((t) => tables.has(t)),
    }))
    .filter((part) => part.permissions.length > 0 && part.onlyTables.length > 0);
}

/**
 * Whether an earlier attempt of the request, since it was last taken (APPROVED or retried), may
 * hold something: another attempt's note (each notes itself before its first Lake Formation call,
 * so one killed at any point after is seen), tables noted granted, or an undo that failed.
 */
async function earlierMayHold(
  deps: WorkerDeps,
  r: AccessRequest,
  attempt: string,
): Promise<boolean> {
  // As stored now: this attempt's own progress notes count too, and another attempt's note (or
  // the mark of one before it) says that one began.
  const p = (await deps.store.getRequest(r.id))?.progress;
  if (p && (p.done > 0 || p.attempt !== attempt || p.earlier)) return true;
  const trail = await deps.store.listRequestAudit(r.id);
  let since = 0;
  trail.forEach((e, i) => {
    if (e.type === 'FULFILMENT_STARTED' || e.type === 'FULFILMENT_RETRIED') since = i;
  });
  return trail.slice(since).some((e) => e.type === 'FULFILMENT_UNDO_FAILED');
}

/**
 * This attempt's undo lost a race: a write of the failed attempt met a conflict. If the request
 * went on meanwhile (another delivery made it ACTIVE, or is granting it again), what it needs may
 * have been revoked by this attempt after it was granted: it is granted again (idempotent; the
 * data cells filter of a row filter made again), its links made again, and that recorded
 * (GRANT_RESTORED). In any other state nothing of it may stay (`removeIfStray`). True when the
 * request went on (the job has nothing left to do).
 */
async function afterLostUndo(
  deps: WorkerDeps,
  requestId: string,
  revokeSpec: TableGrant,
): Promise<boolean> {
  const now = await deps.store.getRequest(requestId);
  if (!now) return false;
  // FAILED by another delivery: it undid the same, after this one's grant.
  if (now.status === 'FAILED') return true;
  if (now.status !== 'ACTIVE' && now.status !== 'GRANTING') {
    await removeIfStray(deps, requestId, revokeSpec, undefined);
    return true;
  }
  const grant =
    now.status === 'ACTIVE' && now.grantId ? await deps.store.getGrant(now.grantId) : undefined;
  const scope = grant?.scope ?? effectiveTerms(now).scope;
  let spec: TableGrant;
  try {
    spec = await tableGrantFor(deps, { ...now, scope }, { checkRowFilter: true });
  } catch (err) {
    if (err instanceof MeshgateError) return true; // nothing can be named to grant
    throw err;
  }
  const entries: unknown[] = await deps.lakeFormation.grant(spec);
  if (grant?.consumerLink) {
    try {
      entries.push(...((await makeLinks(deps, now.domain, now.principal, spec))?.entries ?? []));
    } catch (err) {
      entries.push(
        linkRemovalFailure(grant.consumerLink.account, err, grant.consumerLink.database),
      );
    }
  }
  const noted = noteRestored(now, entries, systemAt(deps));
  if (noted.ok) await commitChange(deps, noted).catch(ignoreConflict);
  // It may have moved on again meanwhile (revoked): then nothing of it stays.
  await removeIfStray(deps, requestId, spec, grant?.consumerLink);
  return true;
}

/** A removal of links the consumer account refused or failed, as recorded in the entries. */
function linkRemovalFailure(account: string, err: unknown, database?: string) {
  return {
    action: 'remove-links',
    account,
    ...(database ? { database } : {}),
    result: 'failed',
    error: err instanceof Error ? err.message : String(err),
  };
}

/**
 * A worker that lost the race may have granted after the request moved on (a late duplicate
 * delivery that stalled while another worker finished and someone revoked). While the request is
 * GRANTING or ACTIVE the grant is the legitimate one; in any other state it must not stay, nor
 * the resource links and DESCRIBE it made in the consumer account (`consumerLink`).
 */
async function removeIfStray(
  deps: WorkerDeps,
  requestId: string,
  spec: TableGrant,
  consumerLink: ConsumerLink | undefined,
): Promise<void> {
  const now = await deps.store.getRequest(requestId);
  if (!now || now.status === 'GRANTING' || now.status === 'ACTIVE') return;
  const stray = holderOf(now);
  // Lake Formation first: the permission is what gives access. Not what another active grant of
  // the same principal holds (an extension, a second product).
  const entries = await revokeOwn(deps, stray, spec);
  // Then the links, as a revoke removes them (what another ACTIVE grant still needs stays). The
  // consumer account refusing or throttling never stops the revoke nor its record: the failure is
  // recorded, and reconciliation removes what is left over.
  let linkEntries: unknown[] = [];
  if (consumerLink) {
    try {
      linkEntries = await removeLinks(deps, { ...stray, accountId: spec.accountId, consumerLink });
    } catch (err) {
      linkEntries = [linkRemovalFailure(consumerLink.account, err, consumerLink.database)];
    }
  }
  await commitChange(
    deps,
    orThrow(noteStrayRemoved(now, [...entries, ...linkEntries], systemAt(deps))),
  ).catch(ignoreConflict);
}

/** FAILED -> GRANTING again, by someone allowed to retry (owners, admins). Every table is granted again. */
export async function retryRequest(deps: Deps, who: Principal, id: string): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const decision = deps.policy.decide(aboutRequest(who.userId, r, 'retry'));
  const change = orThrow(
    retry(r, { retry: decision }, { actor: who.userId, now: deps.clock.now() }),
  );
  await commitChange(deps, change);
  await deps.queue.send({ kind: 'grant', requestId: r.id });
  return change.request;
}

export async function revokeGrant(deps: Deps, who: Principal, grantId: string, reason: string) {
  const { grant, request: r } = await loadVisibleGrant(deps, who, grantId);
  const decision = deps.policy.decide(aboutRequest(who.userId, r, 'revoke'));
  const change = orThrow(
    revoke(r, grant, reason, { revoke: decision }, { actor: who.userId, now: deps.clock.now() }),
  );
  await commitChange(deps, change);
  await deps.queue.send({ kind: 'revoke', requestId: r.id });
  return change.grant!;
}

export interface SweepOptions {
  /** A request in flight untouched for this long has lost its job (DEFAULT_STALLED_AFTER_MS). */
  stalledAfterMs?: number;
}

/**
 * The sweeper: every ACTIVE grant whose expiry has passed starts ending, every grant still
 * REVOKING is handed to the worker again, and so is every request in flight untouched for
 * `stalledAfterMs`. Returns the grants it expired; a grant someone else changed meanwhile is left
 * to them.
 */
export async function expireDue(deps: Deps, opts: SweepOptions = {}): Promise<string[]> {
  const now = deps.clock.now().toISOString();
  const expired: string[] = [];
  // Revokes whose jobs ran out of deliveries are handed to the worker again: ending is never lost.
  for await (const grant of everyItem((page) => deps.store.listGrantsEnding(page))) {
    await deps.queue.send({ kind: 'revoke', requestId: grant.requestId });
  }
  // So are grants whose job never reached the queue (the send failed after the state was stored),
  // once they have waited long enough that no worker can still be on them.
  const stalledAfterMs = opts.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS;
  const stalledBefore = new Date(deps.clock.now().getTime() - stalledAfterMs).toISOString();
  for await (const r of everyItem((page) => deps.store.listInFlightSince(stalledBefore, page))) {
    await deps.queue.send({ kind: 'grant', requestId: r.id });
  }
  for await (const grant of everyItem((page) => deps.store.listGrantsExpiringBy(now, page))) {
    const r = await deps.store.getRequest(grant.requestId);
    if (!r || r.status !== 'ACTIVE') continue;
    const change = expire(r, grant, systemAt(deps));
    if (!change.ok) continue;
    try {
      await commitChange(deps, change);
    } catch (err) {
      ignoreConflict(err);
      continue;
    }
    await deps.queue.send({ kind: 'revoke', requestId: r.id });
    expired.push(grant.id);
  }
  return expired;
}

/**
 * At the start of a process whose queue does not outlive it (the local processes' in-memory
 * queue): every request in flight is handed to the worker at once, a grant job for each APPROVED
 * or GRANTING request and a revoke job for each REVOKING one, since the jobs a killed process held
 * are gone and the sweeper would wait `stalledAfterMs` for them. Jobs are idempotent (runJob), so
 * one a worker elsewhere is still on (a second process on the same table) costs a no-op.
 */
export async function resumeInFlight(
  deps: Pick<Deps, 'store' | 'queue' | 'clock'>,
): Promise<{ grants: number; revokes: number }> {
  // Everything changed before now: what changes later was sent its job by whoever changed it.
  const before = new Date(deps.clock.now().getTime() + 1).toISOString();
  let grants = 0;
  for await (const r of everyItem((page) => deps.store.listInFlightSince(before, page))) {
    await deps.queue.send({ kind: 'grant', requestId: r.id });
    grants++;
  }
  let revokes = 0;
  for await (const grant of everyItem((page) => deps.store.listGrantsEnding(page))) {
    await deps.queue.send({ kind: 'revoke', requestId: grant.requestId });
    revokes++;
  }
  return { grants, revokes };
}

/**
 * REVOKING -> REVOKED or EXPIRED once the permission is gone. Lake Formation first: the consumer
 * account (its links, DESCRIBE on them) never holds up the revoke. A Lake Formation failure leaves
 * it REVOKING, recorded, for a retry; a failure in the consumer account is recorded in the entries
 * and reconciliation removes the links left over.
 */
export async function completeRevoke(deps: WorkerDeps, requestId: string): Promise<void> {
  const r = await deps.store.getRequest(requestId);
  if (!r || r.status !== 'REVOKING' || !r.grantId) return;
  const grant = await deps.store.getGrant(r.grantId);
  if (!grant) return;
  let entries: PermissionEntry[];
  try {
    const spec = await tableGrantFor(deps, { ...r, scope: grant.scope });
    entries = await revokeOwn(deps, grant, spec);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const noted = noteRevokeFailure(
      r,
      grant,
      reason,
      err instanceof LakeFormationError ? err.entries : [],
      systemAt(deps),
    );
    await commitChange(deps, orThrow(noted)).catch(ignoreConflict);
    throw err; // the queue delivers the job again
  }
  let linkEntries: unknown[];
  try {
    linkEntries = await removeLinks(deps, grant);
  } catch (err) {
    const link = grant.consumerLink!;
    linkEntries = [linkRemovalFailure(link.account, err, link.database)];
  }
  const ended = end(r, grant, [...entries, ...linkEntries], systemAt(deps));
  if (!ended.ok) return;
  await commitChange(deps, ended).catch(ignoreConflict);
}

/** The grant (or request) whose permission is taken back, and whose others keep what they need. */
type Holder = Pick<Grant, 'id' | 'domain' | 'principal'> & { requestId?: string };

/** What another ACTIVE grant, or a request in flight, of the holder's principal needs on a spec's tables. */
interface Need {
  requestId: string;
  /** A request APPROVED or GRANTING (not an ACTIVE grant). */
  inFlight: boolean;
  /** Per table of the spec, the names it needs there. */
  names: Map<string, Set<string>>;
}

/**
 * Lake Formation holds one set of permission names per principal and resource, however many
 * grants asked for them: per table of `spec`, the names another ACTIVE grant of the same principal
 * needs on the same resource (an extension, a second request for the same principal, another
 * product over the same table) are kept, and so are those of a request of the principal in flight
 * (APPROVED or GRANTING: its grant may have found them held, 'already', and it would end ACTIVE
 * without them). A grant of SELECT and another of DESCRIBE on one table each take back their own
 * name. One query of the in-flight requests per call.
 */
async function needsOfOthers(deps: WorkerDeps, holder: Holder, spec: TableGrant): Promise<Need[]> {
  // Any product: two products may share a table.
  const others = (await deps.store.listActiveGrantsOf(holder.domain, holder.principal)).filter(
    (g) => g.id !== holder.id && g.status === 'ACTIVE' && g.principal === holder.principal,
  );
  const asked: Array<{ need: Parameters<typeof tableGrantFor>[1]; inFlight: boolean }> = others.map(
    (o) => ({
      need: {
        id: o.requestId,
        productId: o.productId,
        domain: o.domain,
        principal: o.principal,
        scope: o.scope,
      },
      inFlight: false,
    }),
  );
  const before = new Date(deps.clock.now().getTime() + 1).toISOString();
  for await (const q of everyItem((page) => deps.store.listInFlightSince(before, page))) {
    if (q.id === holder.requestId || q.principal !== holder.principal) continue;
    if (q.domain !== holder.domain || q.id === holder.id) continue;
    asked.push({ need: { ...q, scope: effectiveTerms(q).scope }, inFlight: true });
  }
  const ours = new Map(
    plannedEntries(spec).map((e) => [
      holderKey(e.Principal.DataLakePrincipalIdentifier, e.Resource),
      e.table,
    ]),
  );
  const needs: Need[] = [];
  for (const { need, inFlight } of asked) {
    let oSpec: TableGrant;
    try {
      oSpec = await tableGrantFor(deps, need);
    } catch (err) {
      if (err instanceof MeshgateError) continue; // its product or domain is gone: nothing to keep
      throw err;
    }
    const names = new Map<string, Set<string>>();
    for (const e of plannedEntries(oSpec)) {
      const table = ours.get(holderKey(e.Principal.DataLakePrincipalIdentifier, e.Resource));
      if (table === undefined) continue;
      names.set(table, new Set([...(names.get(table) ?? []), ...e.Permissions]));
    }
    if (names.size) needs.push({ requestId: need.id, inFlight, names });
  }
  return needs;
}

/** Per table, the names the needs keep. */
function keptBy(needs: readonly Need[]): Map<string, Set<string>> {
  const kept = new Map<string, Set<string>>();
  for (const n of needs)
    for (const [table, names] of n.names)
      kept.set(table, new Set([...(kept.get(table) ?? []), ...names]));
  return kept;
}

/**
 * Before names are kept for a request in flight, they are recorded on it (`keepNames`,
 * NAMES_KEPT): it may have found them held and granted nothing itself, so should it fail, it
 * revokes them (failHoldingNothing). Each is read again first: one that left flight meanwhile is
 * kept for if it went ACTIVE (its grant needs them) and dropped if it failed (it needs nothing).
 * Returns the needs that stand.
 */
async function recordKept(
  deps: WorkerDeps,
  holder: Holder,
  spec: TableGrant,
  needs: readonly Need[],
): Promise<Need[]> {
  const standing: Need[] = [];
  for (const need of needs) {
    const kept = mergeNames(
      [...need.names].map(([table, names]) => ({
        names: spec.permissions.filter((n) => names.has(n)),
        tables: [table],
      })),
    ).filter((g) => g.names.length > 0);
    if (!need.inFlight || kept.length === 0) {
      standing.push(need);
      continue;
    }
    for (let attempt = 1; ; attempt++) {
      const r = await deps.store.getRequest(need.requestId);
      if (!r || !isInFlight(r.status)) {
        if (r?.status === 'ACTIVE') standing.push(need);
        break;
      }
      const change = keepNames(r, kept, holder.id || holder.requestId || '', systemAt(deps));
      if (!change) {
        standing.push(need);
        break;
      }
      try {
        await commitChange(deps, orThrow(change));
        standing.push(need);
        break;
      } catch (err) {
        ignoreConflict(err); // it moved on meanwhile: read again
        if (attempt >= 5) throw err;
      }
    }
  }
  return standing;
}

/**
 * Revokes what `spec` grants that no other ACTIVE grant or request in flight of the holder needs,
 * name by name (one call per set of names, on the tables that lose exactly those); the names kept
 * are recorded as `KEPT`. What another grant came to need while the revoke ran (a request of the
 * principal that went ACTIVE meanwhile, its grant 'already') is granted again at once and recorded
 * with the entries. Throws a LakeFormationError carrying every entry when a table's revoke failed.
 */
async function revokeOwn(
  deps: WorkerDeps,
  holder: Holder,
  spec: TableGrant,
): Promise<PermissionEntry[]> {
  const kept = keptBy(
    await recordKept(deps, holder, spec, await needsOfOthers(deps, holder, spec)),
  );
  const entries: PermissionEntry[] = [];
  const byNames = new Map<string, { permissions: Permission[]; tables: string[] }>();
  for (const table of spec.onlyTables ?? spec.tables) {
    const keep = kept.get(table);
    const names = spec.permissions.filter((n) => !keep?.has(n));
    const keptNames = spec.permissions.filter((n) => keep?.has(n));
    if (keptNames.length)
      entries.push({
        action: 'revoke',
        table,
        sent: { Permissions: keptNames },
        result: 'already',
        error: {
          code: 'KEPT',
          message: `${keptNames.join(', ')} held by another grant or request of the same principal`,
        },
      });
    if (!names.length) continue;
    const group = byNames.get(names.join(',')) ?? { permissions: names, tables: [] };
    group.tables.push(table);
    byNames.set(names.join(','), group);
  }
  for (const { permissions, tables } of byNames.values()) {
    try {
      entries.push(
        ...(await deps.lakeFormation.revoke({ ...spec, permissions, onlyTables: tables })),
      );
    } catch (err) {
      if (!(err instanceof LakeFormationError)) throw err;
      throw new LakeFormationError(
        err.code,
        err.message,
        err.permanent,
        [...entries, ...err.entries],
        {
          cause: err,
          broker: err.broker,
        },
      );
    }
  }
  const failed = entries.filter((e) => e.result === 'failed');
  if (failed.length > 0)
    throw new LakeFormationError(
      failed[0]!.error?.code ?? 'PARTIAL_FAILURE',
      describeFailures(failed, entries.length),
      false,
      entries,
    );
  if (byNames.size > 0)
    entries.push(...(await grantAgainWhatIsNeeded(deps, holder, spec, byNames)));
  return entries;
}

/**
 * After a revoke: the names it took that another grant or request of the principal needs now
 * (it went ACTIVE while the revoke ran) are granted again, table by table. Never the holder's own
 * data cells filter (no other grant shares it).
 */
async function grantAgainWhatIsNeeded(
  deps: WorkerDeps,
  holder: Holder,
  spec: TableGrant,
  revoked: Map<string, { permissions: Permission[]; tables: string[] }>,
): Promise<PermissionEntry[]> {
  if (spec.rowFilter !== undefined) return [];
  const now = keptBy(await recordKept(deps, holder, spec, await needsOfOthers(deps, holder, spec)));
  const again = new Map<string, { permissions: Permission[]; tables: string[] }>();
  for (const { permissions, tables } of revoked.values()) {
    for (const table of tables) {
      const names = permissions.filter((n) => now.get(table)?.has(n));
      if (!names.length) continue;
      const group = again.get(names.join(',')) ?? { permissions: names, tables: [] };
      group.tables.push(table);
      again.set(names.join(','), group);
    }
  }
  const entries: PermissionEntry[] = [];
  for (const { permissions, tables } of again.values())
    entries.push(...(await deps.lakeFormation.grant({ ...spec, permissions, onlyTables: tables })));
  return entries;
}

/** A lost race means another worker recorded the outcome; nothing to add. */
function ignoreConflict(err: unknown): void {
  if (err instanceof MeshgateError && err.kind === 'conflict') return;
  throw err;
}
