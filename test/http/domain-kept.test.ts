import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

/**
 * A request's domain is read once per authorization generation (usecases/authz-cached.ts): a
 * creation after another in the same generation does not read it; a domain write moves the
 * generation, and the next creation reads it again. A domain not registered is never kept, so
 * its registration is seen by the next request for one of its products.
 */
let p: TestPortal;
const sent: string[] = [];
beforeAll(async () => {
  p = await startPortal({ notifyInProcess: false });
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { pk?: unknown } };
      sent.push(`${context.commandName} ${String(input.Key?.pk ?? '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
}, 60_000);
afterAll(() => p.close());

async function create(product: string) {
  sent.length = 0;
  const res = await p.call('alice', 'POST', '/v1/requests', newRequest(product));
  return { status: res.status, code: res.body?.error?.code, domainReads: domainReads() };
}
const domainReads = () => sent.filter((c) => c === 'GetItemCommand DOMAIN').length;

test('the domain is read again only after the authorization generation moved', async () => {
  await create('sales/orders');
  expect(await create('sales/orders')).toMatchObject({ status: 201, domainReads: 0 });
  expect(await create('sales/regional_targets')).toMatchObject({ status: 201, domainReads: 0 });

  const registered = await p.call('erin', 'POST', '/v1/domains', {
    id: 'logistics',
    name: 'Logistics',
    accountId: '444444444444',
    region: 'eu-west-1',
  });
  expect(registered.status).toBe(201);
  expect(await create('sales/orders')).toMatchObject({ status: 201, domainReads: 1 });
  expect(await create('sales/orders')).toMatchObject({ status: 201, domainReads: 0 });
});

test('a domain registered after a refusal is seen by the next request', async () => {
  const template = DEMO_PRODUCTS.find((x) => x.id === 'sales/orders')!;
  await p.store.putProduct({
    ...structuredClone(template),
    id: 'shipping/orders',
    domain: 'shipping',
    name: 'orders',
  });
  expect(await create('shipping/orders')).toMatchObject({
    status: 422,
    code: 'DOMAIN_NOT_REGISTERED',
  });
  // Written straight to the store, with no generation move: only an absent domain is read again.
  await p.store.putDomain({
    id: 'shipping',
    name: 'Shipping',
    accountId: '333333333333',
    region: 'eu-west-1',
  });
  expect(await create('shipping/orders')).toMatchObject({ status: 201, domainReads: 1 });
});
