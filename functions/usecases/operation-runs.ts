import { ALL_DOMAINS, type AuditEvent, type Principal } from '../domain/model';
import { conflict, forbidden, MeshgateError, notFound } from '../domain/errors';
import {
  boundReport,
  exhausted,
  failRun,
  isFinished,
  queueOperation,
  stalledError,
  startRun,
  succeedRun,
  type Operation,
  type OperationError,
  type OperationKind,
  type OperationProgress,
} from '../domain/operations';
import { auditEvent, SYSTEM, type Deps } from './deps';
import {
  brokerFailedEvent,
  reconcileDomain,
  syncDomain,
  type OperationsDeps,
  type RunProgress,
} from './operations';
import { openPage, type PageQuery } from './paging';

/**
 * A RUNNING operation whose worker has not moved it (no progress note) for this long has lost its
 * worker: the sweeper hands it to the worker again, which takes it over (or gives it up after
 * MAX_OPERATION_ATTEMPTS starts). Longer than the worker function's timeout (5 minutes), so a
 * worker still on it is never overtaken; sync and reconcile are idempotent, so even then the two
 * end as one would.
 */
export const DEFAULT_OPERATION_STALLED_AFTER_MS = 15 * 60_000;

const ACTION: Record<OperationKind, string> = {
  sync: 'domain:sync',
  reconcile: 'domain:reconcile',
};

const actorId = (a: Principal | typeof SYSTEM) => (a === SYSTEM ? SYSTEM : a.userId);

/** May `who` start (hence read) an operation of `kind` on `domain`: the domain's owners, admins. */
const mayRun = (deps: Pick<Deps, 'policy'>, who: Principal, domain: string, kind: OperationKind) =>
  deps.policy.decide({ user: who.userId, domain, object: '*', action: ACTION[kind] });

/**
 * Starts a sync or reconciliation of a domain: a QUEUED operation, its audit event, and a job for
 * the worker. One of a kind per domain at a time (409 OPERATION_RUNNING naming the running one).
 */
export async function startOperation(
  deps: Deps,
  actor: Principal | typeof SYSTEM,
  domainId: string,
  kind: OperationKind,
): Promise<Operation> {
  const domain = domainId === ALL_DOMAINS ? undefined : await deps.store.getDomain(domainId);
  if (!domain) throw notFound('DOMAIN_NOT_FOUND', `No domain ${domainId}.`);
  if (actor !== SYSTEM) {
    const d = mayRun(deps, actor, domain.id, kind);
    if (!d.allowed)
      throw forbidden(
        'NOT_ALLOWED',
        `Only ${domain.id}'s owners and platform admins may do that. ${d.reason}`,
      );
  }
  const op = queueOperation(
    { id: deps.ids.next('opn'), kind, domain: domain.id, requestedBy: actorId(actor) },
    deps.clock.now(),
  );
  // The operation, its lock and its audit event in one transaction.
  await deps.operations.create(
    op,
    auditEvent(
      deps,
      'OPERATION_STARTED',
      op.requestedBy,
      { domain: op.domain },
      { operationId: op.id, kind },
    ),
  );
  try {
    await deps.queue.send({ kind: 'operation', operationId: op.id });
  } catch (err) {
    // The operation is stored: the sweeper hands it to the worker once it counts as stalled.
    (deps.log ?? console.error)(`could not queue operation ${op.id}; the sweeper will`, err);
  }
  return op;
}

/** An operation the caller may see: whoever may start one of its kind on its domain. */
export async function getOperation(deps: Deps, who: Principal, id: string): Promise<Operation> {
  const op = await deps.operations.get(id);
  if (!op || !mayRun(deps, who, op.domain, op.kind).allowed)
    throw notFound('OPERATION_NOT_FOUND', `No operation ${id} that you can see.`);
  return op;
}

/**
 * A domain's operations, newest first, a page at a time: for whoever may start operations there
 * (the domain's owners, admins); each item only if the caller may start one of its kind.
 */
export async function listOperations(
  deps: Pick<Deps, 'store' | 'policy' | 'operations'>,
  who: Principal,
  domainId: string,
  q: PageQuery,
) {
  if (!(await deps.store.getDomain(domainId)))
    throw notFound('DOMAIN_NOT_FOUND', `No domain ${domainId}.`);
  const may = (kind: OperationKind) => mayRun(deps, who, domainId, kind);
  const decisions = (['sync', 'reconcile'] as const).map(may);
  if (!decisions.some((d) => d.allowed))
    throw forbidden(
      'NOT_ALLOWED',
      `Only ${domainId}'s owners and platform admins see its operations. ${decisions[0]!.reason}`,
    );
  const page = await openPage(deps.store, 'operations', who.userId, { domain: domainId }, q);
  // The position is the index key DynamoDB answered, sealed in the cursor (so never forged).
  const found = await deps.operations.listByDomain(domainId, {
    limit: page.limit,
    after: page.after ? (JSON.parse(page.after) as Record<string, string>) : undefined,
  });
  return page.answer(
    { items: found.items, next: found.after ? JSON.stringify(found.after) : undefined },
    (items) => items.filter((op) => may(op.kind).allowed),
  );
}

