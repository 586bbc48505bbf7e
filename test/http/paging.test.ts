import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { grantItem, holderItem } from '../../functions/adapters/aws/dynamo/keys';
import type { AccessRequest, AuditEvent, Grant } from '../../functions/domain/model';
import { pendingRequest } from '../support/embedded-tables';
import { startPortal, type TestPortal } from '../support/portal';

/**
 * Every listing pages: `?limit=&cursor=` answers `{ items, cursor }`, no cursor on the last page;
 * walking the cursors yields every item the caller may see once, in a stable order, and nothing
 * they may not see; a limit above the maximum is a 400, a cursor not handed out for this listing
 * and caller is a 400 BAD_CURSOR.
 */
let p: TestPortal;
const N = 120;
const id = (prefix: string, i: number) => `${prefix}_${String(i).padStart(26, '0')}`;
// Sixty share one instant: the order among them is by id, and must still be stable across pages.
const at = (i: number) =>
  i < 60 ? '2026-11-01T10:00:00.000Z' : new Date(Date.UTC(2026, 10, 2, 0, 0, i)).toISOString();
/** The ith seeded request: alice's, even ones in sales, odd ones in finance. */
const domainOf = (i: number) => (i % 2 === 0 ? 'sales' : 'finance');

type Item = { id: string; createdAt?: string; grantedAt?: string; at?: string };

async function walk(user: string, path: string, limit: number) {
  const pages: Item[][] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 1000; n++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await p.call(
      user,
      'GET',
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    pages.push(res.body.items);
    cursor = res.body.cursor;
    if (cursor === undefined) return pages;
    expect(Object.keys(res.body).sort()).toEqual(['cursor', 'items']);
  }
  throw new Error('the cursor never ended');
}

const ids = (pages: Item[][]) => pages.flat().map((i) => i.id);
const noDuplicates = (list: string[]) => expect(new Set(list).size).toBe(list.length);

beforeAll(async () => {
  p = await startPortal();
  for (let i = 0; i < N; i++) {
    const r: AccessRequest = pendingRequest(domainOf(i), id('req', i), at(i), {
      productId: `${domainOf(i)}/${i % 2 === 0 ? 'orders' : 'ledger'}`,
    });
    await p.store.createRequest(r, []);
  }
  const doc = documentClient(p.client);
  for (let i = 0; i < N; i++) {
    const g: Grant = {
      id: id('grt', i),
      requestId: id('req', 1000 + i),
      requester: 'alice',
      principal: 'arn:aws:iam::555555555555:role/analyst',
      productId: `${domainOf(i)}/orders`,
      domain: domainOf(i),
      classification: 'confidential',
      accountId: '111111111111',
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      grantedAt: at(i),
      expiresAt: '2099-01-01T00:00:00.000Z',
      status: i % 3 === 0 ? 'EXPIRED' : 'ACTIVE',
      entries: [],
    };
    await doc.send(new PutCommand({ TableName: 'meshgate', Item: grantItem(g) }));
    // As the store writes an ACTIVE grant: with its holder item (a user's ACTIVE grants).
    if (g.status === 'ACTIVE')
      await doc.send(new PutCommand({ TableName: 'meshgate', Item: holderItem(g) }));
  }
  for (let i = 0; i < N; i++) {
    const e: AuditEvent = {
      id: id('evt', i),
      at: at(i),
      type: 'DOMAIN_SYNCED',
      actor: i % 4 === 0 ? 'bob' : 'fiona',
      domain: domainOf(i),
      detail: { i },
    };
    await p.store.appendAudit(e);
  }
}, 120_000);

afterAll(() => p.close());

const newestFirst = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

