import { CallWindows } from '../domain/call-windows';
import { OpenAPIHono, createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Principal } from '../domain/model';
import { ERROR_CODE_LIST, MeshgateError, fail } from '../domain/errors';
import type { Authenticate, DevLogin } from '../ports/auth';
import type { Deps } from '../usecases/deps';
import type { Operation } from '../domain/operations';
import { getOperation, listOperations, startOperation } from '../usecases/operation-runs';
import { readPolicy } from '../usecases/policy-read';
import type { SearchIndex } from '../ports/search';
import {
  approveRequest,
  cancelRequest,
  denyRequest,
  planRequest,
  submitRequest,
} from '../usecases/requests';
import { extendGrant, retryRequest, revokeGrant } from '../usecases/fulfilment';
import {
  approvalsInbox,
  getProduct,
  getRequestWithHistory,
  listDomains,
  listGrants,
  listRequests,
  readAudit,
  searchProducts,
  whoAmI,
} from '../usecases/queries';
import { auditWindow, exportAudit, grantChain } from '../usecases/export';
import {
  addMembership,
  explain,
  limitCalls,
  listMembers,
  prepareCall,
  recordRefusal,
  registerDomain,
  removeMembership,
} from '../usecases/governance';
import { verifyAudit } from '../usecases/audit-verify';
import { getGrant } from '../usecases/access';
import { listConsumerAccounts, registerConsumerAccount } from '../usecases/consumer-accounts';
import {
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
  notificationSettings,
  notificationSummary,
  saveNotificationSettings,
  type NotificationDeps,
} from '../usecases/notifications';
import { requireJson } from './boundary';
import { built, documented } from './deferred';
import { errorResponse, onError, statusOf } from './errors';
import * as S from './schemas';
import type * as Responses from './responses';

/** The API's dependencies: no Lake Formation or catalog (the worker alone reaches domain accounts). */
export interface AppDeps extends Deps, NotificationDeps {
  authenticate: Authenticate;
  /** Present only on the embedded default. */
  devLogin?: DevLogin;
  log?: (msg: string, err: unknown) => void;
  /** Extra routes mounted before the API (the web UI's static files). */
  mountStatic?: (app: OpenAPIHono<AppEnv>) => void;
  /** Calls per user in this instance; one per app when absent. */
  calls?: CallWindows;
  /** The catalog search index (`GET /v1/products`). */
  search: SearchIndex;
}

export type AppEnv = { Variables: { principal: Principal } };

export const MAX_BODY_BYTES = 64 * 1024;
const AUDIT_MAX_RANGE_DAYS = 400;

/**
 * The answers' schemas (responses.ts), built at their first use. Only the OpenAPI document (and the
 * tests that check answers against it) reads them; a cold start that serves anything else does
 * not build them (issue 16: `npm run bench -- bundles`). `require`, unlike `import()`, loads the
 * module synchronously when first called; esbuild bundles it as a module evaluated then.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const R = (): typeof Responses => require('./responses');

/** A media type of an answer; its schema is read from `schema()` when first asked for, then kept. */
const media = (schema: () => z.ZodType) => {
  let made: z.ZodType | undefined;
  return {
    get schema() {
      return (made ??= schema());
    },
  };
};
/** A JSON answer (see `media`). */
const json = (description: string, schema: () => z.ZodType) => ({
  description,
  content: { 'application/json': media(schema) },
});
const binary = () => z.string().openapi({ format: 'binary' });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});
/**
 * The error answers, declared once as components (`#/components/responses/<name>`) that every
 * route refers to: each description names the codes it may carry (domain/errors.ts).
 */
