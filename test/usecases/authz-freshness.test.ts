import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, AuditEventType, Membership } from '../../functions/domain/model';
import type { Store } from '../../functions/ports/store';
import { prepareCall } from '../../functions/usecases/governance';
import { POLICY_DIR, startPortal, type TestPortal } from '../support/portal';

// A membership or policy change takes effect for the next decision of every instance that shares
// the table: no stale cache, no restart, no sleep. Two portals on one embedded table stand for two
// warm Lambda instances (each with its own policy engine and memberships).

const since = new Date(Date.now() - 3_600_000).toISOString();
async function eventsOf(store: Store, type: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryAudit({
      from: since,
      to: new Date(Date.now() + 3_600_000).toISOString(),
      limit: 1000,
      after: cursor,
    });
    out.push(...page.items.filter((e) => e.type === type));
    cursor = page.next;
  } while (cursor);
  return out;
}

const explain = (p: TestPortal, user: string, body: Record<string, unknown>) =>
  p.call(user, 'POST', '/v1/policy/explain', body);

describe('two instances sharing one table', () => {
  let p1: TestPortal;
  let p2: TestPortal;
  beforeAll(async () => {
    p1 = await startPortal();
    p2 = await startPortal({ sharedStore: p1.dynamo });
  });
  afterAll(async () => {
    await p2.close();
    await p1.close();
  });

  test('the second instance starts on the same table and the same policy, recorded once', async () => {
    expect(p2.seeded).toBe(false);
    expect(p2.policy.state.version).toBe(p1.policy.state.version);
    expect(await eventsOf(p1.store, 'POLICY_CHANGED')).toHaveLength(1);
  });

  test('a membership granted through instance 1 is honoured by instance 2 on its very next decision, and a removal refused', async () => {
    // Both instances are warm and have decided about alice before.
    for (const p of [p1, p2]) {
      expect((await p.call('alice', 'GET', '/v1/domains/sales/members')).status).toBe(403);
      expect(
        (await explain(p, 'alice', { action: 'members:read', domain: 'sales', object: '*' })).body,
      ).toMatchObject({ allowed: false, roles: [] });
    }

    expect(
      (
        await p1.call('erin', 'POST', '/v1/memberships', {
          user: 'alice',
          domain: 'sales',
          role: 'owner',
        })
      ).status,
    ).toBe(201);
    const members = await p2.call('alice', 'GET', '/v1/domains/sales/members');
    expect(members.status).toBe(200);
    expect(members.body.items).toContainEqual({ user: 'alice', domain: 'sales', role: 'owner' });
    expect(
      (await explain(p2, 'alice', { action: 'members:read', domain: 'sales', object: '*' })).body,
    ).toMatchObject({ allowed: true, roles: ['owner'] });

    expect((await p1.call('erin', 'DELETE', '/v1/memberships/sales/alice/owner')).status).toBe(200);
    expect((await p2.call('alice', 'GET', '/v1/domains/sales/members')).status).toBe(403);

    // The other way round: granted through instance 2, honoured by instance 1, then removed.
    expect(
      (
        await p2.call('erin', 'POST', '/v1/memberships', {
          user: 'alice',
          domain: '*',
          role: 'auditor',
        })
      ).status,
    ).toBe(201);
    const audit = await p1.call(
      'alice',
      'GET',
      `/v1/audit?domain=sales&to=${new Date(Date.now() + 60_000).toISOString()}&limit=1`,
    );
    expect(audit.status).toBe(200);
    expect((await p2.call('erin', 'DELETE', '/v1/memberships/*/alice/auditor')).status).toBe(200);
    expect(
      (
        await p1.call(
          'alice',
          'GET',
          `/v1/audit?domain=sales&to=${new Date(Date.now() + 60_000).toISOString()}&limit=1`,
        )
      ).status,
    ).toBe(403);

    const added = (await eventsOf(p1.store, 'MEMBERSHIP_ADDED')).filter(
      (e) => e.detail.user === 'alice',
    );
    const removed = (await eventsOf(p1.store, 'MEMBERSHIP_REMOVED')).filter(
      (e) => e.detail.user === 'alice',
    );
    expect(added.map((e) => [e.actor, e.detail.domain, e.detail.role])).toEqual([
      ['erin', 'sales', 'owner'],
      ['erin', '*', 'auditor'],
    ]);
    expect(removed.map((e) => [e.actor, e.detail.domain, e.detail.role])).toEqual([
      ['erin', 'sales', 'owner'],
      ['erin', '*', 'auditor'],
    ]);
  });

  test("identity-provider group roles synced on one instance are honoured, and taken away, on the other's next call", async () => {
    const to = () => new Date(Date.now() + 60_000).toISOString();
    expect((await p2.call('henry', 'GET', `/v1/audit?domain=hr&to=${to()}&limit=1`)).status).toBe(
      403,
    );
    await prepareCall(p1.deps, { userId: 'henry', name: 'Henry', groups: ['auditor'] });
    expect((await p2.call('henry', 'GET', `/v1/audit?domain=hr&to=${to()}&limit=1`)).status).toBe(
      200,
    );
    await prepareCall(p1.deps, { userId: 'henry', name: 'Henry', groups: [] });
    expect((await p2.call('henry', 'GET', `/v1/audit?domain=hr&to=${to()}&limit=1`)).status).toBe(
      403,
    );

    const trail = [
      ...(await eventsOf(p1.store, 'MEMBERSHIP_ADDED')),
      ...(await eventsOf(p1.store, 'MEMBERSHIP_REMOVED')),
    ].filter((e) => e.detail.user === 'henry' && e.detail.domain === '*');
    expect(trail.map((e) => [e.type, e.actor, e.detail.role, e.detail.from])).toEqual(
      expect.arrayContaining([
        ['MEMBERSHIP_ADDED', 'meshgate', 'auditor', 'identity provider group'],
        ['MEMBERSHIP_REMOVED', 'meshgate', 'auditor', 'identity provider group'],
      ]),
    );
    expect(trail).toHaveLength(2);
  });

  test('a domain registered through one instance moves the generation the other reads', async () => {
    await p2.call('erin', 'GET', '/v1/me');
    const before = p2.policy.state.generation;
    const res = await p1.call('erin', 'POST', '/v1/domains', {
      id: 'logistics',
      name: 'Logistics',
      accountId: '444444444444',
      region: 'eu-west-1',
    });
    expect(res.status).toBe(201);
    expect((await p1.store.readAuthzState()).generation).toBe(before + 1);
    await p2.call('erin', 'GET', '/v1/me');
    expect(p2.policy.state.generation).toBe(before + 1);
    // And instance 2 can give roles in it at once.
    expect(
      (
        await p2.call('erin', 'POST', '/v1/memberships', {
          user: 'henry',
          domain: 'logistics',
          role: 'owner',
        })
      ).status,
    ).toBe(201);
    expect((await p1.call('henry', 'GET', '/v1/domains/logistics/members')).status).toBe(200);
  });

  test('each call costs one read of the authorization state while nothing changes; a change costs one read of the memberships', async () => {
    const reads = jest.spyOn(p2.store, 'readAuthzState');
    const lists = jest.spyOn(p2.store, 'listMemberships');
    try {
      for (let i = 0; i < 10; i++) {
        expect(
          (await explain(p2, 'bob', { action: 'approve:owner', productId: 'sales/orders' })).body
            .allowed,
        ).toBe(true);
      }
      expect(reads).toHaveBeenCalledTimes(10);
      expect(lists).not.toHaveBeenCalled();

      expect(
        (
          await p1.call('erin', 'POST', '/v1/memberships', {
            user: 'bob',
            domain: 'finance',
            role: 'steward',
          })
        ).status,
      ).toBe(201);
      reads.mockClear();
      expect(
        (await explain(p2, 'bob', { action: 'approve:owner', productId: 'finance/fx_rates' })).body,
      ).toMatchObject({ allowed: true, roles: ['steward'] });
      expect(reads).toHaveBeenCalledTimes(1);
      expect(lists).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 5; i++)
        await explain(p2, 'bob', { action: 'approve:owner', productId: 'finance/fx_rates' });
      expect(reads).toHaveBeenCalledTimes(6);
      expect(lists).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
      lists.mockRestore();
    }
  });

  test('concurrent changes through both instances leave neither on an old view', async () => {
    const wanted: Membership[] = [];
    for (const user of ['alice', 'fiona', 'grace', 'carol']) {
      for (const domain of ['sales', 'marketing', 'finance', 'hr'])
        wanted.push({ user, domain, role: 'steward' });
    }
    const probe = (p: TestPortal, i: number) =>
      explain(p, 'dave', { action: 'audit:read', domain: ['sales', 'hr'][i % 2]!, object: '*' });
    const adds = wanted.map((m, i) =>
      (i % 2 === 0 ? p1 : p2).call('erin', 'POST', '/v1/memberships', m),
    );
    const probes = wanted.map((_, i) => probe(i % 2 === 0 ? p2 : p1, i));
    for (const r of await Promise.all(adds)) expect(r.status).toBe(201);
    for (const r of await Promise.all(probes)) expect(r.status).toBe(200);

    const held = (p: TestPortal) =>
      wanted.filter((m) => p.policy.rolesOf(m.user, m.domain).includes('steward')).length;
    for (const p of [p1, p2]) {
      expect((await probe(p, 0)).status).toBe(200); // the next call of each instance...
      expect(held(p)).toBe(wanted.length); // ...decides with every change
      expect(p.policy.state.generation).toBe((await p.store.readAuthzState()).generation);
    }

    const removes = wanted.map((m, i) =>
      (i % 2 === 0 ? p2 : p1).call(
        'erin',
        'DELETE',
        `/v1/memberships/${m.domain}/${m.user}/steward`,
      ),
    );
    const more = wanted.map((_, i) => probe(i % 2 === 0 ? p1 : p2, i));
    for (const r of await Promise.all(removes)) expect(r.status).toBe(200);
    await Promise.all(more);
    for (const p of [p1, p2]) {
      expect((await probe(p, 1)).status).toBe(200);
      expect(held(p)).toBe(0);
    }
  });
});

