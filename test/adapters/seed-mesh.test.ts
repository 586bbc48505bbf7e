// `npm run seed` (bench/seed.ts): a small generated mesh in a temporary data folder is read back
// by the embedded portal as `npm start` opens it, through the store's normal queries and the API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAuditChains } from '../../functions/adapters/local/audit-chain-check';
import { startEmbeddedDynamo } from '../../functions/adapters/local/embedded-dynamo';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { verifyChain } from '../../functions/domain/audit-chain';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { CATALOG_VERSION_KEY } from '../../functions/adapters/aws/catalog-version';
import { inTimeOrder, parseSeedArgs, seedMesh, type SeedReport } from '../../bench/seed';
import { startPortal } from '../support/portal';
import type { ListingSource } from '../../functions/ports/store';
import type { AccessRequest } from '../../functions/domain/model';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const SIZES = { domains: 3, products: 30, requests: 200, seed: 7, now: NOW };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'meshgate-seed-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let dir: string;
let report: SeedReport;
beforeAll(async () => {
  dir = tempDir();
  report = await seedMesh({ dataDir: dir, ...SIZES });
});

test('the seed writes requests in every final status, with their grants, events and chain heads', () => {
  expect(report.byKind).toMatchObject({ domain: 3, product: 30, request: 200, chainhead: 4 });
  for (const status of ['PENDING', 'ACTIVE', 'REVOKED', 'EXPIRED', 'DENIED', 'CANCELLED'])
    expect(report.requestsByStatus).toHaveProperty(status);
  const granted = ['ACTIVE', 'REVOKED', 'EXPIRED', 'REVOKING'] as const;
  const grants = granted.reduce((n, s) => n + (report.requestsByStatus[s] ?? 0), 0);
  expect(report.byKind.grant).toBe(grants);
  // Every request has at least its REQUEST_CREATED.
  expect(report.byKind.audit).toBeGreaterThan(200);
});

/** The catalog version item: its version and the search index it names. */
async function catalogVersion(client: DynamoDBClient) {
  const out = await client.send(
    new GetItemCommand({
      TableName: 'meshgate',
      Key: marshall(CATALOG_VERSION_KEY),
      ConsistentRead: true,
    }),
  );
  return out.Item && unmarshall(out.Item);
}

let published: string;
test('the seed moves the catalog version once per product and publishes its search index', async () => {
  const dynamo = await startEmbeddedDynamo({ path: join(dir, 'dynamodb') });
  try {
    const item = await catalogVersion(dynamo.client);
    expect(item).toMatchObject({ version: 30, index: { version: 30, products: 30 } });
    published = item!.index.id;
  } finally {
    await dynamo.close();
  }
  expect(report.searchIndex).toMatchObject({ version: 30, products: 30 });
});