/** Progress notes as the run goes: about twenty for a run of any size, and always the last. */
function progressNoter(
  deps: Pick<Deps, 'operations' | 'clock'>,
  op: Operation,
  unit: OperationProgress['unit'],
): { note: RunProgress; last: () => OperationProgress | undefined } {
  let noted = -1;
  let last: OperationProgress | undefined;
  const note: RunProgress = async (done, total) => {
    if (done < total && noted >= 0 && done - noted < Math.max(1, Math.ceil(total / 20))) return;
    noted = done;
    last = { unit, done, total, at: deps.clock.now().toISOString() };
    // A note for people watching and the sweeper's sign of life: a note that fails fails nothing.
    // But an operation taken over by a later attempt is no longer this worker's: it stops here
    // (runOperation): a sync writes no more than the products since its last note, and syncs and
    // reconciliations note before each other change (operations.ts).
    const ours = await deps.operations.recordProgress(op.id, op.attempts, last).catch(() => true);
    if (!ours)
      throw conflict(
        'STALE_OPERATION',
        `Operation ${op.id} was finished or taken over by another worker (attempt ${op.attempts} stops).`,
      );
  };
  return { note, last: () => last };
}

/** The named error an operation fails with: the code of a MeshgateError, never a stack. */
function errorOf(err: unknown): OperationError {
  if (err instanceof MeshgateError)
    return {
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
    };
  return {
    code: 'INTERNAL',
    message: "Something went wrong on Meshgate's side; it has been logged.",
  };
}

export interface RunOptions {
  /** DEFAULT_OPERATION_STALLED_AFTER_MS when absent. */
  stalledAfterMs?: number;
}

/**
 * The worker: carries out one operation. Safe to deliver twice: a finished operation, or one
 * another worker is moving on, is left alone; one whose worker stopped (no progress for
 * `stalledAfterMs`) is taken over and run again from the start (sync and reconcile are
 * idempotent), or failed as OPERATION_STALLED once workers started it MAX_OPERATION_ATTEMPTS times.
 * A run's failure (a broken broker role: BROKER_UNAVAILABLE) is recorded on the operation; the
 * job itself succeeds.
 */
export async function runOperation(
  deps: OperationsDeps,
  id: string,
  opts: RunOptions = {},
): Promise<void> {
  const op = await deps.operations.get(id);
  if (!op || isFinished(op)) return;
  const now = deps.clock.now();
  const stalledBefore = new Date(
    now.getTime() - (opts.stalledAfterMs ?? DEFAULT_OPERATION_STALLED_AFTER_MS),
  );
  const running = startRun(op, now, stalledBefore);
  if (!running) return; // another worker is on it
  if (exhausted(op)) {
    await finish(deps, op, failRun(op, stalledError(op), now));
    return;
  }
  // Taking over a run whose worker stopped is recorded with it; a first start is the queued
  // operation's own (OPERATION_STARTED was written when it was queued).
  const takeover =
    op.status === 'RUNNING'
      ? [
          auditEvent(
            deps,
            'OPERATION_RESUMED',
            SYSTEM,
            { domain: op.domain },
            {
              operationId: op.id,
              kind: op.kind,
              attempt: running.attempts,
              lastStartedAt: op.startedAt ?? null,
            },
          ),
        ]
      : undefined;
  try {
    await deps.operations.update(running, op, takeover);
  } catch (err) {
    if (err instanceof MeshgateError && err.kind === 'conflict') return; // another worker took it
    throw err;
  }
  let next: Operation;
  /** Recorded with the operation's failure: BROKER_FAILED. */
  let failure: AuditEvent[] = [];
  const progress = progressNoter(deps, running, op.kind === 'sync' ? 'products' : 'grants');
  // The finished record keeps the last progress noted (the write replaces the whole item).
  const noted = () => ({ ...running, progress: progress.last() });
  try {
    const domain = await deps.store.getDomain(op.domain);
    if (!domain) throw notFound('DOMAIN_NOT_FOUND', `No domain ${op.domain}.`);
    const report =
      op.kind === 'sync'
        ? await syncDomain(deps, op.requestedBy, domain, progress.note)
        : await reconcileDomain(deps, op.requestedBy, domain, progress.note);
    next = succeedRun(noted(), boundReport(report), deps.clock.now());
  } catch (err) {
    // Taken over while it ran (its progress note was refused): the other worker finishes it.
    if (err instanceof MeshgateError && err.kind === 'conflict' && err.code === 'STALE_OPERATION')
      return;
    const error = errorOf(err);
    // A broker failure is named on the operation and recorded with its failure (BROKER_FAILED).
    const broker = brokerFailedEvent(deps, op, err);
    if (broker) failure = [broker];
    else (deps.log ?? console.error)(`${op.kind} ${op.id} of ${op.domain} failed`, err);
    next = failRun(noted(), error, deps.clock.now());
  }
  await finish(deps, running, next, failure);
}