describe('the generation bump is part of the membership write', () => {
  let p: TestPortal;
  beforeAll(async () => {
    p = await startPortal();
  });
  afterAll(() => p.close());

  const event = (id: string, type: AuditEventType, domain: string): AuditEvent => ({
    id,
    at: new Date().toISOString(),
    type,
    actor: 'erin',
    domain,
    detail: {},
  });
  const generation = async () => (await p.store.readAuthzState()).generation;

  test('every membership write bumps it by one, and a refused write not at all', async () => {
    const g0 = await generation();
    await p.store.putMembership(
      { user: 'alice', domain: 'hr', role: 'steward' },
      event('evt_gen_put_1', 'MEMBERSHIP_ADDED', 'hr'),
    );
    expect(await generation()).toBe(g0 + 1);
    await p.store.deleteMembership(
      { user: 'alice', domain: 'hr', role: 'steward' },
      event('evt_gen_del_1', 'MEMBERSHIP_REMOVED', 'hr'),
    );
    expect(await generation()).toBe(g0 + 2);

    // A conditional delete that fails (no such membership) writes nothing: no event, no bump.
    await expect(
      p.store.deleteMembership(
        { user: 'alice', domain: 'hr', role: 'steward' },
        event('evt_gen_del_2', 'MEMBERSHIP_REMOVED', 'hr'),
      ),
    ).rejects.toMatchObject({
      code: 'MEMBERSHIP_NOT_FOUND',
    });
    expect(await generation()).toBe(g0 + 2);
    // Registering a domain that exists fails whole too.
    await expect(
      p.store.createDomain(
        { id: 'hr', name: 'HR again', accountId: '444444444444', region: 'eu-west-1' },
        event('evt_gen_dom_1', 'DOMAIN_REGISTERED', 'hr'),
      ),
    ).rejects.toMatchObject({
      code: 'DOMAIN_EXISTS',
    });
    expect(await generation()).toBe(g0 + 2);
    const ids = (
      await p.store.queryAudit({
        from: since,
        to: new Date(Date.now() + 60_000).toISOString(),
        domain: 'hr',
        limit: 1000,
      })
    ).items.map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['evt_gen_put_1', 'evt_gen_del_1']));
    expect(ids).not.toContain('evt_gen_del_2');
    expect(ids).not.toContain('evt_gen_dom_1');
  });

  test('a membership whose audit event cannot be written is not written, and the generation does not move', async () => {
    const g0 = await generation();
    const first = event('evt_gen_dup_1', 'MEMBERSHIP_ADDED', 'finance');
    await p.store.putMembership({ user: 'grace', domain: 'finance', role: 'steward' }, first);
    // The same event again (same id and time): its put is conditional on being new, so the
    // transaction is cancelled, with the membership and the bump in it.
    await expect(
      p.store.putMembership(
        { user: 'grace', domain: 'marketing', role: 'steward' },
        { ...first, chain: undefined, seq: undefined, prevHash: undefined, hash: undefined },
      ),
    ).rejects.toThrow();
    expect(await generation()).toBe(g0 + 1);
    expect(
      (await p.store.listMemberships())
        .filter((m) => m.user === 'grace' && m.role === 'steward')
        .map((m) => m.domain),
    ).toEqual(['finance']);
  });

  test('the bump travels in the same TransactWriteItems call as the membership and its event', async () => {
    const sent: Array<Array<Record<string, Record<string, unknown>>>> = [];
    const client = p.dynamo.client;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand')
          sent.push(
            (args.input as { TransactItems: Array<Record<string, Record<string, unknown>>> })
              .TransactItems,
          );
        return next(args);
      },
      { step: 'initialize', name: 'captureTransactions' },
    );
    try {
      await p.store.putMembership(
        { user: 'carol', domain: 'hr', role: 'steward' },
        event('evt_gen_tx_1', 'MEMBERSHIP_ADDED', 'hr'),
      );
      await p.store.deleteMembership(
        { user: 'carol', domain: 'hr', role: 'steward' },
        event('evt_gen_tx_2', 'MEMBERSHIP_REMOVED', 'hr'),
      );
    } finally {
      client.middlewareStack.remove('captureTransactions');
    }
    expect(sent).toHaveLength(2);
    for (const [i, items] of sent.entries()) {
      const keyOf = (it: Record<string, Record<string, unknown>>) => {
        const op = Object.values(it)[0]!;
        // Seen before marshalling (the store's document client): plain values.
        const key = (op.Key ?? op.Item) as Record<string, string>;
        return `${Object.keys(it)[0]} ${key.pk}/${key.sk}`;
      };
      const keys = items.map(keyOf);
      expect(keys[0]).toBe(`${i === 0 ? 'Put' : 'Delete'} MEMBERSHIP/hr#carol#steward`);
      expect(keys).toContain('Update POLICY/CURRENT');
      expect(keys.some((k) => k.startsWith('Put REQUEST#') || k.startsWith('Put AUDIT#'))).toBe(
        true,
      );
      // Listed after the membership: the embedded store never shows the new generation before the change.
      expect(keys.indexOf('Update POLICY/CURRENT')).toBeGreaterThan(0);
      const update = Object.values(items.find((it) => keyOf(it) === 'Update POLICY/CURRENT')!)[0]!;
      expect(update.UpdateExpression).toMatch(/ADD #generation :one/);
    }
  });
});

