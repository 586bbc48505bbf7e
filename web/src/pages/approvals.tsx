import { useState } from 'preact/hooks';
import type { ApiError, ProductDetail, RequestWithTerms, Scope } from '../api';
import { plainReason, uniqueRules } from '../explain';
import { mayApprove } from '../roles';
import { asApiError, ErrorNote, Field, Rule, scopeText, Show, useApp, useLoad, when } from '../ui';
import { durationHours, formatHours } from '../validation';
import { LoadMore, usePaged } from '../paging';

/** Owners, stewards and compliance: the requests whose current stage they may decide. */
export function Approvals() {
  const { api, me, refreshCounts } = useApp();
  const inbox = usePaged((cursor) => api.approvalsPage(cursor), [api]);
  const decided = () => {
    inbox.reload();
    refreshCounts?.();
  };
  // The products of the requests loaded so far (more with every page).
  const productIds =
    inbox.state === 'ready'
      ? [...new Set(inbox.data.map((r) => r.productId))].sort().join('\n')
      : '';
  const loadedProducts = useLoad(async () => {
    const products = new Map<string, ProductDetail>();
    await Promise.all(
      productIds
        .split('\n')
        .filter(Boolean)
        .map(async (id) => products.set(id, await api.product(id))),
    );
    return products;
  }, [api, productIds]);
  const products =
    loadedProducts.state === 'ready' ? loadedProducts.data : new Map<string, ProductDetail>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkReason, setBulkReason] = useState('');
  const [bulkResult, setBulkResult] = useState<
    { ok: number; failed: { id: string; error: ApiError }[] } | undefined
  >();
  const [busy, setBusy] = useState(false);
  const [confirmation, setConfirmation] = useState('');

  if (!mayApprove(me)) {
    return (
      <>
        <h1 tabIndex={-1}>Approvals</h1>
        <p class="error" role="alert" data-testid="not-an-approver">
          The approvals inbox is for domain owners, stewards and compliance. You hold no approving
          role; ask a platform admin if you should.
        </p>
      </>
    );
  }

  const bulk = async (action: 'approve' | 'deny') => {
    setBusy(true);
    const failed: { id: string; error: ApiError }[] = [];
    let ok = 0;
    for (const id of selected) {
      try {
        await (action === 'approve'
          ? api.approve(id, { comment: bulkReason.trim() })
          : api.deny(id, bulkReason.trim()));
        ok++;
      } catch (e) {
        failed.push({ id, error: asApiError(e) });
      }
    }
    setBulkResult({ ok, failed });
    setSelected(new Set(failed.map((f) => f.id)));
    setBusy(false);
    decided();
  };

  return (
    <>
      <h1 tabIndex={-1}>Approvals</h1>
      <p class="confirmation" role="status" data-testid="decided">
        {confirmation}
      </p>
      <Show value={inbox}>
        {(items) => (
          <>
            <p class="muted" role="status">
              {items.length}
              {inbox.hasMore ? '+' : ''} request{items.length === 1 ? '' : 's'} waiting for you
            </p>
            {items.length > 0 ? (
              <form
                class="bulk panel"
                onSubmit={(e) => e.preventDefault()}
                aria-label="Decide several requests"
              >
                <label class="check">
                  <input
                    type="checkbox"
                    checked={selected.size === items.length}
                    onChange={(e) =>
                      setSelected(
                        e.currentTarget.checked ? new Set(items.map((r) => r.id)) : new Set(),
                      )
                    }
                  />
                  Select all
                </label>
                <Field
                  id="bulk-reason"
                  label="Comment or reason for the selected requests"
                  hint="Required to deny."
                >
                  <input
                    id="bulk-reason"
                    value={bulkReason}
                    onInput={(e) => setBulkReason(e.currentTarget.value)}
                  />
                </Field>
                <button
                  type="button"
                  class="primary"
                  disabled={busy || selected.size === 0}
                  onClick={() => bulk('approve')}
                >
                  Approve {selected.size} selected
                </button>{' '}
                <button
                  type="button"
                  class="danger"
                  disabled={busy || selected.size === 0 || !bulkReason.trim()}
                  onClick={() => bulk('deny')}
                >
                  Deny {selected.size} selected
                </button>
                {bulkResult ? (
                  <div role="status">
                    <p>{bulkResult.ok} decided.</p>
                    {bulkResult.failed.map((f) => (
                      <ErrorNote key={f.id} error={`${f.id}: ${f.error.message}`} />
                    ))}
                  </div>
                ) : null}
              </form>
            ) : null}
            <ul class="cards">
              {items.map((r) => (
                <InboxItem
                  key={r.id}
                  r={r}
                  product={products.get(r.productId)}
                  selected={selected.has(r.id)}
                  onSelect={(on) =>
                    setSelected((s) => {
                      const n = new Set(s);
                      if (on) n.add(r.id);
                      else n.delete(r.id);
                      return n;
                    })
                  }
                  onDone={(what) => {
                    setConfirmation(what);
                    decided();
                  }}
                />
              ))}
            </ul>
          </>
        )}
      </Show>
      <LoadMore paged={inbox} />
    </>
  );
}

