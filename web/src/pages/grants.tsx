import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { Access, ApiError, Grant, Me } from '../api';
import { asApiError, ErrorNote, scopeText, Show, StatusBadge, useApp, when } from '../ui';
import { EmptyListing, LoadMore, usePaged } from '../paging';
import { AccessPanel } from '../access';

/** Owners and admins: active grants on their products, with expiry; revoke. */
export function Grants() {
  const { api } = useApp();
  const [status, setStatus] = useState<Grant['status']>('ACTIVE');
  const grants = usePaged((cursor) => api.grantsPage({ status }, cursor), [api, status]);
  return (
    <>
      <h1 tabIndex={-1}>Grants</h1>
      <div class="field inline-field">
        <label for="grant-status">Show</label>
        <select
          id="grant-status"
          value={status}
          onChange={(e) => setStatus(e.currentTarget.value as Grant['status'])}
        >
          <option value="ACTIVE">Active</option>
          <option value="REVOKING">Being revoked</option>
          <option value="REVOKED">Revoked</option>
          <option value="EXPIRED">Expired</option>
        </select>
      </div>
      <Show value={grants}>
        {(items) =>
          items.length === 0 ? (
            <EmptyListing paged={grants} none={<p class="muted">No grants here.</p>} />
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Holder</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((g) => (
                  <GrantRows key={g.id} g={g} onDone={grants.reload} />
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      <LoadMore paged={grants} />
    </>
  );
}

/** Who policy lets end a grant: its holder (giving it up), the domain's owners, admins. */
const mayRevoke = (me: Me, g: Grant) =>
  g.requester === me.id ||
  me.memberships.some(
    (m) =>
      (m.role === 'owner' && m.domain === g.domain) ||
      (m.role === 'admin' && (m.domain === g.domain || m.domain === '*')),
  );

/** A grant's row and, for an active one opened with "How to use", its access block below it. */
function GrantRows({ g, onDone }: { g: Grant; onDone: () => void }) {
  const { api } = useApp();
  const [shown, setShown] = useState(false);
  const [access, setAccess] = useState<Access | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const toggle = async () => {
    if (shown) return setShown(false);
    setShown(true);
    if (access) return;
    try {
      setAccess((await api.grant(g.id)).access);
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <>
      <GrantRow
        g={g}
        onDone={onDone}
        howTo={
          g.status === 'ACTIVE' ? (
            <button type="button" aria-expanded={shown} onClick={() => void toggle()}>
              How to use
            </button>
          ) : null
        }
      />
      {shown ? (
        <tr data-grant-access={g.id}>
          <td colSpan={6}>
            {access ? <AccessPanel access={access} /> : <ErrorNote error={error} />}
          </td>
        </tr>
      ) : null}
    </>
  );
}

function GrantRow({
  g,
  onDone,
  howTo,
}: {
  g: Grant;
  onDone: () => void;
  howTo?: ComponentChildren;
}) {
  const { api, me } = useApp();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const soon = g.status === 'ACTIVE' && Date.parse(g.expiresAt) - Date.now() < 3 * 86_400_000;
  const revoke = async () => {
    setBusy(true);
    try {
      await api.revoke(g.id, reason.trim());
      onDone();
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };
  return (
    <tr data-grant={g.id}>
      <td data-label="Product">
        <a href={`#/requests/${g.requestId}`}>{g.productId}</a>
      </td>
      <td data-label="Holder">
        {g.requester}
        <br />
        <code class="small">{g.principal}</code>
      </td>
      <td data-label="Scope">{scopeText(g.scope)}</td>
      <td data-label="Expires" class={soon ? 'warn' : ''}>
        {when(g.expiresAt)}
      </td>
      <td data-label="Status">
        <StatusBadge status={g.status} />
      </td>
      <td class="row-actions">
        {howTo}
        {g.status === 'ACTIVE' && mayRevoke(me, g) ? (
          open ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (reason.trim()) void revoke();
              }}
            >
              <label for={`rv-${g.id}`}>Reason</label>
              <input
                id={`rv-${g.id}`}
                required
                value={reason}
                onInput={(e) => setReason(e.currentTarget.value)}
              />
              <button type="submit" class="danger" disabled={busy || !reason.trim()}>
                Revoke now
              </button>
              <ErrorNote error={error} />
            </form>
          ) : (
            <button type="button" onClick={() => setOpen(true)}>
              Revoke…
            </button>
          )
        ) : null}
      </td>
    </tr>
  );
}
