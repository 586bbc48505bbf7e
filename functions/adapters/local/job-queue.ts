import { jobSubject, type Job, type JobQueue } from '../../ports/queue';

interface Delivery {
  job: Job;
  attempt: number;
}

/**
 * The embedded default's queue: jobs run in this process, up to `concurrency` at a time (as the
 * worker function runs one invocation per message batch on Lambda), after the call that sent them
 * has returned (as with SQS, the sender never waits for the work). A job whose handler throws is
 * delivered again, up to `maxAttempts` times, like an SQS message that was not deleted. Jobs are
 * idempotent and every step they take is a conditional write, so two at once for one request
 * end as one would.
 */
export class InProcessQueue implements JobQueue {
  private readonly pending: Delivery[] = [];
  private running = 0;
  private idle: Array<() => void> = [];
  private handler?: (job: Job) => Promise<void>;

  constructor(
    private readonly log: (msg: string, err: unknown) => void = (m, e) => console.error(m, e),
    private readonly maxAttempts = 3,
    private readonly concurrency = 4,
  ) {}

  /** Attaches the worker. Jobs sent before are kept until then. */
  consume(handler: (job: Job) => Promise<void>): void {
    this.handler = handler;
    this.kick();
  }

  async send(job: Job): Promise<void> {
    this.pending.push({ job, attempt: 1 });
    this.kick();
  }

  /** Resolves once every job sent so far has been handled. */
  onIdle(): Promise<void> {
    if (this.running === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private kick(): void {
    while (this.handler && this.running < this.concurrency && this.running < this.pending.length) {
      this.running++;
      setImmediate(() => void this.drain());
    }
  }

  /** One worker: takes jobs until none is left. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 && this.handler) {
      const d = this.pending.shift()!;
      try {
        await this.handler(d.job);
      } catch (err) {
        const again = d.attempt < this.maxAttempts;
        this.log(
          `job ${d.job.kind} ${jobSubject(d.job)} failed (attempt ${d.attempt}${again ? ', will be delivered again' : ', giving up'})`,
          err,
        );
        if (again) this.pending.push({ job: d.job, attempt: d.attempt + 1 });
      }
    }
    this.running--;
    if (this.running > 0) return;
    const waiting = this.idle;
    this.idle = [];
    waiting.forEach((r) => r());
  }
}
