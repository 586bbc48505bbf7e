import { createHmac, timingSafeEqual } from 'node:crypto';
import { validation } from './errors';

/** How many items a page holds when the caller does not say. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page a listing answers; a larger `limit` is a 400. */
export const MAX_PAGE_SIZE = 500;
/** The audit trail may be read in larger pages (exports and auditors' tools walk it). */
export const MAX_AUDIT_PAGE_SIZE = 1000;

/** One page of a listing, as the API answers it: no `cursor` on the last page. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

const badCursor = (why = 'is not one this API returned') =>
  validation('BAD_CURSOR', `The cursor ${why}.`);

/**
 * Opaque, tamper-evident cursors. A cursor carries where a listing resumes (`position`: whatever
 * the listing needs, for example a DynamoDB key or an offset), bound to the listing it was handed
 * out for (`scope`: the route, the caller and the filters, so a cursor of one query or one caller
 * is refused by another) and signed with the deployment's cursor key (HMAC-SHA256). Anything else,
 * a forged, truncated or foreign cursor, is a 400 BAD_CURSOR before any read.
 */
export class CursorCodec {
  constructor(private readonly key: Uint8Array) {
    if (key.length < 32) throw new Error('A cursor key has at least 32 bytes.');
  }

  seal(scope: string, position: unknown): string {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${this.mac(scope, body)}`;
  }

  /** The position sealed in `cursor` for `scope`; BAD_CURSOR when it was not sealed here for it. */
  open<T = unknown>(scope: string, cursor: string): T {
    const dot = cursor.indexOf('.');
    if (dot <= 0 || cursor.length > 4000) throw badCursor();
    const body = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(scope, body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw badCursor('is not one this API handed out for this query');
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
    } catch {
      throw badCursor();
    }
  }

  private mac(scope: string, body: string): string {
    return createHmac('sha256', this.key)
      .update(scope)
      .update('\n')
      .update(body)
      .digest('base64url');
  }
}

/** The scope of a listing's cursors: its name, the caller, and its filters in a stable order. */
export function cursorScope(
  listing: string,
  caller: string,
  filters: Record<string, unknown> = {},
): string {
  const stable = Object.keys(filters)
    .filter((k) => filters[k] !== undefined && k !== 'cursor' && k !== 'limit')
    .sort()
    .map((k) => [k, filters[k]]);
  return JSON.stringify([listing, caller, stable]);
}
