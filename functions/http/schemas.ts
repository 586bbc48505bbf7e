import { OPERATION_KINDS, OPERATION_STATUSES } from '../domain/operations';
import { NOTIFICATION_ID } from '../domain/notifications';
import { z } from '@hono/zod-openapi';
import { AUDIT_EVENT_TYPE_LIST, AUDIT_EVENT_TYPES } from '../domain/audit-events';
import { ERROR_CODE_LIST, ERROR_CODES } from '../domain/errors';
import { CLASSIFICATIONS, PERMISSIONS, ROLES } from '../domain/model';
import { STATUSES } from '../domain/status';
import { DEFAULT_PAGE_SIZE, MAX_AUDIT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/paging';
import { PRINCIPAL_PATTERN } from '../domain/request';
import { ROW_FILTER_LIMITS } from '../domain/row-filter';
import { FACETS, type FacetName } from '../ports/search';
import { built, deferred, once } from './deferred';

// Bodies are strict: an unknown field is a 400, never silently dropped.
//
// Every schema is built at its first use (deferred.ts): a route's request schemas when the route is
// first called, all of them when the OpenAPI document is generated. Inside a builder, another
// exported schema is `built(X)`, a shared piece `piece()`.

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The path (`purpose`, `scope.rowFilter`...) of the first string in validated input that holds half
 * of a surrogate pair. JSON can carry one (`"\ud800"`), JavaScript keeps it, but DynamoDB stores
 * strings as UTF-8, where it has no encoding: it would not read back as written, and an audit
 * event holding it would no longer match its hash. The app refuses such input (400).
 */
export function unpairedSurrogateAt(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return UNPAIRED_SURROGATE.test(value) ? path.join('.') : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const at = UNPAIRED_SURROGATE.test(k)
      ? [...path, k].join('.')
      : unpairedSurrogateAt(v, [...path, k]);
    if (at !== undefined) return at;
  }
  return undefined;
}

const name = once(() =>
  z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and - (at most 64)'),
);
const productId = once(() =>
  z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}\/[a-z0-9][a-z0-9_-]{0,127}$/,
      'a product id: <domain>/<name>',
    ),
);
const columnList = once(() =>
  z
    .array(z.string().min(1).max(255))
    .min(1)
    .max(1000)
    .refine((c) => new Set(c).size === c.length, 'columns must not repeat'),
);
const text = (max: number) => z.string().trim().max(max);

export const ColumnScopeSchema = deferred(() =>
  z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('all') }),
    z.strictObject({ mode: z.literal('include'), columns: columnList() }),
    z.strictObject({ mode: z.literal('exclude'), columns: columnList() }),
  ]),
);

export const ScopeSchema = deferred(() =>
  z
    .strictObject({
      permissions: z
        .array(z.enum(PERMISSIONS))
        .min(1)
        .max(PERMISSIONS.length)
        .refine((p) => new Set(p).size === p.length, 'permissions must not repeat'),
      columns: built(ColumnScopeSchema),
      // Not trimmed: a refusal names positions in the text as sent. Parsed against the product's
      // columns by the use case (domain/row-filter.ts), and stored in canonical form.
      rowFilter: z
        .string()
        .max(ROW_FILTER_LIMITS.maxLength)
        .refine((f) => f.trim().length > 0, 'a row filter must not be blank')
        .optional()
        .openapi({
          description:
            'A row filter on the product\'s columns (README, "Row filters"); stored in canonical form.',
          example: "region = 'EMEA' AND amount >= 100",
        }),
    })
    .openapi('Scope'),
);

export const DurationSchema = deferred(() =>
  z
    .strictObject({
      value: z.number().int().positive().max(100_000),
      unit: z.enum(['hours', 'days']),
    })
    .openapi('Duration'),
);

export const NewRequestSchema = deferred(() =>
  z
    .strictObject({
      productId: productId(),
      principal: z
        .string()
        .max(2048)
        .regex(
          PRINCIPAL_PATTERN,
          'an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>) or a 12-digit account id',
        ),
      scope: built(ScopeSchema),
      duration: built(DurationSchema),
      purpose: text(2000).min(1, 'purpose is required'),
    })
    .openapi('NewRequest'),
);

export const PreviewSchema = deferred(() =>
  z
    .strictObject({
      productId: productId(),
      scope: built(ScopeSchema),
      duration: built(DurationSchema),
    })
    .openapi('RequestPreview'),
);

export const ApproveSchema = deferred(() =>
  z
    .strictObject({
      comment: text(2000).default(''),
      narrowedScope: built(ScopeSchema).optional(),
      narrowedDuration: built(DurationSchema).optional(),
    })
    .openapi('Approval'),
);

export const ExtendSchema = deferred(() =>
  z
    .strictObject({
      duration: built(DurationSchema),
      purpose: text(2000).min(1, 'purpose is required'),
    })
    .openapi('Extension'),
);

export const ReasonSchema = deferred(() =>
  z.strictObject({ reason: text(2000).min(1, 'a reason is required') }).openapi('Reason'),
);

