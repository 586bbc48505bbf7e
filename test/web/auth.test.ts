// Sign-in helpers of the UI: PKCE for the Cognito hosted UI, and the stored session.
import { clearSession, loadSession, pkcePair, saveSession } from '../../web/src/auth';

test('PKCE: the S256 challenge of RFC 7636, appendix B', async () => {
  const bytes = new Uint8Array([
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
  ]);
  expect(await pkcePair(() => bytes)).toEqual({
    verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  });
});

test('PKCE: a fresh random verifier each time, 43 URL-safe characters', async () => {
  const a = await pkcePair();
  const b = await pkcePair();
  expect(a.verifier).toMatch(/^[\w-]{43}$/);
  expect(a.verifier).not.toBe(b.verifier);
});

class MemoryStorage {
  private m = new Map<string, string>();
  getItem = (k: string) => this.m.get(k) ?? null;
  setItem = (k: string, v: string) => void this.m.set(k, v);
  removeItem = (k: string) => void this.m.delete(k);
}

test('a session is kept until it expires, and a damaged one is ignored', () => {
  const s = new MemoryStorage() as unknown as Storage;
  const now = Date.parse('2026-06-01T12:00:00Z');
  expect(loadSession(s, now)).toBeUndefined();
  saveSession({ token: 't', expiresAt: '2026-06-01T13:00:00Z' }, s);
  expect(loadSession(s, now)).toEqual({ token: 't', expiresAt: '2026-06-01T13:00:00Z' });
  expect(loadSession(s, Date.parse('2026-06-01T13:00:01Z'))).toBeUndefined();
  s.setItem('meshgate.token', '{not json');
  expect(loadSession(s, now)).toBeUndefined();
  saveSession({ token: 't', expiresAt: '2026-06-01T13:00:00Z' }, s);
  clearSession(s);
  expect(loadSession(s, now)).toBeUndefined();
});
