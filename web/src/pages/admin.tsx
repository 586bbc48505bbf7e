// The admin console, for platform admins: domains (broker status, sync and reconcile with their
// progress and reports, registering one), memberships, failed requests to retry, the audit
// trail's verification, and the policy in force with a tester. Everything through the API, which
// decides every action again.
import { useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  type AccessRequest,
  type DomainInfo,
  type Explained,
  type Membership,
  type Operation,
  type Role,
  type Verification,
} from '../api';
import { mayAdminister } from '../roles';
import { asApiError, ErrorNote, Field, Rule, Show, useApp, useId, useLoad, when } from '../ui';
import { EmptyListing, LoadMore, usePaged, type Paged } from '../paging';

export const ADMIN_TABS = ['domains', 'members', 'failed', 'audit', 'policy'] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];
const TAB_NAMES: Record<AdminTab, string> = {
  domains: 'Domains',
  members: 'Memberships',
  failed: 'Failed requests',
  audit: 'Audit verification',
  policy: 'Policy',
};

/** How often a running operation is read again. */
const POLL_MS = 1000;

export function Admin({ tab }: { tab: AdminTab }) {
  const { me } = useApp();
  if (!mayAdminister(me))
    return (
      <>
        <h1 tabIndex={-1}>Not allowed</h1>
        <p data-testid="not-allowed">
          The admin console is for platform admins. <a href="#/catalog">Go to the catalog</a>
        </p>
      </>
    );
  return (
    <>
      <h1 tabIndex={-1}>Admin: {TAB_NAMES[tab]}</h1>
      <nav aria-label="Admin" class="tabs">
        <ul>
          {ADMIN_TABS.map((t) => (
            <li key={t}>
              <a href={`#/admin/${t}`} aria-current={t === tab ? 'page' : undefined}>
                {TAB_NAMES[t]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === 'domains' ? <Domains /> : null}
      {tab === 'members' ? <Members /> : null}
      {tab === 'failed' ? (
        <>
          <FailedRequests />
          <UndoPendingRequests />
        </>
      ) : null}
      {tab === 'audit' ? <AuditVerification /> : null}
      {tab === 'policy' ? <PolicyInForcePage /> : null}
    </>
  );
}

// ------------------------------------------------------------------------------------ domains

export type BrokerStatus = 'working' | 'broken' | 'failing' | 'unknown';

/**
 * A domain's broker status, from its operations (newest first) alone: the last finished one says
 * whether Meshgate could act in the domain's account. BROKER_UNAVAILABLE is a broken broker role;
 * another failure is "failing"; no finished operation yet is "unknown".
 */
export function brokerStatus(ops: Operation[]): { status: BrokerStatus; why?: string } {
  const last = ops.find((o) => o.status === 'SUCCEEDED' || o.status === 'FAILED');
  if (!last) return { status: 'unknown' };
  if (last.status === 'SUCCEEDED') return { status: 'working' };
  return {
    status: last.error?.code === 'BROKER_UNAVAILABLE' ? 'broken' : 'failing',
    why: last.error ? `${last.error.message} (${last.error.code})` : undefined,
  };
}

const BROKER_WORDS: Record<BrokerStatus, string> = {
  working: 'Working',
  broken: 'Broken: the broker role cannot be used',
  failing: 'Last operation failed',
  unknown: 'Not checked yet',
};

/**
 * A report in plain words: "added 2, updated 0, retired 0, unchanged 9". A list cut to fit the
 * stored report counts the entries left out too (`omitted`).
 */
export function reportText(report: Record<string, unknown> | undefined): string {
  if (!report) return '';
  const omitted = (report.omitted ?? {}) as Record<string, number>;
  return Object.entries(report)
    .map(([k, v]) =>
      Array.isArray(v)
        ? `${k} ${v.length + (omitted[k] ?? 0)}`
        : typeof v === 'number'
          ? `${k} ${v}`
          : '',
    )
    .filter(Boolean)
    .join(', ');
}

function operationText(op: Operation): string {
  if (op.status === 'SUCCEEDED') return `finished ${when(op.finishedAt ?? op.updatedAt)}`;
  if (op.status === 'FAILED')
    return `failed ${when(op.finishedAt ?? op.updatedAt)}: ${op.error?.message ?? ''}`;
  if (op.progress)
    return `${op.status}: ${op.progress.done} of ${op.progress.total} ${op.progress.unit}`;
  return op.status;
}

function Domains() {
  const { api } = useApp();
  const domains = useLoad(() => api.domains(), [api]);
  return (
    <>
      <Show value={domains}>
        {(items) => (
          <table class="list" data-testid="domains">
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col">Account and region</th>
                <th scope="col">Broker</th>
                <th scope="col">Last sync</th>
                <th scope="col">Last reconcile</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <DomainRow key={d.id} d={d} />
              ))}
            </tbody>
          </table>
        )}
      </Show>
      <RegisterDomain onDone={domains.reload} />
    </>
  );
}