export const ExplainSchema = deferred(() =>
  z
    .strictObject({
      user: name().optional(),
      action: z.string().min(1).max(64),
      productId: productId().optional(),
      domain: z.union([name(), z.literal('*')]).optional(),
      object: z.string().min(1).max(200).optional(),
      asRequester: z.boolean().optional(),
    })
    .openapi('ExplainQuestion'),
);

export const MembershipSchema = deferred(() =>
  z
    .strictObject({
      user: name(),
      domain: z.union([name(), z.literal('*')]),
      role: z.enum(ROLES),
    })
    .openapi('Membership'),
);

export const DomainSchema = deferred(() =>
  z
    .strictObject({
      id: name(),
      name: text(200).min(1),
      accountId: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
      description: text(2000).optional(),
    })
    .openapi('Domain'),
);

export const DevLoginSchema = deferred(() =>
  z.strictObject({ user: name(), code: z.string().max(100).optional() }),
);

const bool = once(() => z.enum(['true', 'false']).transform((v) => v === 'true'));

/** `GET /v1/products`: the catalog search (ports/search.ts), one page of it. */
export const ProductQuery = deferred(() =>
  z.object({
    q: z.string().max(200).optional(),
    domain: name().optional(),
    classification: z.enum(CLASSIFICATIONS).optional(),
    tag: z.string().max(100).optional(),
    owner: z.string().max(100).optional(),
    pii: bool().optional(),
    access: bool().optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    cursor: z.string().max(2000).optional(),
  }),
);

export const ProductSearchSchema = deferred(() => {
  const FacetCountsSchema = z.array(z.strictObject({ value: z.string(), count: z.number().int() }));
  return z
    .object({
      items: z.array(
        z.strictObject({
          id: z.string(),
          domain: z.string(),
          name: z.string(),
          title: z.string(),
          description: z.string(),
          owner: z.string(),
          classification: z.enum(CLASSIFICATIONS),
          tags: z.array(z.string()),
          status: z.enum(['ACTIVE', 'RETIRED']),
          pii: z.boolean(),
          access: z.boolean(),
        }),
      ),
      cursor: z.string().optional(),
      total: z.number().int(),
      facets: z.strictObject(
        Object.fromEntries(FACETS.map((f) => [f, FacetCountsSchema])) as Record<
          FacetName,
          typeof FacetCountsSchema
        >,
      ),
    })
    .openapi('ProductSearch');
});

/** `?limit=&cursor=` of a paged listing (domain/paging.ts): a larger limit is a 400. */
const pageQuery = (max: number) => ({
  limit: z.coerce.number().int().min(1).max(max).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(4000).optional(),
});
export const PageQuery = deferred(() => z.object(pageQuery(MAX_PAGE_SIZE)));

export const RequestQuery = deferred(() =>
  z
    .object({
      status: z.enum(STATUSES as [string, ...string[]]).optional(),
      domain: name().optional(),
      mine: bool().optional(),
    })
    .extend(pageQuery(MAX_PAGE_SIZE)),
);

export const GrantQuery = deferred(() =>
  z
    .object({
      domain: name().optional(),
      status: z.enum(['ACTIVE', 'REVOKING', 'REVOKED', 'EXPIRED']).optional(),
      /** Only the caller's own grants (My access), not those of domains they may read. */
      mine: bool().optional(),
    })
    .extend(pageQuery(MAX_PAGE_SIZE)),
);

export const AuditQuerySchema = deferred(() =>
  z.object({
    from: z.iso.datetime({ offset: false }).optional(),
    to: z.iso.datetime({ offset: false }).optional(),
    domain: z.union([name(), z.literal('*')]).optional(),
    actor: name().optional(),
    ...pageQuery(MAX_AUDIT_PAGE_SIZE),
  }),
);

export const IdParam = deferred(() =>
  z.object({
    id: z.string().regex(/^[a-z]{3}_[0-9a-z]{26}$/, 'an id returned by this API'),
  }),
);
export const ProductParams = deferred(() =>
  z.object({
    domain: name(),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,127}$/),
  }),
);
export const DomainParam = deferred(() => z.object({ id: name() }));
export const MembershipParams = deferred(() =>
  z.object({
    domain: z.union([name(), z.literal('*')]),
    user: name(),
    role: z.enum(ROLES),
  }),
);

// The catalogues (domain/errors.ts, domain/audit-events.ts), published as enums; each value's
// meaning is in `x-enum-descriptions`, in the same order.

export const ErrorCodeSchema = deferred(() =>
  z.enum(ERROR_CODE_LIST).openapi('ErrorCode', {
    description:
      'What went wrong, for clients to match on (a stable code; the message may change).',
    'x-enum-descriptions': ERROR_CODE_LIST.map((c) => ERROR_CODES[c].meaning),
  }),
);

export const ErrorSchema = deferred(() =>
  z
    .object({
      error: z.object({
        code: built(ErrorCodeSchema),
        message: z.string(),
        details: z.record(z.string(), z.unknown()).optional(),
      }),
    })
    .openapi('Error'),
);

