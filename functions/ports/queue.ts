/** Work handed from the API (and the schedules) to the worker. */
export type Job =
  | { kind: 'grant'; requestId: string }
  | { kind: 'revoke'; requestId: string }
  /** A domain operation (sync, reconcile): functions/usecases/operation-runs.ts. */
  | { kind: 'operation'; operationId: string };

export interface JobQueue {
  send(job: Job): Promise<void>;
}

/** What a job is about, for log lines. */
export const jobSubject = (job: Job): string =>
  job.kind === 'operation' ? job.operationId : job.requestId;
