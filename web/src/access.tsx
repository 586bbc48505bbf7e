import { useRef, useState } from 'preact/hooks';
import type { Access } from './api';
import { when } from './ui';

/**
 * Copies text to the clipboard where the browser offers it (secure contexts); elsewhere selects
 * the text shown next to the button, so that the reader copies it with the keyboard.
 */
async function copy(text: string, select: () => void): Promise<boolean> {
  try {
    if (typeof navigator !== 'undefined' && navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (permissions, an insecure origin): fall back to selecting it.
  }
  select();
  return false;
}

function Copyable({ text, label, testId }: { text: string; label: string; testId: string }) {
  const [note, setNote] = useState('');
  const ref = useRef<HTMLElement>(null);
  const select = () => {
    const el = ref.current;
    if (!el || typeof window === 'undefined') return;
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
  };
  return (
    <div class="copyable">
      <pre>
        <code data-testid={testId} ref={ref}>
          {text}
        </code>
      </pre>
      <button
        type="button"
        aria-label={`Copy ${label}`}
        onClick={async () =>
          setNote((await copy(text, select)) ? 'Copied.' : 'Selected: press Ctrl+C or ⌘C to copy.')
        }
      >
        Copy
      </button>
      <span class="muted" role="status" aria-live="polite">
        {note}
      </span>
    </div>
  );
}

/** How to use an active grant: where the data is, until when, and a query to run in Athena. */
export function AccessPanel({
  access: a,
  titleId = 'access-title',
}: {
  access: Access;
  /** The heading's id: unique when several panels share a page (My access). */
  titleId?: string;
}) {
  return (
    <section class="panel access" aria-labelledby={titleId} data-testid="access">
      <h2 id={titleId}>How to use this access</h2>
      <dl class="facts">
        <dt>Data in</dt>
        <dd>
          account <code>{a.account}</code>, {a.region}; catalog <code>{a.catalogId}</code>
        </dd>
        <dt>Table</dt>
        <dd>
          <code>
            {a.database}.{a.table}
          </code>
          {a.tables ? <span class="muted"> (the product has {a.tables.join(', ')})</span> : null}
        </dd>
        {a.link ? (
          <>
            <dt>Resource link</dt>
            <dd>
              <code>
                {a.link.database}.{a.link.table}
              </code>{' '}
              in account <code>{a.link.account}</code>
            </dd>
          </>
        ) : null}
        <dt>For role</dt>
        <dd>
          <code>{a.principal}</code>
        </dd>
        <dt>Columns</dt>
        <dd>{a.columns ? a.columns.join(', ') : 'all'}</dd>
        {a.rowFilter ? (
          <>
            <dt>Rows</dt>
            <dd>
              <code>{a.rowFilter}</code>
            </dd>
          </>
        ) : null}
        <dt>Until</dt>
        <dd>
          <time dateTime={a.expiresAt}>{when(a.expiresAt)}</time>{' '}
          <span class="muted">({a.expiresAt})</span>
        </dd>
      </dl>
      <h3>Athena query</h3>
      <Copyable text={a.query} label="the Athena query" testId="access-query" />
      {a.setup ? (
        <>
          <h3>Before the first query</h3>
          <p>
            Account <code>{a.setup.account}</code> is not managed by Meshgate: its administrator
            runs these once, then the query above works.
          </p>
          <ol class="setup">
            {a.setup.steps.map((s, i) => (
              <li key={i}>
                {s.what}
                <Copyable
                  text={s.command}
                  label={`step ${i + 1}`}
                  testId={`access-step-${i + 1}`}
                />
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
