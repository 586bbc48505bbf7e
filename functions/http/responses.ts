import { z } from '@hono/zod-openapi';
import { CLASSIFICATIONS, PERMISSIONS, ROLES } from '../domain/model';
import { NOTIFICATION_KINDS } from '../domain/notifications';
import { STATUSES } from '../domain/status';
import { built } from './deferred';
import { AuditEventSchema } from './schemas';

// What the API answers, route by route. Objects are strict: a field the API sends must be
// declared here (the HTTP tests check every answer against its route's schema), so a client
// generated from /openapi.json sees every field, and nothing undeclared leaks out.

const obj = z.strictObject;
const opt = <T extends z.ZodType>(t: T) => t.optional();

const RuleRef = obj({ source: z.string(), line: z.string() }).openapi('RuleRef');
const Decision = obj({
  allowed: z.boolean(),
  reason: z.string(),
  rules: z.array(RuleRef),
}).openapi('Decision');

export const ScopeOut = obj({
  permissions: z.array(z.enum(PERMISSIONS)),
  columns: z.discriminatedUnion('mode', [
    obj({ mode: z.literal('all') }),
    obj({ mode: z.literal('include'), columns: z.array(z.string()) }),
    obj({ mode: z.literal('exclude'), columns: z.array(z.string()) }),
  ]),
  rowFilter: opt(z.string()),
}).openapi('GrantedScope');

export const DurationOut = obj({
  value: z.number(),
  unit: z.enum(['hours', 'days']),
}).openapi('RequestedDuration');

const Approval = obj({
  by: z.string(),
  at: z.string(),
  comment: z.string(),
  rule: z.union([RuleRef, z.null()]),
  narrowedScope: opt(ScopeOut),
  narrowedDuration: opt(DurationOut),
}).openapi('ApprovalRecord');

const Stage = obj({
  name: z.enum(['owner', 'compliance']),
  required: z.number().int(),
  approvals: z.array(Approval),
  rule: z.union([RuleRef, z.null()]),
  escalatesAt: opt(z.string()),
  escalatedAt: opt(z.string()),
}).openapi('Stage');

const RequestStatus = z.enum(STATUSES as [string, ...string[]]).openapi('RequestStatus');
const Classification = z.enum(CLASSIFICATIONS).openapi('Classification');

export const AccessRequestSchema = obj({
  id: z.string(),
  requester: z.string(),
  principal: z.string(),
  productId: z.string(),
  domain: z.string(),
  classification: Classification,
  scope: ScopeOut,
  duration: DurationOut,
  purpose: z.string(),
  status: RequestStatus,
  stages: z.array(Stage),
  explanation: z.array(Decision),
  denial: opt(obj({ by: z.string(), reason: z.string(), at: z.string() })),
  cancellation: opt(obj({ by: z.string(), reason: z.string(), at: z.string() })),
  timesOutAt: opt(z.string()),
  failure: opt(
    obj({
      reason: z.string(),
      at: z.string(),
      code: opt(z.string()),
      failedTables: opt(z.array(z.string())),
      failedTablesOmitted: opt(z.number().int()),
    }),
  ),
  grantId: opt(z.string()),
  progress: opt(
    obj({
      done: z.number().int(),
      total: z.number().int(),
      at: z.string(),
      attempt: opt(z.string()),
      earlier: opt(z.boolean()),
    }),
  ),
  /** While APPROVED or GRANTING: names a revoke of another grant of the principal left held for it. */
  keptNames: opt(
    z.array(obj({ names: z.array(z.enum(PERMISSIONS)), tables: z.array(z.string()) })),
  ),
  keptNamesOmitted: opt(z.number().int()),
  extendsGrantId: opt(z.string()),
  extendsFrom: opt(z.string()),
  maxDurationHours: opt(z.number()),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
}).openapi('AccessRequest');

/** A request in a listing, with its terms as narrowed by approvers so far (what is or will be granted). */
export const RequestListItemSchema = AccessRequestSchema.extend({
  terms: obj({ scope: ScopeOut, duration: DurationOut }),
}).openapi('RequestListItem');

/** A request with what approvers decide on: the terms as narrowed so far, and the PII columns they touch. */
export const RequestWithTermsSchema = AccessRequestSchema.extend({
  terms: obj({ scope: ScopeOut, duration: DurationOut, endsAt: opt(z.string()) }),
  piiColumns: z.array(z.string()),
}).openapi('RequestWithTerms');

