import type { AuditEvent } from '../domain/model';
import type { Operation, OperationProgress } from '../domain/operations';

/** One page of operations, newest first; `after` is where the next page starts (absent on the last). */
export interface OperationPage {
  items: Operation[];
  after?: Record<string, string>;
}

/**
 * Domain operations (sync, reconcile) and their state. Every write is conditional on the state
 * that was read, and a change that is audited (queued, succeeded, failed) is written in one
 * transaction with its audit events, sealed into their chain: a process stopped at any instant
 * leaves both or neither.
 */
export interface OperationStore {
  /**
   * Stores a new QUEUED operation, unless one of the same kind for the same domain is QUEUED or
   * RUNNING: then 409 OPERATION_RUNNING whose details name it (`operationId`). Decided by a
   * conditional write on a per-domain-and-kind lock item, never by a read. `event` (its
   * OPERATION_STARTED) is written in the same transaction.
   */
  create(op: Operation, event: AuditEvent): Promise<void>;
  get(id: string): Promise<Operation | undefined>;
  /**
   * Writes `next` if the stored one is still at `expected` (409 STALE_OPERATION otherwise). A
   * finished `next` also frees its domain and kind for the next operation. `events` are written
   * in the same transaction (none: the change is not audited, as a worker taking the operation).
   */
  update(
    next: Operation,
    expected: Pick<Operation, 'status' | 'version'>,
    events?: AuditEvent[],
  ): Promise<void>;
  /**
   * Notes progress on the RUNNING operation of this attempt (and moves its updatedAt). False, and
   * nothing written, once it has moved on: finished, or taken over by a later attempt.
   */
  recordProgress(id: string, attempt: number, progress: OperationProgress): Promise<boolean>;
  /** A domain's operations, newest first, by an index (a Query, never a scan). */
  listByDomain(
    domain: string,
    page: { limit: number; after?: Record<string, string> },
  ): Promise<OperationPage>;
  /** QUEUED or RUNNING operations not moved since `before`, oldest first, by an index. */
  listUnfinishedSince(before: string, limit: number): Promise<Operation[]>;
}
