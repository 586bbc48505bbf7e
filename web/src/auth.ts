// Signing in. On the embedded default: a local token from /auth/dev-login. On AWS: the Cognito
// hosted UI with the authorization code flow and PKCE (a public client; no secret in the page).
import type { RuntimeConfig } from './api';

const TOKEN_KEY = 'meshgate.token';
const VERIFIER_KEY = 'meshgate.pkce';

export interface Session {
  token: string;
  expiresAt: string;
}

/**
 * The session lives in localStorage, so a new tab of the portal is signed in too; its expiry is
 * checked on every read (an expired one is dropped), and signing out in one tab signs every tab
 * out (the `storage` event, see `onSessionChange`).
 */
export function loadSession(
  storage: Storage = localStorage,
  now = Date.now(),
): Session | undefined {
  try {
    const s = JSON.parse(storage.getItem(TOKEN_KEY) ?? 'null') as Session | null;
    if (!s || typeof s.token !== 'string' || !(Date.parse(s.expiresAt) > now)) {
      if (s) storage.removeItem(TOKEN_KEY);
      return undefined;
    }
    return s;
  } catch {
    return undefined;
  }
}
export const saveSession = (s: Session, storage: Storage = localStorage) =>
  storage.setItem(TOKEN_KEY, JSON.stringify(s));
export const clearSession = (storage: Storage = localStorage) => storage.removeItem(TOKEN_KEY);

/** Calls `on` when another tab signs in or out (the session key changed there). */
export function onSessionChange(on: (s: Session | undefined) => void): () => void {
  const listener = (e: StorageEvent) => {
    if (e.key === TOKEN_KEY || e.key === null) on(loadSession());
  };
  addEventListener('storage', listener);
  return () => removeEventListener('storage', listener);
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** RFC 7636: a random verifier and its S256 challenge. */
export async function pkcePair(
  random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
) {
  const verifier = base64url(random(32));
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  );
  return { verifier, challenge: base64url(digest) };
}

const redirectUri = () => `${location.origin}/`;

/** Sends the browser to the Cognito hosted UI. */
export async function startCognitoSignIn(cfg: RuntimeConfig): Promise<void> {
  if (!cfg.authDomain || !cfg.userPoolClientId)
    throw new Error(
      'The portal configuration lacks the Cognito sign-in settings (authDomain, userPoolClientId).',
    );
  const { verifier, challenge } = await pkcePair();
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.userPoolClientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    code_challenge_method: 'S256',
    code_challenge: challenge,
  });
  location.assign(`${cfg.authDomain}/oauth2/authorize?${q}`);
}

/** Back from the hosted UI with `?code=`: trades it for tokens. The API takes the ID token (it carries cognito:groups). */
export async function finishCognitoSignIn(cfg: RuntimeConfig, code: string): Promise<Session> {
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  if (!verifier || !cfg.authDomain || !cfg.userPoolClientId)
    throw new Error('The sign-in was not started from this page; sign in again.');
  const res = await fetch(`${cfg.authDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cfg.userPoolClientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  if (!res.ok) throw new Error('Cognito refused the sign-in code; sign in again.');
  const body = (await res.json()) as { id_token: string; expires_in: number };
  return {
    token: body.id_token,
    expiresAt: new Date(Date.now() + body.expires_in * 1000).toISOString(),
  };
}

export function cognitoSignOutUrl(cfg: RuntimeConfig): string | undefined {
  if (!cfg.authDomain || !cfg.userPoolClientId) return undefined;
  return `${cfg.authDomain}/logout?${new URLSearchParams({ client_id: cfg.userPoolClientId, logout_uri: redirectUri() })}`;
}
