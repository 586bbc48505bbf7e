// The approvals UI: one page app on hash routes (#/catalog, #/requests/<id>...), so the same
// static files work behind CloudFront and from the local portal without server routing.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, type Me, type RuntimeConfig } from './api';
import {
  clearSession,
  cognitoSignOutUrl,
  finishCognitoSignIn,
  loadSession,
  onSessionChange,
  saveSession,
  type Session,
} from './auth';
import { mayAdminister, mayApprove, mayAudit, mayManageGrants, rolesText } from './roles';
import { Ctx, ErrorNote, type AppContext } from './ui';
import { SignIn } from './pages/signin';
import { Catalog, ProductPage } from './pages/catalog';
import { MyRequests, RequestDetail } from './pages/requests';
import { Approvals } from './pages/approvals';
import { Grants } from './pages/grants';
import { Audit } from './pages/audit';
import { Notifications } from './pages/notifications';
import { Admin, ADMIN_TABS, type AdminTab } from './pages/admin';
import { MyAccess } from './pages/my-access';
import { NotAllowed } from './not-allowed';
import { useCounts, CountBadge } from './counts';

export interface Route {
  page:
    | 'catalog'
    | 'product'
    | 'requests'
    | 'request'
    | 'approvals'
    | 'grants'
    | 'audit'
    | 'notifications'
    | 'admin'
    | 'access'
    | 'not-found';
  params: Record<string, string>;
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] || '/catalog';
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'not-found', params: {} }; // a malformed % escape
  }
  const [head, a, b] = parts;
  if (head === 'catalog' && !a) {
    // The search and its filters live in the URL (#/catalog?q=...), so Back restores them.
    const query = hash.replace(/^#/, '').split('?')[1];
    return { page: 'catalog', params: Object.fromEntries(new URLSearchParams(query ?? '')) };
  }
  if (head === 'products' && a && b) return { page: 'product', params: { id: `${a}/${b}` } };
  if (head === 'requests' && !a) return { page: 'requests', params: {} };
  if (head === 'requests' && a) return { page: 'request', params: { id: a } };
  if (head === 'approvals') return { page: 'approvals', params: {} };
  if (head === 'grants') return { page: 'grants', params: {} };
  if (head === 'audit') return { page: 'audit', params: {} };
  if (head === 'notifications' && !a) return { page: 'notifications', params: {} };
  if (head === 'admin' && !b && (!a || (ADMIN_TABS as readonly string[]).includes(a)))
    return { page: 'admin', params: { tab: a ?? 'domains' } };
  if (head === 'access' && !a) {
    const query = hash.replace(/^#/, '').split('?')[1];
    return { page: 'access', params: Object.fromEntries(new URLSearchParams(query ?? '')) };
  }
  return { page: 'not-found', params: {} };
}

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Portal({
  config,
  session,
  signOut,
}: {
  config: RuntimeConfig;
  session: Session;
  signOut: (why?: string) => void;
}) {
  const api = useMemo(
    () =>
      new Api(
        config.apiUrl,
        () => session.token,
        () => signOut('Your session has ended; sign in again.'),
      ),
    [config, session, signOut],
  );
  const [me, setMe] = useState<Me | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const route = useHashRoute();
  const heading = useRef<HTMLElement>(null);
  // On a phone the navigation folds behind a Menu button; it folds again on every page change.
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [route.page, route.params.id]);
  // The bell and the approvals badge: read again on every navigation and every minute.
  const counts = useCounts(me ? api : undefined, `${route.page}/${route.params.id ?? ''}`);

  useEffect(() => {
    api
      .me()
      .then(setMe, (e: unknown) =>
        setError(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e))),
      );
  }, [api]);
  // Moves focus to the new page's heading (as soon as it is there: some pages load first), so
  // keyboard and screen reader users start at its top.
  useEffect(() => {
    const main = heading.current;
    if (!main) return;
    const focusHeading = () => {
      const h = main.querySelector<HTMLElement>('h1');
      h?.focus();
      return Boolean(h);
    };
    if (focusHeading()) return;
    const watch = new MutationObserver(() => focusHeading() && watch.disconnect());
    watch.observe(main, { childList: true, subtree: true });
    return () => watch.disconnect();
  }, [route.page, route.params.id, me]);

  if (error)
    return (
      <main id="main">
        <ErrorNote error={error} />
      </main>
    );
  if (!me)
    return (
      <p class="muted" role="status">
        Signing in…
      </p>
    );
  const ctx: AppContext = {
    api,
    me,
    config,
    navigate: (h) => (location.hash = h),
    refreshCounts: counts.refresh,
  };
  const pending = counts.value?.pendingApprovals ?? 0;
  const pendingText = `${pending}${counts.value?.pendingApprovalsMore ? '+' : ''}`;
  const links: [string, string, boolean][] = [
    ['#/catalog', 'Catalog', true],
    ['#/requests', 'My requests', true],
    ['#/access', 'My access', true],
    ['#/approvals', 'Approvals', mayApprove(me)],
    ['#/grants', 'Grants', mayManageGrants(me)],
    ['#/audit', 'Audit', mayAudit(me)],
    ['#/admin', 'Admin', mayAdminister(me)],
  ];
  const current = `#/${route.page === 'product' ? 'catalog' : route.page === 'request' ? 'requests' : route.page}`;
  return (
    <Ctx.Provider value={ctx}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          heading.current?.querySelector<HTMLElement>('h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/catalog">
          Meshgate
        </a>
        <nav aria-label="Main">
          <button
            type="button"
            class="menu-button"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen(!menuOpen)}
          >
            Menu
            {pending > 0 ? (
              <CountBadge
                testId="menu-pending-count"
                text={pendingText}
                label={`${pendingText} waiting for you`}
              />
            ) : null}
          </button>
          <ul id="main-nav" class={menuOpen ? 'open' : undefined}>
            {links
              .filter(([, , show]) => show)
              .map(([href, label]) => (
                <li key={href}>
                  <a href={href} aria-current={current === href ? 'page' : undefined}>
                    {label}
                    {href === '#/approvals' && pending > 0 ? (
                      <CountBadge
                        testId="pending-count"
                        text={pendingText}
                        label={`${pendingText} waiting for you`}
                      />
                    ) : null}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <a
          class="bell"
          href="#/notifications"
          data-testid="bell"
          aria-current={current === '#/notifications' ? 'page' : undefined}
          aria-label={`Notifications, ${counts.value?.unread ?? 0} unread`}
        >
          <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" class="bell-icon">
            <path
              fill="currentColor"
              d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
            />
          </svg>
          {counts.value && counts.value.unread > 0 ? (
            <CountBadge testId="unread-count" text={String(counts.value.unread)} />
          ) : null}
        </a>
        <div class="who" data-testid="who">
          <span>
            <strong>{me.name}</strong> <span class="muted">({me.id})</span>
          </span>
          <small>{rolesText(me)}</small>
          <button type="button" class="link" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={heading}>
        <Page route={route} me={me} />
      </main>
    </Ctx.Provider>
  );
}

function Page({ route, me }: { route: Route; me: Me }) {
  switch (route.page) {
    case 'catalog':
      return <Catalog params={route.params} />;
    case 'product':
      return <ProductPage id={route.params.id!} />;
    case 'requests':
      return <MyRequests />;
    case 'request':
      return <RequestDetail id={route.params.id!} />;
    case 'approvals':
      return <Approvals />;
    case 'grants':
      return <Grants />;
    case 'audit':
      return mayAudit(me) ? <Audit /> : <NotAllowed what="The audit trail" who="auditors" />;
    case 'access':
      return <MyAccess params={route.params} />;
    case 'notifications':
      return <Notifications />;
    case 'admin':
      return <Admin tab={route.params.tab as AdminTab} />;
    default:
      return (
        <>
          <h1 tabIndex={-1}>Page not found</h1>
          <p>
            <a href="#/catalog">Go to the catalog</a>
          </p>
        </>
      );
  }
}

function App({ config }: { config: RuntimeConfig }) {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  const [problem, setProblem] = useState<string | undefined>();
  const api = useMemo(() => new Api(config.apiUrl, () => undefined), [config]);
  // Another tab signed in or out: follow it.
  useEffect(
    () => onSessionChange((s) => setSession((old) => (old?.token === s?.token ? old : s))),
    [],
  );

  useEffect(() => {
    const code = new URLSearchParams(location.search).get('code');
    if (config.auth !== 'cognito' || !code) return;
    history.replaceState(null, '', location.pathname + location.hash);
    finishCognitoSignIn(config, code).then(
      (s) => {
        saveSession(s);
        setSession(s);
      },
      (e: unknown) => setProblem(e instanceof Error ? e.message : String(e)),
    );
  }, [config]);

  const signOut = useMemo(
    () => (why?: string) => {
      clearSession();
      setSession(undefined);
      setProblem(why);
      const out = config.auth === 'cognito' && !why ? cognitoSignOutUrl(config) : undefined;
      if (out) location.assign(out);
    },
    [config],
  );
  if (!session)
    return (
      <SignIn
        api={api}
        config={config}
        problem={problem}
        onSession={(s) => {
          saveSession(s);
          setProblem(undefined);
          setSession(s);
        }}
      />
    );
  return <Portal config={config} session={session} signOut={signOut} />;
}

async function start() {
  const root = document.getElementById('app')!;
  let config: RuntimeConfig;
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`config.json answered ${res.status}`);
    config = (await res.json()) as RuntimeConfig;
  } catch (e) {
    render(
      <main id="main">
        <h1>Meshgate cannot start</h1>
        <ErrorNote
          error={`The portal's configuration could not be read (${e instanceof Error ? e.message : e}).`}
        />
      </main>,
      root,
    );
    return;
  }
  render(<App config={config} />, root);
}

if (typeof document !== 'undefined' && document.getElementById('app')) void start();
