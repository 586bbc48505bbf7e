// Errors with stable codes. The HTTP layer maps `kind` to a status; the code is what clients match on.

export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'misdirected'
  | 'unprocessable'
  | 'too_many_requests'
  | 'internal'
  | 'bad_gateway'
  | 'unavailable';

/**
 * Every error code an API response can carry, with its kind (hence its HTTP status, see
 * http/errors.ts) and what it means. The published list (docs/catalogues.md, the OpenAPI document)
 * is made from this one. A code keeps one kind: the helpers below take only codes of their kind.
 * `framework`: the HTTP framework chose the status, Meshgate does not.
 */
export const ERROR_CODES = {
  // 400
  VALIDATION_FAILED: {
    kind: 'validation',
    meaning:
      'The input is invalid: a field is missing, unknown, malformed or out of range (details.issues names the fields the schema refused).',
  },
  BAD_REQUEST: {
    kind: 'validation',
    meaning: 'The body could not be read: it is not valid JSON.',
  },
  BAD_CURSOR: {
    kind: 'validation',
    meaning: 'The cursor is not one this API handed out for this query.',
  },
  ROW_FILTER_INVALID: {
    kind: 'validation',
    meaning:
      'The row filter does not parse, names a column the product does not have, or is past the limits; the message says where.',
  },
  DESCRIBE_NEEDS_WHOLE_TABLE: {
    kind: 'validation',
    meaning:
      'DESCRIBE is granted on whole tables only: Lake Formation takes a column list with SELECT alone, and DESCRIBE on a row filter would describe the filter, not the table. Ask for SELECT alone with columns or a row filter (it shows the granted columns), or for every column without a row filter.',
  },
  TOO_MANY_ITEMS: {
    kind: 'validation',
    meaning:
      'One write would hold more items (with its audit events and chain heads) than a DynamoDB transaction takes.',
  },
  // 401
  UNAUTHENTICATED: {
    kind: 'unauthenticated',
    meaning: 'No valid bearer token: sign in first.',
  },
  SIGN_IN_CODE_INVALID: {
    kind: 'unauthenticated',
    meaning:
      'Local sign-in against AWS takes the code the server printed at start; it was missing or wrong.',
  },
  // 403
  FORBIDDEN: {
    kind: 'forbidden',
    meaning: 'Refused by the HTTP framework itself; refusals by policy carry the codes below.',
  },
  NOT_ALLOWED: {
    kind: 'forbidden',
    meaning:
      "The policy does not allow the caller this action; the message gives the policy's reason.",
  },
  POLICY_DENIED: {
    kind: 'forbidden',
    meaning:
      'A policy line denies the caller this product; details.explanation shows the rules that decided.',
  },
  NOT_AN_APPROVER: {
    kind: 'forbidden',
    meaning: 'The caller may not decide the current approval stage of this request.',
  },
  SEPARATION_OF_DUTIES: {
    kind: 'forbidden',
    meaning:
      'Nobody decides their own request, and one person approves one stage of a request only.',
  },
  DEV_LOGIN_DISABLED: {
    kind: 'forbidden',
    meaning: 'Local sign-in exists only on the embedded default; sign in through Cognito.',
  },
  FOREIGN_ORIGIN: {
    kind: 'forbidden',
    meaning:
      'The local server takes a change (POST, PUT, PATCH, DELETE) only from its own pages: the Origin is another site.',
  },
  // 404
  NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No route with that method and path.',
  },
  REQUEST_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No request with that id that the caller may see.',
  },
  GRANT_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No grant with that id that the caller may see.',
  },
  OPERATION_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No sync or reconciliation with that id that the caller may see.',
  },
  NOTIFICATION_NOT_FOUND: {
    kind: 'not_found',
    meaning: "No notification with that id among the caller's own.",
  },
  PRODUCT_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No data product with that id (or it no longer exists).',
  },
  DOMAIN_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No domain registered with that id.',
  },
  USER_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'No user with that id.',
  },
  MEMBERSHIP_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'The user does not hold that role in that domain.',
  },
  // 405
  METHOD_NOT_ALLOWED: {
    kind: 'method_not_allowed',
    meaning: 'Refused by the HTTP framework: the method is not allowed there.',
  },
  // 409
  ALREADY_APPROVED: {
    kind: 'conflict',
    meaning: 'The caller already approved this stage of the request.',
  },
  NOT_PENDING: {
    kind: 'conflict',
    meaning: 'Only a pending request can be decided or cancelled; this one is not pending.',
  },
  ALREADY_ESCALATED: {
    kind: 'conflict',
    meaning: 'The current stage of the request was escalated already; it is escalated once.',
  },
  NOT_APPROVED: {
    kind: 'conflict',
    meaning: 'Only an approved request can be taken for fulfilment; this one has moved on.',
  },
  NOT_GRANTING: {
    kind: 'conflict',
    meaning: 'Only a request being granted can become active or failed; this one has moved on.',
  },
  NOT_IN_FLIGHT: {
    kind: 'conflict',
    meaning:
      'Names can be kept in Lake Formation only for a request approved or being granted; this one has moved on.',
  },
  NOT_REVOKING: {
    kind: 'conflict',
    meaning: 'Only a grant being revoked can end; this one is not being revoked.',
  },
  NOT_DUE: {
    kind: 'conflict',
    meaning:
      'The grant has not reached its expiry yet, or the pending request its escalation or timeout.',
  },
  NOT_FAILED: {
    kind: 'conflict',
    meaning: 'Only a failed request can be retried; this one has not failed.',
  },
  NOT_ACTIVE: {
    kind: 'conflict',
    meaning: 'Only an active grant can be revoked or extended; this one is not active.',
  },
  EXTENSION_OPEN: {
    kind: 'conflict',
    meaning: 'An extension of this grant is already pending or under way.',
  },
  INVALID_TRANSITION: {
    kind: 'conflict',
    meaning: "The request's lifecycle does not allow this change from its current status.",
  },
  STALE_REQUEST: {
    kind: 'conflict',
    meaning: 'The request changed since it was read; reload it and try again.',
  },
  OPERATION_RUNNING: {
    kind: 'conflict',
    meaning:
      'A sync (or a reconciliation) of this domain is already queued or running; details.operationId names it. Follow it at /v1/operations/{id}.',
  },
  STALE_OPERATION: {
    kind: 'conflict',
    meaning: 'The operation changed since it was read (another worker took it, or it finished).',
  },
  REQUEST_EXISTS: {
    kind: 'conflict',
    meaning: 'A request with that id already exists.',
  },
  DOMAIN_EXISTS: {
    kind: 'conflict',
    meaning: 'A domain with that id is already registered.',
  },
  CONSUMER_ACCOUNT_EXISTS: {
    kind: 'conflict',
    meaning: 'That AWS account is already registered as a consumer account.',
  },
  LAST_ADMIN_GUARD: {
    kind: 'conflict',
    meaning: 'Admins cannot remove their own admin role.',
  },
  // 413
  PAYLOAD_TOO_LARGE: {
    kind: 'too_large',
    meaning: 'The body is larger than 64 KiB.',
  },
  // 415
  UNSUPPORTED_MEDIA_TYPE: {
    kind: 'unsupported_media_type',
    meaning: 'A body sent without a JSON content type (application/json).',
  },
  // 421
  MISDIRECTED_REQUEST: {
    kind: 'misdirected',
    meaning:
      'The local server answers only its own host names (localhost, 127.0.0.1, [::1] with its port, MESHGATE_PUBLIC_URL); the Host header named another.',
  },
  // 422
  PRODUCT_RETIRED: {
    kind: 'unprocessable',
    meaning: 'The data product is retired and cannot be requested.',
  },
  DOMAIN_NOT_REGISTERED: {
    kind: 'unprocessable',
    meaning: 'The data product belongs to a domain that is not registered.',
  },
  UNKNOWN_COLUMNS: {
    kind: 'unprocessable',
    meaning: 'The scope names columns the product does not have; details.columns lists them.',
  },
  EMPTY_SCOPE: {
    kind: 'unprocessable',
    meaning: 'The exclude list removes every column of the product.',
  },
  DURATION_EXCEEDS_POLICY: {
    kind: 'unprocessable',
    meaning: "The duration is longer than the policy allows for the product's domain.",
  },
  OPEN_REQUEST_LIMIT: {
    kind: 'unprocessable',
    meaning:
      'The caller already has as many open (pending) requests as the policy allows (max-open-requests); a decision or a cancellation of one frees a place (details say how many and the limit).',
  },
  EXTENSION_EXCEEDS_POLICY: {
    kind: 'unprocessable',
    meaning:
      'With the extension the grant would run longer from now than the policy allows: what is left of it plus the added time is checked.',
  },
  NO_APPROVAL_ROUTE: {
    kind: 'unprocessable',
    meaning: 'No policy line routes requests for the product to an approver.',
  },
  NOT_NARROWER: {
    kind: 'unprocessable',
    meaning:
      "An approver's narrowing would widen the request (permissions, columns, row filter or duration).",
  },
  DUPLICATE_PRODUCT: {
    kind: 'unprocessable',
    meaning: "Two entries of a domain's catalog declare the same product; the sync stops.",
  },
  // 500
  INTERNAL: {
    kind: 'internal',
    meaning: "Something went wrong on Meshgate's side; it has been logged.",
  },
  OPERATION_STALLED: {
    kind: 'internal',
    meaning:
      'A sync or reconciliation was started by workers several times and never finished (each worker stopped on it); it was given up. It is found on the operation, never as the answer to a call.',
  },
  // 502
  BROKER_UNAVAILABLE: {
    kind: 'bad_gateway',
    meaning:
      "Meshgate could not act in the domain's account through its broker role: the role is missing or refuses Meshgate (a wrong ExternalId), or it lacks Lake Formation or Glue rights. details name the domain, the role and the AWS error code; the failure is in the trail (BROKER_FAILED).",
  },
  // 503
  POLICY_SUPERSEDED: {
    kind: 'unavailable',
    meaning:
      'This instance decides with another policy version than the one in force; retry (an instance that runs it answers).',
  },
  POLICY_LOAD_FAILED: {
    kind: 'unavailable',
    meaning: 'The policy in force does not load; no decision is made until it is fixed.',
  },
  POLICY_BUSY: {
    kind: 'unavailable',
    meaning: 'Other instances kept recording their policy version at the same time; retry.',
  },
  SEARCH_INDEX_BUILDING: {
    kind: 'unavailable',
    meaning:
      'No catalog search index of this version of Meshgate is published yet (a new deployment, or a new index format); the worker was asked to build it, which takes seconds to a minute. Search again then.',
  },
  AUDIT_CHAIN_BUSY: {
    kind: 'unavailable',
    meaning: 'The audit chain of the domain was busy with other writes; retry.',
  },
  // 429
  RATE_LIMITED: {
    kind: 'too_many_requests',
    meaning:
      'The caller made more calls than the per-user rate limit allows in the current window; nothing was done. Retry after the seconds in the Retry-After header.',
  },
  // Any status
  HTTP_ERROR: {
    kind: 'framework',
    meaning: "Another refusal by the HTTP framework, with the framework's status.",
  },
} as const satisfies Record<string, { kind: ErrorKind | 'framework'; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Every error code, in the order of the catalogue. */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** The codes of one kind. */
export type CodeOf<K extends ErrorKind> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['kind'] extends K ? C : never;
}[ErrorCode];

