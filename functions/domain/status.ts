import type { RequestStatus } from './model';
import { conflict } from './errors';

/**
 * The request state machine. Anything not listed is refused. REVOKING is the usual path to
 * REVOKED/EXPIRED (the permission is removed by the worker); the direct edges exist for a grant
 * that is already gone from Lake Formation when it ends.
 */
export const TRANSITIONS: Readonly<Record<RequestStatus, readonly RequestStatus[]>> = {
  PENDING: ['APPROVED', 'DENIED', 'CANCELLED'],
  APPROVED: ['GRANTING'],
  GRANTING: ['ACTIVE', 'FAILED'],
  FAILED: ['GRANTING'],
  ACTIVE: ['REVOKING', 'REVOKED', 'EXPIRED'],
  REVOKING: ['REVOKED', 'EXPIRED'],
  REVOKED: [],
  EXPIRED: [],
  DENIED: [],
  CANCELLED: [],
};

export const STATUSES = Object.keys(TRANSITIONS) as RequestStatus[];

/** Approved and not yet ACTIVE or FAILED: the worker owes it a grant (the in-flight index). */
export const isInFlight = (status: RequestStatus): boolean =>
  status === 'APPROVED' || status === 'GRANTING';

export const canTransition = (from: RequestStatus, to: RequestStatus): boolean =>
  TRANSITIONS[from].includes(to);

export function assertTransition(from: RequestStatus, to: RequestStatus): void {
  if (!canTransition(from, to)) {
    throw conflict('INVALID_TRANSITION', `A request in status ${from} cannot become ${to}.`);
  }
}

export const isFinal = (s: RequestStatus) => TRANSITIONS[s].length === 0;
