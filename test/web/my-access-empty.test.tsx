// My access never says "no access" while the API says there is a next page: a filtered page may
// come back empty with a cursor (it evaluates a bounded number of grants per page).
import { render } from 'preact-render-to-string';
import type { Grant } from '../../web/src/api';
import type { Paged } from '../../web/src/paging';
import { MyAccessList } from '../../web/src/pages/my-access';

const empty = (hasMore: boolean): Paged<Grant> => ({
  state: 'ready',
  data: [],
  reload: () => {},
  hasMore,
  busy: false,
  loadMore: async () => {},
});

test('an empty first page with a cursor: "load more", never "you hold no active access"', () => {
  const html = render(<MyAccessList list={empty(true)} />);
  expect(html).not.toContain('You hold no active access');
  expect(html).toContain('load more to look further');
  expect(html).toContain('data-testid="load-more"');
});

test('an empty last page: "you hold no active access", and nothing more to load', () => {
  const html = render(<MyAccessList list={empty(false)} />);
  expect(html).toContain('You hold no active access');
  expect(html).not.toContain('data-testid="load-more"');
});
