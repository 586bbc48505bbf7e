import { useEffect, useState } from 'preact/hooks';
import type { ApiError, AuditEvent, RequestWithHistory } from '../api';
import {
  asApiError,
  ErrorNote,
  Field,
  scopeText,
  Show,
  StatusBadge,
  Timeline,
  useApp,
  useLoad,
  when,
} from '../ui';
import { durationHours, formatHours } from '../validation';
import { LoadMore, usePaged } from '../paging';
import { AccessPanel } from '../access';
import { ExtendForm } from './my-access';

const hoursOf = (d: { value: number; unit: 'hours' | 'days' }) => durationHours(d.value, d.unit);
const narrowed = (r: RequestWithHistory) =>
  JSON.stringify(r.terms.scope) !== JSON.stringify(r.scope);

/** Consumers: every request they made, newest first. */
export function MyRequests() {
  const { api } = useApp();
  const list = usePaged((cursor) => api.requestsPage({ mine: true }, cursor), [api]);
  return (
    <>
      <h1 tabIndex={-1}>My requests</h1>
      <Show value={list}>
        {(items) =>
          items.length === 0 ? (
            <p>
              You have not asked for anything yet.{' '}
              <a href="#/catalog">Find a product in the catalog.</a>
            </p>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Status</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Asked</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id} data-request={r.id}>
                    <td data-label="Product">
                      <a href={`#/requests/${r.id}`}>{r.productId}</a>
                      {r.extendsGrantId ? <span class="muted"> (extension)</span> : null}
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={r.status} />
                    </td>
                    <td data-label="Scope" data-testid="granted-scope">
                      {scopeText(r.terms.scope)}
                      {JSON.stringify(r.terms.scope) !== JSON.stringify(r.scope) ? (
                        <span class="muted"> (narrowed by approvers)</span>
                      ) : null}
                    </td>
                    <td data-label="Asked">{when(r.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      <LoadMore paged={list} />
    </>
  );
}

const IN_FLIGHT = new Set(['APPROVED', 'GRANTING', 'REVOKING']);

/** How far fulfilment has come, from the trail: the Lake Formation entries recorded so far. */
export function fulfilmentProgress(r: RequestWithHistory): string | undefined {
  if (r.status === 'APPROVED') return 'Approved: waiting for the grant job to start…';
  if (r.status !== 'GRANTING') return undefined;
  const p = r.progress;
  if (p)
    return `Granting in Lake Formation: ${p.done} of ${p.total} table${p.total === 1 ? '' : 's'} granted`;
  const failures = r.history.filter((e: AuditEvent) => e.type === 'FULFILMENT_FAILED').length;
  return `Granting in Lake Formation${failures ? ` (attempt ${failures + 1})` : ''}…`;
}

/** One request: its status, every step so far, and what the requester can do with it. */
export function RequestDetail({ id }: { id: string }) {
  const { api, me } = useApp();
  const req = useLoad(() => api.request(id), [api, id]);
  const { reload } = req;
  const status = req.state === 'ready' ? req.data.status : undefined;
  // Live: every second while Lake Formation is being changed, every few seconds while waiting for approvers.
  useEffect(() => {
    if (!status || (!IN_FLIGHT.has(status) && status !== 'PENDING')) return;
    const t = setInterval(reload, IN_FLIGHT.has(status) ? 1000 : 5000);
    return () => clearInterval(t);
  }, [status, reload]);

  return (
    <Show value={req}>
      {(r) => {
        const mine = r.requester === me.id;
        const progress = fulfilmentProgress(r);
        return (
          <>
            <p>
              <a href="#/requests">← My requests</a>
            </p>
            <h1 tabIndex={-1}>Request for {r.productId}</h1>
            <p class="status-line">
              <StatusBadge status={r.status} /> <span class="muted">{r.id}</span>
            </p>
            {progress ? (
              <p class="progress" role="status" aria-live="polite">
                {progress}
              </p>
            ) : null}
            {r.denial ? (
              <p class="denial" data-testid="denial">
                Denied by {r.denial.by}: “{r.denial.reason}”
              </p>
            ) : null}
            {r.cancellation ? (
              <p class="denial" data-testid="cancellation">
                Cancelled: {r.cancellation.reason}
              </p>
            ) : null}
            {r.failure ? <p class="error">Fulfilment failed: {r.failure.reason}</p> : null}
            <dl class="facts">
              <dt>Requested by</dt>
              <dd>{r.requester}</dd>
              <dt>For role</dt>
              <dd>
                <code>{r.principal}</code>
              </dd>
              <dt>Scope</dt>
              <dd>
                {scopeText(r.terms.scope)}
                {narrowed(r) ? (
                  <span class="muted"> (narrowed by approvers; asked: {scopeText(r.scope)})</span>
                ) : null}
              </dd>
              <dt>Duration</dt>
              <dd>
                {formatHours(hoursOf(r.terms.duration))}
                {hoursOf(r.terms.duration) !== hoursOf(r.duration) ? (
                  <span class="muted"> (asked: {formatHours(hoursOf(r.duration))})</span>
                ) : null}
              </dd>
              {r.piiColumns.length ? (
                <>
                  <dt>Personal data</dt>
                  <dd>{r.piiColumns.join(', ')}</dd>
                </>
              ) : null}
              <dt>Purpose</dt>
              <dd>{r.purpose}</dd>
              {r.stages.length ? (
                <>
                  <dt>Approvals</dt>
                  <dd>
                    {r.stages
                      .map((s) => `${s.name}: ${s.approvals.length}/${s.required}`)
                      .join(' → ')}
                  </dd>
                </>
              ) : null}
            </dl>
            {r.access ? <AccessPanel access={r.access} /> : null}
            {mine ? <RequesterActions r={r} onDone={reload} /> : null}
            <h2>Timeline</h2>
            <Timeline events={r.history} />
          </>
        );
      }}
    </Show>
  );
}

function RequesterActions({ r, onDone }: { r: RequestWithHistory; onDone: () => void }) {
  const { api, navigate } = useApp();
  const [error, setError] = useState<ApiError | undefined>();
  const [mode, setMode] = useState<'none' | 'extend' | 'giveup'>('none');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (f: () => Promise<unknown>, after: () => void = onDone) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
      setMode('none');
      after();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="actions" aria-label="Actions">
      {r.status === 'PENDING' ? (
        <button type="button" disabled={busy} onClick={() => run(() => api.cancel(r.id))}>
          Cancel request
        </button>
      ) : null}
      {r.status === 'ACTIVE' && r.grantId ? (
        <>
          <button
            type="button"
            onClick={() => setMode(mode === 'extend' ? 'none' : 'extend')}
            aria-expanded={mode === 'extend'}
          >
            Extend…
          </button>
          <button
            type="button"
            onClick={() => setMode(mode === 'giveup' ? 'none' : 'giveup')}
            aria-expanded={mode === 'giveup'}
          >
            Give up access…
          </button>
        </>
      ) : null}
      {mode === 'extend' && r.grantId && r.access ? (
        <ExtendForm
          g={{ id: r.grantId, productId: r.productId, expiresAt: r.access.expiresAt }}
          onDone={() => navigate('#/requests')}
        />
      ) : null}
      {mode === 'giveup' && r.grantId ? (
        <form
          class="panel"
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) void run(() => api.revoke(r.grantId!, reason));
          }}
        >
          <Field id="giveup-reason" label="Why you no longer need it">
            <textarea
              id="giveup-reason"
              required
              rows={2}
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </Field>
          <button type="submit" class="danger" disabled={busy || !reason.trim()}>
            Give up access now
          </button>
        </form>
      ) : null}
      <ErrorNote error={error} />
    </section>
  );
}