export const GrantSchema = obj({
  id: z.string(),
  requestId: z.string(),
  requester: z.string(),
  principal: z.string(),
  productId: z.string(),
  domain: z.string(),
  classification: Classification,
  accountId: z.string(),
  scope: ScopeOut,
  grantedAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['ACTIVE', 'REVOKING', 'REVOKED', 'EXPIRED']),
  entries: z.array(z.unknown()),
  endedAt: opt(z.string()),
  endReason: opt(z.string()),
  ending: opt(z.enum(['REVOKED', 'EXPIRED'])),
  consumerLink: opt(
    obj({
      account: z.string(),
      region: z.string(),
      database: z.string(),
      table: z.string(),
      tables: z.array(obj({ name: z.string(), target: z.string() })),
      describeGranted: z.boolean(),
      invitationAccepted: z.boolean(),
      at: z.string(),
    }).openapi('ConsumerLink', {
      description: "What the worker made in the principal's consumer account for the grant.",
    }),
  ),
}).openapi('Grant');

/** How to use an ACTIVE grant (`access` on `GET /v1/requests/{id}` and `GET /v1/grants/{id}`). */
export const AccessSchema = obj({
  account: z.string().openapi({ description: 'The producing account (it holds the data).' }),
  region: z.string(),
  catalogId: z.string(),
  database: z.string(),
  table: z.string(),
  tables: opt(z.array(z.string())).openapi({
    description: 'Every table of the product, when it has several.',
  }),
  principal: z.string(),
  expiresAt: z.string().openapi({ description: 'When the grant ends (ISO 8601, UTC).' }),
  columns: opt(z.array(z.string())).openapi({
    description: 'The granted columns; absent when every column is granted.',
  }),
  rowFilter: opt(z.string()),
  link: opt(
    obj({ account: z.string(), region: z.string(), database: z.string(), table: z.string() }),
  ).openapi({
    description: "The resource link Meshgate made in the principal's consumer account.",
  }),
  query: z.string().openapi({
    description:
      'A ready-to-run Athena query over the granted columns (naming the resource link when there is one).',
  }),
  setup: opt(
    obj({
      account: z.string(),
      steps: z.array(obj({ what: z.string(), command: z.string() })),
    }),
  ).openapi({
    description:
      "For a principal of an account Meshgate does not manage: what that account's administrator runs (the RAM share, the resource link, DESCRIBE on it).",
  }),
}).openapi('Access');

/** `GET /v1/grants/{id}`: the grant, and while it is ACTIVE how to use it. */
export const GrantDetailSchema = GrantSchema.extend({ access: opt(AccessSchema) }).openapi(
  'GrantDetail',
);

export const MembershipOut = obj({
  user: z.string(),
  domain: z.string(),
  role: z.enum(ROLES),
  source: opt(z.literal('group')),
}).openapi('MembershipRecord');

export const DomainView = obj({
  id: z.string(),
  name: z.string(),
  accountId: z.string(),
  region: z.string(),
  description: opt(z.string()),
  owners: z.array(z.string()),
  stewards: z.array(z.string()),
}).openapi('DomainView');

export const MeSchema = obj({
  id: z.string(),
  name: z.string(),
  title: opt(z.string()),
  memberships: z.array(MembershipOut),
}).openapi('Me');

export const ColumnOut = obj({
  name: z.string(),
  type: z.string(),
  comment: opt(z.string()),
  pii: z.boolean(),
}).openapi('Column');

export const ProductSchema = obj({
  id: z.string(),
  domain: z.string(),
  name: z.string(),
  title: z.string(),
  description: z.string(),
  owner: z.string(),
  classification: Classification,
  tags: z.array(z.string()),
  location: obj({
    catalogId: z.string(),
    database: z.string(),
    table: z.string(),
    tables: opt(z.array(z.string())),
  }),
  columns: z.array(ColumnOut),
  freshness: z.string(),
  status: z.enum(['ACTIVE', 'RETIRED']),
}).openapi('DataProduct');

export const ProductDetailSchema = ProductSchema.extend({
  approvers: z.array(obj({ user: z.string(), role: z.enum(ROLES) })),
  maxDurationHours: z.number(),
}).openapi('DataProductDetail');