function DomainRow({ d }: { d: DomainInfo }) {
  const { api } = useApp();
  const ops = useLoad(() => api.operations(d.id, 20).then((p) => p.items), [api, d.id]);
  const list = ops.state === 'ready' ? ops.data : [];
  const broker = brokerStatus(list);
  return (
    <tr data-domain={d.id}>
      <th scope="row">
        {d.name}
        <br />
        <code class="small">{d.id}</code>
      </th>
      <td data-label="Account and region">
        {d.accountId}
        <br />
        <span class="muted">{d.region}</span>
      </td>
      <td data-label="Broker" data-broker={ops.state === 'ready' ? broker.status : undefined}>
        {ops.state === 'error' ? <ErrorNote error={ops.error} /> : BROKER_WORDS[broker.status]}
        {broker.why ? <small class="muted"> {broker.why}</small> : null}
      </td>
      {(['sync', 'reconcile'] as const).map((kind) => (
        <td key={kind} data-label={kind === 'sync' ? 'Last sync' : 'Last reconcile'}>
          <OperationCell domain={d.id} kind={kind} ops={list} onDone={ops.reload} />
        </td>
      ))}
    </tr>
  );
}

/** The last finished operation of a kind, and a button that starts one and follows it. */
function OperationCell({
  domain,
  kind,
  ops,
  onDone,
}: {
  domain: string;
  kind: Operation['kind'];
  ops: Operation[];
  onDone: () => void;
}) {
  const { api } = useApp();
  const [running, setRunning] = useState<Operation | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const last = ops.find(
    (o) => o.kind === kind && (o.status === 'SUCCEEDED' || o.status === 'FAILED'),
  );
  const unfinished = ops.find(
    (o) => o.kind === kind && (o.status === 'QUEUED' || o.status === 'RUNNING'),
  );
  const followed = running ?? unfinished;

  useEffect(() => {
    if (!followed || followed.status === 'SUCCEEDED' || followed.status === 'FAILED') return;
    let live = true;
    const timer = setTimeout(() => {
      api.operation(followed.id).then(
        ({ operation }) => {
          if (!live) return;
          setRunning(operation);
          if (operation.status === 'SUCCEEDED' || operation.status === 'FAILED') onDone();
        },
        (e: unknown) => live && setError(asApiError(e)),
      );
    }, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [followed?.id, followed?.status, followed?.progress?.done]);

  const start = async () => {
    setError(undefined);
    try {
      setRunning((await api.startOperation(domain, kind)).operation);
    } catch (e) {
      const err = asApiError(e);
      // One is running already: follow that one.
      const id = err.code === 'OPERATION_RUNNING' ? err.details?.operationId : undefined;
      if (typeof id === 'string') setRunning((await api.operation(id)).operation);
      else setError(err);
    }
  };
  const shown =
    followed && followed.status !== 'SUCCEEDED' && followed.status !== 'FAILED'
      ? followed
      : undefined;
  const done =
    running && (running.status === 'SUCCEEDED' || running.status === 'FAILED') ? running : last;
  return (
    <div data-operation={kind}>
      {done ? (
        <p data-last={done.status}>
          {operationText(done)}
          {done.report ? <small class="muted"> ({reportText(done.report)})</small> : null}
        </p>
      ) : (
        <p class="muted">Never run</p>
      )}
      {shown ? (
        <p role="status" data-progress={shown.status}>
          {operationText(shown)}…
        </p>
      ) : null}
      <button type="button" disabled={Boolean(shown)} onClick={() => void start()}>
        {kind === 'sync' ? 'Sync' : 'Reconcile'} {domain}
      </button>
      <ErrorNote error={error} />
    </div>
  );
}

function RegisterDomain({ onDone }: { onDone: () => void }) {
  const { api } = useApp();
  const [f, setF] = useState({ id: '', name: '', accountId: '', region: '', description: '' });
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const ids = {
    id: useId('dom-id'),
    name: useId('dom-name'),
    acct: useId('dom-acct'),
    region: useId('dom-region'),
    desc: useId('dom-desc'),
  };
  const fields = error?.fieldErrors() ?? {};
  const set = (k: keyof typeof f) => (e: { currentTarget: HTMLInputElement }) =>
    setF({ ...f, [k]: e.currentTarget.value });
  const submit = async () => {
    setError(undefined);
    setDone(undefined);
    try {
      const d = await api.registerDomain({
        id: f.id.trim(),
        name: f.name.trim(),
        accountId: f.accountId.trim(),
        region: f.region.trim(),
        ...(f.description.trim() ? { description: f.description.trim() } : {}),
      });
      setDone(`Registered ${d.id}.`);
      setF({ id: '', name: '', accountId: '', region: '', description: '' });
      onDone();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <form
      class="panel"
      aria-labelledby="register-domain"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2 id="register-domain">Register a domain</h2>
      <Field id={ids.id} label="Id" hint="lower case, as in policy files: sales" error={fields.id}>
        <input id={ids.id} required value={f.id} onInput={set('id')} />
      </Field>
      <Field id={ids.name} label="Name" error={fields.name}>
        <input id={ids.name} required value={f.name} onInput={set('name')} />
      </Field>
      <Field id={ids.acct} label="AWS account" hint="12 digits" error={fields.accountId}>
        <input
          id={ids.acct}
          required
          inputMode="numeric"
          value={f.accountId}
          onInput={set('accountId')}
        />
      </Field>
      <Field id={ids.region} label="Region" hint="eu-west-1" error={fields.region}>
        <input id={ids.region} required value={f.region} onInput={set('region')} />
      </Field>
      <Field id={ids.desc} label="Description (optional)" error={fields.description}>
        <input id={ids.desc} value={f.description} onInput={set('description')} />
      </Field>
      <button type="submit">Register</button>
      {error && Object.keys(fields).length === 0 ? <ErrorNote error={error} /> : null}
      {done ? <p role="status">{done}</p> : null}
    </form>
  );
}

// -------------------------------------------------------------------------------- memberships

const MEMBER_ROLES: [Role, string][] = [
  ['owner', 'Owners'],
  ['steward', 'Stewards'],
  ['backup', 'Backup approvers'],
];

function Members() {
  const { api } = useApp();
  const domains = useLoad(() => api.domains(), [api]);
  const [domain, setDomain] = useState('');
  const id = useId('members-domain');
  return (
    <Show value={domains}>
      {(items) => {
        const chosen = domain || items[0]?.id || '';
        return (
          <>
            <div class="field inline-field">
              <label for={id}>Domain</label>
              <select id={id} value={chosen} onChange={(e) => setDomain(e.currentTarget.value)}>
                {items.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name} ({d.id})
                  </option>
                ))}
              </select>
            </div>
            {chosen ? <DomainMembers key={chosen} domain={chosen} /> : null}
          </>
        );
      }}
    </Show>
  );
}

