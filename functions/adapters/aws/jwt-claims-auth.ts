import type { Authenticate } from '../../ports/auth';

interface LambdaBindings {
  event?: { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } };
}

/**
 * On AWS, API Gateway's JWT authorizer has already verified the Cognito token; the claims it
 * passes on name the caller. A request without them never reached us through the authorizer.
 * A groups claim in any other form than the two API Gateway hands over is ignored (the caller's
 * group roles are left as they are), with a log line.
 */
export const apiGatewayJwtAuth: Authenticate = async (c) => {
  const claims = (c.env as LambdaBindings | undefined)?.event?.requestContext?.authorizer?.jwt
    ?.claims;
  const user = claims?.['cognito:username'] ?? claims?.username ?? claims?.sub;
  if (typeof user !== 'string' || user === '') return undefined;
  const raw = claims?.['cognito:groups'];
  const groups = raw === undefined ? undefined : parseGroups(raw);
  if (raw !== undefined && groups === undefined) {
    console.warn(
      JSON.stringify({
        level: 'WARN',
        message: 'cognito:groups claim not in a form API Gateway sends; groups ignored',
        user,
        claimType: Array.isArray(raw) ? 'array' : typeof raw,
      }),
    );
  }
  return { userId: user, name: String(claims?.name ?? user), groups };
};

/**
 * The `cognito:groups` claim exactly as API Gateway's HTTP API JWT authorizer hands it over: an
 * array claim becomes the bracketed, space-separated string `[a b]` (Cognito group names hold no
 * white space), or arrives as a JSON array (`["a","b"]`, as text or as a value). Nothing else is
 * read: a comma is part of a group's name (`[x,admin]` is the one group `x,admin`), and a bare
 * string, a number or an array of non-strings is refused (undefined).
 */
export function parseGroups(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.every(isName) ? [...value] : undefined;
  if (typeof value !== 'string') return undefined;
  if (!value.startsWith('[') || !value.endsWith(']')) return undefined;
  if (value.startsWith('["') || value === '[]') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed)) return parsed.every(isName) ? parsed : undefined;
    } catch {
      // not JSON: read as the bracketed form below
    }
  }
  const inner = value.slice(1, -1);
  if (inner === '') return [];
  const names = inner.split(' ');
  return names.every(isName) ? names : undefined;
}

/** A group name as Cognito allows it: not empty, no white space. */
const isName = (n: unknown): n is string => typeof n === 'string' && n !== '' && !/\s/.test(n);
