/** Work handed from the API to the fulfilment worker. */
export type Job = { kind: 'grant'; requestId: string } | { kind: 'revoke'; requestId: string };

export interface JobQueue {
  send(job: Job): Promise<void>;
}
