import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { systemClock, ulidIds } from '../../functions/adapters/runtime';
import type { AuditEvent, AuditEventType, Membership } from '../../functions/domain/model';
import { policyFolder } from '../../functions/policy/files';
import type { PolicyFiles } from '../../functions/ports/policy';
import type { Store } from '../../functions/ports/store';
import { StorePolicy } from '../../functions/usecases/policy-in-force';
import { POLICY_DIR } from '../support/portal';

// The reload logic of the policy in force, against the embedded store, with the store wrapped to
// count its calls and to let a test commit a change at a chosen moment of a refresh.

let dynamo: EmbeddedDynamo;
const work = mkdtempSync(join(tmpdir(), 'meshgate-pif-'));
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
});
afterAll(async () => {
  await dynamo.close();
  rmSync(work, { recursive: true, force: true });
});

let tables = 0;
/** A store on a table of its own, with bob owner of sales. */
async function freshStore(): Promise<DynamoStore> {
  const name = `pif-${++tables}`;
  await ensureTable(dynamo.client, name);
  const store = new DynamoStore(name, dynamo.client);
  await store.putMembership(
    { user: 'bob', domain: 'sales', role: 'owner' },
    event('MEMBERSHIP_ADDED', 'sales'),
  );
  return store;
}

const ids = ulidIds();
const event = (type: AuditEventType, domain: string): AuditEvent => ({
  id: ids.next('evt'),
  at: new Date().toISOString(),
  type,
  actor: 'erin',
  domain,
  detail: {},
});
const grant = (store: Store, m: Membership) =>
  store.putMembership(m, event('MEMBERSHIP_ADDED', m.domain));

/** Wraps a store: counts every call by name, and runs `after(name)` once, after that call's answer came back. */
function scripted(inner: Store) {
  const calls = new Map<string, number>();
  const hooks = new Map<string, () => Promise<void>>();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return async (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        const out = await value.apply(target, args);
        const hook = hooks.get(prop);
        if (hook) {
          hooks.delete(prop);
          await hook();
        }
        return out;
      };
    },
  });
  return {
    store,
    count: (name?: string) =>
      name ? (calls.get(name) ?? 0) : [...calls.values()].reduce((a, b) => a + b, 0),
    reset: () => calls.clear(),
    after: (name: keyof Store, hook: () => Promise<void>) => hooks.set(name, hook),
  };
}

/** Makes the next `name` call stall once its answer has come back: `entered` when it has, until `release()`. */
function stall(s: ReturnType<typeof scripted>, name: keyof Store) {
  let release!: () => void;
  let reached!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const entered = new Promise<void>((r) => (reached = r));
  s.after(name, () => (reached(), held));
  return { entered, release };
}

/** A policy folder whose loads are counted. */
function countingFiles(dir: string, watch: boolean) {
  const inner = policyFolder(dir, { watch });
  const files: PolicyFiles & { loads: number } = {
    loads: 0,
    load: (m) => (files.loads++, inner.load(m)),
    mayHaveChanged: () => inner.mayHaveChanged(),
  };
  return files;
}

const start = (store: Store, files: PolicyFiles, record = true) =>
  StorePolicy.start({ store, clock: systemClock, ids }, files, { record });
const ownsHr = (p: StorePolicy, user: string) =>
  p.decide({ user, domain: 'hr', object: '*', action: 'members:read' }).allowed;

