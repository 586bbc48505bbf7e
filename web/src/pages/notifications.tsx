import { useEffect, useState } from 'preact/hooks';
import type { ApiError, Notification } from '../api';
import { asApiError, ErrorNote, useApp, when } from '../ui';

const PAGE = 20;

/** The caller's notifications, newest first: mark one or all read, open what they are about. */
export function Notifications() {
  const { api, refreshCounts } = useApp();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [items, setItems] = useState<Notification[] | undefined>();
  const [cursor, setCursor] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);

  async function load(more: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const page = await api.notifications({
        limit: PAGE,
        unread: unreadOnly || undefined,
        cursor: more ? cursor : undefined,
      });
      setItems((prev) => (more && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.cursor);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => {
    void load(false);
  }, [api, unreadOnly]);

  async function markRead(n: Notification) {
    try {
      const marked = await api.markNotificationRead(n.id);
      setItems((prev) => prev?.map((x) => (x.id === n.id ? marked : x)));
      refreshCounts?.();
    } catch (e) {
      setError(asApiError(e));
    }
  }
  async function markAll() {
    try {
      await api.markAllNotificationsRead();
      setItems((prev) => prev?.map((x) => ({ ...x, read: true })));
      refreshCounts?.();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  const unread = items?.filter((n) => !n.read).length ?? 0;
  return (
    <>
      <h1 tabIndex={-1}>Notifications</h1>
      <div class="actions">
        <label>
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => setUnreadOnly(e.currentTarget.checked)}
          />{' '}
          Only unread
        </label>
        <button type="button" onClick={markAll} disabled={unread === 0}>
          Mark all read
        </button>
      </div>
      <ErrorNote error={error} />
      {items === undefined ? (
        <p class="muted" role="status">
          Loading…
        </p>
      ) : items.length === 0 ? (
        <p class="muted">Nothing here yet: you will be told here when it is your turn.</p>
      ) : (
        <ul class="notifications" data-testid="notifications">
          {items.map((n) => (
            <li key={n.id} class={n.read ? 'read' : 'unread'} data-kind={n.kind}>
              <p class="title">
                {n.read ? null : <span class="sr-only">Unread: </span>}
                <a href={n.link} onClick={() => !n.read && void markRead(n)}>
                  {n.title}
                </a>
              </p>
              <p>{n.text}</p>
              <p class="muted">
                <small>{when(n.at)}</small>
                {n.read ? null : (
                  <>
                    {' '}
                    <button type="button" class="link" onClick={() => markRead(n)}>
                      Mark read<span class="sr-only">: {n.title}</span>
                    </button>
                  </>
                )}
              </p>
            </li>
          ))}
        </ul>
      )}
      {cursor ? (
        <button type="button" onClick={() => load(true)} disabled={busy}>
          Show older
        </button>
      ) : null}
    </>
  );
}
