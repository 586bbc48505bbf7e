// The admin console's routes: a domain's operations page by page, newest first, and the policy in
// force with the text of its files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_DIR, startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

test('GET /v1/operations pages through one domain’s operations, newest first, with sealed cursors', async () => {
  const started: string[] = [];
  for (let i = 0; i < 3; i++) {
    for (const kind of ['sync', 'reconcile']) {
      const res = await p.call('bob', 'POST', `/v1/domains/sales/${kind}`);
      expect(res.status).toBe(202);
      started.push(res.body.operation.id);
    }
    await p.queue.onIdle();
  }
  // Another domain's operation stays out of sales' listing.
  await p.call('erin', 'POST', '/v1/domains/finance/sync');
  await p.queue.onIdle();

  const seen: { id: string; domain: string; createdAt: string }[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await p.call(
      'bob',
      'GET',
      `/v1/operations?domain=sales&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    seen.push(...res.body.items);
    cursor = res.body.cursor;
    pages++;
  } while (cursor);
  expect(pages).toBe(2);
  expect(seen.map((o) => o.id).sort()).toEqual([...started].sort());
  expect(seen.every((o) => o.domain === 'sales')).toBe(true);
  const times = seen.map((o) => o.createdAt);
  expect(times).toEqual([...times].sort().reverse());

  // A page that ends exactly at the last operation is the last page: no cursor to an empty page.
  const all = await p.call('bob', 'GET', '/v1/operations?domain=sales&limit=6');
  expect(all.body.items).toHaveLength(6);
  expect(all.body.cursor).toBeUndefined();
  const half = await p.call('bob', 'GET', '/v1/operations?domain=sales&limit=3');
  const rest = await p.call(
    'bob',
    'GET',
    `/v1/operations?domain=sales&limit=3&cursor=${encodeURIComponent(half.body.cursor)}`,
  );
  expect(rest.body.items.map((o: { id: string }) => o.id)).toEqual(seen.slice(3).map((o) => o.id));
  expect(rest.body.cursor).toBeUndefined();

  // A cursor belongs to its domain and caller.
  const first = await p.call('bob', 'GET', '/v1/operations?domain=sales&limit=1');
  const other = await p.call(
    'erin',
    'GET',
    `/v1/operations?domain=sales&limit=1&cursor=${encodeURIComponent(first.body.cursor)}`,
  );
  expect(other.status).toBe(400);
  expect(other.body.error.code).toBe('BAD_CURSOR');
  expect((await p.call('bob', 'GET', '/v1/operations')).status).toBe(400);
  expect((await p.call('bob', 'GET', '/v1/operations?domain=sales&limit=501')).status).toBe(400);
});

test('GET /v1/policy shows the version in force and every file as it was loaded', async () => {
  const res = await p.call('erin', 'GET', '/v1/policy');
  expect(res.status).toBe(200);
  expect(res.body.inForce).toBe(true);
  expect(res.body.recorded).toMatchObject({ version: res.body.version, seq: expect.any(Number) });
  const files = res.body.files as { source: string; sha256: string; text: string }[];
  expect(files[0]).toMatchObject({
    source: 'model.conf',
    text: readFileSync(join(POLICY_DIR, 'model.conf'), 'utf8'),
  });
  const global = files.find((f) => f.source.endsWith('global.csv'))!;
  expect(global.text).toBe(readFileSync(join(POLICY_DIR, 'global.csv'), 'utf8'));
  expect(files.map((f) => f.source)).toEqual(
    expect.arrayContaining([expect.stringMatching(/domains\/sales\.csv$/)]),
  );
  // The version answered is the one recorded in the trail.
  const trail = await p.call('dave', 'GET', '/v1/audit?domain=*');
  const changed = trail.body.items.filter((e: { type: string }) => e.type === 'POLICY_CHANGED');
  expect(changed.at(-1).detail.version).toBe(res.body.version);

  const refused = await p.call('bob', 'GET', '/v1/policy');
  expect(refused.status).toBe(403);
  expect(refused.body.error.code).toBe('NOT_ALLOWED');
});
