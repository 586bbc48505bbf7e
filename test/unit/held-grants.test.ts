import {
  MAX_AGE_MS,
  MAX_KEPT_PRODUCTS,
  productsWithAccess,
  SETTLE_MS,
} from '../../functions/usecases/held-grants';

// The search's access facet kept behind the grants version, against a store whose grants index
// lags the version as DynamoDB's global secondary indexes do: a listing read before the index
// shows a move must not be kept under the version that moved.

function laggingStore() {
  const s = {
    version: 0,
    movedAt: undefined as string | undefined,
    /** What the grants index answers now. */
    indexed: [] as string[],
    queries: 0,
    async grantsVersion() {
      return { version: s.version, ...(s.movedAt ? { movedAt: s.movedAt } : {}) };
    },
    async listGrants() {
      s.queries++;
      return {
        items: s.indexed.map((productId) => ({ productId, status: 'ACTIVE' })),
      };
    },
  };
  return s;
}

const at = (ms: number) => ({ now: () => new Date(ms) });
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

test('a listing read before the index shows the move is not kept: the next search reads again', async () => {
  const store = laggingStore();
  const deps = (ms: number) => ({ store: store as never, clock: at(ms) });
  expect([...(await productsWithAccess(deps(T0), 'alice'))]).toEqual([]);

  // A grant is made: the version moves at once, the index shows it a little later.
  store.version = 1;
  store.movedAt = new Date(T0 + 1_000).toISOString();
  expect([...(await productsWithAccess(deps(T0 + 1_100), 'alice'))]).toEqual([]);
  store.indexed = ['sales/orders'];
  expect([...(await productsWithAccess(deps(T0 + 2_000), 'alice'))]).toEqual(['sales/orders']);
  expect(store.queries).toBe(3);

  // Once the move has settled, the listing is kept: no query while the version stands.
  await productsWithAccess(deps(T0 + 1_000 + SETTLE_MS), 'alice');
  const queries = store.queries;
  expect([...(await productsWithAccess(deps(T0 + 2 * SETTLE_MS), 'alice'))]).toEqual([
    'sales/orders',
  ]);
  expect(store.queries).toBe(queries);
});

test('a kept listing serves at most MAX_AGE_MS, even while the version stands', async () => {
  const store = laggingStore();
  store.indexed = ['sales/orders'];
  const deps = (ms: number) => ({ store: store as never, clock: at(ms) });
  await productsWithAccess(deps(T0), 'bob');
  await productsWithAccess(deps(T0 + MAX_AGE_MS - 1), 'bob');
  expect(store.queries).toBe(1);
  store.indexed = [];
  expect([...(await productsWithAccess(deps(T0 + MAX_AGE_MS), 'bob'))]).toEqual([]);
  expect(store.queries).toBe(2);
});

test('the kept listings are bounded by the products they hold: the oldest users go first', async () => {
  // Each user holds 500 products (a full listing); MAX_KEPT_PRODUCTS / 500 users fit.
  const store = laggingStore();
  store.indexed = Array.from({ length: 500 }, (_, i) => `d/p${i}`);
  const deps = { store: store as never, clock: at(T0) };
  const fit = MAX_KEPT_PRODUCTS / 500;
  for (let u = 0; u <= fit; u++) await productsWithAccess(deps, `user${u}`);
  expect(store.queries).toBe(fit + 1);
  // The last ones are still kept; the first was let go to make room and is read again.
  await productsWithAccess(deps, `user${fit}`);
  expect(store.queries).toBe(fit + 1);
  await productsWithAccess(deps, 'user0');
  expect(store.queries).toBe(fit + 2);
});