const REFUSALS = {
  400: ['Invalid', 'Invalid input'],
  401: ['Unauthenticated', 'Not signed in'],
  403: ['Forbidden', 'Refused by policy'],
  404: ['NotFound', 'Not found, or not visible to the caller'],
  409: ['Conflict', 'Conflicts with the current state'],
  413: ['TooLarge', 'Body larger than 64 KiB'],
  415: ['NotJson', 'The body is not sent as JSON'],
  422: ['Unprocessable', 'Valid, but refused by the rules'],
  429: ['TooManyCalls', 'Too many calls: retry after the Retry-After seconds'],
  500: ['ServerError', 'Something went wrong on our side'],
  503: ['Unavailable', 'Cannot answer for now: retry'],
} as const;
type RefusalStatus = keyof typeof REFUSALS;
const refusalRef = (status: RefusalStatus) => ({
  $ref: `#/components/responses/${REFUSALS[status][0]}`,
});
const ERRORS = Object.fromEntries(
  ([400, 401, 403, 404, 409, 413, 422, 429, 500, 503] as const).map((s) => [s, refusalRef(s)]),
);
/** Only routes that take a body. */
const UNSUPPORTED = { 415: refusalRef(415) };

/**
 * Declares a route. `who` states the authorization rule; it is published in the OpenAPI document
 * and enforced by the use case through the policy engine.
 */
function route<R extends Omit<RouteConfig, 'responses' | 'description'>>(
  r: R & {
    who: string;
    ok?: 200 | 201 | 202;
  } & (
      | { okSchema: z.ZodType | (() => z.ZodType); okFile?: never }
      /** A route that answers a file rather than JSON: its media types. */
      | { okFile: { description: string; types: string[] }; okSchema?: never }
    ),
) {
  const { who, ok = 200, okSchema, okFile, ...rest } = r;
  return createRoute({
    ...rest,
    description: `Who may call: ${who}`,
    security: [{ bearer: [] }],
    responses: {
      [ok]: okFile
        ? {
            description: okFile.description,
            content: Object.fromEntries(okFile.types.map((t) => [t, media(binary)])),
          }
        : json('OK', typeof okSchema === 'function' ? okSchema : () => built(okSchema)),
      ...ERRORS,
      ...(rest.request?.body ? UNSUPPORTED : {}),
    },
  } as unknown as R & { responses: RouteConfig['responses'] });
}

