import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { grantItem } from '../../functions/adapters/aws/dynamo/keys';
import type { AuditEvent, Grant } from '../../functions/domain/model';
import { pendingRequest } from '../support/embedded-tables';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

/**
 * DynamoDB commands per call, counted by a middleware on the store's client: a listing costs the
 * authorization check (one GetItem of the authorization state) plus at most 2 reads, and a
 * request's lifecycle writes cost as many commands with 200 items of each kind in the table as
 * with 10. Nothing a call does grows with the data, only with the page asked for.
 */
let p: TestPortal;
let sent: string[] = [];
let seeded = 0;

const WINDOW_399_DAYS = 'from=2025-10-28T00:00:00Z&to=2026-12-01T00:00:00Z';
const LISTINGS = [
  ['alice', '/v1/requests?mine=true'],
  ['bob', '/v1/approvals'],
  ['bob', '/v1/grants?domain=sales'],
  ['alice', '/v1/grants'],
  ['dave', `/v1/audit?${WINDOW_399_DAYS}`],
  ['alice', '/v1/domains'],
] as const;

async function seed(upTo: number) {
  const doc = documentClient(p.client);
  for (let i = seeded; i < upTo; i++) {
    const n = String(i).padStart(26, '0');
    const at = new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString();
    await p.store.createRequest(pendingRequest('sales', `req_${n}`, at), []);
    const g: Grant = {
      id: `grt_${n}`,
      requestId: `req_${n}`,
      requester: 'alice',
      principal: 'arn:aws:iam::555555555555:role/seeded',
      productId: 'sales/orders',
      domain: 'sales',
      classification: 'confidential',
      accountId: '111111111111',
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      grantedAt: at,
      expiresAt: '2099-01-01T00:00:00.000Z',
      status: 'EXPIRED',
      entries: [],
    };
    await doc.send(new PutCommand({ TableName: 'meshgate', Item: grantItem(g) }));
    const e: AuditEvent = {
      id: `evt_${n}`,
      at,
      type: 'DOMAIN_SYNCED',
      actor: 'bob',
      domain: 'sales',
      detail: {},
    };
    await p.store.appendAudit(e);
  }
  seeded = Math.max(seeded, upTo);
}

/** The commands `fn` sends, by name. */
async function counted(fn: () => Promise<unknown>): Promise<string[]> {
  sent = [];
  await fn();
  const out = sent;
  sent = [];
  return out;
}

async function listingCommands() {
  const out: Record<string, string[]> = {};
  for (const [user, path] of LISTINGS) {
    await p.call(user, 'GET', path); // warm: the caller's first call may sign in, create the cursor key
    out[`${user} ${path}`] = await counted(async () => {
      const res = await p.call(user, 'GET', path);
      expect(res.status).toBe(200);
    });
  }
  return out;
}

/** Submit, approve, grant: the commands of each step. */
async function lifecycleCommands() {
  let id = '';
  const create = await counted(async () => {
    const res = await p.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
    expect(res.status).toBe(201);
    id = res.body.id;
  });
  const approveAndGrant = await counted(async () => {
    const res = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
    expect(res.status).toBe(200);
    await p.queue.onIdle();
  });
  expect((await p.call('alice', 'GET', `/v1/requests/${id}`)).body.status).toBe('ACTIVE');
  return { create: create.length, approveAndGrant: approveAndGrant.length };
}

beforeAll(async () => {
  // The API's own work, as on AWS: notifying is the notifier's (counted in its own tests).
  p = await startPortal({ notifyInProcess: false });
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
}, 60_000);
afterAll(() => p.close());

test('a listing costs the authorization check plus at most 2 reads, at 10 items as at 200', async () => {
  await seed(10);
  const small = await listingCommands();
  for (const [call, commands] of Object.entries(small)) {
    expect([call, commands[0]]).toEqual([call, 'GetItemCommand']); // the authorization state
    expect([call, commands.length - 1]).toEqual([call, expect.any(Number)]);
    expect({ call, reads: commands.length - 1 }).toEqual({
      call,
      reads: Math.min(commands.length - 1, 2),
    });
    expect(commands).not.toContain('ScanCommand');
  }
  await seed(200);
  expect(await listingCommands()).toEqual(small);
}, 120_000);

test('creating, approving and granting a request cost as many commands at 400 items as at 200 or fewer', async () => {
  await seed(10);
  await lifecycleCommands(); // warm: first calls of the callers and of the worker
  const small = await lifecycleCommands();
  await seed(seeded + 200);
  const large = await lifecycleCommands();
  expect(large).toEqual(small);
  // And a small bound, whatever the data: the authorization check, the product and the
  // transaction. The domain is kept behind the authorization generation, the open-request count
  // is checked by the transaction's conditional claim, and the embedded store keeps the chain
  // head it wrote last (each was one more read: 6 in all before).
  expect(small.create).toBeLessThanOrEqual(3);
}, 120_000);
