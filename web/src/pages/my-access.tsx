// My access: the signed-in person's active grants, how to use each, and extending or giving up.
import { useState } from 'preact/hooks';
import type { ApiError, Grant } from '../api';
import { AccessPanel } from '../access';
import { EmptyListing, LoadMore, usePaged, type Paged } from '../paging';
import { asApiError, describedBy, ErrorNote, Field, scopeText, useApp, useLoad, when } from '../ui';
import { durationHours, formatHours } from '../validation';

const HOUR = 3_600_000;

/** How many whole hours may still be added to a grant under the policy's longest grant. */
export function addableHours(maxDurationHours: number, expiresAt: string, now = Date.now()) {
  const left = Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / HOUR));
  return Math.max(0, maxDurationHours - left);
}

/** The server's refusal of an extension, in plain words (never a policy file's line). */
export function extensionRefusal(e: ApiError): string | undefined {
  if (e.code !== 'EXTENSION_EXCEEDS_POLICY') return undefined;
  const d = (e.details ?? {}) as { maxDurationHours?: number; resultingExpiresAt?: string };
  const until = d.resultingExpiresAt ? ` (until ${when(d.resultingExpiresAt)})` : '';
  const max = typeof d.maxDurationHours === 'number' ? formatHours(d.maxDurationHours) : undefined;
  return `That is too long: with it the access would run${until} longer than ${
    max ? `the ${max} policy allows` : 'policy allows'
  } from now. Choose a shorter extension.`;
}

export function MyAccess({ params }: { params: Record<string, string> }) {
  const { api } = useApp();
  const list = usePaged(
    (cursor) => api.grantsPage({ mine: true, status: 'ACTIVE' }, cursor),
    [api],
  );
  return <MyAccessList list={list} open={params.grant} />;
}

/** The page around a listing of the caller's grants, loaded or not (rendered alone in tests). */
export function MyAccessList({ list, open }: { list: Paged<Grant>; open?: string }) {
  const [note, setNote] = useState('');
  return (
    <>
      <h1 tabIndex={-1}>My access</h1>
      <p class="confirmation" role="status" data-testid="access-note">
        {note}
      </p>
      {list.state === 'loading' ? <p class="muted">Loading…</p> : null}
      {list.state === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.state === 'ready' ? (
        list.data.length === 0 ? (
          <EmptyListing
            paged={list}
            none={
              <p>
                You hold no active access. <a href="#/catalog">Find a product in the catalog</a> and
                ask for it; <a href="#/requests">your requests</a> show where each one is.
              </p>
            }
          />
        ) : (
          <ul class="cards">
            {list.data.map((g) => (
              <GrantCard
                key={g.id}
                g={g}
                open={open === g.id}
                onDone={(what) => {
                  setNote(what);
                  list.reload();
                }}
              />
            ))}
          </ul>
        )
      ) : null}
      <LoadMore paged={list} />
    </>
  );
}

function GrantCard({
  g,
  open,
  onDone,
}: {
  g: Grant;
  open: boolean;
  onDone: (what: string) => void;
}) {
  const { api } = useApp();
  const detail = useLoad(() => api.grant(g.id), [api, g.id]);
  const [mode, setMode] = useState<'none' | 'extend' | 'giveup'>(open ? 'extend' : 'none');
  const titleId = `grant-${g.id}`;
  return (
    <li class="card" data-grant={g.id} aria-labelledby={titleId}>
      <h2 id={titleId}>{g.productId}</h2>
      <dl class="facts">
        <dt>Scope</dt>
        <dd>{scopeText(g.scope)}</dd>
        <dt>Until</dt>
        <dd>
          <time dateTime={g.expiresAt}>{when(g.expiresAt)}</time>
        </dd>
        <dt>Request</dt>
        <dd>
          <a href={`#/requests/${g.requestId}`}>{g.requestId}</a>
        </dd>
      </dl>
      {detail.state === 'ready' && detail.data.access ? (
        <AccessPanel access={detail.data.access} titleId={`${titleId}-use`} />
      ) : detail.state === 'error' ? (
        <ErrorNote error={detail.error} />
      ) : null}
      <div class="actions">
        <button
          type="button"
          aria-expanded={mode === 'extend'}
          onClick={() => setMode(mode === 'extend' ? 'none' : 'extend')}
        >
          Extend…
        </button>
        <button
          type="button"
          aria-expanded={mode === 'giveup'}
          onClick={() => setMode(mode === 'giveup' ? 'none' : 'giveup')}
        >
          Give up…
        </button>
      </div>
      {mode === 'extend' ? <ExtendForm g={g} onDone={onDone} /> : null}
      {mode === 'giveup' ? (
        <GiveUpForm g={g} onDone={onDone} onCancel={() => setMode('none')} />
      ) : null}
    </li>
  );
}

