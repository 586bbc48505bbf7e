import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { verifyChain } from '../../functions/domain/audit-chain';
import { MeshgateError } from '../../functions/domain/errors';
import type { AccessRequest, AuditEvent, AuditEventType } from '../../functions/domain/model';
import { embeddedTables, pendingRequest } from '../support/embedded-tables';

const TABLE = 'chain-test';
const run = promisify(execFile);

const db = embeddedTables(TABLE);
/**
 * Several stores on one table: as many processes (Lambdas) writing at once. Half keep the chain
 * heads they wrote (as the embedded default does), so their kept heads go stale under the others.
 */
let stores: DynamoStore[];
beforeAll(() => {
  stores = Array.from(
    { length: 6 },
    (_, i) => new DynamoStore(TABLE, db.client, { keepChainHeads: i % 2 === 0 }),
  );
});

let n = 0;
const id = (p: string) => `${p}_${String(++n).padStart(8, '0')}`;
const at = () => new Date(Date.UTC(2024, 2, 1, 10) + n * 1000).toISOString();

const event = (domain: string, over: Partial<AuditEvent> = {}): AuditEvent => ({
  id: id('evt'),
  at: at(),
  type: 'TEST_EVENT' as AuditEventType, // the store takes any type
  actor: 'tester',
  domain,
  detail: { n },
  ...over,
});

const request = (domain: string, over: Partial<AccessRequest> = {}): AccessRequest =>
  pendingRequest(domain, id('req'), at(), over);

/** The raw stored item of an audit event, found through the chain. */
async function rawItem(e: AuditEvent) {
  const pk = e.requestId ? `REQUEST#${e.requestId}` : `AUDIT#${e.id}`;
  const out = await db.doc.send(
    new GetCommand({ TableName: TABLE, Key: { pk, sk: `EVENT#${e.at}#${e.id}` } }),
  );
  return out.Item!;
}

describe('one chain per domain, under concurrent writers', () => {
  const D = 'busy';
  let requests: AccessRequest[] = [];

  test('300 concurrent writes in one domain from 6 stores: each succeeds or fails only on its own condition; the chain verifies', async () => {
    const started = Date.now();
    // A few requests to race on.
    requests = Array.from({ length: 5 }, () => request(D));
    await Promise.all(
      requests.map((r, i) =>
        stores[i % 6]!.createRequest(r, [event(D, { requestId: r.id, type: 'REQUEST_CREATED' })]),
      ),
    );

    const outcomes = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => {
        const store = stores[i % 6]!;
        switch (i % 4) {
          case 0: {
            const r = request(D);
            return store
              .createRequest(r, [event(D, { requestId: r.id, type: 'REQUEST_CREATED' })])
              .then(() => 'created');
          }
          case 1: {
            // Everyone races from version 1 of one of five requests: one per request wins.
            const r = requests[i % 5]!;
            const next = { ...r, status: 'APPROVED' as const, version: 2 };
            return store
              .updateRequest(next, { status: 'PENDING', version: 1 }, [
                event(D, { requestId: r.id, type: 'REQUEST_APPROVED' }),
                event(D, { requestId: r.id, type: 'APPROVAL_RECORDED' }),
              ])
              .then(() => 'updated');
          }
          case 2:
            return store
              .putMembership(
                { domain: D, user: `u${i}`, role: 'steward' },
                event(D, { type: 'MEMBERSHIP_ADDED' }),
              )
              .then(() => 'member');
          default:
            // Removing memberships that never existed: their own condition fails, nothing is chained.
            return store
              .deleteMembership(
                { domain: D, user: `nobody${i}`, role: 'steward' },
                event(D, { type: 'MEMBERSHIP_REMOVED' }),
              )
              .then(() => 'removed');
        }
      }),
    );
    const failures = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => o.reason as MeshgateError);
    for (const f of failures) {
      expect(f).toBeInstanceOf(MeshgateError);
      expect(['STALE_REQUEST', 'MEMBERSHIP_NOT_FOUND']).toContain(f.code);
    }
    const ok = outcomes
      .filter((o) => o.status === 'fulfilled')
      .map((o) => (o as PromiseFulfilledResult<string>).value);
    expect(ok.filter((v) => v === 'created')).toHaveLength(75);
    expect(ok.filter((v) => v === 'member')).toHaveLength(75);
    expect(ok.filter((v) => v === 'updated')).toHaveLength(5);
    expect(failures.filter((f) => f.code === 'STALE_REQUEST')).toHaveLength(70);
    expect(failures.filter((f) => f.code === 'MEMBERSHIP_NOT_FOUND')).toHaveLength(75);

    const chain = await stores[0]!.listChain(D);
    // 5 setup creates + 75 creates + 5 updates x 2 events + 75 memberships.
    expect(chain).toHaveLength(5 + 75 + 10 + 75);
    expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(verifyChain(chain)).toMatchObject({ ok: true, count: chain.length });
    const head = await db.doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: `CHAIN#${D}`, sk: 'HEAD' } }),
    );
    expect(head.Item).toMatchObject({ seq: chain.length, hash: chain[chain.length - 1]!.hash });
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  test('listChain resumes after a seq', async () => {
    const all = await stores[0]!.listChain(D);
    const rest = await stores[0]!.listChain(D, 100);
    expect(rest).toEqual(all.slice(100));
    expect(verifyChain(rest, { seq: 100, hash: all[99]!.hash! })).toMatchObject({ ok: true });
  });

  test('domains have separate chains, and global events chain under *', async () => {
    const a = event('alpha');
    await stores[1]!.appendAudit(a);
    expect(a).toMatchObject({ chain: 'alpha', seq: 1 });
    const reg = event('gamma', { type: 'DOMAIN_REGISTERED' });
    await stores[2]!.createDomain(
      { id: 'gamma', name: 'Gamma', accountId: '111111111111', region: 'eu-west-1' },
      reg,
    );
    expect(reg.chain).toBe('*');
    const m = event('*', { type: 'MEMBERSHIP_ADDED' });
    await stores[3]!.putMembership({ domain: '*', user: 'carol', role: 'auditor' }, m);
    expect(verifyChain(await stores[0]!.listChain('*'))).toMatchObject({ ok: true, count: 2 });
    expect(await stores[0]!.listChain('alpha')).toEqual([a]);
  });

  test('a failed write leaves the chain as it was', async () => {
    const before = await stores[0]!.listChain(D);
    const err = await stores[0]!.createRequest(requests[0]!, [event(D)]).catch((e: unknown) => e);
    expect((err as MeshgateError).code).toBe('REQUEST_EXISTS');
    expect(await stores[0]!.listChain(D)).toEqual(before);
  });

  test('an edited stored event is named', async () => {
    const chain = await stores[0]!.listChain(D);
    const victim = chain[41]!;
    const item = await rawItem(victim);
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...item, detail: { ...victim.detail, note: 'edited' } },
      }),
    );
    expect(verifyChain(await stores[0]!.listChain(D))).toMatchObject({
      ok: false,
      index: 41,
      eventId: victim.id,
      seq: 42,
      problem: 'hash mismatch (edited)',
    });
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: item }));
    expect(verifyChain(await stores[0]!.listChain(D)).ok).toBe(true);
  });

  test('a deleted stored event is named (the one after the hole)', async () => {
    const chain = await stores[0]!.listChain(D);
    const victim = chain[99]!;
    const item = await rawItem(victim);
    await db.doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: item.pk, sk: item.sk } }));
    expect(verifyChain(await stores[0]!.listChain(D))).toMatchObject({
      ok: false,
      index: 99,
      eventId: chain[100]!.id,
      seq: 101,
      problem: 'broken link (deleted, reordered or inserted)',
    });
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: item }));
  });
});