async function policyEvents(store: Store) {
  const page = await store.queryAudit({
    from: new Date(Date.now() - 3_600_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
    limit: 1000,
  });
  return page.items.filter((e) => e.type === 'POLICY_CHANGED');
}

function copyPolicies(name: string, extra?: string) {
  const dir = join(work, name);
  cpSync(POLICY_DIR, dir, { recursive: true });
  if (extra) appendFileSync(join(dir, 'global.csv'), extra);
  return dir;
}

describe('memberships', () => {
  test('while nothing changes, a refresh is one read of the authorization state and nothing else', async () => {
    const s = scripted(await freshStore());
    const files = countingFiles(POLICY_DIR, true);
    const p = await start(s.store, files);
    expect(files.loads).toBe(1);
    s.reset();
    for (let i = 0; i < 50; i++) await p.refresh();
    expect(s.count('readAuthzState')).toBe(50);
    expect(s.count()).toBe(50); // no other call: no memberships, no policy record
    expect(files.loads).toBe(1);

    await grant(s.store, { user: 'alice', domain: 'hr', role: 'owner' });
    s.reset();
    expect(ownsHr(p, 'alice')).toBe(false);
    await p.refresh();
    expect(ownsHr(p, 'alice')).toBe(true);
    expect([s.count('readAuthzState'), s.count('listMemberships')]).toEqual([1, 1]);
    for (let i = 0; i < 10; i++) await p.refresh();
    expect([s.count('readAuthzState'), s.count('listMemberships'), s.count()]).toEqual([11, 1, 12]);
  });

  test('a change committed while the memberships are being read is picked up by the next refresh', async () => {
    const s = scripted(await freshStore());
    const p = await start(s.store, policyFolder(POLICY_DIR, { watch: false }));
    await grant(s.store, { user: 'fiona', domain: 'hr', role: 'steward' }); // makes the next refresh read the memberships
    // Just after that read has answered (without alice), alice becomes owner of hr.
    s.after('listMemberships', () =>
      grant(s.store, { user: 'alice', domain: 'hr', role: 'owner' }),
    );
    await p.refresh();
    expect(p.rolesOf('fiona', 'hr')).toEqual(['steward']);
    expect(ownsHr(p, 'alice')).toBe(false); // the view read before alice's change...
    await p.refresh(); // ...is filed under the generation read before it, so the next call reads again
    expect(ownsHr(p, 'alice')).toBe(true);
    expect(p.state.generation).toBe((await s.store.readAuthzState()).generation);
  });

  test('a slow read of older memberships never replaces a newer view', async () => {
    const s = scripted(await freshStore());
    const p = await start(s.store, policyFolder(POLICY_DIR, { watch: false }));
    await grant(s.store, { user: 'fiona', domain: 'hr', role: 'steward' });
    const { entered, release } = stall(s, 'listMemberships'); // call A's read answers (without alice), then stalls
    const a = p.refresh();
    await entered;
    await grant(s.store, { user: 'alice', domain: 'hr', role: 'owner' });
    const b = p.refresh(); // call B sees the newer generation
    await new Promise((r) => setTimeout(r, 50));
    release();
    await Promise.all([a, b]);
    // With no further refresh: B's call decides with alice's membership, whatever order the reads finished in.
    expect(ownsHr(p, 'alice')).toBe(true);
    expect(p.rolesOf('fiona', 'hr')).toEqual(['steward']);
    expect(p.state.generation).toBe((await s.store.readAuthzState()).generation);
  });

  test('a process that does not record still follows the memberships', async () => {
    const store = await freshStore();
    const p = await start(store, policyFolder(POLICY_DIR, { watch: false }), false);
    await grant(store, { user: 'alice', domain: 'hr', role: 'owner' });
    await p.refresh();
    expect(ownsHr(p, 'alice')).toBe(true);
  });
});

describe('the policy version recorded in the table', () => {
  test('an instance whose policy has been superseded refuses, and decides again when its version is recorded again', async () => {
    const store = await freshStore();
    const [dirA, dirB] = [copyPolicies('a'), copyPolicies('b', '# b\n')];
    const a = await start(store, policyFolder(dirA, { watch: false }));
    await a.refresh();
    expect(ownsHr(a, 'bob')).toBe(false);
    expect(
      a.decide({ user: 'bob', domain: 'sales', object: '*', action: 'members:read' }).allowed,
    ).toBe(true);

    const b = await start(store, policyFolder(dirB, { watch: false })); // a new deploy
    await expect(a.refresh()).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'POLICY_SUPERSEDED',
      message: expect.stringMatching(/in force since/),
    });
    const refused = a.decide({ user: 'bob', domain: 'sales', object: '*', action: 'members:read' });
    expect(refused).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(
        /^Denied: this instance decides with policy \w+, but policy \w+ has been in force/,
      ),
    });
    expect(a.maxDurationHours('sales').value).toBe(0);
    await b.refresh();

    // The worker and the schedules neither record nor refuse.
    const worker = await start(store, policyFolder(dirA, { watch: false }), false);
    await worker.refresh();

    // A rollback: a new instance of the first version records it again; the first decides again.
    const again = await start(store, policyFolder(dirA, { watch: false }));
    await again.refresh();
    await a.refresh();
    expect(
      a.decide({ user: 'bob', domain: 'sales', object: '*', action: 'members:read' }).allowed,
    ).toBe(true);
    await expect(b.refresh()).rejects.toMatchObject({ code: 'POLICY_SUPERSEDED' });

    const events = (await policyEvents(store)).map((e) => e.detail);
    expect(events.map((d) => [d.seq, d.version, d.previousVersion])).toEqual([
      [1, a.state.version, null],
      [2, b.state.version, a.state.version],
      [3, a.state.version, b.state.version],
    ]);
    expect(await store.readAuthzState()).toMatchObject({
      policy: { version: a.state.version, seq: 3 },
    });
  });

  test('a call that read the state before another version was recorded cannot lift the refusal a newer read set', async () => {
    const store = await freshStore();
    const s = scripted(store);
    const a = await start(s.store, policyFolder(copyPolicies('f'), { watch: false }));
    await a.refresh();
    const q = { user: 'bob', domain: 'sales', object: '*', action: 'members:read' };
    expect(a.decide(q).allowed).toBe(true);

    const slow = stall(s, 'readAuthzState');
    const y = a.refresh(); // reads the state (still this version), then stalls
    await slow.entered;
    await start(store, policyFolder(copyPolicies('g', '# g\n'), { watch: false })); // a new deploy records its version
    await expect(a.refresh()).rejects.toMatchObject({ code: 'POLICY_SUPERSEDED' }); // a newer read: refused
    slow.release();
    await expect(y).rejects.toMatchObject({ code: 'POLICY_SUPERSEDED' }); // the older read changes nothing
    expect(a.decide(q).allowed).toBe(false);
  });

  test('instances of two versions starting at once each record theirs in turn, never over each other', async () => {
    const store = await freshStore();
    const dirs = [
      copyPolicies('c', '# c\n'),
      copyPolicies('d', '# d\n'),
      copyPolicies('e', '# e\n'),
    ];
    const started = await Promise.all(
      dirs.map((d) => start(store, policyFolder(d, { watch: false }))),
    );
    const events = (await policyEvents(store))
      .map((e) => e.detail)
      .sort((x, y) => (x.seq as number) - (y.seq as number));
    expect(events.map((d) => d.seq)).toEqual([1, 2, 3]);
    // Each record names the one it replaced: the conditional write put them in one line.
    expect(events[0]!.previousVersion).toBeNull();
    expect(events[1]!.previousVersion).toBe(events[0]!.version);
    expect(events[2]!.previousVersion).toBe(events[1]!.version);
    const current = (await store.readAuthzState()).policy!.version;
    expect(current).toBe(events[2]!.version);
    const outcomes = await Promise.allSettled(started.map((p) => p.refresh()));
    expect(
      outcomes.map((o, i) =>
        started[i]!.state.version === current ? o.status === 'fulfilled' : o.status === 'rejected',
      ),
    ).toEqual([true, true, true]);
  });

  test('a version recorded before sequence numbers existed is adopted as it is, and replaced from seq 1', async () => {
    const store = await freshStore();
    const dir = copyPolicies('legacy');
    const version = (await policyFolder(dir, { watch: false }).load([])).version;
    // The item as earlier versions wrote it (a Put, no generation, no policySeq)...
    const legacy = {
      kind: 'policy',
      pk: 'POLICY',
      sk: 'CURRENT',
      version,
      at: '2026-01-01T00:00:00.000Z',
    };
    await dynamo.client.send(
      new PutItemCommand({
        TableName: `pif-${tables}`,
        Item: Object.fromEntries(Object.entries(legacy).map(([k, v]) => [k, { S: v }])),
      }),
    );
    const p = await start(store, policyFolder(dir, { watch: false }));
    await p.refresh();
    expect(await policyEvents(store)).toHaveLength(0);
    // ...takes generation bumps...
    await grant(store, { user: 'alice', domain: 'hr', role: 'owner' });
    expect(await store.readAuthzState()).toEqual({
      generation: 1,
      policy: { version, seq: 0, at: '2026-01-01T00:00:00.000Z' },
    });
    // ...and a new version replaces it.
    const next = await start(
      store,
      policyFolder(copyPolicies('legacy-next', '# next\n'), { watch: false }),
    );
    expect(
      (await policyEvents(store)).map((e) => [e.detail.seq, e.detail.previousVersion]),
    ).toEqual([[1, version]]);
    await expect(p.refresh()).rejects.toMatchObject({ code: 'POLICY_SUPERSEDED' });
    await next.refresh();
    expect(ownsHr(next, 'alice')).toBe(true);
  });

  test('a call that read the state just before its own process recorded a change of files is not refused', async () => {
    const s = scripted(await freshStore());
    const dir = copyPolicies('racing');
    const p = await start(s.store, policyFolder(dir, { watch: true }));
    const { entered, release } = stall(s, 'readAuthzState'); // call 1 reads the state (the old version), then stalls
    const first = p.refresh();
    await entered;
    appendFileSync(join(dir, 'domains', 'hr.csv'), '# edited\n');
    await p.refresh(); // call 2 loads the edit and records it
    release();
    await expect(first).resolves.toBeUndefined();
    await p.refresh();
    expect(p.state.refusal).toBeUndefined();
    expect((await policyEvents(s.store)).map((e) => e.detail.seq)).toEqual([1, 2]);
  });

  test('bundled files (watch: false) are never read again, whatever happens on disk', async () => {
    const store = await freshStore();
    const dir = copyPolicies('bundled');
    const files = countingFiles(dir, false);
    const p = await start(store, files);
    const version = p.state.version;
    appendFileSync(join(dir, 'domains', 'hr.csv'), 'p, *, hr, *, members:read, allow\n');
    await p.refresh();
    expect(files.loads).toBe(1);
    expect(p.state.version).toBe(version);
    expect(ownsHr(p, 'alice')).toBe(false);
  });
});
