import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { verifyExport } from '../../functions/domain/audit-chain';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

/** The chain columns of a CSV export (cells without commas or quotes in these columns). */
function parseCsvExport(file: string) {
  const [header, ...rows] = file.trim().split('\r\n');
  const cols = header!.split(',');
  return rows.map((row) => {
    // detail is the only quoted cell; the chain columns are the last four, plain.
    const cells = row.split(',');
    const tail = cells.slice(-4);
    const head = cells.slice(0, 9);
    const detail = cells.slice(9, -4).join(',');
    const v = [...head, detail, ...tail];
    return Object.fromEntries(
      cols.map((c, i) => [
        c,
        c === 'seq'
          ? Number(v[i])
          : c === 'detail'
            ? JSON.parse(v[i]!.replace(/^"|"$/g, '').replace(/""/g, '"'))
            : v[i] || undefined,
      ]),
    );
  });
}

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

test('GET /v1/audit/verify checks every chain, and names the first event edited behind its back', async () => {
  const r = (await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'))).body;
  await p.call('bob', 'POST', `/v1/requests/${r.id}/approve`, { comment: 'ok' });
  await p.queue.onIdle();

  const clean = await p.call('dave', 'GET', '/v1/audit/verify');
  expect(clean.status).toBe(200);
  expect(clean.body.ok).toBe(true);
  const sales = clean.body.chains.find((c: { chain: string }) => c.chain === 'sales');
  expect(sales).toMatchObject({ ok: true, count: 8 }); // 3 seeded memberships (bob, sam, henry as backup), then the request's 5 events

  // An export verifies on its own, away from the store.
  const to = new Date(Date.now() + 60_000).toISOString();
  for (const format of ['jsonl', 'csv']) {
    const file = (await p.call('dave', 'GET', `/v1/audit/export?format=${format}&to=${to}`))
      .body as string;
    const events =
      format === 'jsonl'
        ? file
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
        : parseCsvExport(file);
    expect(verifyExport(events)).toMatchObject({ ok: true });
  }

  // Someone with write access to the table rewrites bob's approval comment.
  const doc = documentClient(
    new DynamoDBClient({
      endpoint: p.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
  );
  const events = (
    await doc.send(
      new QueryCommand({
        TableName: 'meshgate',
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': `REQUEST#${r.id}`, ':e': 'EVENT#' },
      }),
    )
  ).Items!;
  const approval = events.find((e) => e.type === 'APPROVAL_RECORDED')!;
  await doc.send(
    new PutCommand({
      TableName: 'meshgate',
      Item: { ...approval, detail: { ...approval.detail, comment: 'approved by the CFO' } },
    }),
  );

  const tampered = await p.call('dave', 'GET', '/v1/audit/verify?domain=sales');
  expect(tampered.body.ok).toBe(false);
  expect(tampered.body.chains[0]).toMatchObject({
    chain: 'sales',
    ok: false,
    firstBad: expect.objectContaining({ eventId: approval.id }),
  });
  expect((await p.call('bob', 'GET', '/v1/audit/verify')).status).toBe(403);
  // A platform admin verifies too (audit:verify), and is told the same first bad event.
  const byAdmin = await p.call('erin', 'GET', '/v1/audit/verify?domain=sales');
  expect(byAdmin.body.chains[0]).toMatchObject({
    ok: false,
    firstBad: expect.objectContaining({ eventId: approval.id }),
  });
});

test('a refused privileged action is recorded: who tried what, and why', async () => {
  const r = (await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'))).body;
  expect(
    (await p.call('alice', 'POST', `/v1/requests/${r.id}/approve`, { comment: 'mine' })).status,
  ).toBe(403);
  const trail = await p.call(
    'dave',
    'GET',
    `/v1/audit?actor=alice&to=${new Date(Date.now() + 60_000).toISOString()}`,
  );
  const refused = trail.body.items.filter((e: { type: string }) => e.type === 'ACCESS_REFUSED');
  expect(refused).toEqual([
    expect.objectContaining({
      actor: 'alice',
      domain: '*',
      detail: expect.objectContaining({
        method: 'POST',
        path: `/v1/requests/${r.id}/approve`,
        code: 'NOT_AN_APPROVER',
      }),
    }),
  ]);
  // The refusal joins the global chain, which still verifies.
  expect((await p.call('dave', 'GET', '/v1/audit/verify?domain=*')).body.ok).toBe(true);
});
