import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import { VERSION_MAX_AGE_MS } from '../../functions/adapters/aws/dynamo-search-index';
import { startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
const sent: string[] = [];
let firstSearch: string[] = [];
beforeAll(async () => {
  p = await startPortal();
  // Every command any document client of the embedded store sends, with the key or partition it reads.
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        Key?: { pk?: unknown };
        ExpressionAttributeValues?: Record<string, unknown>;
      };
      const on = input.Key?.pk ?? Object.values(input.ExpressionAttributeValues ?? {})[0];
      sent.push(`${context.commandName} ${JSON.stringify(on)}`);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
});
afterAll(() => p.close());

/** The commands of one search, once the process's version check is due again (the usual case). */
async function commandsOfOneSearch(user: string, query: string) {
  await p.call(user, 'GET', '/v1/me'); // signed in, and the authorization state loaded
  // The process's cursor key, read (and created, once per deployment) at its first listing.
  await p.call(user, 'GET', '/v1/requests?limit=1');
  // The caller's grants, read at their first search and kept while their version stays.
  sent.length = 0;
  await p.call(user, 'GET', `/v1/products?${query}`);
  firstSearch = [...sent];
  await new Promise((r) => setTimeout(r, VERSION_MAX_AGE_MS + 100));
  sent.length = 0;
  const res = await p.call(user, 'GET', `/v1/products?${query}`);
  expect(res.status).toBe(200);
  return { commands: [...sent], body: res.body as { total: number } };
}

test("a search costs the authorization check, the version check and the version of the caller's grants, at 4 domains as at 200", async () => {
  const small = await commandsOfOneSearch('alice', 'q=orders&limit=5');
  // The authorization state (POLICY), the catalog version, the version of alice's grants: nothing
  // else. Her grants themselves were read once, by her first search, and have not changed since.
  expect(small.commands).toEqual([
    'GetItemCommand "POLICY"',
    'GetItemCommand "CATALOG"',
    'GetItemCommand "GRANTS#alice"',
  ]);
  expect(firstSearch.filter((c) => c.includes('GRANTEE#alice'))).toEqual([
    'QueryCommand "ACTIVEGRANTEE#alice"',
  ]);
  expect(small.commands.filter((c) => c.includes('CATALOG'))).toHaveLength(1);
  expect(small.commands.some((c) => /PRODUCT|DOMAIN/.test(c))).toBe(false);

  const template = DEMO_PRODUCTS.find((x) => x.id === 'sales/orders')!;
  for (let i = 0; i < 196; i++) {
    const id = `extra${String(i).padStart(3, '0')}`;
    await p.store.putDomain({ id, name: id, accountId: '999999999999', region: 'eu-west-1' });
    await p.store.putProduct({
      ...structuredClone(template),
      id: `${id}/orders`,
      domain: id,
      name: 'orders',
    });
  }
  expect((await p.deps.search!.refresh()).rebuilt).toBe(true);
  expect((await p.store.listDomains()).length).toBe(200);

  const large = await commandsOfOneSearch('alice', 'q=orders&limit=5');
  expect(large.body.total).toBeGreaterThan(small.body.total + 195);
  expect(large.commands.length).toBe(small.commands.length);
  expect(large.commands.map((c) => c.split(' ')[0])).toEqual(
    small.commands.map((c) => c.split(' ')[0]),
  );
});
