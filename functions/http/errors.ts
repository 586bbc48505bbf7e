import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  ERROR_CODES,
  MeshgateError,
  type CodeOf,
  type ErrorCode,
  type ErrorKind,
} from '../domain/errors';

export const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  misdirected: 421,
  unprocessable: 422,
  too_many_requests: 429,
  internal: 500,
  bad_gateway: 502,
  unavailable: 503,
};

/** The codes of the refusals the HTTP framework raises itself, by status; HTTP_ERROR otherwise. */
export const HTTP_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** The status of a code; undefined for HTTP_ERROR, whose status is the framework's. */
export function statusOf(code: ErrorCode): ContentfulStatusCode | undefined {
  const kind = ERROR_CODES[code].kind;
  return kind === 'framework' ? undefined : STATUS[kind];
}

export const errorBody = (code: ErrorCode, message: string, details?: Record<string, unknown>) => ({
  error: { code, message, ...(details ? { details } : {}) },
});

/** An error response with the status of its code. */
export const errorResponse = (
  c: Context,
  code: CodeOf<ErrorKind>,
  message: string,
  details?: Record<string, unknown>,
) => c.json(errorBody(code, message, details), STATUS[ERROR_CODES[code].kind]);

/** One mapping from errors to responses. Never a stack trace in a body. */
export function onError(err: Error, c: Context, log: (msg: string, err: unknown) => void) {
  if (err instanceof MeshgateError) {
    const retry = err.details?.retryAfterSeconds;
    if (err.kind === 'too_many_requests' && typeof retry === 'number')
      c.header('Retry-After', String(retry));
    return c.json(errorBody(err.code, err.message, err.details), STATUS[err.kind]);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const message = /json/i.test(err.message)
      ? 'The body is not valid JSON.'
      : err.message || 'The request was refused.';
    return c.json(errorBody(HTTP_CODES[status] ?? 'HTTP_ERROR', message), status);
  }
  log('unhandled error', err);
  return errorResponse(c, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
}
