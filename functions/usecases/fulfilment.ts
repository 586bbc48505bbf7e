import type { AccessRequest, Grant, Principal } from '../domain/model';
import { MeshgateError, notFound } from '../domain/errors';
import {
  activate,
  end,
  expire,
  fail,
  noteRevokeFailure,
  noteStrayRemoved,
  orThrow,
  retry,
  revoke,
  startEnding,
  startGranting,
  type Context,
  type Failure,
} from '../domain/lifecycle';
import { effectiveTerms } from '../domain/request';
import { permissionKey, plannedEntries } from '../domain/lakeformation';
import { parseRowFilter } from '../domain/row-filter';
import { LakeFormationError, type PermissionEntry, type TableGrant } from '../ports/lakeformation';
import type { Job } from '../ports/queue';
import type { ConsumerLink } from '../domain/model';
import type { LinkEntry } from '../ports/consumer-links';
import { makeLinks, removeLinks } from './consumer-links';
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
 * Formation. Revoking needs only the filter's name, so it never depends on the filter parsing.
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
function progressNoter(deps: WorkerDeps, requestId: string) {
  let noted = 0;
  return async (done: number, total: number) => {
    if (done < total && done - noted < Math.max(1, Math.ceil(total / 20))) return;
    noted = done;
    // Only a note for people watching: a failed note never fails the grant.
    await deps.store
      .recordProgress(requestId, { done, total, at: deps.clock.now().toISOString() })
      .catch(() => undefined);
  };
}

/** The worker: carries out one job. Safe to run twice, or at once, for the same job. */
export async function runJob(deps: WorkerDeps, job: Job): Promise<void> {
  if (job.kind === 'grant') await fulfil(deps, job.requestId);
  else if (job.kind === 'revoke') await completeRevoke(deps, job.requestId);
}

const describeFailures = (failed: PermissionEntry[], of: number) =>
  `${failed.length} of ${of} table(s) failed: ` +
  failed
    .map((e) => `${e.table}: ${e.error?.code ?? 'error'} ${e.error?.message ?? ''}`.trim())
    .join('; ');

/**
 * APPROVED (or GRANTING, after a crash or a retry) -> GRANTING -> ACTIVE, or FAILED with the
 * reason and the tables that failed. Lake Formation grants are idempotent, so a worker that runs
 * again after a crash between the grant and the state write grants again harmlessly and records
 * the one grant.
 */
