import type { EventPublisher, StatusChanged } from '../../ports/events';

/** The embedded default's event bus: subscribers in this process, and one log line per event. */
export class InProcessEventBus implements EventPublisher {
  private readonly subscribers: Array<(e: StatusChanged) => void> = [];

  constructor(private readonly log: ((line: string) => void) | undefined = undefined) {}

  subscribe(fn: (e: StatusChanged) => void): () => void {
    this.subscribers.push(fn);
    return () => this.subscribers.splice(this.subscribers.indexOf(fn), 1);
  }

  async publish(events: StatusChanged[]): Promise<void> {
    for (const e of events) {
      this.log?.(`event ${e.requestId} ${e.fromStatus ?? '-'} -> ${e.toStatus} by ${e.actor}`);
      for (const fn of this.subscribers) fn(e);
    }
  }
}
