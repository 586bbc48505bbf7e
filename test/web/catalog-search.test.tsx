// The catalog page's URL state and facets, without a browser.
import { render } from 'preact-render-to-string';
import { parseRoute } from '../../web/src/main';
import { catalogHash, Facets, filtersOf } from '../../web/src/pages/catalog';
import type { ProductSearch } from '../../web/src/api';

test('the search and its filters go into the URL and come back out of it', () => {
  const f = { q: 'orders', domain: 'sales', pii: 'true' as const, cursor: 'abc.def' };
  const hash = catalogHash(f);
  expect(hash).toBe('#/catalog?q=orders&domain=sales&pii=true&cursor=abc.def');
  const route = parseRoute(hash);
  expect(route.page).toBe('catalog');
  expect(filtersOf(route.params)).toEqual(f);
  expect(catalogHash({})).toBe('#/catalog');
  expect(filtersOf(parseRoute('#/catalog?q=a%20b&other=x').params)).toEqual({ q: 'a b' });
});

test('facets show each value with its count; the chosen one links to clearing it', () => {
  const facets: ProductSearch['facets'] = {
    domain: [
      { value: 'hr', count: 3 },
      { value: 'sales', count: 2 },
    ],
    classification: [{ value: 'restricted', count: 3 }],
    tag: [],
    owner: [{ value: 'grace', count: 3 }],
    pii: [{ value: 'true', count: 4 }],
    access: [{ value: 'true', count: 1 }],
  };
  const chosen = { q: 'pay', domain: 'hr' };
  const html = render(
    <Facets
      facets={facets}
      chosen={chosen}
      hrefFor={(facet, value) => catalogHash({ ...chosen, [facet]: value })}
    />,
  );
  expect(html).toContain(
    'href="#/catalog?q=pay" aria-current="true" class="chosen">hr <span class="count">(3)</span>',
  );
  expect(html).toContain(
    'href="#/catalog?q=pay&amp;domain=sales">sales <span class="count">(2)</span>',
  );
  expect(html).toContain('Holds personal data <span class="count">(4)</span>');
  expect(html).toContain('I already have access <span class="count">(1)</span>');
  expect(html).not.toContain('<h2>Tag</h2>');
});
