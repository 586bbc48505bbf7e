import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { MeshgateError, type ErrorKind } from '../domain/errors';

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  unavailable: 503,
};

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

export const errorBody = (code: string, message: string, details?: Record<string, unknown>) => ({
  error: { code, message, ...(details ? { details } : {}) },
});

/** One mapping from errors to responses. Never a stack trace in a body. */
export function onError(err: Error, c: Context, log: (msg: string, err: unknown) => void) {
  if (err instanceof MeshgateError) {
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
  return c.json(
    errorBody('INTERNAL', 'Something went wrong on our side; it has been logged.'),
    500,
  );
}