function DomainMembers({ domain }: { domain: string }) {
  const { api } = useApp();
  const members = useLoad(() => api.members(domain), [api, domain]);
  const [error, setError] = useState<ApiError | undefined>();
  const [user, setUser] = useState('');
  const [role, setRole] = useState<Role>('backup');
  const userId = useId('member-user');
  const roleId = useId('member-role');
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      members.reload();
      return true;
    } catch (e) {
      setError(asApiError(e));
      return false;
    }
  };
  return (
    <>
      <Show value={members}>
        {(list) => (
          <div class="members">
            {MEMBER_ROLES.map(([r, label]) => {
              const held = list.filter((m) => m.role === r && m.domain === domain);
              return (
                <section key={r} aria-labelledby={`role-${r}`} data-role={r}>
                  <h2 id={`role-${r}`}>{label}</h2>
                  {held.length === 0 ? (
                    <p class="muted">None.</p>
                  ) : (
                    <ul>
                      {held.map((m) => (
                        <MemberItem
                          key={m.user}
                          m={m}
                          onRemove={() => act(() => api.removeMembership(m))}
                        />
                      ))}
                    </ul>
                  )}
                </section>
              );
            })}
          </div>
        )}
      </Show>
      <form
        class="panel"
        aria-labelledby="add-member"
        onSubmit={(e) => {
          e.preventDefault();
          if (!user.trim()) return;
          void act(() => api.addMembership({ user: user.trim(), domain, role })).then(
            (ok) => ok && setUser(''),
          );
        }}
      >
        <h2 id="add-member">Add a member to {domain}</h2>
        <Field id={userId} label="User">
          <input
            id={userId}
            required
            value={user}
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </Field>
        <Field id={roleId} label="Role">
          <select id={roleId} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {MEMBER_ROLES.map(([r, label]) => (
              <option key={r} value={r}>
                {label.replace(/s$/, '').toLowerCase()}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Add</button>
      </form>
      <ErrorNote error={error} />
    </>
  );
}

function MemberItem({ m, onRemove }: { m: Membership; onRemove: () => Promise<unknown> }) {
  const [busy, setBusy] = useState(false);
  return (
    <li data-member={m.user}>
      {m.user}
      {m.source === 'group' ? (
        <span class="muted"> (from an identity provider group)</span>
      ) : null}{' '}
      <button
        type="button"
        class="danger"
        disabled={busy}
        aria-label={`Remove ${m.user} as ${m.role} of ${m.domain}`}
        onClick={() => {
          setBusy(true);
          void onRemove().finally(() => setBusy(false));
        }}
      >
        Remove
      </button>
    </li>
  );
}

// ---------------------------------------------------------------------------- failed requests

function FailedRequests() {
  const { api } = useApp();
  const failed = usePaged((cursor) => api.requestsPage({ status: 'FAILED' }, cursor), [api]);
  return (
    <>
      <Show value={failed}>
        {(items) =>
          items.length === 0 ? (
            <EmptyListing paged={failed} none={<p class="muted">No failed requests.</p>} />
          ) : (
            <table class="list" data-testid="failed">
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Requester</th>
                  <th scope="col">Why it failed</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <FailedRow key={r.id} r={r} onDone={failed.reload} />
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      <LoadMore paged={failed} />
    </>
  );
}

/**
 * Requests whose grant failed but whose undo Lake Formation refused: still GRANTING (a FAILED
 * request holds nothing), the failure shown on them, attempted again at each sweep until the
 * broker role is fixed.
 */
export const undoPending = <T extends Pick<AccessRequest, 'status' | 'failure'>>(items: T[]) =>
  items.filter((r) => r.status === 'GRANTING' && r.failure !== undefined);

function UndoPendingRequests() {
  const { api } = useApp();
  const granting = usePaged((cursor) => api.requestsPage({ status: 'GRANTING' }, cursor), [api]);
  return <UndoPendingList granting={granting} />;
}

/** The requests granting with a failure, picked from the pages of requests granting read so far. */
export function UndoPendingList({ granting }: { granting: Paged<AccessRequest> }) {
  return (
    <>
      <Show value={granting}>
        {(items) => {
          const stuck = undoPending(items);
          // The requests granting are read a page at a time and these picked from them: with none
          // on the pages read so far but more to read, the section says so beside "Load more".
          if (stuck.length === 0 && !granting.hasMore) return null;
          return (
            <>
              <h2 id="undo-pending">Failed, not yet undone</h2>
              <p class="muted">
                Granting failed and taking back what was granted failed too: these stay granting,
                attempted again at each sweep, until the broker role allows the revoke.
              </p>
              {stuck.length === 0 ? (
                <p class="muted">None among the requests granting read so far.</p>
              ) : (
                <table class="list" data-testid="undo-pending">
                  <thead>
                    <tr>
                      <th scope="col">Request</th>
                      <th scope="col">Requester</th>
                      <th scope="col">Why it waits</th>
                    </tr>
                  </thead>
                  <tbody>
                    {stuck.map((r) => (
                      <tr key={r.id} data-request={r.id}>
                        <td data-label="Request">
                          <a href={`#/requests/${r.id}`}>{r.productId}</a>
                        </td>
                        <td data-label="Requester">{r.requester}</td>
                        <td data-label="Why it waits">
                          {r.failure!.reason}
                          {r.failure!.code ? <span class="code"> ({r.failure!.code})</span> : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          );
        }}
      </Show>
      <LoadMore paged={granting} />
    </>
  );
}

function FailedRow({ r, onDone }: { r: AccessRequest; onDone: () => void }) {
  const { api } = useApp();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  const retry = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const next = await api.retry(r.id);
      setDone(`Retry asked: now ${next.status}.`);
      setTimeout(onDone, 1500);
    } catch (e) {
      setError(asApiError(e));
    }
    setBusy(false);
  };
  return (
    <tr data-request={r.id}>
      <td data-label="Request">
        <a href={`#/requests/${r.id}`}>{r.productId}</a>
      </td>
      <td data-label="Requester">{r.requester}</td>
      <td data-label="Why it failed">
        {r.failure?.reason ?? 'No reason recorded.'}
        {r.failure?.code ? <span class="code"> ({r.failure.code})</span> : null}
      </td>
      <td>
        {done ? (
          <p role="status">{done}</p>
        ) : (
          <button type="button" disabled={busy} onClick={() => void retry()}>
            Retry
          </button>
        )}
        <ErrorNote error={error} />
      </td>
    </tr>
  );
}

// ------------------------------------------------------------------------- audit verification

function AuditVerification() {
  const { api } = useApp();
  const [result, setResult] = useState<Verification | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api.verifyAudit());
    } catch (e) {
      setError(asApiError(e));
    }
    setBusy(false);
  };
  return (
    <>
      <p>
        Recomputes the hash chain of every domain's audit trail (and the global one) and names the
        first event that does not fit, if any.
      </p>
      <button type="button" disabled={busy} onClick={() => void verify()}>
        {busy ? 'Verifying…' : 'Verify the trail'}
      </button>
      <ErrorNote error={error} />
      {result ? (
        <>
          <p
            role="status"
            data-verified={result.ok ? 'ok' : 'broken'}
            class={result.ok ? '' : 'error'}
          >
            {result.ok ? 'Every chain is whole.' : 'A chain is broken: see below.'}
          </p>
          <table class="list" data-testid="chains">
            <thead>
              <tr>
                <th scope="col">Chain</th>
                <th scope="col">Events</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {result.chains.map((c) => (
                <tr key={c.chain} data-chain={c.chain} data-ok={String(c.ok)}>
                  <th scope="row">{c.chain === '*' ? 'global' : c.chain}</th>
                  <td data-label="Events">{c.count}</td>
                  <td data-label="Result">
                    {c.ok
                      ? 'ok'
                      : `first bad event: ${c.firstBad?.eventId} (number ${(c.firstBad?.index ?? 0) + 1}): ${c.firstBad?.problem}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}

// ------------------------------------------------------------------------------------- policy

const ACTIONS: [string, string][] = [
  ['request', 'ask for access to'],
  ['approve:owner', 'approve, as owner or steward,'],
  ['approve:compliance', 'approve, as compliance,'],
  ['auto-approve', 'have requests approved automatically for'],
  ['read', "read others' requests for"],
  ['revoke', 'revoke grants of'],
  ['retry', 'retry failed requests for'],
  ['domain:sync', 'sync the catalog of'],
  ['domain:reconcile', 'reconcile'],
  ['members:manage', 'manage memberships of'],
  ['audit:read', 'read the audit trail of'],
  ['audit:verify', 'verify the audit trail of'],
];

/** "alice may not approve, as owner or steward, sales/orders: Denied: ..." */
export function explainedText(a: Explained): string {
  const words = ACTIONS.find(([k]) => k === a.action)?.[1] ?? a.action;
  const what = a.object === '*' ? `the ${a.domain} domain` : a.object;
  return `${a.user} ${a.allowed ? 'may' : 'may not'} ${words} ${what}.`;
}

/** Why a domain's file did not load, if it did not (failures are keyed by domain). */
const fileFailure = (failures: Record<string, string>, source: string) =>
  failures[/domains\/([^/]+)\.csv$/.exec(source)?.[1] ?? ''];

function PolicyInForcePage() {
  const { api } = useApp();
  const policy = useLoad(() => api.policy(), [api]);
  return (
    <>
      <Show value={policy}>
        {(p) => (
          <section aria-labelledby="policy-version" data-testid="policy">
            <h2 id="policy-version">In force</h2>
            <p>
              Version <code title={p.version}>{p.version.slice(0, 12)}</code>
              {p.recorded ? (
                <>
                  , number {p.recorded.seq}, in force since{' '}
                  <time dateTime={p.recorded.at}>{when(p.recorded.at)}</time>
                </>
              ) : null}
              .{' '}
              {p.inForce ? null : (
                <strong class="warn">This instance does not run the version in force.</strong>
              )}
            </p>
            {p.loadFailure ? (
              <ErrorNote error={`The policy did not load: ${p.loadFailure}`} />
            ) : null}
            {p.files.map((f) => (
              <details key={f.source} data-file={f.source}>
                <summary>
                  {f.source} <code class="small">{f.sha256.slice(0, 12)}</code>
                  {fileFailure(p.domainFailures, f.source)
                    ? ` (did not load: ${fileFailure(p.domainFailures, f.source)})`
                    : ''}
                </summary>
                <pre class="policy-text" tabIndex={0}>
                  {f.text}
                </pre>
              </details>
            ))}
          </section>
        )}
      </Show>
      <PolicyTester />
    </>
  );
}

function PolicyTester() {
  const { api, me } = useApp();
  const [user, setUser] = useState(me.id);
  const [target, setTarget] = useState('');
  const [action, setAction] = useState('request');
  const [answer, setAnswer] = useState<Explained | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const ids = { user: useId('ask-user'), target: useId('ask-target'), action: useId('ask-action') };
  const ask = async () => {
    setError(undefined);
    setAnswer(undefined);
    const t = target.trim();
    try {
      setAnswer(
        await api.explain({
          user: user.trim() || undefined,
          action,
          ...(t.includes('/') ? { productId: t } : { domain: t, object: '*' }),
        }),
      );
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <form
      class="panel"
      aria-labelledby="ask-policy"
      onSubmit={(e) => {
        e.preventDefault();
        void ask();
      }}
    >
      <h2 id="ask-policy">Ask the policy</h2>
      <Field id={ids.user} label="User">
        <input
          id={ids.user}
          required
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
        />
      </Field>
      <Field id={ids.action} label="Action">
        <select id={ids.action} value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          {ACTIONS.map(([k, words]) => (
            <option key={k} value={k}>
              {words.replace(/,$/, '')} ({k})
            </option>
          ))}
        </select>
      </Field>
      <Field
        id={ids.target}
        label="Product or domain"
        hint="a product such as sales/orders, or a domain such as sales"
      >
        <input
          id={ids.target}
          required
          value={target}
          onInput={(e) => setTarget(e.currentTarget.value)}
        />
      </Field>
      <button type="submit">Ask</button>
      <ErrorNote error={error} />
      {answer ? (
        <div
          role="status"
          class={`answer ${answer.allowed ? 'ok' : 'refused'}`}
          data-allowed={String(answer.allowed)}
        >
          <p>
            <strong>{answer.allowed ? 'Allowed' : 'Denied'}:</strong> {explainedText(answer)}
          </p>
          <p>
            {answer.roles.length
              ? `${answer.user} holds ${answer.roles.join(', ')} there.`
              : `${answer.user} holds no role there.`}{' '}
            <span class="muted">{answer.reason}</span>
          </p>
          {answer.rules.length ? (
            <ul class="rules">
              {answer.rules.map((r) => (
                <li key={`${r.source}:${r.line}`}>
                  <Rule rule={r} />
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No policy line allows it.</p>
          )}
        </div>
      ) : null}
    </form>
  );
}