export async function fulfil(deps: WorkerDeps, requestId: string): Promise<void> {
  let r = await deps.store.getRequest(requestId);
  if (!r) return;
  if (r.status === 'APPROVED') {
    const started = orThrow(startGranting(r, systemAt(deps)));
    try {
      await commitChange(deps, started);
    } catch (err) {
      if (err instanceof MeshgateError && err.kind === 'conflict') return; // another worker has it
      throw err;
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
  let spec: TableGrant;
  let entries: PermissionEntry[];
  try {
    spec = {
      ...(await tableGrantFor(deps, { ...r, scope }, { checkRowFilter: true })),
      onlyTables: r.failure?.failedTables,
    };
    entries = await deps.lakeFormation.grant(spec, progressNoter(deps, r.id));
  } catch (err) {
    // Transient errors have been retried by the adapter; what is left needs a person (retry).
    const code =
      err instanceof LakeFormationError || err instanceof MeshgateError ? err.code : 'ERROR';
    const reason = `${code}: ${err instanceof Error ? err.message : String(err)}`;
    await markFailed(
      deps,
      r,
      { reason, code, failedTables: r.failure?.failedTables },
      err instanceof LakeFormationError ? err.entries : [],
    );
    return;
  }
  const failed = entries.filter((e) => e.result === 'failed');
  if (failed.length > 0) {
    const tables = spec.onlyTables ?? spec.tables;
    await markFailed(
      deps,
      r,
      {
        reason: describeFailures(failed, tables.length),
        code: failed[0]!.error?.code ?? 'PARTIAL_FAILURE',
        failedTables: failed.map((e) => e.table!),
      },
      entries,
    );
    return;
  }

  // The consumer's last mile: the links in the principal's registered account, after the Lake
  // Formation grant (a link to a table not yet shared cannot be made). Idempotent, so a worker
  // that crashed after it makes nothing twice; a failure fails the request, and a retry redoes it.
  let consumerLink: ConsumerLink | undefined;
  let linkEntries: LinkEntry[];
  try {
    const made = await makeLinks(deps, r.domain, r.principal, spec);
    consumerLink = made?.link;
    linkEntries = made?.entries ?? [];
  } catch (err) {
    const code = err instanceof LakeFormationError ? err.code : 'ERROR';
    await markFailed(
      deps,
      r,
      {
        reason: `${code}: resource link in the consumer account: ${err instanceof Error ? err.message : String(err)}`,
        code,
      },
      entries,
    );
    return;
  }

  const extended = r.extendsGrantId ? await deps.store.getGrant(r.extendsGrantId) : undefined;
  // The grant keeps what every attempt sent: earlier (partly failed) attempts are in the trail.
  const earlierEntries = (await deps.store.listRequestAudit(r.id))
    .filter((e) => e.type === 'FULFILMENT_FAILED')
    .flatMap((e) =>
      Array.isArray(e.detail.entries) ? (e.detail.entries as PermissionEntry[]) : [],
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

async function markFailed(
  deps: WorkerDeps,
  r: AccessRequest,
  failure: Failure,
  entries: PermissionEntry[],
) {
  const failedChange = fail(r, failure, entries, systemAt(deps));
  if (!failedChange.ok) return;
  await commitChange(deps, failedChange).catch(ignoreConflict);
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
  const stray = { id: now.grantId ?? '', domain: now.domain, principal: now.principal };
  // Lake Formation first: the permission is what gives access. Not what another active grant of
  // the same principal holds (an extension, a second product).
  const shared = await sharedTables(deps, stray, spec);
  const own = spec.tables.filter((t) => !shared.has(t));
  const entries =
    own.length > 0 ? await deps.lakeFormation.revoke({ ...spec, onlyTables: own }) : [];
  // Then the links, as a revoke removes them (what another ACTIVE grant still needs stays). The
  // consumer account refusing or throttling never stops the revoke nor its record: the failure is
  // recorded, and reconciliation removes what is left over.
  let linkEntries: unknown[] = [];
  if (consumerLink) {
    try {
      linkEntries = await removeLinks(deps, { ...stray, accountId: spec.accountId, consumerLink });
    } catch (err) {
      linkEntries = [
        {
          action: 'remove-links',
          account: consumerLink.account,
          database: consumerLink.database,
          result: 'failed',
          error: (err as Error).message,
        },
      ];
    }
  }
  await commitChange(
    deps,
    orThrow(noteStrayRemoved(now, [...entries, ...linkEntries], systemAt(deps))),
  ).catch(ignoreConflict);
}

/** FAILED -> GRANTING again, by someone allowed to retry (owners, admins). Only failed tables are retried. */
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

/** REVOKING -> REVOKED or EXPIRED once the permission is gone. A failure leaves it REVOKING, recorded, for a retry. */
export async function completeRevoke(deps: WorkerDeps, requestId: string): Promise<void> {
  const r = await deps.store.getRequest(requestId);
  if (!r || r.status !== 'REVOKING' || !r.grantId) return;
  const grant = await deps.store.getGrant(r.grantId);
  if (!grant) return;
  let entries: PermissionEntry[];
  let linkEntries: LinkEntry[];
  try {
    // The consumer's links first: DESCRIBE on a link to a table no longer shared helps nobody.
    linkEntries = await removeLinks(deps, grant);
    const spec = await tableGrantFor(deps, { ...r, scope: grant.scope });
    const shared = await sharedTables(deps, grant, spec);
    const own = spec.tables.filter((t) => !shared.has(t));
    entries = own.length > 0 ? await deps.lakeFormation.revoke({ ...spec, onlyTables: own }) : [];
    for (const t of shared)
      entries.push({
        action: 'revoke',
        table: t,
        sent: {},
        result: 'already',
        error: { code: 'KEPT', message: 'held by another active grant of the same principal' },
      });
    const failed = entries.filter((e) => e.result === 'failed');
    if (failed.length > 0)
      throw new LakeFormationError(
        failed[0]!.error?.code ?? 'PARTIAL_FAILURE',
        describeFailures(failed, entries.length),
        false,
        entries,
      );
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
  const ended = end(r, grant, [...linkEntries, ...entries], systemAt(deps));
  if (!ended.ok) return;
  await commitChange(deps, ended).catch(ignoreConflict);
}

/**
 * Lake Formation holds one permission per principal and resource, however many grants asked for
 * it: tables whose permission another ACTIVE grant also needs (an extension, a second request for
 * the same principal, another product over the same table) are not revoked with this one.
 */
async function sharedTables(
  deps: WorkerDeps,
  grant: Pick<Grant, 'id' | 'domain' | 'principal'>,
  spec: TableGrant,
): Promise<Set<string>> {
  // Any product: two products may share a table.
  const others = (await deps.store.listActiveGrantsOf(grant.domain, grant.principal)).filter(
    (g) => g.id !== grant.id && g.status === 'ACTIVE' && g.principal === grant.principal,
  );
  const held = new Set<string>();
  for (const o of others) {
    const oSpec = await tableGrantFor(deps, {
      id: o.requestId,
      productId: o.productId,
      domain: o.domain,
      principal: o.principal,
      scope: o.scope,
    });
    for (const e of plannedEntries(oSpec))
      held.add(permissionKey(e.Principal.DataLakePrincipalIdentifier, e.Resource));
  }
  return new Set(
    plannedEntries(spec)
      .filter((e) => held.has(permissionKey(e.Principal.DataLakePrincipalIdentifier, e.Resource)))
      .map((e) => e.table),
  );
}

/** A lost race means another worker recorded the outcome; nothing to add. */
function ignoreConflict(err: unknown): void {
  if (err instanceof MeshgateError && err.kind === 'conflict') return;
  throw err;
}
