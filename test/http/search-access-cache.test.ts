import { expireDue } from '../../functions/usecases/fulfilment';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

/**
 * The search's "I already have access" facet is kept per process behind the caller's grants
 * version (usecases/held-grants.ts): a grant made, revoked or expired, in this process or in
 * another one on the same table, is seen by the very next search (the embedded store's indexes
 * are current at once; test/unit/held-grants.test.ts covers an index that lags); while nothing
 * changed, a search reads the version and not the grants.
 */
const HOUR = 3_600_000;
const clock = {
  t: new Date(Math.floor(Date.now() / 1000) * 1000),
  now() {
    return this.t;
  },
};
let p: TestPortal;
/** A second instance on the same table, as a second Lambda instance would be. */
let other: TestPortal;
const sent: string[] = [];

beforeAll(async () => {
  p = await startPortal({ clock });
  other = await startPortal({ clock, sharedStore: p.dynamo, seed: false });
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { pk?: unknown }; ExpressionAttributeValues?: object };
      const on = input.Key?.pk ?? Object.values(input.ExpressionAttributeValues ?? {})[0];
      sent.push(`${context.commandName} ${String(on)}`);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
}, 60_000);
afterAll(async () => {
  await other.close();
  await p.close();
});

/** Whether alice's search for `product`'s name marks it as held, and the commands the search sent. */
async function held(product: string, portal = p) {
  sent.length = 0;
  const res = await portal.call('alice', 'GET', `/v1/products?q=${product.split('/')[1]}&limit=50`);
  expect(res.status).toBe(200);
  const item = (res.body.items as Array<{ id: string; access: boolean }>).find(
    (i) => i.id === product,
  );
  expect(item).toBeDefined();
  return { access: item!.access, commands: [...sent] };
}

/** alice asks for `product` through `portal`, its owner approves there, the worker grants it. */
async function granted(portal: TestPortal, product: string, owner: string, hours = 24) {
  const created = await portal.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest(product, { duration: { value: hours, unit: 'hours' } }),
  );
  expect(created.status).toBe(201);
  const approved = await portal.call(owner, 'POST', `/v1/requests/${created.body.id}/approve`, {
    comment: 'ok',
  });
  expect(approved.status).toBe(200);
  await portal.queue.onIdle();
  const r = await portal.call('alice', 'GET', `/v1/requests/${created.body.id}`);
  expect(r.body.status).toBe('ACTIVE');
  return r.body.grantId as string;
}

test('a grant made or revoked in this process is seen by the next search; meanwhile the grants are not read again', async () => {
  expect((await held('sales/orders')).access).toBe(false);
  // Nothing changed: the version is read, alice's grants are not.
  const again = await held('sales/orders');
  expect(again.commands).toContain('GetItemCommand GRANTS#alice');
  expect(again.commands.filter((c) => c.includes('GRANTEE#alice'))).toEqual([]);

  const grantId = await granted(p, 'sales/orders', 'bob');
  const after = await held('sales/orders');
  expect(after.access).toBe(true);
  expect(after.commands).toContain('QueryCommand ACTIVEGRANTEE#alice');

  const revoked = await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' });
  expect(revoked.status).toBe(202);
  await p.queue.onIdle();
  expect((await held('sales/orders')).access).toBe(false);
});

test('a grant made in another instance, and its expiry there, are seen by the next search here', async () => {
  expect((await held('marketing/customer_segments')).access).toBe(false);
  await granted(other, 'marketing/customer_segments', 'henry', 2);
  expect((await held('marketing/customer_segments')).access).toBe(true);

  clock.t = new Date(clock.t.getTime() + 3 * HOUR);
  await expireDue(other.deps);
  await other.queue.onIdle();
  expect((await held('marketing/customer_segments')).access).toBe(false);
});
