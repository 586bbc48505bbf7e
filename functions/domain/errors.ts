// Errors with stable codes. The HTTP layer maps `kind` to a status; the code is what clients match on.

export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_large'
  | 'unavailable';

export class MeshgateError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshgateError';
    this.details = options?.details;
  }
  readonly details?: Record<string, unknown>;
}

export const validation = (code: string, message: string, details?: Record<string, unknown>) =>
  new MeshgateError('validation', code, message, { details });
export const forbidden = (code: string, message: string, details?: Record<string, unknown>) =>
  new MeshgateError('forbidden', code, message, { details });
export const notFound = (code: string, message: string) =>
  new MeshgateError('not_found', code, message);
export const conflict = (code: string, message: string, cause?: unknown) =>
  new MeshgateError('conflict', code, message, { cause });
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new MeshgateError('unprocessable', code, message, { details });
