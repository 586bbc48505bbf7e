import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Api, type DevUser, type RuntimeConfig } from '../api';
import { startCognitoSignIn, type Session } from '../auth';
import { rolesText } from '../roles';
import { asApiError, ErrorNote } from '../ui';

/**
 * Sign-in: a picker of the demo users on the embedded default (and, for the local server against
 * AWS, the code it printed at start), the Cognito hosted UI on AWS.
 */
export function SignIn({
  api,
  config,
  onSession,
  problem,
}: {
  api: Api;
  config: RuntimeConfig;
  onSession: (s: Session) => void;
  problem?: string;
}) {
  const [users, setUsers] = useState<DevUser[] | undefined>();
  const [error, setError] = useState<ApiError | string | undefined>(problem);
  const [busy, setBusy] = useState<string | undefined>();
  const [code, setCode] = useState('');
  const needsCode = config.auth === 'dev-code';

  useEffect(() => {
    if (config.auth === 'dev' || config.auth === 'dev-code')
      api.devUsers().then(setUsers, (e: unknown) => setError(asApiError(e)));
  }, [api, config.auth]);

  const signIn = async (user: string) => {
    setBusy(user);
    setError(undefined);
    try {
      onSession(await api.devLogin(user, needsCode ? code.trim() : undefined));
    } catch (e) {
      setError(asApiError(e));
      setBusy(undefined);
    }
  };

  return (
    <main id="main" class="signin">
      <h1 tabIndex={-1}>Sign in to Meshgate</h1>
      <ErrorNote error={error} />
      {config.auth === 'cognito' ? (
        <button
          type="button"
          class="primary"
          onClick={() => startCognitoSignIn(config).catch((e: unknown) => setError(asApiError(e)))}
        >
          Sign in with your company account
        </button>
      ) : (
        <>
          {needsCode ? (
            <>
              <p>
                This portal runs on this machine against AWS: enter the sign-in code it printed when
                it started, then choose who you are.
              </p>
              <div class="field">
                <label for="signin-code">Sign-in code</label>
                <input
                  id="signin-code"
                  name="code"
                  autocomplete="off"
                  spellcheck={false}
                  placeholder="XXXX-XXXX-XXXX"
                  value={code}
                  onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
                />
              </div>
            </>
          ) : (
            <p>This is the local demo portal: choose who you are. Nobody needs a password here.</p>
          )}
          {users ? (
            <ul class="user-picker">
              {users.map((u) => (
                <li key={u.id}>
                  <button
                    type="button"
                    data-user={u.id}
                    disabled={busy !== undefined || (needsCode && !code.trim())}
                    onClick={() => signIn(u.id)}
                  >
                    <strong>{u.name}</strong>
                    <span>{u.title}</span>
                    <small>{rolesText(u)}</small>
                  </button>
                </li>
              ))}
            </ul>
          ) : !error ? (
            <p class="muted" role="status">
              Loading the demo users…
            </p>
          ) : null}
        </>
      )}
    </main>
  );
}