/**
 * The report event of a succeeded operation (DOMAIN_SYNCED, DOMAIN_RECONCILED): its report, with
 * the operation it is the report of and the attempt that made it.
 */
function reportEvent(deps: Deps, op: Operation) {
  return auditEvent(
    deps,
    op.kind === 'sync' ? 'DOMAIN_SYNCED' : 'DOMAIN_RECONCILED',
    op.requestedBy,
    { domain: op.domain },
    { operationId: op.id, attempt: op.attempts, ...op.report },
  );
}

/**
 * Stores the finished operation (conditional on the one it ran from) with its audit events, in one
 * transaction: a succeeded one's report event and OPERATION_SUCCEEDED, or a failed one's `failure`
 * events (BROKER_FAILED) and OPERATION_FAILED. A
 * worker stopped before it leaves the operation unfinished and its report unrecorded, for the
 * sweeper; a worker that lost the operation to another records no report and no outcome (the
 * write is conditional on the operation it ran from; its progress notes on its attempt, so it
 * stops at the next), and the trail holds one report per finished operation.
 */
async function finish(
  deps: Deps,
  from: Operation,
  next: Operation,
  failure: AuditEvent[] = [],
): Promise<void> {
  const before = next.status === 'SUCCEEDED' ? [reportEvent(deps, next)] : failure;
  const event = auditEvent(
    deps,
    next.status === 'SUCCEEDED' ? 'OPERATION_SUCCEEDED' : 'OPERATION_FAILED',
    SYSTEM,
    { domain: next.domain },
    {
      operationId: next.id,
      kind: next.kind,
      requestedBy: next.requestedBy,
      attempts: next.attempts,
      ...(next.error ? { error: next.error } : {}),
    },
  );
  try {
    await deps.operations.update(next, from, [...before, event]);
  } catch (err) {
    // Taken over meanwhile (its worker counted as stalled): the other worker records the outcome.
    if (err instanceof MeshgateError && err.kind === 'conflict') return;
    throw err;
  }
}

/**
 * The sweeper's part: every operation QUEUED or RUNNING that nothing has moved for
 * `stalledAfterMs` (its job lost, or its worker stopped) is handed to the worker again, which
 * runs it, takes it over or gives it up (runOperation). Returns their ids.
 */
export async function sweepOperations(
  deps: Pick<Deps, 'operations' | 'queue' | 'clock'>,
  opts: RunOptions = {},
): Promise<string[]> {
  const before = new Date(
    deps.clock.now().getTime() - (opts.stalledAfterMs ?? DEFAULT_OPERATION_STALLED_AFTER_MS),
  ).toISOString();
  const stalled = await deps.operations.listUnfinishedSince(before, 100);
  for (const op of stalled) await deps.queue.send({ kind: 'operation', operationId: op.id });
  return stalled.map((op) => op.id);
}

/**
 * At the start of a process whose queue does not outlive it: every QUEUED operation is handed to
 * the worker at once (a RUNNING one waits until it counts as stalled: its worker may be elsewhere).
 */
export async function resumeOperations(
  deps: Pick<Deps, 'operations' | 'queue' | 'clock'>,
): Promise<number> {
  const before = new Date(deps.clock.now().getTime() + 1).toISOString();
  const unfinished = await deps.operations.listUnfinishedSince(before, 1000);
  let sent = 0;
  for (const op of unfinished) {
    await deps.queue.send({ kind: 'operation', operationId: op.id });
    sent++;
  }
  return sent;
}

/**
 * The scheduled sync or reconciliation: an operation per registered domain, as Meshgate itself,
 * each run by the worker and its outcome (a broken broker role, say) recorded on it, so one
 * domain's failure never stops the others. A domain whose operation of that kind is still
 * running is skipped.
 */
export async function runForEveryDomain(deps: Deps, task: OperationKind) {
  const queued: Array<{ domain: string; operationId: string }> = [];
  const skipped: Array<{ domain: string; operationId: unknown }> = [];
  const failures: Array<{ domain: string; error: string; code?: string }> = [];
  for (const { id } of await deps.store.listDomains()) {
    if (id === ALL_DOMAINS) continue;
    try {
      queued.push({ domain: id, operationId: (await startOperation(deps, SYSTEM, id, task)).id });
    } catch (err) {
      const named = err instanceof MeshgateError ? err : undefined;
      if (named?.code === 'OPERATION_RUNNING') {
        skipped.push({ domain: id, operationId: named.details?.operationId });
        continue;
      }
      (deps.log ?? console.error)(`${task} of ${id} could not be started`, err);
      failures.push({
        domain: id,
        error: err instanceof Error ? err.message : String(err),
        ...(named ? { code: named.code } : {}),
      });
    }
  }
  return { queued, skipped, failures };
}