describe('policy files changed on disk (the local processes)', () => {
  const work = mkdtempSync(join(tmpdir(), 'meshgate-live-policy-'));
  const policies = join(work, 'policies');
  const hr = join(policies, 'domains', 'hr.csv');
  const globalCsv = join(policies, 'global.csv');
  cpSync(POLICY_DIR, policies, { recursive: true });
  const original = { hr: readFileSync(hr, 'utf8'), global: readFileSync(globalCsv, 'utf8') };
  let p: TestPortal;
  beforeAll(async () => {
    p = await startPortal({ policyDir: policies });
  });
  afterAll(async () => {
    await p.close();
    rmSync(work, { recursive: true, force: true });
  });

  const mayRequestEmployees = async () =>
    (await explain(p, 'alice', { action: 'request', productId: 'hr/employees' })).body;

  test('a change is honoured by the next decision, and recorded with the old and new fingerprints', async () => {
    expect(await mayRequestEmployees()).toMatchObject({ allowed: true });
    const before = p.policy.state.version;
    const [first] = await eventsOf(p.store, 'POLICY_CHANGED');
    expect(first!.detail.version).toBe(before);

    appendFileSync(hr, 'p, *, hr, hr/employees, request, deny\n');
    const after = await mayRequestEmployees();
    expect(after.allowed).toBe(false);
    expect(after.rules).toEqual([
      {
        source: expect.stringMatching(/domains\/hr\.csv:4$/),
        line: 'p, *, hr, hr/employees, request, deny',
      },
    ]);

    const changed = await eventsOf(p.store, 'POLICY_CHANGED');
    expect(changed).toHaveLength(2);
    const latest = changed.find((e) => e.detail.version !== before)!;
    expect(latest).toMatchObject({ actor: 'meshgate', domain: '*' });
    expect(latest.detail).toMatchObject({
      version: p.policy.state.version,
      previousVersion: before,
      seq: 2,
    });
    const hrOf = (e: AuditEvent) =>
      (e.detail.files as Array<{ source: string; sha256: string }>).find((f) =>
        f.source.endsWith('hr.csv'),
      )!.sha256;
    expect(latest.detail.changes).toEqual([
      { source: expect.stringMatching(/domains\/hr\.csv$/), from: hrOf(first!), to: hrOf(latest) },
    ]);
    expect(hrOf(latest)).not.toBe(hrOf(first!));
  });

  test('a touch that leaves the bytes as they were records nothing', async () => {
    const n = (await eventsOf(p.store, 'POLICY_CHANGED')).length;
    const later = new Date(Date.now() + 5_000);
    utimesSync(hr, later, later);
    expect((await mayRequestEmployees()).allowed).toBe(false);
    expect(await eventsOf(p.store, 'POLICY_CHANGED')).toHaveLength(n);
  });

  test('a broken global file fails closed on every call, is recorded once, and a fix takes effect at once', async () => {
    const n = (await eventsOf(p.store, 'POLICY_CHANGED')).length;
    writeFileSync(globalCsv, `${original.global}p, role:admin, *, *, everything, maybe\n`);
    for (const user of ['alice', 'erin', 'dave']) {
      const res = await p.call(user, 'GET', '/v1/approvals');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('POLICY_LOAD_FAILED');
      expect(res.body.error.message).toMatch(/global\.csv:\d+: effect must be allow or deny/);
    }
    // Never an allow, not even for an admin, should anything decide without the refresh.
    expect(
      p.policy.decide({ user: 'erin', domain: 'sales', object: '*', action: 'members:manage' })
        .allowed,
    ).toBe(false);
    const broken = await eventsOf(p.store, 'POLICY_CHANGED');
    expect(broken).toHaveLength(n + 1);
    const failure = broken.find((e) => typeof e.detail.loadFailure === 'string')!;
    expect(failure.detail.loadFailure).toMatch(/global\.csv:\d+: effect must be allow or deny/);
    expect((failure.detail.changes as Array<{ source: string }>).map((c) => c.source)).toEqual([
      expect.stringMatching(/global\.csv$/),
    ]);

    writeFileSync(globalCsv, original.global);
    expect((await p.call('erin', 'GET', '/v1/approvals')).status).toBe(200);
    const fixed = await eventsOf(p.store, 'POLICY_CHANGED');
    expect(fixed).toHaveLength(n + 2);
    expect(fixed.filter((e) => e.detail.previousVersion === failure.detail.version)).toHaveLength(
      1,
    );
  });

  test('a broken domain file refuses that domain only, and is recorded with why', async () => {
    writeFileSync(hr, `${original.hr}p, *, sales, sales/orders, request, deny\n`);
    const inHr = await mayRequestEmployees();
    expect(inHr.allowed).toBe(false);
    expect(inHr.reason).toMatch(/the hr policy failed to load: .*may only speak for domain hr/);
    expect(
      (await explain(p, 'alice', { action: 'request', productId: 'sales/orders' })).body.allowed,
    ).toBe(true);
    const latest = (await eventsOf(p.store, 'POLICY_CHANGED')).find(
      (e) => e.detail.version === p.policy.state.version,
    )!;
    expect(latest.detail.domainFailures).toEqual({
      hr: expect.stringMatching(/may only speak for domain hr/),
    });

    writeFileSync(hr, original.hr);
    expect((await mayRequestEmployees()).allowed).toBe(true);
  });

  test('a domain file removed, then added, is picked up on the next call', async () => {
    const marketing = join(policies, 'domains', 'marketing.csv');
    const autoApproved = async () =>
      (
        await explain(p, 'alice', {
          action: 'auto-approve',
          productId: 'marketing/campaign_performance',
        })
      ).body;
    expect(await autoApproved()).toMatchObject({
      allowed: true,
      rules: [{ source: expect.stringMatching(/marketing\.csv:2$/) }],
    });
    rmSync(marketing);
    expect((await autoApproved()).allowed).toBe(false);
    cpSync(join(POLICY_DIR, 'domains', 'marketing.csv'), marketing);
    expect((await autoApproved()).allowed).toBe(true);
  });
});
