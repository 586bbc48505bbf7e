import { useState } from 'preact/hooks';
import type { ApiError, AuditEvent, AuditFilter, Grant } from '../api';
import {
  activeGrantsPerDomain,
  addEvent,
  DECISION_BUCKETS,
  jsonLines,
  newStats,
  OUTCOMES,
} from '../stats';
import { asApiError, Bars, ErrorNote, Show, useApp, useLoad, when } from '../ui';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../audit-types';

const SHOWN = 200;
const day = (d: Date) => d.toISOString().slice(0, 10);

/** The filter form's dates (YYYY-MM-DD, whole UTC days) as the API's window. */
export function toWindow(f: { fromDay: string; toDay: string }): Pick<AuditFilter, 'from' | 'to'> {
  return {
    from: f.fromDay ? `${f.fromDay}T00:00:00.000Z` : undefined,
    to: f.toDay
      ? new Date(Date.parse(`${f.toDay}T00:00:00.000Z`) + 86_400_000).toISOString()
      : undefined,
  };
}

interface Result {
  rows: AuditEvent[];
  stats: ReturnType<typeof newStats>;
}

/** Auditors: filter the trail, see the charts, export the same selection as CSV or JSON Lines. */
export function Audit() {
  const { api } = useApp();
  const today = new Date();
  const [form, setForm] = useState({
    fromDay: day(new Date(today.getTime() - 29 * 86_400_000)),
    toDay: day(today),
    domain: '',
    actor: '',
    product: '',
  });
  const [types, setTypes] = useState<AuditEventType[]>([]);
  // The filter the shown table and charts were read with (the charts never use another).
  const [shownFilter, setShownFilter] = useState<AuditFilter | undefined>();
  const [result, setResult] = useState<Result | undefined>();
  const [read, setRead] = useState(0);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [downloading, setDownloading] = useState<string | undefined>();
  const domains = useLoad(() => api.domains(), [api]);
  const grants = useLoad(() => api.grants({ status: 'ACTIVE' }), [api]);

  const filter = (): AuditFilter => ({
    ...toWindow(form),
    domain: form.domain || undefined,
    actor: form.actor.trim() || undefined,
    product: form.product.trim() || undefined,
    type: types.length ? types.join(',') : undefined,
  });

  const show = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    setRead(0);
    const f = filter();
    setShownFilter(f);
    try {
      const res = await api.auditExport(f, 'jsonl');
      const stats = newStats();
      const rows: AuditEvent[] = [];
      let n = 0;
      for await (const ev of jsonLines<AuditEvent>(res.body!)) {
        addEvent(stats, ev);
        if (rows.length < SHOWN) rows.push(ev);
        if (++n % 500 === 0) setRead(n);
      }
      setRead(n);
      setResult({ rows, stats });
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const download = async (format: 'csv' | 'jsonl') => {
    setDownloading(format);
    setError(undefined);
    try {
      const res = await api.auditExport(filter(), format);
      const blob = await res.blob();
      const name =
        /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ??
        `meshgate-audit.${format}`;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setDownloading(undefined);
    }
  };

  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <>
      <h1 tabIndex={-1}>Audit trail</h1>
      <form class="filters" onSubmit={show} aria-label="Filter the audit trail">
        <div class="field">
          <label for="au-from">From (UTC day)</label>
          <input id="au-from" type="date" value={form.fromDay} onInput={set('fromDay')} />
        </div>
        <div class="field">
          <label for="au-to">To (UTC day, included)</label>
          <input id="au-to" type="date" value={form.toDay} onInput={set('toDay')} />
        </div>
        <div class="field">
          <label for="au-domain">Domain</label>
          <select id="au-domain" value={form.domain} onChange={set('domain')}>
            <option value="">All domains</option>
            <option value="*">Global events</option>
            {domains.state === 'ready'
              ? domains.data.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))
              : null}
          </select>
        </div>
        <div class="field">
          <label for="au-actor">Actor</label>
          <input id="au-actor" value={form.actor} placeholder="bob" onInput={set('actor')} />
        </div>
        <div class="field">
          <label for="au-product">Product</label>
          <input
            id="au-product"
            value={form.product}
            placeholder="sales/orders"
            onInput={set('product')}
          />
        </div>
        <div class="field">
          <label for="au-type">Event types</label>
          <select
            id="au-type"
            multiple
            size={5}
            aria-describedby="au-type-hint"
            onChange={(e) =>
              setTypes([...e.currentTarget.selectedOptions].map((o) => o.value as AuditEventType))
            }
          >
            {(Object.keys(AUDIT_EVENT_TYPES) as AuditEventType[]).map((t) => (
              <option key={t} value={t} selected={types.includes(t)}>
                {t}: {AUDIT_EVENT_TYPES[t]}
              </option>
            ))}
          </select>
          <small id="au-type-hint" class="hint">
            None chosen: every type. Ctrl or ⌘ to choose several.
          </small>
        </div>
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Reading…' : 'Show'}
          </button>
          <button
            type="button"
            disabled={downloading !== undefined}
            onClick={() => download('csv')}
          >
            {downloading === 'csv' ? 'Exporting…' : 'Export CSV'}
          </button>
          <button
            type="button"
            disabled={downloading !== undefined}
            onClick={() => download('jsonl')}
          >
            {downloading === 'jsonl' ? 'Exporting…' : 'Export JSON Lines'}
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {busy ? (
        <p role="status" aria-live="polite">
          {read.toLocaleString()} events read…
        </p>
      ) : null}
      <section aria-label="Charts" class="charts">
        {result ? <Charts result={result} filter={shownFilter} /> : null}
        <Show value={grants}>
          {(items: Grant[]) => (
            <Bars
              caption={`Active grants per domain${shownFilter?.domain || shownFilter?.product ? ' (filtered)' : ''}`}
              unit="grants"
              rows={activeGrantsPerDomain(
                items.filter(
                  (g) =>
                    (!shownFilter?.domain || g.domain === shownFilter.domain) &&
                    (!shownFilter?.product || g.productId === shownFilter.product),
                ),
              ).map(([d, n]) => ({
                label: d,
                parts: [{ name: 'active', value: n }],
              }))}
            />
          )}
        </Show>
      </section>
      {result ? (
        <>
          <h2>Events</h2>
          <p class="muted" role="status">
            {result.stats.events.toLocaleString()} events match
            {result.stats.events > SHOWN ? `; the first ${SHOWN} are shown, export for all` : ''}.
          </p>
          <table class="list audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Actor</th>
                <th scope="col">Domain</th>
                <th scope="col">Subject</th>
                <th scope="col">Chain</th>
              </tr>
            </thead>
            <tbody>
              {result.rows.map((e) => (
                <tr key={e.id} data-type={e.type}>
                  <td data-label="When">
                    <time dateTime={e.at}>{when(e.at)}</time>
                  </td>
                  <td data-label="Type">{e.type}</td>
                  <td data-label="Actor">{e.actor}</td>
                  <td data-label="Domain">{e.domain}</td>
                  <td data-label="Subject">
                    {e.requestId ? (
                      <a href={`#/requests/${e.requestId}`}>{e.productId ?? e.requestId}</a>
                    ) : (
                      (e.productId ?? '')
                    )}
                  </td>
                  <td data-label="Chain">
                    <code class="small" title={e.hash}>
                      {e.chain}#{e.seq}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : !busy ? (
        <p class="muted">Choose a window and press Show to read the trail.</p>
      ) : null}
    </>
  );
}

function Charts({ result, filter }: { result: Result; filter?: AuditFilter }) {
  const days = [...result.stats.perDay.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  const matching = [...result.stats.eventsPerDay.entries()].sort((a, b) =>
    a[0].localeCompare(b[0]),
  );
  // Outcomes are counted from the requests created in the window: a type filter without
  // REQUEST_CREATED leaves them out, which the chart says rather than showing nothing.
  const types = filter?.type?.split(',');
  const noCreations = types !== undefined && !types.includes('REQUEST_CREATED');
  return (
    <>
      <Bars
        caption="Matching events per day (the table's events)"
        unit="events"
        rows={matching.map(([d, n]) => ({ label: d, parts: [{ name: 'events', value: n }] }))}
      />
      {noCreations ? (
        <p class="muted" data-testid="outcomes-note">
          Requests per day by outcome count the requests created in the window: add the
          REQUEST_CREATED type to see them.
        </p>
      ) : (
        <Bars
          caption="Requests per day, by outcome"
          unit="requests"
          rows={days.map(([d, row]) => ({
            label: d,
            parts: OUTCOMES.map((o) => ({ name: o, value: row[o] })),
          }))}
        />
      )}
      {noCreations ? null : (
        <Bars
          caption="Time to decision"
          unit="requests"
          rows={DECISION_BUCKETS.map((b, i) => ({
            label: b,
            parts: [{ name: 'decided', value: result.stats.decisionTimes[i]! }],
          }))}
        />
      )}
    </>
  );
}
