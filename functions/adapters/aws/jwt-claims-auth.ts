import type { Authenticate } from '../../ports/auth';

interface LambdaBindings {
  event?: { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } };
}

/**
 * On AWS, API Gateway's JWT authorizer has already verified the Cognito token; the claims it
 * passes on name the caller. A request without them never reached us through the authorizer.
 */
export const apiGatewayJwtAuth: Authenticate = async (c) => {
  const claims = (c.env as LambdaBindings | undefined)?.event?.requestContext?.authorizer?.jwt?.claims;
  const user = claims?.['cognito:username'] ?? claims?.username ?? claims?.sub;
  if (typeof user !== 'string' || user === '') return undefined;
  return { userId: user, name: String(claims?.name ?? user) };
};
