import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  ApiError,
  PERMISSION_LABELS,
  type Api,
  type Permission,
  type Preview,
  type ProductDetail,
} from '../api';
import { summarisePreview } from '../explain';
import { asApiError, describedBy, ErrorNote, Field, Rule, useApp, useLoad, when } from '../ui';
import {
  describeOffered,
  fieldOf,
  principalProblem,
  toRequestBody,
  validateDraft,
  type ColumnMode,
  type DraftErrors,
  type RequestDraft,
} from '../validation';

const EMPTY: RequestDraft = {
  principal: '',
  permissions: ['SELECT'],
  columnMode: 'all',
  columns: [],
  rowFilter: '',
  durationValue: '30',
  durationUnit: 'days',
  purpose: '',
};

/** What policy will do with the request, asked of the explain API as the form changes. */
export function usePreview(api: Api, productId: string, d: RequestDraft, enabled: boolean) {
  const [state, setState] = useState<{ preview?: Preview; error?: ApiError; loading: boolean }>({
    loading: false,
  });
  const body = enabled ? JSON.stringify(toRequestBody(productId, d)) : '';
  useEffect(() => {
    if (!body) {
      setState({ loading: false });
      return;
    }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    const t = setTimeout(() => {
      const { scope, duration } = JSON.parse(body) as ReturnType<typeof toRequestBody>;
      api.preview({ productId, scope, duration }).then(
        (preview) => live && setState({ preview, loading: false }),
        (e: unknown) => live && setState({ error: asApiError(e), loading: false }),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, productId, body]);
  return state;
}

export function PreviewPanel({
  preview,
  error,
  loading,
  pii,
  waitingFor,
}: {
  preview?: Preview;
  error?: ApiError;
  loading: boolean;
  pii: string[];
  waitingFor?: string;
}) {
  if (waitingFor)
    return (
      <div class="preview muted" aria-live="polite">
        {waitingFor}
      </div>
    );
  if (error)
    return (
      <div class="preview" aria-live="polite">
        <ErrorNote error={error} />
      </div>
    );
  if (!preview)
    return (
      <div class="preview muted" aria-live="polite">
        {loading
          ? 'Asking policy…'
          : 'Complete the permissions, columns and duration to see what policy will do.'}
      </div>
    );
  const s = summarisePreview(preview, pii);
  return (
    <div class={`preview tone-${s.tone}`} aria-live="polite" data-outcome={preview.outcome}>
      <strong>{s.headline}</strong>
      <ul>
        {s.steps.map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ul>
      {s.rules.length ? (
        <details>
          <summary>Policy lines that decided this</summary>
          <ul>
            {s.rules.map((r) => (
              <li key={`${r.source}${r.line}`}>
                <Rule rule={r} />
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

/** The fields in the form's order, and where focus goes in each. */
const FIELD_ORDER: (keyof DraftErrors)[] = [
  'principal',
  'permissions',
  'columns',
  'rowFilter',
  'duration',
  'purpose',
];
const FIELD_TARGETS: Record<keyof DraftErrors, string> = {
  principal: '#rq-principal',
  permissions: 'input[name="permissions"]',
  columns: 'input[name="columns"], input[name="columnMode"]',
  rowFilter: '#rq-filter',
  duration: '#rq-duration',
  purpose: '#rq-purpose',
};

/** Consumers: ask for access to a product. */
export function RequestForm({ product }: { product: ProductDetail }) {
  const { api, navigate } = useApp();
  const [d, setD] = useState<RequestDraft>(EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<DraftErrors>({});
  const [submitError, setSubmitError] = useState<ApiError | undefined>();
  const [sending, setSending] = useState(false);
  const names = product.columns.map((c) => c.name);
  const errors = useMemo(
    () => validateDraft(d, { columns: names, maxDurationHours: product.maxDurationHours }),
    [d, product],
  );
  const scopeOk = !errors.permissions && !errors.columns && !errors.duration && !errors.rowFilter;
  const preview = usePreview(api, product.id, d, scopeOk);
  // A row filter the server cannot parse: said at the field, and Submit waits for a valid one.
  const previewFilterError =
    d.rowFilter.trim() &&
    preview.error &&
    (preview.error.code.startsWith('ROW_FILTER') ||
      Object.keys(preview.error.fieldErrors()).some((k) => k.startsWith('scope.rowFilter')))
      ? preview.error.message
      : undefined;
  // Access the requester already holds on this product: extend it rather than ask again.
  const held = useLoad(
    () =>
      api
        .grants({ mine: true, status: 'ACTIVE' })
        .then((gs) => gs.filter((g) => g.productId === product.id)),
    [api, product.id],
  );
  const holding = held.state === 'ready' ? held.data : [];
  const piiAsked = product.columns
    .filter(
      (c) =>
        c.pii &&
        (d.columnMode === 'all' ||
          (d.columnMode === 'include' ? d.columns.includes(c.name) : !d.columns.includes(c.name))),
    )
    .map((c) => c.name);
  const set = (patch: Partial<RequestDraft>) => {
    setD((x) => ({ ...x, ...patch }));
    setServerErrors({});
  };
  const shown = (k: keyof DraftErrors) =>
    serverErrors[k] ??
    (touched[k] || touched.submit ? errors[k] : undefined) ??
    (k === 'rowFilter' ? previewFilterError : undefined);
  const principalLive = d.principal ? principalProblem(d.principal) : undefined;

  const submit = async (e: Event) => {
    e.preventDefault();
    setTouched((t) => ({ ...t, submit: true }));
    setSubmitError(undefined);
    const invalid = FIELD_ORDER.find((k) => errors[k] ?? (k === 'rowFilter' && previewFilterError));
    if (invalid) {
      // The first invalid field, in the form's order (the DOM has not re-rendered the errors yet).
      const target = FIELD_TARGETS[invalid];
      document.querySelector<HTMLElement>(`.request-form ${target}`)?.focus();
      return;
    }
    setSending(true);
    try {
      const r = await api.submit(toRequestBody(product.id, d));
      navigate(`#/requests/${r.id}`);
    } catch (err) {
      const apiErr = asApiError(err);
      const byField: DraftErrors = {};
      for (const [path, msg] of Object.entries(apiErr.fieldErrors())) {
        const f = fieldOf(path);
        if (f) byField[f] = msg;
      }
      if (apiErr.code === 'UNKNOWN_COLUMNS') byField.columns = apiErr.message;
      if (apiErr.code === 'DESCRIBE_NEEDS_WHOLE_TABLE') byField.permissions = apiErr.message;
      if (apiErr.code.startsWith('ROW_FILTER')) byField.rowFilter = apiErr.message;
      if (apiErr.code === 'DURATION_EXCEEDS_POLICY') byField.duration = apiErr.message;
      setServerErrors(byField);
      if (Object.keys(byField).length === 0) setSubmitError(apiErr);
      setSending(false);
    }
  };

  const ids = {
    principal: 'rq-principal',
    rowFilter: 'rq-filter',
    duration: 'rq-duration',
    purpose: 'rq-purpose',
  };
  return (
    <section class="request-form" aria-labelledby="rq-title">
      <h2 id="rq-title">Request access</h2>
      {holding.length ? (
        <p class="warn-note" role="note" data-testid="already-held">
          You already hold access to this product (grant <code>{holding[0]!.id}</code>, until{' '}
          {when(holding[0]!.expiresAt)}).{' '}
          <a href={`#/access?grant=${encodeURIComponent(holding[0]!.id)}`}>
            Extend that access instead
          </a>{' '}
          — a new request is only needed for a different scope or role.
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        <Field
          id={ids.principal}
          label="IAM role that will read the data"
          hint="arn:aws:iam::<account>:role/<name>, or a 12-digit account id"
          error={shown('principal') ?? principalLive}
        >
          <input
            id={ids.principal}
            name="principal"
            autoComplete="off"
            spellcheck={false}
            value={d.principal}
            aria-invalid={Boolean(shown('principal') ?? principalLive)}
            aria-describedby={describedBy(ids.principal, 'h', shown('principal') ?? principalLive)}
            onInput={(e) => set({ principal: e.currentTarget.value })}
            onBlur={() => setTouched((t) => ({ ...t, principal: true }))}
          />
        </Field>

        <fieldset class={shown('permissions') ? 'invalid' : ''}>
          <legend>Permissions</legend>
          {(Object.keys(PERMISSION_LABELS) as Permission[]).map((p) => (
            <label key={p} class="check">
              <input
                type="checkbox"
                name="permissions"
                value={p}
                checked={d.permissions.includes(p)}
                // Not offered where the API refuses it; still there to be unticked if ticked.
                disabled={p === 'DESCRIBE' && !describeOffered(d) && !d.permissions.includes(p)}
                onChange={(e) =>
                  set({
                    permissions: e.currentTarget.checked
                      ? [...d.permissions, p]
                      : d.permissions.filter((x) => x !== p),
                  })
                }
              />
              {PERMISSION_LABELS[p]}
            </label>
          ))}
          {shown('permissions') ? (
            <small class="field-error" role="alert">
              {shown('permissions')}
            </small>
          ) : !describeOffered(d) ? (
            <small class="hint">
              DESCRIBE goes on whole tables only: every column, no row filter.
            </small>
          ) : null}
        </fieldset>

        <fieldset class={shown('columns') ? 'invalid' : ''}>
          <legend>Columns</legend>
          {(
            [
              ['all', 'All columns'],
              ['include', 'Only the columns I choose'],
              ['exclude', 'All but the columns I choose'],
            ] as [ColumnMode, string][]
          ).map(([m, label]) => (
            <label key={m} class="check">
              <input
                type="radio"
                name="columnMode"
                value={m}
                checked={d.columnMode === m}
                onChange={() => set({ columnMode: m, columns: [] })}
              />
              {label}
            </label>
          ))}
          {d.columnMode !== 'all' ? (
            <div
              class="column-picker"
              role="group"
              aria-label={d.columnMode === 'include' ? 'Columns to include' : 'Columns to exclude'}
            >
              {product.columns.map((c) => (
                <label key={c.name} class="check">
                  <input
                    type="checkbox"
                    name="columns"
                    value={c.name}
                    checked={d.columns.includes(c.name)}
                    onChange={(e) => {
                      set({
                        columns: e.currentTarget.checked
                          ? [...d.columns, c.name]
                          : d.columns.filter((x) => x !== c.name),
                      });
                      setTouched((t) => ({ ...t, columns: true }));
                    }}
                  />
                  <code>{c.name}</code> {c.pii ? <span class="badge pii">PII</span> : null}
                </label>
              ))}
            </div>
          ) : null}
          {shown('columns') ? (
            <small class="field-error" role="alert">
              {shown('columns')}
            </small>
          ) : null}
          {piiAsked.length ? (
            <small class="hint">Personal data in this scope: {piiAsked.join(', ')}</small>
          ) : null}
        </fieldset>

        <Field
          id={ids.rowFilter}
          label="Row filter (optional)"
          hint={`Only rows matching this condition, e.g. region = 'EMEA'. Columns: ${names.join(', ')}`}
          error={shown('rowFilter')}
        >
          <textarea
            id={ids.rowFilter}
            name="rowFilter"
            rows={2}
            spellcheck={false}
            value={d.rowFilter}
            aria-invalid={Boolean(shown('rowFilter'))}
            aria-describedby={describedBy(ids.rowFilter, 'h', shown('rowFilter'))}
            onInput={(e) => set({ rowFilter: e.currentTarget.value })}
            onBlur={() => setTouched((t) => ({ ...t, rowFilter: true }))}
          />
        </Field>

        <Field
          id={ids.duration}
          label="For how long"
          hint="Access ends by itself after this."
          error={shown('duration')}
        >
          <span class="inline">
            <input
              id={ids.duration}
              name="durationValue"
              inputMode="numeric"
              size={5}
              value={d.durationValue}
              aria-invalid={Boolean(shown('duration'))}
              aria-describedby={describedBy(ids.duration, 'h', shown('duration'))}
              onInput={(e) => {
                set({ durationValue: e.currentTarget.value });
                setTouched((t) => ({ ...t, duration: true }));
              }}
            />
            <select
              aria-label="Unit"
              name="durationUnit"
              value={d.durationUnit}
              onChange={(e) =>
                set({ durationUnit: e.currentTarget.value as RequestDraft['durationUnit'] })
              }
            >
              <option value="days">days</option>
              <option value="hours">hours</option>
            </select>
          </span>
        </Field>

        <Field
          id={ids.purpose}
          label="Purpose"
          hint="What the data is for; approvers read this."
          error={shown('purpose')}
        >
          <textarea
            id={ids.purpose}
            name="purpose"
            rows={3}
            value={d.purpose}
            aria-invalid={Boolean(shown('purpose'))}
            aria-describedby={describedBy(ids.purpose, 'h', shown('purpose'))}
            onInput={(e) => set({ purpose: e.currentTarget.value })}
            onBlur={() => setTouched((t) => ({ ...t, purpose: true }))}
          />
        </Field>

        <h3>What happens next</h3>
        <PreviewPanel
          {...preview}
          error={previewFilterError ? undefined : preview.error}
          loading={preview.loading}
          pii={preview.preview?.piiColumns ?? piiAsked}
          waitingFor={
            previewFilterError ? 'Correct the row filter to see what policy will do.' : undefined
          }
        />
        <ErrorNote error={submitError} />
        <button
          type="submit"
          class="primary"
          disabled={
            sending ||
            preview.preview?.outcome === 'refused' ||
            Boolean(errors.rowFilter ?? previewFilterError)
          }
        >
          {sending ? 'Sending…' : 'Submit request'}
        </button>
      </form>
    </section>
  );
}