describe('npm run audit:verify', () => {
  const script = join(__dirname, '../../scripts/audit-verify.ts');
  const tsx = join(__dirname, '../../node_modules/.bin/tsx');
  const dir = mkdtempSync(join(tmpdir(), 'audit-verify-'));
  const verify = (file: string) =>
    run(tsx, [script, file]).then(
      (out) => ({ code: 0, stdout: out.stdout }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        stdout: err.stdout + err.stderr,
      }),
    );

  test('a good export: exit 0; an edited one: exit 1 naming the event; no file: exit 2', async () => {
    const events = [
      ...(await stores[0]!.listChain('busy')),
      ...(await stores[0]!.listChain('*')),
    ].sort((a, b) => (a.at < b.at ? -1 : 1));
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const ok = await verify(good);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain(`OK: ${events.length} events in 2 chains`);

    const victim = events.find((e) => e.chain === 'busy' && e.seq === 7)!;
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      events.map((e) => JSON.stringify(e === victim ? { ...e, actor: 'mallory' } : e)).join('\n') +
        '\n',
    );
    const tampered = await verify(bad);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(
      `TAMPERED: busy event ${victim.id} (seq 7): hash mismatch (edited)`,
    );

    const missing = join(dir, 'missing.jsonl');
    writeFileSync(
      missing,
      events
        .filter((e) => e !== victim)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const gone = await verify(missing);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toMatch(/TAMPERED: busy event \S+ \(seq 8\): broken link/);

    expect((await verify(join(dir, 'nope.jsonl'))).code).toBe(2);

    // CSV with the chain columns appended, as the export's columns would be.
    const cols = [
      'at',
      'id',
      'type',
      'actor',
      'domain',
      'requestId',
      'productId',
      'fromStatus',
      'toStatus',
      'detail',
      'chain',
      'seq',
      'prevHash',
      'hash',
    ] as const;
    const cell = (v: unknown) =>
      v === undefined
        ? ''
        : `"${(typeof v === 'string' ? v : JSON.stringify(v)).replaceAll('"', '""')}"`;
    const csv = join(dir, 'good.csv');
    writeFileSync(
      csv,
      [cols.join(','), ...events.map((e) => cols.map((c) => cell(e[c])).join(','))].join('\r\n') +
        '\r\n',
    );
    expect(await verify(csv)).toMatchObject({ code: 0 });
  }, 60_000);
});
