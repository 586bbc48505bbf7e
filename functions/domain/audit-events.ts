/**
 * Every type of audit event Meshgate writes, with what it records. Writers must use one of these
 * (AuditEvent.type); events read back are not checked, so a trail written before a type was
 * renamed still reads. The published list (docs/catalogues.md, the OpenAPI document) is made from
 * this one.
 */
export const AUDIT_EVENT_TYPES = {
  // A request's lifecycle
  REQUEST_CREATED: {
    meaning: 'Someone asked for access to a data product (or for an extension of a grant).',
  },
  APPROVAL_RECORDED: {
    meaning: 'An approver approved one stage of a request, possibly narrowing it.',
  },
  REQUEST_APPROVED: {
    meaning: 'A request was approved: by policy at once, or when its last stage was approved.',
  },
  REQUEST_DENIED: { meaning: 'An approver denied a request, with a reason.' },
  REQUEST_CANCELLED: { meaning: 'The requester cancelled a pending request.' },
  STAGE_ESCALATED: {
    meaning:
      "A stage waited longer than the policy's stage-escalate-after-hours: the domain's backup approvers may now decide it too (detail: stage, waitedHours, notify).",
  },
  REQUEST_TIMED_OUT: {
    meaning:
      "A request stayed pending longer than the policy's pending-timeout-days: it was cancelled, with the reason.",
  },
  FULFILMENT_STARTED: {
    meaning: 'The worker started granting an approved request in Lake Formation.',
  },
  FULFILMENT_FAILED: {
    meaning:
      'Granting failed; the Lake Formation entries, the failed tables and what was revoked (revoked; linksRemoved: the resource links removed in the consumer account) are recorded. A failed request holds nothing in Lake Formation.',
  },
  FULFILMENT_UNDO_FAILED: {
    meaning:
      'Granting failed and revoking what the attempt granted failed too: the request stays GRANTING and is attempted again (the reason of both and the revoke entries are recorded).',
  },
  FULFILMENT_RETRIED: {
    meaning: 'Someone retried the fulfilment of a failed request; every table is granted again.',
  },
  GRANT_ACTIVE: {
    meaning:
      'The permissions are in place in Lake Formation: the grant is active until it expires.',
  },
  REVOKE_REQUESTED: { meaning: 'Someone asked for an active grant to be revoked.' },
  GRANT_EXPIRING: {
    meaning: 'A grant reached its end: its permissions are being removed.',
  },
  REVOKE_FAILED: {
    meaning: 'Removing the permissions of a grant failed; the job is delivered again.',
  },
  GRANT_REVOKED: { meaning: 'The permissions of a revoked grant are gone.' },
  GRANT_EXPIRED: { meaning: 'The permissions of an expired grant are gone.' },
  GRANT_RESTORED: {
    meaning:
      'A failed attempt took back, or may have taken back (its revoke failed part way), what another attempt of the same request (now active or still granting) holds; it was granted again.',
  },
  NAMES_KEPT: {
    meaning:
      'A revoke of another grant or request of the same principal left permission names in Lake Formation because this request, approved or being granted, needs them (detail: by, the names and tables). Should the request fail, it revokes them.',
  },
  STRAY_GRANT_REMOVED: {
    meaning:
      'A late fulfilment granted after the request had moved on; the stray permissions were removed.',
  },
  // Domains and their catalogs
  DOMAIN_REGISTERED: {
    meaning: 'A domain was registered (by an admin or from the configuration).',
  },
  DOMAIN_UPDATED: { meaning: "A domain's registration changed in the configuration." },
  CONSUMER_ACCOUNT_REGISTERED: {
    meaning:
      'An AWS account was registered as a consumer account: Meshgate makes resource links there for its principals.',
  },
  CONFIG_APPLIED: {
    meaning:
      'A version of the deployment configuration (domains, owners, global roles, users) was applied; each change of a domain or role has its own event, and the user records it wrote are named in this one.',
  },
  DOMAIN_SYNCED: {
    meaning:
      "A domain's catalog was synchronised: the products added, updated and retired (the operation's report, with operationId and attempt), recorded once, with OPERATION_SUCCEEDED.",
  },
  PRODUCT_ADDED: { meaning: 'A sync found a new data product in the catalog.' },
  PRODUCT_UPDATED: { meaning: 'A sync found a changed data product in the catalog.' },
  PRODUCT_RETIRED: {
    meaning: 'A data product is no longer in the catalog: it was retired.',
  },
  DOMAIN_RECONCILED: {
    meaning:
      "A domain's grants were compared with Lake Formation: missing permissions granted again, stray ones revoked, foreign ones reported (the operation's report, with operationId and attempt), recorded once, with OPERATION_SUCCEEDED.",
  },
  BROKER_FAILED: {
    meaning:
      "A sync or reconciliation could not act in a domain's account through its broker role (missing, refusing Meshgate, or lacking Lake Formation or Glue rights): the role, the AWS error code and the operation are recorded, never the ExternalId; recorded once, with the operation's OPERATION_FAILED.",
  },
  OPERATION_STARTED: {
    meaning:
      "Someone (or the schedule) started a sync or reconciliation of a domain: the operation's id and kind; the worker carries it out.",
  },
  OPERATION_RESUMED: {
    meaning:
      'A worker took over a sync or reconciliation whose worker stopped (no progress for the stall time) and runs it again from the start: the attempt and when the last one started.',
  },
  OPERATION_SUCCEEDED: {
    meaning:
      'A sync or reconciliation finished; its report is in the operation and in DOMAIN_SYNCED or DOMAIN_RECONCILED, written in the same transaction.',
  },
  OPERATION_FAILED: {
    meaning:
      'A sync or reconciliation failed: the error code (BROKER_UNAVAILABLE, OPERATION_STALLED...) and its details.',
  },
  // Who may do what
  MEMBERSHIP_ADDED: {
    meaning:
      'A user was given a role in a domain (by an admin, the configuration, an identity provider group or the demo seed).',
  },
  MEMBERSHIP_REMOVED: { meaning: 'A user lost a role in a domain.' },
  POLICY_CHANGED: {
    meaning:
      'A policy version was recorded as the one in force, with its files and what changed (or why it does not load).',
  },
  ACCESS_REFUSED: {
    meaning:
      'Someone was refused an action (a 403): what they tried, and why. The first refusal of one caller for one action in a window (a minute) is recorded at once; the window is in the event.',
  },
  ACCESS_REFUSED_REPEATED: {
    meaning:
      'The refusals of one caller for one action that followed the first in a window: how many (count) and the window, written when the next window opens, or by the sweep once the window has ended.',
  },
} as const satisfies Record<string, { meaning: string }>;

export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;

/** Every audit event type, in the order of the catalogue. */
export const AUDIT_EVENT_TYPE_LIST = Object.keys(AUDIT_EVENT_TYPES) as [
  AuditEventType,
  ...AuditEventType[],
];