/** The kind of a code, `framework` when the HTTP framework chooses the status. */
export const kindOf = (code: ErrorCode): ErrorKind | 'framework' => ERROR_CODES[code].kind;

export class MeshgateError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshgateError';
    this.details = options?.details;
  }
  readonly details?: Record<string, unknown>;
}

/** An error whose kind is the one its code has in the catalogue. */
export const fail = (
  code: CodeOf<ErrorKind>,
  message: string,
  options?: { cause?: unknown; details?: Record<string, unknown> },
) => new MeshgateError(ERROR_CODES[code].kind, code, message, options);

// The helpers of each kind: they take only the codes of their kind.
export const validation = (
  code: CodeOf<'validation'>,
  message: string,
  details?: Record<string, unknown>,
) => new MeshgateError('validation', code, message, { details });
export const forbidden = (
  code: CodeOf<'forbidden'>,
  message: string,
  details?: Record<string, unknown>,
) => new MeshgateError('forbidden', code, message, { details });
export const notFound = (code: CodeOf<'not_found'>, message: string) =>
  new MeshgateError('not_found', code, message);
export const conflict = (code: CodeOf<'conflict'>, message: string, cause?: unknown) =>
  new MeshgateError('conflict', code, message, { cause });
export const unprocessable = (
  code: CodeOf<'unprocessable'>,
  message: string,
  details?: Record<string, unknown>,
) => new MeshgateError('unprocessable', code, message, { details });
export const tooManyRequests = (
  code: CodeOf<'too_many_requests'>,
  message: string,
  details?: Record<string, unknown>,
) => new MeshgateError('too_many_requests', code, message, { details });
export const unavailable = (code: CodeOf<'unavailable'>, message: string) =>
  new MeshgateError('unavailable', code, message);
