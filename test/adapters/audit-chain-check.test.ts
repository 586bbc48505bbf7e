import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentClient, DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { createEmbeddedPortal } from '../../functions/wiring/local';
import { POLICY_DIR } from '../support/portal';
import {
  AuditChainBroken,
  checkAuditChains,
} from '../../functions/adapters/local/audit-chain-check';
import { chainHeadItem } from '../../functions/adapters/aws/dynamo/keys';
import { verifyChain } from '../../functions/domain/audit-chain';
import type { AuditEvent } from '../../functions/domain/model';
import { embeddedTables } from '../support/embedded-tables';

// One table per case: the check looks at every chain of its table.
const TABLES = [
  'chk-ok',
  'chk-lag',
  'chk-nohead',
  'chk-edited',
  'chk-ahead',
  'chk-forked',
  'chk-many',
];
const db = embeddedTables(...TABLES);

let n = 0;
const event = (domain: string): AuditEvent => ({
  id: `evt_${String(++n).padStart(8, '0')}`,
  at: new Date(Date.UTC(2024, 2, 1, 10) + n * 1000).toISOString(),
  type: 'TEST_EVENT' as AuditEvent['type'],
  actor: 'tester',
  domain,
  detail: { n },
});

/** Writes `count` events to `domain`'s chain through the store, as Meshgate does; returns them sealed. */
async function chain(table: string, domain: string, count: number): Promise<AuditEvent[]> {
  const store = new DynamoStore(table, db.client);
  const out: AuditEvent[] = [];
  for (let i = 0; i < count; i++) {
    const e = event(domain);
    await store.appendAudit(e);
    out.push(e);
  }
  return out;
}

const headKey = (chain: string) => ({ pk: `CHAIN#${chain}`, sk: 'HEAD' });
const head = async (table: string, chain: string) =>
  (await db.doc.send(new GetCommand({ TableName: table, Key: headKey(chain) }))).Item;
/** Puts the head back to `e`, as a kill between an older version's event puts and head put left it. */
const setHead = (table: string, chain: string, e: AuditEvent) =>
  db.doc.send(
    new PutCommand({
      TableName: table,
      Item: chainHeadItem(chain, { seq: e.seq!, hash: e.hash! }),
    }),
  );
const eventKey = (e: AuditEvent) => ({ pk: `AUDIT#${e.id}`, sk: `EVENT#${e.at}#${e.id}` });

async function refusal(table: string): Promise<AuditChainBroken> {
  try {
    await checkAuditChains(db.client, table);
  } catch (err) {
    return err as AuditChainBroken;
  }
  throw new Error('expected the check to refuse');
}

test('chains whose heads name their last events pass untouched, every chain listed', async () => {
  await chain('chk-ok', 'sales', 3);
  await chain('chk-ok', 'finance', 2);
  expect(await checkAuditChains(db.client, 'chk-ok')).toEqual({
    chains: ['finance', 'sales'],
    repaired: [],
  });
});

test('a head that lags its events (a kill after the events, before the head) is set to the last event, and the next write continues the chain', async () => {
  const events = await chain('chk-lag', 'sales', 5);
  await chain('chk-lag', 'finance', 2);
  await setHead('chk-lag', 'sales', events[2]!);

  const result = await checkAuditChains(db.client, 'chk-lag');
  expect(result.repaired).toEqual([
    {
      chain: 'sales',
      from: { seq: 3, hash: events[2]!.hash },
      to: { seq: 5, hash: events[4]!.hash },
    },
  ]);
  expect(await head('chk-lag', 'sales')).toMatchObject({ seq: 5, hash: events[4]!.hash });

  // Without the repair the next event would be sealed as seq 4 a second time (a fork); with it,
  // the chain goes on from 5 and verifies whole.
  const store = new DynamoStore('chk-lag', db.client);
  await store.appendAudit(event('sales'));
  const all = await store.listChain('sales');
  expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(verifyChain(all).ok).toBe(true);
  expect((await checkAuditChains(db.client, 'chk-lag')).repaired).toEqual([]);
});

test('a chain whose first head was never written gets one', async () => {
  // Chains are per domain: a chain without a head is found through its domain.
  await db.doc.send(
    new PutCommand({
      TableName: 'chk-nohead',
      Item: { pk: 'DOMAIN', sk: 'sales', kind: 'domain', id: 'sales', name: 'Sales' },
    }),
  );
  const events = await chain('chk-nohead', 'sales', 2);
  await db.doc.send(new DeleteCommand({ TableName: 'chk-nohead', Key: headKey('sales') }));
  expect((await checkAuditChains(db.client, 'chk-nohead')).repaired).toEqual([
    { chain: 'sales', from: undefined, to: { seq: 2, hash: events[1]!.hash } },
  ]);
  expect(await head('chk-nohead', 'sales')).toMatchObject({ seq: 2, hash: events[1]!.hash });
});

