import { STATUS_CHANGED, type EventPublisher, type LifecycleEvent } from '../../ports/events';

/** The embedded default's event bus: subscribers in this process, and one log line per event. */
export class InProcessEventBus implements EventPublisher {
  private readonly subscribers: Array<(e: LifecycleEvent) => void> = [];

  constructor(private readonly log: ((line: string) => void) | undefined = undefined) {}

  subscribe(fn: (e: LifecycleEvent) => void): () => void {
    this.subscribers.push(fn);
    return () => this.subscribers.splice(this.subscribers.indexOf(fn), 1);
  }

  async publish(events: LifecycleEvent[]): Promise<void> {
    for (const e of events) {
      this.log?.(describe(e));
      for (const fn of this.subscribers) fn(e);
    }
  }
}

function describe(e: LifecycleEvent): string {
  const d = e.detail;
  if (e.detailType === STATUS_CHANGED)
    return `event ${d.requestId} ${e.detail.fromStatus ?? '-'} -> ${e.detail.toStatus} by ${d.actor}`;
  const why = e.detail.escalated ? 'escalated to backup approvers' : 'awaits approval';
  return `event ${d.requestId} ${why} at stage ${e.detail.stage}`;
}