export const AuditEventTypeSchema = deferred(() =>
  z
    .enum(AUDIT_EVENT_TYPE_LIST, {
      error: 'not an audit event type (the AuditEventType enum of /openapi.json lists them)',
    })
    .openapi('AuditEventType', {
      description: 'What an audit event records.',
      'x-enum-descriptions': AUDIT_EVENT_TYPE_LIST.map((t) => AUDIT_EVENT_TYPES[t].meaning),
    }),
);

export const AuditEventSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      at: z.string(),
      type: built(AuditEventTypeSchema),
      actor: z.string(),
      domain: z.string(),
      requestId: z.string().optional(),
      productId: z.string().optional(),
      fromStatus: z.enum(STATUSES as [string, ...string[]]).optional(),
      toStatus: z.enum(STATUSES as [string, ...string[]]).optional(),
      detail: z.record(z.string(), z.unknown()),
      chain: z.string().optional(),
      seq: z.number().int().optional(),
      prevHash: z.string().optional(),
      hash: z.string().optional(),
    })
    .openapi('AuditEvent'),
);

export const AuditPageSchema = deferred(() =>
  z
    .object({ items: z.array(built(AuditEventSchema)), cursor: z.string().optional() })
    .openapi('AuditPage'),
);

/** `GET /v1/audit/export`: the window and filters of `GET /v1/audit`, plus product, type and the file format. */
export const AuditExportQuerySchema = deferred(() =>
  built(AuditQuerySchema)
    .omit({ limit: true, cursor: true })
    .extend({
      format: z.enum(['csv', 'jsonl']).default('csv'),
      product: productId().optional(),
      // `type=A` or `type=A,B`: an unknown type is a 400. More types than there are is a 400 too
      // (the split stops one past, so a long list costs no more).
      type: z
        .preprocess(
          (v) => (typeof v === 'string' ? v.split(',', AUDIT_EVENT_TYPE_LIST.length + 1) : v),
          z.array(built(AuditEventTypeSchema)).min(1).max(AUDIT_EVENT_TYPE_LIST.length),
        )
        .optional()
        .openapi({
          description: 'Only events of this type, or of these types separated by commas.',
          param: { style: 'form', explode: false },
        }),
    }),
);

export const GrantChainQuerySchema = deferred(() =>
  z.object({
    format: z.enum(['json', 'csv', 'jsonl']).default('json'),
  }),
);

export const VerifyQuery = deferred(() =>
  z.object({ domain: z.union([name(), z.literal('*')]).optional() }),
);

// A domain operation (sync, reconcile), as POST /v1/domains/{id}/sync|reconcile and
// GET /v1/operations/{id} answer it.
export const OperationSchema = deferred(() =>
  z
    .object({
      id: z.string(),
      kind: z.enum(OPERATION_KINDS),
      domain: z.string(),
      status: z.enum(OPERATION_STATUSES),
      requestedBy: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      startedAt: z.string().optional(),
      finishedAt: z.string().optional(),
      attempts: z.number().int(),
      progress: z
        .object({
          unit: z.enum(['products', 'grants']),
          done: z.number().int(),
          total: z.number().int(),
          at: z.string(),
        })
        .optional(),
      report: z.record(z.string(), z.unknown()).optional(),
      error: z
        .object({
          code: z.string(),
          message: z.string(),
          details: z.record(z.string(), z.unknown()).optional(),
        })
        .optional(),
      version: z.number().int(),
    })
    .openapi('Operation'),
);
export const OperationAnswerSchema = deferred(() =>
  z.object({ operation: built(OperationSchema) }),
);
export const OperationPageSchema = deferred(() =>
  z
    .object({ items: z.array(built(OperationSchema)), cursor: z.string().optional() })
    .openapi('OperationPage'),
);
/** `GET /v1/operations?domain=`: one domain's operations, newest first. */
export const OperationQuery = deferred(() =>
  z.object({ domain: name(), ...pageQuery(MAX_PAGE_SIZE) }),
);

/** `POST /v1/consumer-accounts`: an AWS account where consumers query, with its broker role. */
export const ConsumerAccountSchema = deferred(() =>
  z
    .strictObject({
      id: name(),
      name: text(200).min(1).optional(),
      accountId: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
      broker: z.strictObject({
        roleArn: z
          .string()
          .regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN'),
        externalId: z
          .string()
          .regex(/^[\w+=,.@:/-]{2,1224}$/, '2 to 1224 characters of [A-Za-z0-9+=,.@:/-_]'),
      }),
    })
    .refine((c) => c.broker.roleArn.split(':')[4] === c.accountId, {
      path: ['broker', 'roleArn'],
      message: "the broker role must be in the consumer account's account",
    })
    .openapi('ConsumerAccount'),
);

export const NotificationQuery = deferred(() =>
  z.object({
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    cursor: z.string().max(4000).optional(),
    unread: bool().optional(),
  }),
);

export const NotificationParam = deferred(() =>
  z.object({
    id: z.string().regex(NOTIFICATION_ID, 'a notification id returned by this API'),
  }),
);

export const NotificationSettingsSchema = deferred(() => z.strictObject({ email: z.boolean() }));
