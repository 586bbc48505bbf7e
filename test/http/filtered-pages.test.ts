// Lists filtered by status: DynamoDB applies Limit before a FilterExpression, so a page read as
// "the newest limit + 1, then keep the ACTIVE ones" came back empty (with a cursor) for a user
// whose newest grants had all ended, and the "I already have access" facet missed their older
// ACTIVE grants. A user's ACTIVE grants have their own partition (the holder items in gsi1); other
// filtered pages read a source at most twice (table.ts FILTERED_READS).
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { grantItem, holderItem } from '../../functions/adapters/aws/dynamo/keys';
import { FILTERED_EVALUATE } from '../../functions/adapters/aws/dynamo/table';
import type { Grant } from '../../functions/domain/model';
import { productsWithAccess } from '../../functions/usecases/held-grants';
import { startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
let queries = 0;
beforeAll(async () => {
  p = await startPortal();
  p.client.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName === 'QueryCommand') queries++;
      return next(args);
    },
    { step: 'initialize', name: 'countFilteredQueries' },
  );
});
afterAll(() => p.close());

const grant = (
  user: string,
  i: number,
  status: Grant['status'],
  productId: string,
  grantedAt: string,
): Grant => ({
  id: `grt_${user}${String(i).padStart(20, '0')}`,
  requestId: `req_${user}${String(i).padStart(20, '0')}`,
  requester: user,
  principal: 'arn:aws:iam::555555555555:role/analyst',
  productId,
  domain: productId.split('/')[0]!,
  classification: 'internal',
  accountId: '111111111111',
  scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
  grantedAt,
  expiresAt: status === 'ACTIVE' ? '2099-11-01T00:00:00.000Z' : '2026-01-02T00:00:00.000Z',
  status,
  entries: [],
});

/** Writes a grant as the store does: with its holder item while ACTIVE. */
async function put(g: Grant) {
  const doc = documentClient(p.client);
  await doc.send(new PutCommand({ TableName: 'meshgate', Item: grantItem(g) }));
  if (g.status === 'ACTIVE')
    await doc.send(new PutCommand({ TableName: 'meshgate', Item: holderItem(g) }));
}

/** One ACTIVE grant of `user` on `productId`, then `ended` newer EXPIRED grants on another. */
async function olderActive(user: string, productId: string, ended: number) {
  await put(grant(user, 0, 'ACTIVE', productId, '2026-01-01T00:00:00.000Z'));
  for (let i = 1; i <= ended; i++)
    await put(
      grant(
        user,
        i,
        'EXPIRED',
        'finance/ledger',
        new Date(Date.UTC(2026, 0, 2) + i * 60_000).toISOString(),
      ),
    );
}

test('My access (mine, ACTIVE) finds an ACTIVE grant older than 120 ended ones on its first page, in one Query', async () => {
  await olderActive('carol', 'sales/orders', 120);
  await p.call('carol', 'GET', '/v1/grants?mine=true&status=ACTIVE&limit=50'); // warm: sign-in
  queries = 0;
  const page = await p.call('carol', 'GET', '/v1/grants?mine=true&status=ACTIVE&limit=50');
  expect(page.status).toBe(200);
  expect(page.body.items.map((g: Grant) => g.productId)).toEqual(['sales/orders']);
  expect(page.body.cursor).toBeUndefined();
  expect(queries).toBe(1);
  // Every status but ACTIVE still reads the user's grants, newest first.
  const ended = await p.call('carol', 'GET', '/v1/grants?mine=true&status=EXPIRED&limit=50');
  expect(ended.body.items).toHaveLength(50);
  expect(ended.body.cursor).toBeDefined();
});

test('the "I already have access" facet sees an ACTIVE grant older than the user’s 501 newest grants', async () => {
  await olderActive('jack', 'sales/customers', 501);
  const held = await productsWithAccess(p.deps, 'jack');
  expect([...held]).toEqual(['sales/customers']);
});

test('a filtered page reads further when its first read came back short: not empty while a match is near, at most two Queries per source', async () => {
  // erin reads every domain's grants (one partition): 120 newer REVOKED grants above an EXPIRED one.
  await put(grant('kim', 0, 'EXPIRED', 'hr/employees', '2026-02-01T00:00:00.000Z'));
  for (let i = 1; i <= 120; i++)
    await put(
      grant(
        'kim',
        i,
        'REVOKED',
        'hr/employees',
        new Date(Date.UTC(2026, 1, 2) + i * 60_000).toISOString(),
      ),
    );
  await p.call('erin', 'GET', '/v1/grants?status=EXPIRED&limit=10'); // warm
  queries = 0;
  const page = await p.call('erin', 'GET', '/v1/grants?status=EXPIRED&limit=10');
  expect(page.status).toBe(200);
  expect(page.body.items.map((g: Grant) => g.id)).toContain(
    grant('kim', 0, 'EXPIRED', 'hr/employees', '').id,
  );
  expect(queries).toBeLessThanOrEqual(2);
});

test('a filtered page that finds nothing in what it may read comes back empty with a cursor, and the cursor goes on', async () => {
  // More non-matching grants than one page's two reads evaluate, above one that matches.
  const many = 10 + 1 + FILTERED_EVALUATE + 20;
  await put(grant('dave', 0, 'REVOKING', 'marketing/campaigns', '2026-03-01T00:00:00.000Z'));
  for (let i = 1; i <= many; i++)
    await put(
      grant(
        'dave',
        i,
        'REVOKED',
        'marketing/campaigns',
        new Date(Date.UTC(2026, 2, 2) + i * 1000).toISOString(),
      ),
    );
  queries = 0;
  const first = await p.call('dave', 'GET', '/v1/grants?mine=true&status=REVOKING&limit=10');
  expect(first.body.items).toEqual([]);
  expect(first.body.cursor).toBeDefined();
  expect(queries).toBe(2);
  const next = await p.call(
    'dave',
    'GET',
    `/v1/grants?mine=true&status=REVOKING&limit=10&cursor=${encodeURIComponent(first.body.cursor)}`,
  );
  expect(next.body.items.map((g: Grant) => g.productId)).toEqual(['marketing/campaigns']);
  expect(next.body.cursor).toBeUndefined();
});