describe('GET /v1/requests', () => {
  test('a requester walks their requests: full pages, no gaps, no duplicates, newest first', async () => {
    const pages = await walk('alice', '/v1/requests?mine=true', 50);
    expect(pages.map((x) => x.length)).toEqual([50, 50, 20]);
    const all = pages.flat();
    noDuplicates(ids(pages));
    expect(ids(pages).sort()).toEqual(Array.from({ length: N }, (_, i) => id('req', i)).sort());
    const keys = all.map((r) => `${r.createdAt}#${r.id}`);
    expect([...keys].sort(newestFirst)).toEqual(keys);
    // The same order in one page and in pages of any size.
    expect(ids(await walk('alice', '/v1/requests?mine=true', 500))).toEqual(ids(pages));
    expect(ids(await walk('alice', '/v1/requests?mine=true', 7))).toEqual(ids(pages));
  });

  test('an owner sees their domain, never another', async () => {
    const seen = ids(await walk('bob', '/v1/requests', 13));
    noDuplicates(seen);
    const seeded = seen.filter((x) => x.startsWith('req_000'));
    expect(seeded.sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => domainOf(i) === 'sales')
        .map((i) => id('req', i))
        .sort(),
    );
  });

  test('an owner of another domain sees none of them', async () => {
    const seen = ids(await walk('grace', '/v1/requests', 50));
    expect(seen.filter((x) => x.startsWith('req_000'))).toEqual([]);
  });

  test('compliance (a role in every domain) sees every domain, filtered by status', async () => {
    const seen = ids(await walk('carol', '/v1/requests?status=PENDING', 40));
    noDuplicates(seen);
    expect(seen.filter((x) => x.startsWith('req_000'))).toHaveLength(N);
    expect(ids(await walk('carol', '/v1/requests?status=DENIED', 40))).toEqual([]);
  });
});

describe('GET /v1/approvals', () => {
  test("an owner's inbox: the pending requests of their domain, oldest first, each once", async () => {
    const pages = await walk('bob', '/v1/approvals', 25);
    const seen = ids(pages);
    noDuplicates(seen);
    expect(seen.filter((x) => x.startsWith('req_000')).sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => domainOf(i) === 'sales')
        .map((i) => id('req', i))
        .sort(),
    );
    const keys = pages.flat().map((r) => `${r.createdAt}#${r.id}`);
    expect([...keys].sort()).toEqual(keys);
  });

  test('the requester never finds their own requests in an inbox', async () => {
    expect(ids(await walk('alice', '/v1/approvals', 50))).toEqual([]);
  });
});

describe('GET /v1/grants', () => {
  test('the grantee walks every grant once, newest first; a status filter within pages', async () => {
    const pages = await walk('alice', '/v1/grants', 50);
    noDuplicates(ids(pages));
    expect(
      ids(pages)
        .filter((x) => x.startsWith('grt_'))
        .sort(),
    ).toEqual(Array.from({ length: N }, (_, i) => id('grt', i)).sort());
    const active = ids(await walk('alice', '/v1/grants?status=ACTIVE', 30));
    expect(active.sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => i % 3 !== 0)
        .map((i) => id('grt', i))
        .sort(),
    );
  });

  test("an owner sees their domain's grants only; others see none", async () => {
    const seen = ids(await walk('fiona', '/v1/grants', 9));
    expect(seen.sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => domainOf(i) === 'finance')
        .map((i) => id('grt', i))
        .sort(),
    );
    expect(ids(await walk('grace', '/v1/grants', 50))).toEqual([]);
  });
});

