import type { Job, JobQueue } from '../../ports/queue';

/**
 * The embedded default's queue: jobs run in this process, one at a time, after the call that
 * sent them has returned (as with SQS, the sender never waits for the work).
 */
export class InProcessQueue implements JobQueue {
  private readonly pending: Job[] = [];
  private running = false;
  private idle: Array<() => void> = [];
  private handler?: (job: Job) => Promise<void>;

  constructor(private readonly log: (msg: string, err: unknown) => void = (m, e) => console.error(m, e)) {}

  /** Attaches the worker. Jobs sent before are kept until then. */
  consume(handler: (job: Job) => Promise<void>): void {
    this.handler = handler;
    this.kick();
  }

  async send(job: Job): Promise<void> {
    this.pending.push(job);
    this.kick();
  }

  /** Resolves once every job sent so far has been handled. */
  onIdle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private kick(): void {
    if (this.running || !this.handler || this.pending.length === 0) return;
    this.running = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && this.handler) {
      const job = this.pending.shift()!;
      try {
        await this.handler(job);
      } catch (err) {
        // The worker records failures on the request itself; what reaches here is unexpected.
        this.log(`job ${job.kind} ${job.requestId} failed`, err);
      }
    }
    this.running = false;
    const waiting = this.idle;
    this.idle = [];
    waiting.forEach((r) => r());
  }
}
