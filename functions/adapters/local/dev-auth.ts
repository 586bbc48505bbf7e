import {
  createHash,
  createHmac,
  createSecretKey,
  randomBytes,
  randomInt,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { sign } from 'hono/jwt';
import { fail, notFound } from '../../domain/errors';
import type { Authenticate, DevLogin } from '../../ports/auth';
import type { Store } from '../../ports/store';

const TTL_SECONDS = 12 * 3600;

// Crockford's base32: no I, L, O or U to misread.
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A sign-in code for one run of the local server against AWS: 12 characters of base32 (60 bits),
 * shown as XXXX-XXXX-XXXX. Made at start, printed to the console, written nowhere.
 */
export function newSignInCode(): string {
  const chars = Array.from({ length: 12 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]);
  return [0, 4, 8].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/**
 * The claims of an HS256 token whose signature `key` made, or undefined. The signature is checked
 * on every call, with node's HMAC on a key held as a KeyObject: hono's `verify` goes through
 * WebCrypto, which imports the key again and answers through a promise and the thread pool for
 * each token (a tenth of a catalog search's CPU under `npm run bench -- load`).
 */
export function verifiedClaims(token: string, key: KeyObject): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [head, body, signature] = parts as [string, string, string];
  const expected = createHmac('sha256', key).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as unknown;
    if ((header as { alg?: unknown } | null)?.alg !== 'HS256') return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A code as people type it: any case, with or without the dashes and spaces. */
const normalCode = (code: string) =>
  createHash('sha256').update(code.toUpperCase().replace(/[\s-]/g, '')).digest();

/**
 * Local sign-in: any user the store knows. On the embedded default (demo users) the name alone;
 * against AWS (`signInCode` set) the name and the code printed at start, so that nothing but the
 * person at the console signs in with the developer's AWS credentials behind them. Tokens are HS256 JWTs
 * signed with a key made at start-up and never written anywhere, so a restart signs everyone out.
 */
export function devAuth(
  store: Pick<Store, 'getUser'>,
  now: () => Date = () => new Date(),
  opts: { signInCode?: string } = {},
): { login: DevLogin; authenticate: Authenticate } {
  const key = randomBytes(32).toString('base64url');
  const hmacKey = createSecretKey(Buffer.from(key, 'utf8'));
  const expected = opts.signInCode === undefined ? undefined : normalCode(opts.signInCode);
  return {
    async login(user, code) {
      // Before the user is looked up: without the code, nothing is said about who exists.
      if (expected && !(code !== undefined && timingSafeEqual(normalCode(code), expected)))
        throw fail(
          'SIGN_IN_CODE_INVALID',
          code === undefined
            ? 'Send the sign-in code the server printed at start: {"user": "<id>", "code": "<code>"}.'
            : 'That is not the sign-in code the server printed at start.',
        );
      const u = await store.getUser(user);
      if (!u)
        throw notFound(
          'USER_NOT_FOUND',
          expected
            ? `No user ${user}: name them in the configuration's users (or roles) and start again.`
            : `No user ${user}; sign in as one of the demo users.`,
        );
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
      const claims = verifiedClaims(match[1]!, hmacKey);
      if (!claims || claims.iss !== 'meshgate-local' || typeof claims.sub !== 'string')
        return undefined;
      if (typeof claims.until !== 'number' || claims.until * 1000 <= now().getTime())
        return undefined;
      return { userId: claims.sub, name: String(claims.name ?? claims.sub) };
    },
  };
}
