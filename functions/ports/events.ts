import type { RequestStatus } from '../domain/model';

/** What every event about a request carries: its audit event, the request and who acted. */
interface RequestEvent {
  /** The id of the audit event of the same change. */
  eventId: string;
  at: string;
  requestId: string;
  productId: string;
  domain: string;
  requester: string;
  principal: string;
  actor: string;
}

/**
 * A request changed status. Published after the change is stored, with the detail-type
 * `Meshgate Access Request Status Changed` and source `meshgate` (see docs/api.md "Events").
 */
export interface StatusChanged extends RequestEvent {
  fromStatus: RequestStatus | null;
  toStatus: RequestStatus;
  grantId?: string;
  reason?: string;
}

/**
 * A pending request waits for a stage's approvers: it reached the stage (its first on creation,
 * each next one when the one before is complete) or waited there too long and was escalated to
 * the domain's backup approvers (`escalated`). Detail-type `Meshgate Access Request Awaiting
 * Approval`. A stage change is no status change (the request stays PENDING), so without this
 * event nothing outside the API would hear that the next stage's approvers are needed.
 */
export interface ApprovalAwaited extends RequestEvent {
  stage: string;
  escalated: boolean;
}

export const STATUS_CHANGED = 'Meshgate Access Request Status Changed';
export const APPROVAL_AWAITED = 'Meshgate Access Request Awaiting Approval';
export const EVENT_SOURCE = 'meshgate';

/** What the bus carries: its detail-type and its detail (the JSON rules match on). */
export type LifecycleEvent =
  | { detailType: typeof STATUS_CHANGED; detail: StatusChanged }
  | { detailType: typeof APPROVAL_AWAITED; detail: ApprovalAwaited };

/** The detail-types the notifier's rule sends it (infra/stacks/api-stack.ts matches these). */
export const NOTIFIER_DETAIL_TYPES = [STATUS_CHANGED, APPROVAL_AWAITED] as const;

export interface EventPublisher {
  publish(events: LifecycleEvent[]): Promise<void>;
}
