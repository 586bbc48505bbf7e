import type { Authenticate } from '../../ports/auth';

interface LambdaBindings {
  event?: { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } };
}

/**
 * On AWS, API Gateway's JWT authorizer has already verified the Cognito token; the claims it
 * passes on name the caller. A request without them never reached us through the authorizer.
 */
export const apiGatewayJwtAuth: Authenticate = async (c) => {
  const claims = (c.env as LambdaBindings | undefined)?.event?.requestContext?.authorizer?.jwt
    ?.claims;
  const user = claims?.['cognito:username'] ?? claims?.username ?? claims?.sub;
  if (typeof user !== 'string' || user === '') return undefined;
  const groups = claims?.['cognito:groups'];
  return { userId: user, name: String(claims?.name ?? user), groups: parseGroups(groups) };
};

/** API Gateway passes list claims as a string, `[a b]` or `a,b`; a JSON array is accepted too. */
function parseGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string' || value.trim() === '') return [];
  const text = value.trim();
  if (text.startsWith('[') && text.includes('"')) {
    try {
      return (JSON.parse(text) as unknown[]).map(String);
    } catch {
      // fall through to the bracketed form
    }
  }
  return text
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}