describe('GET /v1/audit', () => {
  test('an auditor walks the trail oldest first, each event once; by domain and by actor', async () => {
    const window = 'from=2026-10-01T00:00:00Z&to=2026-11-03T00:00:00Z';
    const pages = await walk('dave', `/v1/audit?${window}`, 50);
    expect(pages.map((x) => x.length)).toEqual([50, 50, 20]);
    noDuplicates(ids(pages));
    expect(ids(pages).sort()).toEqual(Array.from({ length: N }, (_, i) => id('evt', i)).sort());
    const byDomain = ids(await walk('dave', `/v1/audit?${window}&domain=sales`, 17));
    expect(byDomain.sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => domainOf(i) === 'sales')
        .map((i) => id('evt', i))
        .sort(),
    );
    const byActor = ids(await walk('dave', `/v1/audit?${window}&actor=bob`, 11));
    expect(byActor).toHaveLength(N / 4);
  });

  test('the audit trail takes pages of 1000, not more', async () => {
    expect((await p.call('dave', 'GET', '/v1/audit?limit=1000')).status).toBe(200);
    const res = await p.call('dave', 'GET', '/v1/audit?limit=1001');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('is refused to others', async () => {
    expect((await p.call('alice', 'GET', '/v1/audit?limit=5')).status).toBe(403);
  });
});

describe('GET /v1/domains and /v1/domains/{id}/members', () => {
  test('domains page by id, with their owners', async () => {
    const pages = await walk('alice', '/v1/domains', 1);
    const all = pages.flat() as Array<Item & { owners: string[] }>;
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.map((d) => d.id)).toEqual([...all.map((d) => d.id)].sort());
    expect(all.find((d) => d.id === 'sales')!.owners).toEqual(['bob']);
    expect(ids(await walk('alice', '/v1/domains', 500))).toEqual(ids(pages));
  });

  test("a domain's members page; refused to others", async () => {
    const pages = await walk('bob', '/v1/domains/sales/members', 1);
    expect(pages.flat()).toContainEqual(expect.objectContaining({ user: 'bob', role: 'owner' }));
    expect((await p.call('alice', 'GET', '/v1/domains/sales/members')).status).toBe(403);
  });
});

describe('GET /v1/consumer-accounts', () => {
  test('consumer accounts page by AWS account id, each once, their brokers redacted', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await p.call('erin', 'POST', '/v1/consumer-accounts', {
        id: `paged-${i}`,
        name: `Paged ${i}`,
        accountId: `90000000000${i}`,
        region: 'eu-west-1',
        broker: {
          roleArn: `arn:aws:iam::90000000000${i}:role/meshgate-broker`,
          externalId: `paged-external-id-${i}`,
        },
      });
      expect(res.status).toBe(201);
    }
    const pages = await walk('alice', '/v1/consumer-accounts', 2);
    const all = pages.flat() as Array<
      Item & { accountId: string; broker?: { externalId: string } }
    >;
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const accounts = all.map((a) => a.accountId);
    noDuplicates(accounts);
    expect(accounts).toEqual([...accounts].sort());
    expect(accounts).toEqual(
      expect.arrayContaining(['777777777777', ...[0, 1, 2, 3].map((i) => `90000000000${i}`)]),
    );
    expect(JSON.stringify(all)).not.toContain('paged-external-id');
    expect((await walk('alice', '/v1/consumer-accounts', 500)).flat().map((a) => a.id)).toEqual(
      ids(pages),
    );
  });
});

describe('limits and cursors', () => {
  const routes = [
    '/v1/requests',
    '/v1/approvals',
    '/v1/grants',
    '/v1/domains',
    '/v1/domains/sales/members',
    '/v1/consumer-accounts',
  ];

  test.each(routes)('%s: a limit above 500 is a 400', async (route) => {
    const res = await p.call('bob', 'GET', `${route}?limit=501`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect((await p.call('bob', 'GET', `${route}?limit=500`)).status).toBe(200);
  });

  test.each([...routes, '/v1/audit'])('%s: a forged cursor is a 400 BAD_CURSOR', async (route) => {
    for (const cursor of ['x', 'abc.def', `${Buffer.from('"a"').toString('base64url')}.AAAA`]) {
      const user = route.endsWith('/members') ? 'erin' : 'dave';
      const res = await p.call(user, 'GET', `${route}?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BAD_CURSOR');
    }
  });

  test("another caller's cursor, or one of other filters, is a 400 BAD_CURSOR", async () => {
    const first = await p.call('alice', 'GET', '/v1/requests?mine=true&limit=5');
    const cursor = encodeURIComponent(first.body.cursor);
    expect((await p.call('alice', 'GET', `/v1/requests?mine=true&cursor=${cursor}`)).status).toBe(
      200,
    );
    for (const [user, path] of [
      ['bob', `/v1/requests?mine=true&cursor=${cursor}`],
      ['alice', `/v1/requests?cursor=${cursor}`],
      ['alice', `/v1/requests?mine=true&status=PENDING&cursor=${cursor}`],
      ['alice', `/v1/grants?cursor=${cursor}`],
    ] as const) {
      const res = await p.call(user, 'GET', path);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BAD_CURSOR');
    }
  });
});
