import { randomBytes } from 'node:crypto';
import { sign, verify } from 'hono/jwt';
import { notFound } from '../../domain/errors';
import type { Authenticate, DevLogin } from '../../ports/auth';
import type { Store } from '../../ports/store';

const TTL_SECONDS = 12 * 3600;

/**
 * Local sign-in for the embedded default: any seeded user, no password. Tokens are HS256 JWTs
 * signed with a key made at start-up and never written anywhere, so a restart signs everyone out.
 */
export function devAuth(
  store: Pick<Store, 'getUser'>,
  now: () => Date = () => new Date(),
): { login: DevLogin; authenticate: Authenticate } {
  const key = randomBytes(32).toString('base64url');
  return {
    async login(user) {
      const u = await store.getUser(user);
      if (!u)
        throw notFound('USER_NOT_FOUND', `No user ${user}; sign in as one of the demo users.`);
      // The expiry is a claim of our own, checked against the portal's clock (the same clock that
      // stamps requests), not JWT `exp`, which the library checks against the wall clock.
      const until = Math.floor(now().getTime() / 1000) + TTL_SECONDS;
      return {
        token: await sign({ sub: u.id, name: u.name, until, iss: 'meshgate-local' }, key, 'HS256'),
        expiresAt: new Date(until * 1000).toISOString(),
      };
    },
    async authenticate(c) {
      const header = c.req.header('authorization') ?? '';
      const match = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(header);
      if (!match) return undefined;
      try {
        const claims = await verify(match[1]!, key, 'HS256');
        if (claims.iss !== 'meshgate-local' || typeof claims.sub !== 'string') return undefined;
        if (typeof claims.until !== 'number' || claims.until * 1000 <= now().getTime())
          return undefined;
        return { userId: claims.sub, name: String(claims.name ?? claims.sub) };
      } catch {
        return undefined;
      }
    },
  };
}
