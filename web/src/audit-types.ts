// The audit trail's event types, as the API declares them (AuditEventType): the audit filter
// offers these, so a type cannot be mistyped. `satisfies` fails the build when the API adds or
// drops one.
import type { components } from './api-types';

export type AuditEventType = components['schemas']['AuditEventType'];

export const AUDIT_EVENT_TYPES = {
  REQUEST_CREATED: 'Request created',
  APPROVAL_RECORDED: 'Stage approved',
  REQUEST_APPROVED: 'Request approved',
  REQUEST_DENIED: 'Request denied',
  REQUEST_CANCELLED: 'Request cancelled',
  STAGE_ESCALATED: 'Stage escalated',
  REQUEST_TIMED_OUT: 'Request timed out',
  FULFILMENT_STARTED: 'Fulfilment started',
  FULFILMENT_FAILED: 'Fulfilment failed',
  FULFILMENT_UNDO_FAILED: 'Fulfilment undo failed',
  FULFILMENT_RETRIED: 'Fulfilment retried',
  GRANT_ACTIVE: 'Access active',
  REVOKE_REQUESTED: 'Revoke asked',
  GRANT_EXPIRING: 'Access expiring',
  REVOKE_FAILED: 'Revoke failed',
  GRANT_REVOKED: 'Access revoked',
  GRANT_EXPIRED: 'Access expired',
  GRANT_RESTORED: 'Granted again after a failed attempt',
  NAMES_KEPT: 'Permissions kept for this request',
  STRAY_GRANT_REMOVED: 'Late grant removed',
  DOMAIN_REGISTERED: 'Domain registered',
  DOMAIN_UPDATED: 'Domain updated',
  CONSUMER_ACCOUNT_REGISTERED: 'Consumer account registered',
  CONFIG_APPLIED: 'Configuration applied',
  DOMAIN_SYNCED: 'Domain synced',
  PRODUCT_ADDED: 'Product added',
  PRODUCT_UPDATED: 'Product updated',
  PRODUCT_RETIRED: 'Product retired',
  DOMAIN_RECONCILED: 'Domain reconciled',
  BROKER_FAILED: 'Broker failed',
  OPERATION_STARTED: 'Operation started',
  OPERATION_RESUMED: 'Operation taken over after its worker stopped',
  OPERATION_SUCCEEDED: 'Operation succeeded',
  OPERATION_FAILED: 'Operation failed',
  MEMBERSHIP_ADDED: 'Membership added',
  MEMBERSHIP_REMOVED: 'Membership removed',
  POLICY_CHANGED: 'Policy changed',
  ACCESS_REFUSED: 'Access refused',
  ACCESS_REFUSED_REPEATED: 'Access refused (repeated)',
} satisfies Record<AuditEventType, string>;
