import { useEffect, useState } from 'preact/hooks';
import {
  CLASSIFICATION_LABELS,
  FACET_NAMES,
  type CatalogFilters,
  type Classification,
  type FacetName,
  type ProductHit,
  type ProductSearch,
} from '../api';
import { Show, useApp, useLoad } from '../ui';
import { RequestForm } from './request-form';
import { WhoApproves } from '../approvers';
import { formatHours } from '../validation';

/** The catalog search as the URL holds it: `#/catalog?q=...&domain=...&cursor=...`. */
export function catalogHash(f: CatalogFilters & { cursor?: string }): string {
  const p = new URLSearchParams();
  for (const k of ['q', ...FACET_NAMES, 'cursor'] as const) {
    const v = f[k]?.trim();
    if (v) p.set(k, v);
  }
  const s = p.toString();
  return s ? `#/catalog?${s}` : '#/catalog';
}

/** The filters of a catalog URL's parameters (anything else ignored). */
export function filtersOf(params: Record<string, string>): CatalogFilters & { cursor?: string } {
  const f: Record<string, string> = {};
  for (const k of ['q', ...FACET_NAMES, 'cursor']) if (params[k]) f[k] = params[k];
  return f;
}

const FACET_TITLES: Record<FacetName, string> = {
  domain: 'Domain',
  classification: 'Classification',
  tag: 'Tag',
  owner: 'Owner',
  pii: 'Personal data',
  access: 'Access',
};

export function facetValueLabel(facet: FacetName, value: string): string {
  if (facet === 'classification') return CLASSIFICATION_LABELS[value as Classification] ?? value;
  if (facet === 'pii') return value === 'true' ? 'Holds personal data' : 'No personal data';
  if (facet === 'access') return value === 'true' ? 'I already have access' : 'Not yet';
  return value;
}

/** The facets as filters: each value with its count; choosing one again clears it. */
export function Facets({
  facets,
  chosen,
  hrefFor,
}: {
  facets: ProductSearch['facets'];
  chosen: CatalogFilters;
  hrefFor: (facet: FacetName, value: string | undefined) => string;
}) {
  return (
    <nav class="facets" aria-label="Filters">
      {FACET_NAMES.map((facet) => {
        const values = facets[facet] ?? [];
        if (values.length === 0) return null;
        const current = chosen[facet];
        return (
          <section key={facet}>
            <h2>{FACET_TITLES[facet]}</h2>
            <ul>
              {values.map(({ value, count }) => {
                const on = current === value;
                return (
                  <li key={value}>
                    <a
                      href={hrefFor(facet, on ? undefined : value)}
                      aria-current={on ? 'true' : undefined}
                      class={on ? 'chosen' : undefined}
                    >
                      {facetValueLabel(facet, value)} <span class="count">({count})</span>
                    </a>
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </nav>
  );
}

/** Everyone: search the products of every domain, narrow them by facets, page through them. */
export function Catalog({ params = {} }: { params?: Record<string, string> }) {
  const { api, navigate } = useApp();
  const filters = filtersOf(params);
  const [q, setQ] = useState(filters.q ?? '');
  // Back (or a link) changed the search in the URL: the box shows it.
  useEffect(() => setQ(filters.q ?? ''), [filters.q]);
  useEffect(() => {
    if (q.trim() === (filters.q ?? '').trim()) return;
    const t = setTimeout(() => navigate(catalogHash({ ...filters, q, cursor: undefined })), 300);
    return () => clearTimeout(t);
  }, [q]);
  const key = catalogHash(filters);
  const results = useLoad(() => api.products(filters), [api, key]);
  const hrefFor = (facet: FacetName, value: string | undefined) =>
    catalogHash({ ...filters, [facet]: value, cursor: undefined });

  return (
    <>
      <h1 tabIndex={-1}>Catalog</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(catalogHash({ ...filters, q, cursor: undefined }));
        }}
      >
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
      </form>
      <Show value={results}>
        {(r) => (
          <div class="catalog">
            <Facets facets={r.facets} chosen={filters} hrefFor={hrefFor} />
            <div>
              <p class="muted" role="status">
                {r.total} product{r.total === 1 ? '' : 's'}
                {filters.cursor ? ' (a later page)' : ''}
              </p>
              <ul class="cards">
                {r.items.map((p) => (
                  <ProductCard key={p.id} p={p} />
                ))}
              </ul>
              <p class="buttons">
                {filters.cursor ? (
                  <a href={catalogHash({ ...filters, cursor: undefined })}>First page</a>
                ) : null}{' '}
                {r.cursor ? (
                  <a href={catalogHash({ ...filters, cursor: r.cursor })}>Next page →</a>
                ) : null}
              </p>
            </div>
          </div>
        )}
      </Show>
    </>
  );
}

export function ClassBadge({ c }: { c: Classification }) {
  return <span class={`badge class-${c}`}>{CLASSIFICATION_LABELS[c]}</span>;
}

function ProductCard({ p }: { p: ProductHit }) {
  return (
    <li class="card">
      <h2>
        <a href={`#/products/${p.id}`}>{p.title}</a>
      </h2>
      <p class="muted">
        <code>{p.id}</code> · <ClassBadge c={p.classification} /> · owner {p.owner}
        {p.pii ? (
          <>
            {' '}
            · <span class="badge pii">PII</span>
          </>
        ) : null}
        {p.access ? <> · you have access</> : null}
        {p.status !== 'ACTIVE' ? <> · {p.status.toLowerCase()}</> : null}
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
              <WhoApproves product={p} />
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
                  <td data-label="Name">
                    <code>{c.name}</code>
                  </td>
                  <td data-label="Type">{c.type}</td>
                  <td data-label="Description">{c.comment}</td>
                  <td data-label="Personal data">
                    {c.pii ? <span class="badge pii">PII</span> : ''}
                  </td>
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