/** The DynamoDB commands the check sends, by name. */
async function checkCommands(table: string): Promise<string[]> {
  const sent: string[] = [];
  db.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push((context.commandName ?? '?').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countCheckCommands' },
  );
  try {
    await checkAuditChains(db.client, table);
  } finally {
    db.client.middlewareStack.remove('countCheckCommands');
  }
  return sent;
}

test('the check reads the chains by key and index: its commands do not grow with the items of the table', async () => {
  await chain('chk-many', 'sales', 2);
  await chain('chk-many', 'finance', 1);
  const before = await checkCommands('chk-many');
  expect(before).not.toContain('Scan');
  // Chain heads, domains, then a head Get and a last-event Query per chain ('*', finance, sales).
  expect(before).toHaveLength(2 + 2 * 3);

  // Several MB of other items (a scan would page through them), and more events on a chain.
  const pad = 'x'.repeat(2_000);
  for (let b = 0; b < 120; b++) {
    await db.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          'chk-many': Array.from({ length: 25 }, (_, i) => ({
            PutRequest: { Item: { pk: `FILLER#${b * 25 + i}`, sk: 'META', pad } },
          })),
        },
      }),
    );
  }
  await chain('chk-many', 'sales', 20);
  expect(await checkCommands('chk-many')).toEqual(before);
});

test('a lagging head over events that do not verify refuses to start, naming the chain and what to do, and changes nothing', async () => {
  const events = await chain('chk-edited', 'sales', 4);
  await chain('chk-edited', 'finance', 1);
  await db.doc.send(
    new UpdateCommand({
      TableName: 'chk-edited',
      Key: eventKey(events[1]!),
      UpdateExpression: 'SET detailJson = :d',
      ExpressionAttributeValues: { ':d': '{"n":999}' },
    }),
  );
  await setHead('chk-edited', 'sales', events[2]!);

  const err = await refusal('chk-edited');
  expect(err).toBeInstanceOf(AuditChainBroken);
  expect(err.chain).toBe('sales');
  expect(err.message).toContain('Audit chain "sales"');
  expect(err.message).toContain(`event ${events[1]!.id} (seq 2)`);
  expect(err.message).toContain('hash mismatch');
  expect(err.message).toContain('npm run audit:verify');
  expect(await head('chk-edited', 'sales')).toMatchObject({ seq: 3, hash: events[2]!.hash });
});

test('a head ahead of its events (the last events deleted) refuses rather than hide the deletion', async () => {
  const events = await chain('chk-ahead', 'sales', 3);
  await db.doc.send(new DeleteCommand({ TableName: 'chk-ahead', Key: eventKey(events[2]!) }));
  const err = await refusal('chk-ahead');
  expect(err.chain).toBe('sales');
  expect(err.message).toMatch(/head \(seq 3\) is ahead of its last event \(seq 2\)/);
  expect(await head('chk-ahead', 'sales')).toMatchObject({ seq: 3 });
});

test('a head that is not one of the events refuses', async () => {
  const events = await chain('chk-forked', 'sales', 3);
  await setHead('chk-forked', 'sales', { ...events[1]!, hash: 'f'.repeat(64) });
  const err = await refusal('chk-forked');
  expect(err.chain).toBe('sales');
  expect(err.message).toMatch(/head \(seq 2\) disagrees with its event of that seq/);
});

test('the embedded portal runs the check before anything writes, and refuses to start on a broken chain', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshgate-chain-'));
  try {
    const first = await createEmbeddedPortal({ dataDir, policyDir: POLICY_DIR });
    const events = await first.store.listChain('sales');
    expect(events.length).toBeGreaterThan(1);
    const doc = documentClient(first.client);
    // An event edited on disk (its chain no longer verifies), and a head left behind it.
    const edited = events[0]!;
    await doc.send(
      new UpdateCommand({
        TableName: 'meshgate',
        Key: {
          pk: edited.requestId ? `REQUEST#${edited.requestId}` : `AUDIT#${edited.id}`,
          sk: `EVENT#${edited.at}#${edited.id}`,
        },
        UpdateExpression: 'SET actor = :a',
        ExpressionAttributeValues: { ':a': 'someone-else' },
      }),
    );
    await doc.send(
      new PutCommand({
        TableName: 'meshgate',
        Item: { ...headKey('sales'), kind: 'chainhead', chain: 'sales', seq: 1, hash: edited.hash },
      }),
    );
    await first.close();
    await expect(createEmbeddedPortal({ dataDir, policyDir: POLICY_DIR })).rejects.toThrow(/sales/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
