/** Work handed from the API (and the schedules) to the worker. */
export type Job =
  | { kind: 'grant'; requestId: string }
  | { kind: 'revoke'; requestId: string }
  /** A domain operation (sync, reconcile): functions/usecases/operation-runs.ts. */
  | { kind: 'operation'; operationId: string }
  /** Build the catalog search index now if none of this code's format is published (`SearchIndex.refresh`). */
  | { kind: 'searchindex' };

export interface JobQueue {
  send(job: Job): Promise<void>;
}

/** What a job is about, for log lines. */
export const jobSubject = (job: Job): string =>
  job.kind === 'searchindex'
    ? 'search index'
    : job.kind === 'operation'
      ? job.operationId
      : job.requestId;