/**
 * Asks to extend a grant, knowing the policy's maximum: how much may still be added, checked at
 * the field, and the server's refusal shown there in plain words. Used by My access and by an
 * active request's page.
 */
export function ExtendForm({
  g,
  onDone,
}: {
  g: Pick<Grant, 'id' | 'productId' | 'expiresAt'>;
  onDone: (what: string) => void;
}) {
  const { api } = useApp();
  const product = useLoad(() => api.product(g.productId), [api, g.productId]);
  const [value, setValue] = useState('7');
  const [unit, setUnit] = useState<'days' | 'hours'>('days');
  const [purpose, setPurpose] = useState('');
  const [serverError, setServerError] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const max = product.state === 'ready' ? product.data.maxDurationHours : undefined;
  const addable = max === undefined ? undefined : addableHours(max, g.expiresAt);
  const hours = /^\d+$/.test(value) ? durationHours(Number(value), unit) : undefined;
  const id = `ext-${g.id}`;
  const localError =
    hours === undefined || hours < 1
      ? 'Enter a whole number, 1 or more.'
      : addable !== undefined && hours > addable
        ? addable === 0
          ? 'This access already runs as long as policy allows: it cannot be extended now.'
          : `At most ${formatHours(addable)} can be added (policy allows ${formatHours(max!)} from now).`
        : undefined;
  const fieldError = localError ?? serverError;
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    setServerError(undefined);
    try {
      const r = await api.extend(g.id, { value: Number(value), unit }, purpose.trim());
      onDone(
        `Extension of ${g.productId} asked (${formatHours(hours!)}): request ${r.id}, ${r.status.toLowerCase()}.`,
      );
    } catch (e) {
      const err = asApiError(e);
      const plain = extensionRefusal(err);
      if (plain) setServerError(plain);
      else setError(err);
      setBusy(false);
    }
  };
  return (
    <form
      class="panel"
      aria-label={`Extend access to ${g.productId}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!localError && purpose.trim()) void submit();
      }}
    >
      <p class="muted" data-testid="extend-limit">
        {max === undefined
          ? 'Asking the policy how long this access may run…'
          : `Policy allows ${formatHours(max)} from now; you may add up to ${formatHours(addable!)}.`}
      </p>
      <Field id={id} label="Extend by" error={fieldError}>
        <span class="inline">
          <input
            id={id}
            inputMode="numeric"
            size={5}
            value={value}
            aria-invalid={Boolean(fieldError)}
            aria-describedby={describedBy(id, undefined, fieldError)}
            onInput={(e) => {
              setValue(e.currentTarget.value);
              setServerError(undefined);
            }}
          />
          <select
            aria-label="Unit"
            value={unit}
            onChange={(e) => {
              setUnit(e.currentTarget.value as 'days' | 'hours');
              setServerError(undefined);
            }}
          >
            <option value="days">days</option>
            <option value="hours">hours</option>
          </select>
        </span>
      </Field>
      <Field id={`${id}-purpose`} label="Why you still need it">
        <textarea
          id={`${id}-purpose`}
          required
          rows={2}
          value={purpose}
          onInput={(e) => setPurpose(e.currentTarget.value)}
        />
      </Field>
      <button type="submit" class="primary" disabled={busy || !purpose.trim()}>
        Ask for the extension
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

function GiveUpForm({
  g,
  onDone,
  onCancel,
}: {
  g: Grant;
  onDone: (what: string) => void;
  onCancel: () => void;
}) {
  const { api } = useApp();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const id = `giveup-${g.id}`;
  return (
    <form
      class="panel"
      aria-label={`Give up access to ${g.productId}`}
      onSubmit={async (e) => {
        e.preventDefault();
        if (!reason.trim()) return;
        setBusy(true);
        try {
          await api.revoke(g.id, reason.trim());
          onDone(`You gave up your access to ${g.productId}; it is being removed.`);
        } catch (err) {
          setError(asApiError(err));
          setBusy(false);
        }
      }}
    >
      <p>
        Giving up ends your access to <strong>{g.productId}</strong> now; to read it again you would
        have to ask again.
      </p>
      <Field id={id} label="Why you no longer need it">
        <textarea
          id={id}
          required
          rows={2}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </Field>
      <button type="submit" class="danger" disabled={busy || !reason.trim()}>
        Give up access now
      </button>{' '}
      <button type="button" onClick={onCancel}>
        Keep it
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
