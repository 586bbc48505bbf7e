import { conflict } from './errors';

/**
 * Domain operations: a catalog sync or a Lake Formation reconciliation of one domain, asked for
 * through the API (or by the schedule) and carried out by the worker. The record says where it
 * is (status, progress) and, once finished, what it found (report) or why it failed (error).
 *
 *   QUEUED -> RUNNING -> SUCCEEDED | FAILED
 *   RUNNING -> RUNNING   (a worker takes over an operation whose worker stopped: stalled)
 *   QUEUED | RUNNING -> FAILED   (stalled too many times; given up)
 *
 * The statuses are set here and nowhere else (the ESLint rule STATUS_WRITES).
 */
export const OPERATION_KINDS = ['sync', 'reconcile'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/** How far an operation has got: `done` of `total` units (products read, grants checked). */
export interface OperationProgress {
  unit: 'products' | 'grants';
  done: number;
  total: number;
  at: string;
}

/** Why an operation failed: an error code of the catalogue (domain/errors.ts) and its details. */
export interface OperationError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface Operation {
  id: string;
  kind: OperationKind;
  domain: string;
  status: OperationStatus;
  /** Who asked for it (a user id, or `meshgate` for the schedule). */
  requestedBy: string;
  createdAt: string;
  /** The last change of state or progress: a worker on it moves it at least every progress note. */
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** How many workers have started it (more than one after a worker stopped mid-run). */
  attempts: number;
  progress?: OperationProgress;
  report?: Record<string, unknown>;
  error?: OperationError;
  /** Incremented by every change of state: writes are conditional on the version read. */
  version: number;
}

/** A worker may start an operation at most this many times; then it fails as stalled. */
export const MAX_OPERATION_ATTEMPTS = 3;

export const isFinished = (op: Pick<Operation, 'status'>) =>
  op.status === 'SUCCEEDED' || op.status === 'FAILED';

/** A new operation, waiting for the worker. */
export function queueOperation(
  o: Pick<Operation, 'id' | 'kind' | 'domain' | 'requestedBy'>,
  now: Date,
): Operation {
  const at = now.toISOString();
  return { ...o, status: 'QUEUED', createdAt: at, updatedAt: at, attempts: 0, version: 1 };
}

/**
 * A worker takes the operation: QUEUED -> RUNNING, or RUNNING -> RUNNING when the worker that had
 * it has not moved it for `stalledBefore` (it stopped). An operation another worker is moving on,
 * or a finished one, is not taken (undefined); one started too often fails instead (see
 * `giveUpStalled`).
 */
export function startRun(op: Operation, now: Date, stalledBefore: Date): Operation | undefined {
  if (
    op.status === 'QUEUED' ||
    (op.status === 'RUNNING' && op.updatedAt < stalledBefore.toISOString())
  ) {
    const at = now.toISOString();
    return {
      ...op,
      status: 'RUNNING',
      startedAt: at,
      updatedAt: at,
      attempts: op.attempts + 1,
      progress: undefined,
      version: op.version + 1,
    };
  }
  return undefined;
}

/** Whether a worker that would take `op` now must give it up instead (it was started too often). */
export const exhausted = (op: Operation) => op.attempts >= MAX_OPERATION_ATTEMPTS;

/** RUNNING -> SUCCEEDED with its report. */
export function succeedRun(op: Operation, report: Record<string, unknown>, now: Date): Operation {
  if (op.status !== 'RUNNING')
    throw conflict('INVALID_TRANSITION', `An operation in status ${op.status} cannot succeed.`);
  const at = now.toISOString();
  return {
    ...op,
    status: 'SUCCEEDED',
    report,
    finishedAt: at,
    updatedAt: at,
    version: op.version + 1,
  };
}

/** QUEUED or RUNNING -> FAILED with the named error. */
export function failRun(op: Operation, error: OperationError, now: Date): Operation {
  if (isFinished(op))
    throw conflict('INVALID_TRANSITION', `An operation in status ${op.status} cannot fail.`);
  const at = now.toISOString();
  return { ...op, status: 'FAILED', error, finishedAt: at, updatedAt: at, version: op.version + 1 };
}

/** The failure of an operation that workers started MAX_OPERATION_ATTEMPTS times without finishing. */
export const stalledError = (op: Operation): OperationError => ({
  code: 'OPERATION_STALLED',
  message: `The ${op.kind} of domain ${op.domain} was started ${op.attempts} time(s) and never finished: its worker stopped each time. Start it again; if it stalls again, see the worker's logs.`,
  details: { attempts: op.attempts },
});

/**
 * The most a finished operation's report may take, as JSON: the report is stored twice in the
 * transaction that finishes the operation (in the operation item, read by
 * `GET /v1/operations/{id}`, and in its DOMAIN_SYNCED or DOMAIN_RECONCILED audit event), and
 * DynamoDB refuses an item over 400 KB. 256 KiB leaves room for the rest of either item (keys,
 * progress, the event's own fields) and keeps the transaction far under its 4 MB.
 */
export const REPORT_MAX_BYTES = 256 * 1024;

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * The report as it is stored: whole when it fits in `maxBytes`; otherwise its lists (products
 * added, findings...) are cut to their first entries, as many of each as fit, and `omitted`
 * counts, per list, the entries left out. Fields that are not lists are kept (a report whose
 * other fields alone would not fit keeps only its plain values). A sync's products each have
 * their own audit event, so its lists can be read whole from the trail.
 */
export function boundReport(
  report: Record<string, unknown>,
  maxBytes: number = REPORT_MAX_BYTES,
): Record<string, unknown> {
  if (jsonBytes(report) <= maxBytes) return report;
  const lists = Object.keys(report).filter((k) => Array.isArray(report[k]));
  const cut = (keep: number, base: Record<string, unknown> = report) => {
    const out: Record<string, unknown> = { ...base };
    const omitted: Record<string, number> = {};
    for (const k of lists) {
      const all = report[k] as unknown[];
      if (all.length <= keep) continue;
      out[k] = all.slice(0, keep);
      omitted[k] = all.length - keep;
    }
    return { ...out, omitted };
  };
  if (jsonBytes(cut(0)) > maxBytes) {
    const plain = Object.fromEntries(
      Object.entries(report).filter(([, v]) => v === null || typeof v !== 'object'),
    );
    return cut(0, plain);
  }
  // The largest number of entries per list that fits: each list keeps up to that many.
  let lo = 0;
  let hi = Math.max(...lists.map((k) => (report[k] as unknown[]).length));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonBytes(cut(mid)) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}
