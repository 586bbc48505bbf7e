import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type EventPublisher, type LifecycleEvent } from '../../ports/events';

// The EventBridge client is loaded at the first event published, not at start: a cold start that
// changes no status (most API calls) does not pay for its module load (`npm run bench -- bundles`).
const eventBridge = () => import('./clients/eventbridge');
let defaultClient: EventBridgeClient | undefined;
const MAX_ENTRIES = 10; // PutEvents takes at most 10 entries a call

/** Lifecycle events on an EventBridge bus, for rules that feed e-mail, chat or ticketing. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client?: EventBridgeClient,
  ) {}

  async publish(events: LifecycleEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { EventBridgeClient, PutEventsCommand } = await eventBridge();
    const client = this.client ?? (defaultClient ??= new EventBridgeClient({}));
    for (let i = 0; i < events.length; i += MAX_ENTRIES) {
      const batch = events.slice(i, i + MAX_ENTRIES);
      const out = await client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: e.detailType,
            Time: new Date(e.detail.at),
            Resources: [],
            Detail: JSON.stringify(e.detail),
          })),
        }),
      );
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? [])
          .filter((x) => x.ErrorCode)
          .map((x) => `${x.ErrorCode}: ${x.ErrorMessage}`);
        throw new Error(
          `EventBridge refused ${out.FailedEntryCount} event(s): ${failed.join('; ')}`,
        );
      }
    }
  }
}