export const PreviewAnswer = obj({
  outcome: z.enum(['refused', 'auto-approved', 'needs-approval']),
  scope: ScopeOut,
  stages: z.array(
    obj({ name: z.enum(['owner', 'compliance']), rule: z.union([RuleRef, z.null()]) }),
  ),
  maxDurationHours: z.number(),
  piiColumns: z.array(z.string()),
  explanation: z.array(Decision),
}).openapi('RequestPreviewAnswer');

export const ExplainAnswer = obj({
  user: z.string(),
  domain: z.string(),
  object: z.string(),
  classification: opt(z.string()),
  action: z.string(),
  roles: z.array(z.string()),
  allowed: z.boolean(),
  reason: z.string(),
  rules: z.array(RuleRef),
}).openapi('ExplainAnswer');

export const VerifyAnswer = obj({
  ok: z.boolean(),
  chains: z.array(
    obj({
      chain: z.string(),
      count: z.number().int(),
      ok: z.boolean(),
      head: opt(obj({ seq: z.number().int(), hash: z.string() })),
      firstBad: opt(
        obj({
          index: z.number().int(),
          eventId: z.string(),
          seq: opt(z.number().int()),
          problem: z.string(),
        }),
      ),
    }),
  ),
}).openapi('AuditVerification');

/** `GET /v1/policy`: the policy this instance decides with, and whether it is the one in force. */
export const PolicyInForceOut = obj({
  version: z.string(),
  inForce: z.boolean(),
  recorded: opt(obj({ version: z.string(), seq: z.number().int(), at: z.string() })),
  files: z.array(obj({ source: z.string(), sha256: z.string(), text: z.string() })),
  loadFailure: opt(z.string()),
  domainFailures: z.record(z.string(), z.string()),
}).openapi('PolicyInForce');

/** A page of a listing: no `cursor` on the last page (see domain/paging.ts). */
export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  obj({ items: z.array(item), cursor: opt(z.string()) }).openapi(name);

/** A registered domain as the API shows it: the broker's ExternalId only as a fingerprint. */
export const RegisteredDomain = obj({
  id: z.string(),
  name: z.string(),
  accountId: z.string(),
  region: z.string(),
  description: opt(z.string()),
  broker: opt(
    obj({
      roleArn: z.string(),
      externalId: obj({ set: z.boolean(), sha256Prefix: opt(z.string()) }),
    }),
  ),
}).openapi('RegisteredDomain');

export const RemovedMembership = obj({ removed: MembershipOut }).openapi('RemovedMembership');

/** What a catalog sync or a reconciliation of one domain found and did. */
export const OperationReport = z
  .record(z.string(), z.unknown())
  .openapi('OperationReport', { description: 'The report of a sync or a reconciliation.' });

export const RequestDetailSchema = RequestWithTermsSchema.extend({
  history: z.array(built(AuditEventSchema)),
  access: opt(AccessSchema).openapi({ description: 'How to use the access, while it is ACTIVE.' }),
}).openapi('RequestDetail');

/** A consumer account as the API shows it: the broker's ExternalId only as a fingerprint. */
export const ConsumerAccountView = obj({
  id: z.string(),
  name: opt(z.string()),
  accountId: z.string(),
  region: z.string(),
  broker: opt(
    obj({
      roleArn: z.string(),
      externalId: obj({ set: z.boolean(), sha256Prefix: opt(z.string()) }),
    }),
  ),
}).openapi('ConsumerAccountView');

export const NotificationOut = obj({
  id: z.string(),
  user: z.string(),
  kind: z.enum(NOTIFICATION_KINDS),
  title: z.string(),
  text: z.string(),
  link: z.string(),
  domain: z.string(),
  requestId: opt(z.string()),
  grantId: opt(z.string()),
  at: z.string(),
  read: z.boolean(),
}).openapi('Notification');

export const NotificationsMarked = obj({ marked: z.number().int() }).openapi('NotificationsMarked');

export const NotificationSummary = obj({
  unread: z.number().int(),
  pendingApprovals: z.number().int(),
  pendingApprovalsMore: z.boolean(),
}).openapi('NotificationSummary', {
  description:
    'The unread count, and the pending requests the caller may decide, counted up to 100 among the oldest 101 pending of each inbox partition (`pendingApprovalsMore`: there may be more than `pendingApprovals`, which is then a lower bound, shown as `n+`).',
});

export const NotificationSettingsOut = obj({ email: z.boolean() }).openapi('NotificationSettings');
