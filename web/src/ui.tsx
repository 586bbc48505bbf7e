// Shared pieces of every page: the app context, data loading, errors in plain words, form fields.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  type Api,
  type AuditEvent,
  type Me,
  type RequestStatus,
  type RuleRef,
  type RuntimeConfig,
  type Scope,
} from './api';
import { ruleText } from './explain';

export interface AppContext {
  api: Api;
  me: Me;
  config: RuntimeConfig;
  navigate: (hash: string) => void;
  /** Reads the bell's and the approvals badge's counts again (after marking read, deciding). */
  refreshCounts?: () => void;
}
export const Ctx = createContext<AppContext | null>(null);
export function useApp(): AppContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('outside the app');
  return c;
}

export type Loaded<T> =
  { state: 'loading' } | { state: 'error'; error: ApiError } | { state: 'ready'; data: T };

/** Loads data for a page; `reload` fetches again (after an action). */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): Loaded<T> & { reload: () => void } {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setValue({ state: 'ready', data }),
      // A failed reload (a poll, say) keeps what is on screen; a failed first load says why.
      (error: unknown) =>
        live &&
        setValue((prev) =>
          prev.state === 'ready' && tick > 0 ? prev : { state: 'error', error: asApiError(error) },
        ),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...value, reload };
}

export const asApiError = (e: unknown): ApiError =>
  e instanceof ApiError
    ? e
    : new ApiError(0, 'ERROR', e instanceof Error ? e.message : 'Something went wrong.');

/** Renders a page's data once loaded; a spinner before, the error if it failed. */
export function Show<T>({
  value,
  children,
}: {
  value: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) {
  if (value.state === 'loading')
    return (
      <p class="muted" role="status">
        Loading…
      </p>
    );
  if (value.state === 'error') return <ErrorNote error={value.error} />;
  return <>{children(value.data)}</>;
}

/** An API error in plain words, with its code for support. */
export function ErrorNote({ error, id }: { error?: ApiError | string; id?: string }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  const code = typeof error === 'string' ? undefined : error.code;
  return (
    <p class="error" role="alert" id={id}>
      {message}
      {code && code !== 'VALIDATION_FAILED' ? <span class="code"> ({code})</span> : null}
    </p>
  );
}

let fieldCounter = 0;
export const useId = (prefix: string) => useState(() => `${prefix}-${++fieldCounter}`)[0];

/** A labelled control with its hint and its error, wired up for screen readers. */
export function Field({
  label,
  hint,
  error,
  children,
  id,
}: {
  label: string;
  hint?: string;
  error?: string;
  id: string;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} class="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}
export const describedBy = (id: string, hint?: string, error?: string) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

export function StatusBadge({ status }: { status: RequestStatus | string }) {
  return (
    <span class={`badge status-${status.toLowerCase()}`} data-status={status}>
      {status}
    </span>
  );
}

export function Rule({ rule }: { rule: RuleRef | null | undefined }) {
  if (!rule) return null;
  return (
    <code class="rule" title="The policy line that decided this">
      {ruleText(rule)}
    </code>
  );
}

export function scopeText(s: Scope): string {
  const cols =
    s.columns.mode === 'all'
      ? 'all columns'
      : `${s.columns.mode === 'include' ? 'only' : 'all but'} ${s.columns.columns.join(', ')}`;
  return `${s.permissions.join(' + ')} on ${cols}${s.rowFilter ? `, rows where ${s.rowFilter}` : ''}`;
}

export const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const EVENT_WORDS: Record<string, string> = {
  REQUEST_CREATED: 'Requested',
  APPROVAL_RECORDED: 'Approved a stage',
  REQUEST_APPROVED: 'Request approved',
  REQUEST_DENIED: 'Denied',
  REQUEST_CANCELLED: 'Cancelled',
  STAGE_ESCALATED: 'Escalated to backup approvers',
  REQUEST_TIMED_OUT: 'Timed out',
  FULFILMENT_STARTED: 'Granting in Lake Formation',
  FULFILMENT_FAILED: 'Granting failed',
  FULFILMENT_UNDO_FAILED: 'Granting failed, not yet undone: tried again',
  FULFILMENT_RETRIED: 'Retry asked',
  GRANT_ACTIVE: 'Access granted',
  REVOKE_REQUESTED: 'Revocation asked',
  REVOKE_FAILED: 'Revocation failed',
  GRANT_REVOKED: 'Access revoked',
  GRANT_EXPIRED: 'Access expired',
  GRANT_EXPIRING: 'Expiring',
  GRANT_RESTORED: 'Granted again after a failed attempt',
  STRAY_GRANT_REMOVED: 'Late grant removed',
};

/** Every step of a request: who, when, what they said, and the policy line that allowed it. */
export function Timeline({ events }: { events: AuditEvent[] }) {
  return (
    <ol class="timeline">
      {events.map((e) => {
        const d = e.detail as {
          comment?: string;
          reason?: string;
          stage?: string;
          decision?: { rules?: RuleRef[] };
          automatic?: boolean;
          entries?: unknown[];
        };
        const rule = d.decision?.rules?.[0];
        return (
          <li key={e.id} data-type={e.type}>
            <div class="timeline-head">
              <strong>{EVENT_WORDS[e.type] ?? e.type}</strong>
              {d.stage ? <span class="muted"> · {d.stage} stage</span> : null}
              <span class="muted">
                {' '}
                by {e.actor} · <time dateTime={e.at}>{when(e.at)}</time>
              </span>
            </div>
            {d.comment ? <p class="quote">“{d.comment}”</p> : null}
            {d.reason ? <p class="quote">Reason: {d.reason}</p> : null}
            {d.automatic ? <p class="muted">No approval needed under policy.</p> : null}
            {Array.isArray(d.entries) && d.entries.length ? (
              <p class="muted">
                {d.entries.length} Lake Formation entr{d.entries.length === 1 ? 'y' : 'ies'}{' '}
                recorded
              </p>
            ) : null}
            {rule ? (
              <details class="policy-lines">
                <summary>Policy line</summary>
                <Rule rule={rule} />
              </details>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

/** A small horizontal bar chart (SVG-free: plain elements, readable by screen readers as a table). */
export function Bars({
  caption,
  rows,
  unit,
}: {
  caption: string;
  rows: { label: string; parts: { name: string; value: number }[] }[];
  unit: string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((n, p) => n + p.value, 0)));
  return (
    <figure class="chart">
      <figcaption>{caption}</figcaption>
      {rows.length === 0 ? <p class="muted">Nothing in this window.</p> : null}
      <table>
        <tbody>
          {rows.map((r) => {
            const total = r.parts.reduce((n, p) => n + p.value, 0);
            return (
              <tr key={r.label}>
                <th scope="row">{r.label}</th>
                <td>
                  <div class="bar" aria-hidden="true">
                    {r.parts.map((p) =>
                      p.value > 0 ? (
                        <span
                          key={p.name}
                          class={`seg seg-${p.name}`}
                          style={{ width: `${(p.value / max) * 100}%` }}
                        />
                      ) : null,
                    )}
                  </div>
                </td>
                <td class="num">
                  {total} {unit}
                  {r.parts.length > 1 ? (
                    <span class="muted">
                      {' '}
                      (
                      {r.parts
                        .filter((p) => p.value)
                        .map((p) => `${p.value} ${p.name}`)
                        .join(', ')}
                      )
                    </span>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}
