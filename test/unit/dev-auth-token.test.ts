import { createSecretKey } from 'node:crypto';
import { sign } from 'hono/jwt';
import { verifiedClaims } from '../../functions/adapters/local/dev-auth';

const SECRET = 'a-secret-made-at-start';
const key = createSecretKey(Buffer.from(SECRET, 'utf8'));
const claims = { sub: 'alice', name: 'Alice', until: 2_000_000_000, iss: 'meshgate-local' };

test('a token signed with the key gives its claims back', async () => {
  const token = await sign(claims, SECRET, 'HS256');
  expect(verifiedClaims(token, key)).toEqual(claims);
});

test('a token signed with another key, altered, unsigned or of another algorithm gives nothing', async () => {
  const token = await sign(claims, SECRET, 'HS256');
  const [head, body, signature] = token.split('.') as [string, string, string];
  const other = await sign(claims, 'another-secret', 'HS256');
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'erin' })).toString('base64url');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const hs512 = await sign(claims, SECRET, 'HS512');
  for (const bad of [
    other,
    `${head}.${forged}.${signature}`,
    `${none}.${body}.`,
    `${head}.${body}`,
    `${head}.${body}.${signature.slice(0, -2)}`,
    hs512,
    '',
  ])
    expect(verifiedClaims(bad, key)).toBeUndefined();
});