/**
 * The scope an approval narrows to, from the columns left ticked (`narrowCols`, of `granted`, the
 * columns the terms give so far): none when nothing was unticked, or every column was ticked
 * again. DESCRIBE goes on whole tables only (the API refuses it with a column list): a narrowing
 * of the columns keeps SELECT alone.
 */
export function narrowedScopeOf(
  scope: Scope,
  granted: readonly string[],
  narrowCols: readonly string[] | undefined,
): Scope | undefined {
  if (!narrowCols) return undefined;
  const kept = new Set(narrowCols);
  if (granted.length > 0 && granted.every((c) => kept.has(c))) return undefined;
  return {
    ...scope,
    permissions: scope.permissions.filter((p) => p !== 'DESCRIBE'),
    columns: { mode: 'include', columns: [...narrowCols] },
  };
}

function InboxItem({
  r,
  product,
  selected,
  onSelect,
  onDone,
}: {
  r: RequestWithTerms;
  product?: ProductDetail;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onDone: (what: string) => void;
}) {
  const { api } = useApp();
  const [mode, setMode] = useState<'none' | 'approve' | 'deny'>('none');
  const [comment, setComment] = useState('');
  const [reason, setReason] = useState('');
  const [narrowCols, setNarrowCols] = useState<string[] | undefined>();
  const [narrowHours, setNarrowHours] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const stage = r.stages.find((s) => s.approvals.length < s.required);
  // What earlier approvers left: narrowing goes on from there.
  const { scope, duration } = r.terms;
  const pii = r.piiColumns;
  const hours = durationHours(duration.value, duration.unit);
  const columnsError =
    narrowCols && narrowCols.length === 0 ? 'Keep at least one column.' : undefined;
  const narrowedHoursError =
    narrowHours &&
    (!/^\d+$/.test(narrowHours) || Number(narrowHours) < 1 || Number(narrowHours) > hours)
      ? `Between 1 and ${hours} hours.`
      : undefined;

  const act = async (f: () => Promise<{ status: string }>, verb: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const after = await f();
      const next =
        after.status === 'PENDING'
          ? 'it now waits for the next stage'
          : `it is now ${after.status.toLowerCase()}`;
      onDone(`${verb} the request of ${r.requester} for ${r.productId}: ${next}.`);
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };
  const approve = () => {
    const narrowedScope = narrowedScopeOf(scope, granted, narrowCols);
    return act(
      () =>
        api.approve(r.id, {
          comment: comment.trim(),
          narrowedScope,
          narrowedDuration: narrowHours ? { value: Number(narrowHours), unit: 'hours' } : undefined,
        }),
      'Approved',
    );
  };
  // The columns the terms give so far (every mode: all, these, all but these): narrowing keeps some.
  const granted = product
    ? product.columns
        .map((c) => c.name)
        .filter((c) =>
          scope.columns.mode === 'all'
            ? true
            : scope.columns.mode === 'include'
              ? scope.columns.columns.includes(c)
              : !scope.columns.columns.includes(c),
        )
    : [];
  const titleId = `req-${r.id}`;
  return (
    <li class="card inbox-item" data-request={r.id} aria-labelledby={titleId}>
      <div class="row">
        <input
          type="checkbox"
          aria-label={`Select the request of ${r.requester} for ${r.productId}`}
          checked={selected}
          onChange={(e) => onSelect(e.currentTarget.checked)}
        />
        <h2 id={titleId}>
          <a href={`#/requests/${r.id}`}>
            {r.extendsGrantId
              ? `Extension of grant ${r.extendsGrantId}: ${r.requester}, ${r.productId}`
              : `${r.requester} asks for ${r.productId}`}
          </a>
        </h2>
      </div>
      <dl class="facts">
        <dt>Purpose</dt>
        <dd>{r.purpose}</dd>
        <dt>Scope</dt>
        <dd>
          {scopeText(scope)}
          {JSON.stringify(scope) !== JSON.stringify(r.scope) ? (
            <span class="muted"> (narrowed; asked: {scopeText(r.scope)})</span>
          ) : null}
        </dd>
        <dt>For</dt>
        <dd>
          {formatHours(hours)}, role <code>{r.principal}</code>
          {r.terms.endsAt ? (
            <span class="extension-end">
              {' '}
              — extends grant <code>{r.extendsGrantId}</code>: approved now, it would run until{' '}
              <strong>{when(r.terms.endsAt)}</strong>
            </span>
          ) : null}
        </dd>
        <dt>Personal data</dt>
        <dd>{pii.length ? <span class="pii-list">{pii.join(', ')}</span> : 'none'}</dd>
        <dt>Stage</dt>
        <dd>{stage ? `${stage.name} (${stage.approvals.length}/${stage.required})` : '—'}</dd>
        <dt>Asked</dt>
        <dd>{when(r.createdAt)}</dd>
      </dl>
      <details>
        <summary>Why policy sent it to you</summary>
        <ul>
          {r.explanation.map((d, i) => (
            <li key={i}>{plainReason(d)}</li>
          ))}
        </ul>
        <details>
          <summary>Policy lines</summary>
          <ul>
            {uniqueRules(r.explanation).map((x) => (
              <li key={x.source + x.line}>
                <Rule rule={x} />
              </li>
            ))}
          </ul>
        </details>
      </details>
      <div class="actions">
        <button
          type="button"
          onClick={() => setMode(mode === 'approve' ? 'none' : 'approve')}
          aria-expanded={mode === 'approve'}
        >
          Approve…
        </button>
        <button
          type="button"
          onClick={() => setMode(mode === 'deny' ? 'none' : 'deny')}
          aria-expanded={mode === 'deny'}
        >
          Deny…
        </button>
      </div>
      {mode === 'approve' ? (
        <form
          class="panel"
          onSubmit={(e) => {
            e.preventDefault();
            if (!narrowedHoursError && !columnsError) void approve();
          }}
        >
          <Field id={`${r.id}-comment`} label="Comment (optional)">
            <input
              id={`${r.id}-comment`}
              value={comment}
              onInput={(e) => setComment(e.currentTarget.value)}
            />
          </Field>
          {product && scope.permissions.includes('SELECT') ? (
            <fieldset class={columnsError ? 'invalid' : ''}>
              <legend>Narrow the columns (optional)</legend>
              {scope.permissions.includes('DESCRIBE') ? (
                <small class="hint">
                  Narrowing the columns drops DESCRIBE: it goes on whole tables only.
                </small>
              ) : null}
              {granted.map((c) => (
                <label key={c} class="check">
                  <input
                    type="checkbox"
                    checked={narrowCols ? narrowCols.includes(c) : true}
                    onChange={(e) => {
                      const base = narrowCols ?? granted;
                      const next = e.currentTarget.checked
                        ? [...base, c]
                        : base.filter((x) => x !== c);
                      // Every column ticked again is no narrowing (DESCRIBE stays).
                      setNarrowCols(narrowedScopeOf(scope, granted, next) ? next : undefined);
                    }}
                  />
                  <code>{c}</code>{' '}
                  {product.columns.find((x) => x.name === c)?.pii ? (
                    <span class="badge pii">PII</span>
                  ) : null}
                </label>
              ))}
              {columnsError ? (
                <small class="field-error" role="alert">
                  {columnsError}
                </small>
              ) : null}
            </fieldset>
          ) : null}
          <Field
            id={`${r.id}-hours`}
            label="Shorten to (hours, optional)"
            error={narrowedHoursError}
          >
            <input
              id={`${r.id}-hours`}
              inputMode="numeric"
              size={6}
              value={narrowHours}
              placeholder={String(hours)}
              onInput={(e) => setNarrowHours(e.currentTarget.value)}
            />
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            Approve
          </button>
        </form>
      ) : null}
      {mode === 'deny' ? (
        <form
          class="panel"
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) void act(() => api.deny(r.id, reason.trim()), 'Denied');
          }}
        >
          <Field id={`${r.id}-reason`} label="Reason (the requester sees it)">
            <textarea
              id={`${r.id}-reason`}
              required
              rows={2}
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </Field>
          <button type="submit" class="danger" disabled={busy || !reason.trim()}>
            Deny
          </button>
        </form>
      ) : null}
      <ErrorNote error={error} />
    </li>
  );
}