test('the embedded portal starts on the seeded folder, and reads it through its queries and the API', async () => {
  // The start-up chain check runs in createEmbeddedPortal: it would refuse a broken chain.
  const p = await startPortal({ dataDir: dir });
  try {
    expect(p.seeded).toBe(false); // the demo mesh is not added over a seeded store
    // The server loaded the index the seed published: it built none at its start.
    expect((await catalogVersion(p.client))!.index.id).toBe(published);
    const search = await p.call('alice', 'GET', `/v1/products?q=${report.sample.searchWord}`);
    expect(search.status).toBe(200);
    expect(search.body.items.length).toBeGreaterThan(0);
    const first = search.body.items[0] as { id: string };
    expect((await p.store.getProduct(first.id))?.id).toBe(first.id);
    const domains = await p.store.listDomains();
    expect(domains).toHaveLength(3);
    const all = async (source: ListingSource) => {
      const out: AccessRequest[] = [];
      let after: string | undefined;
      do {
        const page = await p.store.listRequests([source], { limit: 500, after });
        out.push(...page.items);
        after = page.next;
      } while (after);
      return out;
    };
    const mine = await all({ requester: report.sample.requester });
    expect(mine).toHaveLength(report.sample.requesterRequests);
    const ofDomain = await all({ domain: report.sample.domain });
    expect(ofDomain).toHaveLength(report.sample.domainRequests);

    const active = ofDomain.find((r) => r.status === 'ACTIVE')!;
    const grant = await p.store.getGrant(active.grantId!);
    expect(grant).toMatchObject({ status: 'ACTIVE', requestId: active.id });
    expect(grant!.expiresAt > NOW.toISOString()).toBe(true);
    const history = await p.store.listRequestAudit(active.id);
    expect(history.map((e) => e.type)).toEqual(
      expect.arrayContaining(['REQUEST_CREATED', 'REQUEST_APPROVED', 'GRANT_ACTIVE']),
    );

    const verify = await p.call('dave', 'GET', '/v1/audit/verify');
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.chains).toHaveLength(4);

    // The domain's owner sees its pending requests in the inbox; the requester their own.
    const inbox = await p.call(report.sample.domainOwner, 'GET', '/v1/approvals');
    expect(inbox.status).toBe(200);
    const pending = ofDomain.filter(
      (r) => r.status === 'PENDING' && r.stages[0]!.approvals.length === 0,
    );
    expect(inbox.body.items.length).toBeGreaterThanOrEqual(pending.length);
    const own = await p.call(report.sample.requester, 'GET', '/v1/requests?mine=true');
    expect(own.status).toBe(200);
    expect(own.body.items).toHaveLength(report.sample.requesterRequests);
  } finally {
    await p.close();
  }
});

test('the seed orders a chain of 300,000 events by time, ties in the order given', () => {
  // A busy domain at a million requests: more events than one call takes as arguments.
  const events = Array.from({ length: 300_000 }, (_, i) => ({
    at: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % 100_000) * 1000).toISOString(),
    i,
  }));
  const ordered = inTimeOrder(events);
  expect(ordered).toHaveLength(300_000);
  let outOfOrder = 0;
  for (let k = 1; k < ordered.length; k++) {
    const [a, b] = [ordered[k - 1]!, ordered[k]!];
    if (!(a.at < b.at || (a.at === b.at && a.i < b.i))) outOfOrder++;
  }
  expect(outOfOrder).toBe(0);
});

test('every chain of the seeded store verifies from its genesis', async () => {
  // The start-up check only compares each head with its last event; here every chain is walked.
  const dynamo = await startEmbeddedDynamo({ path: join(dir, 'dynamodb') });
  try {
    const store = new DynamoStore('meshgate', dynamo.client);
    const { chains, repaired } = await checkAuditChains(dynamo.client, 'meshgate');
    expect(repaired).toEqual([]);
    for (const chain of chains) expect(verifyChain(await store.listChain(chain)).ok).toBe(true);
  } finally {
    await dynamo.close();
  }
});

test('the same seed gives the same mesh; a folder that holds a store is refused', async () => {
  const again = tempDir();
  const second = await seedMesh({ dataDir: again, ...SIZES });
  expect(second.byKind).toEqual(report.byKind);
  expect(second.requestsByStatus).toEqual(report.requestsByStatus);
  expect(second.sample).toEqual(report.sample);
  await expect(seedMesh({ dataDir: again, ...SIZES })).rejects.toThrow(/already holds a store/);
});

test('the command line: sizes, --help, and refusals', () => {
  expect(parseSeedArgs(['--help'])).toBe('help');
  expect(
    parseSeedArgs([
      '--data-dir',
      '/tmp/x',
      '--domains',
      '1000',
      '--products',
      '100_000',
      '--requests',
      '1000000',
      '--seed',
      '3',
    ]),
  ).toMatchObject({
    dataDir: '/tmp/x',
    domains: 1000,
    products: 100_000,
    requests: 1_000_000,
    seed: 3,
  });
  expect(() => parseSeedArgs(['--domains', '3'])).toThrow(/--data-dir is required/);
  expect(() => parseSeedArgs(['--data-dir', 'x', '--products', '2', '--domains', '3'])).toThrow(
    /at least --domains/,
  );
  expect(() => parseSeedArgs(['--data-dir', 'x', '--bogus', '1'])).toThrow(/unknown option/);
});
