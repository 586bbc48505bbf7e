import { useEffect, useState } from 'preact/hooks';
import { CLASSIFICATION_LABELS, type Classification, type DataProduct } from '../api';
import { Show, useApp, useLoad } from '../ui';
import { RequestForm } from './request-form';
import { formatHours } from '../validation';

/** Everyone: search and filter the products of every domain. */
export function Catalog() {
  const { api } = useApp();
  const [q, setQ] = useState('');
  const [domain, setDomain] = useState('');
  const [classification, setClassification] = useState('');
  const [tag, setTag] = useState('');
  const [debouncedQ, setDebouncedQ] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setDebouncedQ(q), 200);
    return () => clearTimeout(t);
  }, [q]);
  const domains = useLoad(() => api.domains(), [api]);
  const products = useLoad(
    () =>
      api.products({
        q: debouncedQ.trim() || undefined,
        domain: domain || undefined,
        classification: classification || undefined,
        tag: tag.trim() || undefined,
      }),
    [api, debouncedQ, domain, classification, tag],
  );

  return (
    <>
      <h1 tabIndex={-1}>Catalog</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="cat-q">Search</label>
          <input
            id="cat-q"
            type="search"
            value={q}
            placeholder="orders, revenue, customers…"
            onInput={(e) => setQ(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="cat-domain">Domain</label>
          <select id="cat-domain" value={domain} onChange={(e) => setDomain(e.currentTarget.value)}>
            <option value="">All domains</option>
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
          <label for="cat-class">Classification</label>
          <select
            id="cat-class"
            value={classification}
            onChange={(e) => setClassification(e.currentTarget.value)}
          >
            <option value="">Any</option>
            {Object.entries(CLASSIFICATION_LABELS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="cat-tag">Tag</label>
          <input
            id="cat-tag"
            value={tag}
            placeholder="pii, gold…"
            onInput={(e) => setTag(e.currentTarget.value)}
          />
        </div>
      </form>
      <Show value={products}>
        {(items) => (
          <>
            <p class="muted" role="status">
              {items.length} product{items.length === 1 ? '' : 's'}
            </p>
            <ul class="cards">
              {items.map((p) => (
                <ProductCard key={p.id} p={p} />
              ))}
            </ul>
          </>
        )}
      </Show>
    </>
  );
}

export function ClassBadge({ c }: { c: Classification }) {
  return <span class={`badge class-${c}`}>{CLASSIFICATION_LABELS[c]}</span>;
}

function ProductCard({ p }: { p: DataProduct }) {
  return (
    <li class="card">
      <h2>
        <a href={`#/products/${p.id}`}>{p.title}</a>
      </h2>
      <p class="muted">
        <code>{p.id}</code> · <ClassBadge c={p.classification} /> · owner {p.owner}
      </p>
      <p>{p.description}</p>
      <p class="tags">
        {p.tags.map((t) => (
          <span key={t} class="tag">
            {t}
          </span>
        ))}
      </p>
    </li>
  );
}

/** A product that describes itself, and the request form for it. */
export function ProductPage({ id }: { id: string }) {
  const { api } = useApp();
  const product = useLoad(() => api.product(id), [api, id]);
  return (
    <Show value={product}>
      {(p) => (
        <>
          <p>
            <a href="#/catalog">← Catalog</a>
          </p>
          <h1 tabIndex={-1}>{p.title}</h1>
          <p class="muted">
            <code>{p.id}</code> · <ClassBadge c={p.classification} />{' '}
            {p.status !== 'ACTIVE' ? <span class="badge">{p.status}</span> : null}
          </p>
          <p>{p.description}</p>
          <dl class="facts">
            <dt>Owner</dt>
            <dd>{p.owner}</dd>
            <dt>Freshness</dt>
            <dd>{p.freshness ?? 'not stated'}</dd>
            <dt>Who approves</dt>
            <dd>
              {p.approvers.length
                ? p.approvers.map((a) => `${a.user} (${a.role})`).join(', ')
                : 'nobody yet'}
            </dd>
            <dt>Longest grant</dt>
            <dd>{formatHours(p.maxDurationHours)}</dd>
            <dt>Tags</dt>
            <dd>{p.tags.join(', ') || '—'}</dd>
          </dl>
          <h2>Columns</h2>
          <table class="columns">
            <caption class="sr-only">Columns of {p.title}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Description</th>
                <th scope="col">Personal data</th>
              </tr>
            </thead>
            <tbody>
              {p.columns.map((c) => (
                <tr key={c.name}>
                  <td>
                    <code>{c.name}</code>
                  </td>
                  <td>{c.type}</td>
                  <td>{c.comment}</td>
                  <td>{c.pii ? <span class="badge pii">PII</span> : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.status === 'ACTIVE' ? (
            <RequestForm product={p} />
          ) : (
            <p class="muted">This product is {p.status.toLowerCase()}: it cannot be requested.</p>
          )}
        </>
      )}
    </Show>
  );
}
