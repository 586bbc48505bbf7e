import type { RequestStatus } from '../domain/model';

/**
 * A request changed status. Published after the change is stored, with the detail-type
 * `Meshgate Access Request Status Changed` and source `meshgate` (see README "Events").
 */
export interface StatusChanged {
  eventId: string;
  at: string;
  requestId: string;
  productId: string;
  domain: string;
  requester: string;
  principal: string;
  actor: string;
  fromStatus: RequestStatus | null;
  toStatus: RequestStatus;
  grantId?: string;
  reason?: string;
}

export const STATUS_CHANGED = 'Meshgate Access Request Status Changed';
export const EVENT_SOURCE = 'meshgate';

export interface EventPublisher {
  publish(events: StatusChanged[]): Promise<void>;
}