export function createApp(deps: AppDeps) {
  const log = deps.log ?? ((m, e) => console.error(m, e));
  const calls = deps.calls ?? new CallWindows();
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({
          path: i.path.join('.'),
          message: i.message,
        }));
        const message = issues
          .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
          .join('; ');
        return errorResponse(c, 'VALIDATION_FAILED', message, { issues });
      }
      // Whatever the schema, no half of a surrogate pair gets in (see unpairedSurrogateAt).
      const at = S.unpairedSurrogateAt(result.data);
      if (at !== undefined) {
        const issue = {
          path: at,
          message: 'must be well-formed Unicode text (it holds half of a surrogate pair)',
        };
        return errorResponse(c, 'VALIDATION_FAILED', `${at ? `${at}: ` : ''}${issue.message}`, {
          issues: [issue],
        });
      }
    },
  });

  app.onError(async (err, c) => {
    const who = c.get('principal');
    if (who && err instanceof MeshgateError && err.kind === 'forbidden') {
      await recordRefusal(deps, who, {
        method: c.req.method,
        path: c.req.path,
        route: c.req.routePath,
        code: err.code,
        message: err.message,
      });
    }
    return onError(err, c, log);
  });
  app.notFound((c) => errorResponse(c, 'NOT_FOUND', `No route ${c.req.method} ${c.req.path}.`));
  app.use('*', secureHeaders());
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        errorResponse(c, 'PAYLOAD_TOO_LARGE', `Bodies are limited to ${MAX_BODY_BYTES} bytes.`),
    }),
  );

  app.get('/health', (c) => c.json({ status: 'ok' }));
  // The routes' request schemas are deferred (schemas.ts): their validators build them at the
  // route's first call, the document when it reads them (deferred.ts).
  const registerPath = app.openAPIRegistry.registerPath.bind(app.openAPIRegistry);
  app.openAPIRegistry.registerPath = (r) => registerPath(documented(r));
  app.openAPIRegistry.register('Error', built(S.ErrorSchema));
  for (const [status, [name, description]] of Object.entries(REFUSALS))
    app.openAPIRegistry.registerComponent('responses', name, {
      description: `${description} (${ERROR_CODE_LIST.filter((c) => statusOf(c) === Number(status)).join(', ')})`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Meshgate API',
      version: '1',
      description:
        'Access requests, approvals and time-bound Lake Formation grants for a data mesh on AWS.',
    },
  });

  app.post('/auth/dev-login', requireJson, async (c) => {
    if (!deps.devLogin) {
      return errorResponse(
        c,
        'DEV_LOGIN_DISABLED',
        'Local sign-in is only available on the embedded default; sign in through Cognito.',
      );
    }
    const parsed = S.DevLoginSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success)
      return errorResponse(c, 'VALIDATION_FAILED', 'Send {"user": "<demo user>"}.');
    return c.json(await deps.devLogin(parsed.data.user, parsed.data.code));
  });

  // The sign-in picker of the embedded default: the demo users and what they hold.
  app.get('/auth/dev-users', async (c) => {
    if (!deps.devLogin) {
      return errorResponse(
        c,
        'DEV_LOGIN_DISABLED',
        'Local sign-in is only available on the embedded default; sign in through Cognito.',
      );
    }
    const [users, memberships] = await Promise.all([
      deps.store.listUsers(),
      deps.store.listMemberships(),
    ]);
    return c.json({
      items: users.map((u) => ({ ...u, memberships: memberships.filter((m) => m.user === u.id) })),
    });
  });

  app.use('/v1/*', async (c, next) => {
    const principal = await deps.authenticate(c);
    if (!principal)
      throw fail('UNAUTHENTICATED', 'Sign in first: send Authorization: Bearer <token>.');
    await limitCalls({ ...deps, calls }, principal);
    await prepareCall(deps, principal);
    c.set('principal', principal);
    await next();
  });

  deps.mountStatic?.(app);

  const me = (c: { get(k: 'principal'): Principal }) => c.get('principal');

  app.openapi(
    route({
      method: 'get',
      path: '/v1/me',
      who: 'anyone signed in (about themselves)',
      okSchema: () => R().MeSchema,
    }),
    async (c) => c.json(await whoAmI(deps, me(c))),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/domains',
      request: { query: S.PageQuery },
      who: 'anyone signed in',
      okSchema: () => R().pageOf(R().DomainView, 'DomainPage'),
    }),
    async (c) => c.json(await listDomains(deps, me(c), c.req.valid('query'))),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/domains',
      request: body(S.DomainSchema),
      who: 'platform admins',
      okSchema: () => R().RegisteredDomain,
      ok: 201,
    }),
    async (c) => c.json(await registerDomain(deps, me(c), c.req.valid('json')), 201),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/consumer-accounts',
      request: { query: S.PageQuery },
      who: 'anyone signed in',
      okSchema: () => R().pageOf(R().ConsumerAccountView, 'ConsumerAccountList'),
    }),
    async (c) => c.json(await listConsumerAccounts(deps, me(c), c.req.valid('query'))),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/consumer-accounts',
      request: body(S.ConsumerAccountSchema),
      who: 'platform admins',
      ok: 201,
      okSchema: () => R().ConsumerAccountView,
    }),
    async (c) => c.json(await registerConsumerAccount(deps, me(c), c.req.valid('json')), 201),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/domains/{id}/members',
      request: { params: S.DomainParam, query: S.PageQuery },
      who: "the domain's owners, platform admins",
      okSchema: () => R().pageOf(R().MembershipOut, 'MemberPage'),
    }),
    async (c) =>
      c.json(await listMembers(deps, me(c), c.req.valid('param').id, c.req.valid('query'))),
  );

  // Sync and reconcile run in the worker: the call queues the operation and answers at once, with
  // where to follow it (Location, and GET /v1/operations/{id}).
  const started = (c: Context, op: Operation) => {
    c.header('Location', `/v1/operations/${op.id}`);
    return c.json({ operation: op }, 202);
  };
  for (const kind of ['sync', 'reconcile'] as const)
    app.openapi(
      route({
        method: 'post',
        path: `/v1/domains/{id}/${kind}`,
        request: { params: S.DomainParam },
        who: "the domain's owners, platform admins",
        ok: 202,
        okSchema: S.OperationAnswerSchema,
      }),
      async (c) => started(c, await startOperation(deps, me(c), c.req.valid('param').id, kind)),
    );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/operations',
      request: { query: S.OperationQuery },
      who: 'whoever may start operations on the domain: its owners, platform admins',
      okSchema: S.OperationPageSchema,
    }),
    async (c) => {
      const { domain, ...q } = c.req.valid('query');
      return c.json(await listOperations(deps, me(c), domain, q));
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/operations/{id}',
      request: { params: S.IdParam },
      who: "whoever may start it: the domain's owners, platform admins",
      okSchema: S.OperationAnswerSchema,
    }),
    async (c) => c.json({ operation: await getOperation(deps, me(c), c.req.valid('param').id) }),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/memberships',
      request: body(S.MembershipSchema),
      who: 'platform admins',
      okSchema: () => R().MembershipOut,
      ok: 201,
    }),
    async (c) => c.json(await addMembership(deps, me(c), c.req.valid('json')), 201),
  );

  app.openapi(
    route({
      method: 'delete',
      path: '/v1/memberships/{domain}/{user}/{role}',
      request: { params: S.MembershipParams },
      who: 'platform admins',
      okSchema: () => R().RemovedMembership,
    }),
    async (c) => {
      await removeMembership(deps, me(c), c.req.valid('param'));
      return c.json({ removed: c.req.valid('param') });
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/products',
      request: { query: S.ProductQuery },
      who: 'anyone signed in',
      okSchema: S.ProductSearchSchema,
    }),
    async (c) => c.json(await searchProducts(deps, me(c), c.req.valid('query'))),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/products/{domain}/{name}',
      request: { params: S.ProductParams },
      who: 'anyone signed in',
      okSchema: () => R().ProductDetailSchema,
    }),
    async (c) => {
      const { domain, name } = c.req.valid('param');
      return c.json(await getProduct(deps, `${domain}/${name}`));
    },
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/requests',
      request: body(S.NewRequestSchema),
      who: 'anyone signed in, unless a policy line denies them (auditors)',
      okSchema: () => R().AccessRequestSchema,
      ok: 201,
    }),
    async (c) => c.json(await submitRequest(deps, me(c), c.req.valid('json')), 201),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/requests/preview',
      request: body(S.PreviewSchema),
      who: 'anyone signed in',
      okSchema: () => R().PreviewAnswer,
    }),
    async (c) => {
      const plan = await planRequest(deps, me(c), c.req.valid('json'));
      const outcome =
        !plan.allowed.allowed || !plan.withinLimit.allowed
          ? 'refused'
          : plan.auto.allowed
            ? 'auto-approved'
            : 'needs-approval';
      // `scope` is the scope as it would be stored: the row filter in its canonical form.
      return c.json({
        outcome,
        scope: plan.scope,
        stages: plan.stages.map((s) => ({ name: s.name, rule: s.rule })),
        maxDurationHours: plan.maxDurationHours,
        piiColumns: plan.piiColumns,
        explanation: plan.explanation,
      });
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/requests',
      request: { query: S.RequestQuery },
      who: 'anyone signed in: their own requests, and those of domains they may read',
      okSchema: () => R().pageOf(R().RequestListItemSchema, 'RequestPage'),
    }),
    async (c) =>
      c.json(
        await listRequests(deps, me(c), c.req.valid('query') as Parameters<typeof listRequests>[2]),
      ),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/requests/{id}',
      request: { params: S.IdParam },
      who: "the requester, the domain's owners and stewards, compliance, auditors, admins",
      okSchema: () => R().RequestDetailSchema,
    }),
    async (c) => c.json(await getRequestWithHistory(deps, me(c), c.req.valid('param').id)),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/requests/{id}/approve',
      request: { params: S.IdParam, ...body(S.ApproveSchema) },
      who: 'approvers of the current stage (owners/stewards of the domain, then compliance), never the requester',
      okSchema: () => R().AccessRequestSchema,
    }),
    async (c) =>
      c.json(await approveRequest(deps, me(c), c.req.valid('param').id, c.req.valid('json'))),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/requests/{id}/deny',
      request: { params: S.IdParam, ...body(S.ReasonSchema) },
      who: 'approvers of the current stage, never the requester',
      okSchema: () => R().AccessRequestSchema,
    }),
    async (c) =>
      c.json(await denyRequest(deps, me(c), c.req.valid('param').id, c.req.valid('json').reason)),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/requests/{id}/cancel',
      request: { params: S.IdParam },
      who: 'the requester',
      okSchema: () => R().AccessRequestSchema,
    }),
    async (c) => c.json(await cancelRequest(deps, me(c), c.req.valid('param').id)),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/requests/{id}/retry',
      request: { params: S.IdParam },
      who: "the domain's owners, admins",
      okSchema: () => R().AccessRequestSchema,
      ok: 202,
    }),
    async (c) => c.json(await retryRequest(deps, me(c), c.req.valid('param').id), 202),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/approvals',
      request: { query: S.PageQuery },
      who: 'anyone signed in: the requests whose current stage they may decide',
      okSchema: () => R().pageOf(R().RequestWithTermsSchema, 'ApprovalPage'),
    }),
    async (c) => c.json(await approvalsInbox(deps, me(c), c.req.valid('query'))),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/grants',
      request: { query: S.GrantQuery },
      who: 'anyone signed in: their own grants, and those of domains they may read',
      okSchema: () => R().pageOf(R().GrantSchema, 'GrantPage'),
    }),
    async (c) => c.json(await listGrants(deps, me(c), c.req.valid('query'))),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/grants/{id}',
      request: { params: S.IdParam },
      who: "the requester, the domain's owners and stewards, compliance, auditors, admins (as the grant's request)",
      okSchema: () => R().GrantDetailSchema,
    }),
    async (c) => c.json(await getGrant(deps, me(c), c.req.valid('param').id)),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/grants/{id}/revoke',
      request: { params: S.IdParam, ...body(S.ReasonSchema) },
      who: "the requester (giving it up), the domain's owners, admins",
      okSchema: () => R().GrantSchema,
      ok: 202,
    }),
    async (c) =>
      c.json(
        await revokeGrant(deps, me(c), c.req.valid('param').id, c.req.valid('json').reason),
        202,
      ),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/grants/{id}/extend',
      request: { params: S.IdParam, ...body(S.ExtendSchema) },
      who: 'the requester of the grant; the extension is then decided like a new request',
      okSchema: () => R().AccessRequestSchema,
      ok: 201,
    }),
    async (c) =>
      c.json(await extendGrant(deps, me(c), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/audit',
      request: { query: S.AuditQuerySchema },
      who: 'auditors',
      okSchema: S.AuditPageSchema,
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { from, to } = auditWindow(deps.clock.now(), AUDIT_MAX_RANGE_DAYS, q);
      return c.json(
        await readAudit(
          deps,
          me(c),
          { ...q, domain: q.domain === '*' ? undefined : q.domain, from, to },
          { from: q.from, to: q.to },
        ),
      );
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/audit/verify',
      request: { query: S.VerifyQuery },
      who: 'auditors, platform admins',
      okSchema: () => R().VerifyAnswer,
    }),
    async (c) => c.json(await verifyAudit(deps, me(c), c.req.valid('query').domain)),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/audit/export',
      request: { query: S.AuditExportQuerySchema },
      who: 'auditors',
      okFile: {
        description: 'The events of the window as a CSV or JSON Lines file, streamed',
        types: ['text/csv', 'application/x-ndjson'],
      },
    }),
    async (c) => {
      const { format, ...q } = c.req.valid('query');
      const { from, to } = auditWindow(deps.clock.now(), AUDIT_MAX_RANGE_DAYS, q);
      // Refusals happen here, before the first byte: they are still JSON errors.
      const chunks = await exportAudit(
        deps,
        me(c),
        { ...q, domain: q.domain === '*' ? undefined : q.domain, from, to },
        format,
      );
      const file = `meshgate-audit-${from}-${to}.${format}`.replaceAll(':', '');
      return c.body(
        textStream(chunks, (err) => log(`audit export failed after the first byte (${file})`, err)),
        200,
        {
          'content-type':
            format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="${file}"`,
          'cache-control': 'no-store',
        },
      );
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/grants/{id}/chain',
      request: { params: S.IdParam, query: S.GrantChainQuerySchema },
      who: "auditors and whoever may read the grant's request",
      okFile: {
        description: "The grant's chain of custody as a JSON, CSV or JSON Lines file",
        types: ['application/json', 'text/csv', 'application/x-ndjson'],
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const { format } = c.req.valid('query');
      const text = await grantChain(deps, me(c), id, format);
      const type = {
        json: 'application/json; charset=utf-8',
        csv: 'text/csv; charset=utf-8',
        jsonl: 'application/x-ndjson; charset=utf-8',
      }[format];
      return c.body(text, 200, {
        'content-type': type,
        'content-disposition': `attachment; filename="meshgate-grant-${id}.${format}"`,
        'cache-control': 'no-store',
      });
    },
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/policy/explain',
      request: body(S.ExplainSchema),
      who: "anyone signed in about themselves; the domain's owners, compliance, auditors and admins about others",
      okSchema: () => R().ExplainAnswer,
    }),
    async (c) => c.json(await explain(deps, me(c), c.req.valid('json'))),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/policy',
      who: 'platform admins, compliance, auditors',
      okSchema: () => R().PolicyInForceOut,
    }),
    async (c) => c.json(await readPolicy(deps, me(c))),
  );

  // The caller's own notifications: anyone signed in, about themselves only.
  app.openapi(
    route({
      method: 'get',
      path: '/v1/notifications',
      request: { query: S.NotificationQuery },
      who: 'anyone signed in: their own notifications only',
      okSchema: () => R().pageOf(R().NotificationOut, 'NotificationPage'),
    }),
    async (c) => c.json(await listNotifications(deps, me(c), c.req.valid('query'))),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/notifications/summary',
      who: 'anyone signed in: their own unread count and pending approvals',
      okSchema: () => R().NotificationSummary,
    }),
    async (c) => c.json(await notificationSummary(deps, me(c))),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/notifications/read-all',
      who: 'anyone signed in: their own notifications only',
      okSchema: () => R().NotificationsMarked,
    }),
    async (c) => c.json(await markAllNotificationsRead(deps, me(c))),
  );

  app.openapi(
    route({
      method: 'post',
      path: '/v1/notifications/{id}/read',
      request: { params: S.NotificationParam },
      who: "anyone signed in: their own notifications only (another's is not found)",
      okSchema: () => R().NotificationOut,
    }),
    async (c) => c.json(await markNotificationRead(deps, me(c), c.req.valid('param').id)),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/v1/notifications/settings',
      who: 'anyone signed in: their own settings',
      okSchema: () => R().NotificationSettingsOut,
    }),
    async (c) => c.json(await notificationSettings(deps, me(c))),
  );

  app.openapi(
    route({
      method: 'put',
      path: '/v1/notifications/settings',
      request: body(S.NotificationSettingsSchema),
      who: 'anyone signed in: their own settings',
      okSchema: () => R().NotificationSettingsOut,
    }),
    async (c) => c.json(await saveNotificationSettings(deps, me(c), c.req.valid('json'))),
  );

  return app;
}

/**
 * A byte stream pulled from text chunks: a chunk is produced only when the client has taken the
 * previous ones, so a long export never piles up in memory. A failure after the first byte can
 * only cut the stream short (the status is already sent); it is logged.
 */
function textStream(
  chunks: AsyncIterable<string>,
  onError: (err: unknown) => void,
): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        onError(err);
        controller.error(err);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}

export type MeshgateApp = ReturnType<typeof createApp>;
