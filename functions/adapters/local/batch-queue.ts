/**
 * Work handed over after a call answered, done in this process in batches: the local processes'
 * notifier fast path (on AWS the bus feeds the notifier Lambda instead, off the API call). Items
 * pushed while a batch is being handled wait for the next batch, so under load a batch gathers
 * the changes of several calls and writes their notifications together. The queue lives in
 * memory: what a process that stopped or was killed still held is not lost from the store's point
 * of view (the audit trail has every change), and the sweep's catch-up, which reads the trail,
 * notifies it. A batch whose handler throws is logged and dropped for the same reason.
 */
export class InProcessBatchQueue<T> {
  private pending: T[] = [];
  private running = false;
  private paused = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly handle: (batch: T[]) => Promise<unknown>,
    private readonly log: (msg: string, err: unknown) => void = (m, e) => console.error(m, e),
    private readonly maxBatch = 200,
    /** How long the first item waits for others to join its batch. */
    private readonly gatherMs = 10,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    this.kick();
  }

  /** Resolves once everything pushed so far has been handled (never while paused with work). */
  onIdle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Holds what is pushed until `resume` (tests: a process that dies with work queued). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Forgets what is queued, as a process that was killed does (tests). */
  drop(): T[] {
    const dropped = this.pending;
    this.pending = [];
    if (!this.running) this.settle();
    return dropped;
  }

  private kick(): void {
    if (this.running || this.paused || this.pending.length === 0) return;
    this.running = true;
    setTimeout(() => void this.drain(), this.gatherMs);
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.paused) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.handle(batch);
      } catch (err) {
        this.log(
          `could not handle all of ${batch.length} queued change(s); what was not written, the catch-up will`,
          err,
        );
      }
    }
    this.running = false;
    if (this.pending.length === 0) this.settle();
  }

  private settle(): void {
    const waiting = this.idle;
    this.idle = [];
    waiting.forEach((r) => r());
  }
}
