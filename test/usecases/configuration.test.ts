import { join } from 'node:path';
import { readConfigFile } from '../../functions/adapters/aws/configuration';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { systemClock, ulidIds } from '../../functions/adapters/runtime';
import { verifyChain } from '../../functions/domain/audit-chain';
import { configurationVersion, externalIdFingerprint } from '../../functions/domain/configuration';
import type { AuditEvent } from '../../functions/domain/model';
import type { Store } from '../../functions/ports/store';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../../functions/usecases/deps';
import { registerDomain } from '../../functions/usecases/governance';
import {
  applyConfiguration,
  type Configuration,
  type ConfigurationOutcome,
} from '../../functions/usecases/configuration';
import { embeddedTables } from '../support/embedded-tables';

// The deployment configuration is applied once per version: every process calls
// applyConfiguration at start (each Lambda cold start), and all but the first read one item.

const TABLES = [
  'config-again',
  'config-changed',
  'config-race',
  'config-large',
  'config-users',
  'config-consumers',
  'config-secrets',
  'config-consumers',
];
const db = embeddedTables(...TABLES);
const config = readConfigFile(join(__dirname, '../../config/example.json'));

/** A process of its own on `table`: its own store (and audit-chain queue) and ids. */
const processOn = (table: string) => ({
  store: new DynamoStore(table, db.client) as Store,
  clock: systemClock,
  ids: ulidIds(),
});

async function eventsOf(store: Store, type?: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryAudit({
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 3_600_000).toISOString(),
      limit: 1000,
      after: cursor,
    });
    out.push(...page.items.filter((e) => !type || e.type === type));
    cursor = page.next;
  } while (cursor);
  return out;
}

/** The DynamoDB commands `fn` sends, as `<command> <pk>`. */
async function commandsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  db.client.middlewareStack.add(
    (next, context) => async (args) => {
      // The document client's input, before it is marshalled: keys are plain strings.
      const pk = (args.input as { Key?: { pk?: string } }).Key?.pk;
      sent.push(`${(context.commandName ?? '?').replace(/Command$/, '')}${pk ? ` ${pk}` : ''}`);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  try {
    await fn();
  } finally {
    db.client.middlewareStack.remove('countCommands');
  }
  return sent;
}

const key = (e: AuditEvent) =>
  e.type === 'MEMBERSHIP_ADDED'
    ? `${e.detail.domain}|${e.detail.user}|${e.detail.role}`
    : `${e.type} ${e.domain}`;

/** Every chain the events were sealed into is intact. */
async function expectChainsIntact(store: Store, events: AuditEvent[]) {
  for (const chain of new Set(events.map((e) => e.chain!))) {
    expect(verifyChain(await store.listChain(chain))).toMatchObject({ ok: true });
  }
}

test('a second start with the same configuration reads one item and writes nothing', async () => {
  const p = processOn('config-again');
  const first = await applyConfiguration(p, config);
  expect(first).toMatchObject({ status: 'applied', changes: 7 });
  expect(first.version).toMatch(/^[0-9a-f]{64}$/);

  let again: ConfigurationOutcome | undefined;
  expect(await commandsOf(async () => (again = await applyConfiguration(p, config)))).toEqual([
    'GetItem CONFIGURATION',
  ]);
  expect(again).toEqual({ version: first.version, status: 'current', changes: 0 });
  // A new process (a cold start) with the lists in another order: the same version.
  const reordered = {
    ...config,
    domains: [...config.domains].reverse().map((d) => ({ ...d, owners: [...d.owners].reverse() })),
  };
  expect(await commandsOf(() => applyConfiguration(processOn('config-again'), reordered))).toEqual([
    'GetItem CONFIGURATION',
  ]);
  expect(await eventsOf(p.store, 'CONFIG_APPLIED')).toHaveLength(1);
});

test('a changed configuration applies its difference, once, in one transaction', async () => {
  const p = processOn('config-changed');
  const first = await applyConfiguration(p, config);
  const generation = (await p.store.readAuthzState()).generation;
  expect(generation).toBe(1);
  const before = (await eventsOf(p.store)).length;

  const changed: Configuration = {
    ...config,
    domains: config.domains.map((d) =>
      d.id === 'sales'
        ? { ...d, brokerRoleArn: 'arn:aws:iam::111111111111:role/meshgate-broker-v2' }
        : { ...d, owners: [...d.owners, 'grace'] },
    ),
  };
  const second = await applyConfiguration(p, changed);
  expect(second).toMatchObject({ status: 'applied', changes: 2 });
  expect(second.version).not.toBe(first.version);
  expect(await applyConfiguration(processOn('config-changed'), changed)).toMatchObject({
    status: 'current',
  });

  const events = (await eventsOf(p.store)).slice(before);
  expect(events.map((e) => [e.type, e.domain, e.actor])).toEqual([
    ['DOMAIN_UPDATED', 'sales', 'meshgate'],
    ['MEMBERSHIP_ADDED', 'finance', 'meshgate'],
    ['CONFIG_APPLIED', '*', 'meshgate'],
  ]);
  expect(events[0]!.detail).toMatchObject({
    from: 'configuration',
    before: { broker: { roleArn: 'arn:aws:iam::111111111111:role/meshgate-broker' } },
    after: { broker: { roleArn: 'arn:aws:iam::111111111111:role/meshgate-broker-v2' } },
  });
  expect(events[1]!.detail).toEqual({
    user: 'grace',
    domain: 'finance',
    role: 'owner',
    from: 'configuration',
  });
  expect(events[2]!.detail).toEqual({
    version: second.version,
    replaced: first.version,
    changes: 2,
    users: ['grace'],
    from: 'configuration',
  });
  expect((await p.store.getDomain('sales'))!.broker!.roleArn).toBe(
    'arn:aws:iam::111111111111:role/meshgate-broker-v2',
  );
  expect(await p.store.getUser('grace')).toEqual({ id: 'grace', name: 'grace' });
  // One transaction carried both changes: the generation moved once.
  expect((await p.store.readAuthzState()).generation).toBe(generation + 1);

  // Back to the first configuration (a rollback): the broker comes back; grace's role stays
  // (the configuration never removes anything).
  expect(await applyConfiguration(p, config)).toMatchObject({ status: 'applied', changes: 1 });
  expect((await p.store.getDomain('sales'))!.broker!.roleArn).toBe(
    'arn:aws:iam::111111111111:role/meshgate-broker',
  );
  await expectChainsIntact(p.store, await eventsOf(p.store));
});

test('processes starting at once apply the configuration once: one set of audit events', async () => {
  const outcomes = await Promise.all(
    Array.from({ length: 4 }, () => applyConfiguration(processOn('config-race'), config)),
  );
  expect(outcomes.map((o) => o.status).sort()).toEqual([
    'applied',
    'current',
    'current',
    'current',
  ]);

  const store = processOn('config-race').store;
  const events = await eventsOf(store);
  expect(events.map(key).sort()).toEqual([
    '*|carol|compliance',
    '*|dave|auditor',
    '*|erin|admin',
    'CONFIG_APPLIED *',
    'DOMAIN_REGISTERED finance',
    'DOMAIN_REGISTERED sales',
    'finance|fiona|owner',
    'sales|bob|owner',
  ]);
  expect(events.every((e) => e.actor === 'meshgate' && e.detail.from === 'configuration')).toBe(
    true,
  );
  expect((await store.listDomains()).map((d) => d.id).sort()).toEqual(['finance', 'sales']);
  expect(await store.listMemberships()).toHaveLength(5);
  expect((await store.readAuthzState()).generation).toBe(1);
  await expectChainsIntact(store, events);
});

test('a large configuration goes in several writes: stopped half-way, the next starts finish it, each change once', async () => {
  const large: Configuration = {
    admins: ['erin'],
    compliance: ['carol'],
    auditors: ['dave'],
    domains: Array.from({ length: 40 }, (_, i) => ({
      id: `d${String(i).padStart(2, '0')}`,
      name: `Domain ${i}`,
      accountId: String(100000000000 + i),
      region: 'eu-west-1',
      brokerRoleArn: `arn:aws:iam::${100000000000 + i}:role/meshgate-broker`,
      externalId: `ext-${i}`,
      owners: [`owner${i}`, 'olga'],
    })),
  };
  const changes = 3 + 40 * 3;

  // The first process stops after its first write (of 25 changes).
  const first = processOn('config-large');
  let writes = 0;
  const stopping: Store = Object.create(first.store);
  stopping.writeConfiguration = (...args) =>
    ++writes > 1 ? Promise.reject(new Error('stopped')) : first.store.writeConfiguration(...args);
  await expect(applyConfiguration({ ...first, store: stopping }, large)).rejects.toThrow('stopped');
  expect(await first.store.readConfiguration()).toEqual({ version: undefined, seq: 1 });
  expect(await eventsOf(first.store)).toHaveLength(25);

  // Three processes start at once and write the rest.
  const outcomes = await Promise.all(
    Array.from({ length: 3 }, () => applyConfiguration(processOn('config-large'), large)),
  );
  expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(1);
  const events = await eventsOf(first.store);
  const keys = events.map(key);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys).toHaveLength(changes + 1);
  expect(events.filter((e) => e.type === 'CONFIG_APPLIED')).toHaveLength(1);
  expect(await first.store.listMemberships()).toHaveLength(3 + 80);
  expect((await first.store.readConfiguration()).version).toBe(outcomes[0]!.version);
  await expectChainsIntact(first.store, events);
});

test('configured people get a user if they have none; a user they have is left as it is', async () => {
  const p = processOn('config-users');
  await p.store.putUser({ id: 'bob', name: 'Bob Stone', title: 'Sales lead' });
  await applyConfiguration(p, config);
  expect((await p.store.listUsers()).sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
    { id: 'alice', name: 'Alice Martin', title: 'Marketing analyst', email: 'alice@example.com' },
    { id: 'bob', name: 'Bob Stone', title: 'Sales lead' },
    { id: 'carol', name: 'carol' },
    { id: 'dave', name: 'dave' },
    { id: 'erin', name: 'erin' },
    { id: 'fiona', name: 'fiona' },
  ]);
});

test('configured users get their records once per version, named in CONFIG_APPLIED; a change of one writes it again', async () => {
  const p = processOn('config-consumers');
  const withUsers: Configuration = {
    ...config,
    users: [
      { id: 'alice', name: 'Alice Martin', title: 'Marketing analyst' },
      // Holds a configured role: the configured record wins over the id-named one.
      { id: 'bob', name: 'Bob Stone', email: 'bob@example.com' },
    ],
  };
  expect((await applyConfiguration(p, withUsers)).status).toBe('applied');
  expect(await p.store.getUser('alice')).toEqual({
    id: 'alice',
    name: 'Alice Martin',
    title: 'Marketing analyst',
  });
  expect(await p.store.getUser('bob')).toEqual({
    id: 'bob',
    name: 'Bob Stone',
    email: 'bob@example.com',
  });
  const [first] = await eventsOf(p.store, 'CONFIG_APPLIED');
  expect(first!.detail).toMatchObject({
    users: ['alice', 'bob', 'erin', 'carol', 'dave', 'fiona'],
    from: 'configuration',
  });

  // The same version again: nothing read but the record, nothing written.
  expect(await commandsOf(() => applyConfiguration(p, withUsers))).toEqual([
    'GetItem CONFIGURATION',
  ]);

  // A user added and one renamed: a new version, which writes those two and only those.
  const changed: Configuration = {
    ...withUsers,
    users: [
      { id: 'alice', name: 'Alice Martin-Lee', title: 'Marketing analyst' },
      { id: 'bob', name: 'Bob Stone', email: 'bob@example.com' },
      { id: 'zoe', name: 'Zoe Park' },
    ],
  };
  const outcome = await applyConfiguration(p, changed);
  expect(outcome).toMatchObject({ status: 'applied', changes: 0 });
  expect(outcome.version).not.toBe(configurationVersion(withUsers));
  expect((await p.store.getUser('alice'))?.name).toBe('Alice Martin-Lee');
  expect(await p.store.getUser('zoe')).toEqual({ id: 'zoe', name: 'Zoe Park' });
  const applied = await eventsOf(p.store, 'CONFIG_APPLIED');
  expect(applied.map((e) => (e.detail as { users: string[] }).users).sort()).toEqual([
    ['alice', 'bob', 'erin', 'carol', 'dave', 'fiona'],
    ['alice', 'zoe'],
  ]);
});

test('a configuration without users keeps its version: adding the field changes nothing stored', () => {
  expect(configurationVersion({ ...config, users: [] })).toBe(
    configurationVersion({ ...config, users: undefined }),
  );
  expect(configurationVersion({ ...config, users: [{ id: 'zoe', name: 'Zoe' }] })).not.toBe(
    configurationVersion({ ...config, users: [] }),
  );
});

test('no broker ExternalId in any audit event: after start, after a change of it, after a registration', async () => {
  const p = processOn('config-secrets');
  /** Every audit item of the table, as stored (detailJson included), as text. */
  const trail = async () =>
    ((await db.doc.send(new ScanCommand({ TableName: 'config-secrets' }))).Items ?? [])
      .filter((i) => i.kind === 'audit')
      .map((i) => JSON.stringify(i));
  const secrets = config.domains.map((d) => d.externalId);
  await applyConfiguration(p, config);
  const started = await trail();
  expect(started.length).toBeGreaterThan(0);
  for (const s of secrets) expect(started.filter((t) => t.includes(s))).toEqual([]);
  const registered = (await eventsOf(p.store, 'DOMAIN_REGISTERED')).find(
    (e) => e.domain === 'sales',
  )!;
  expect(registered.detail.broker).toEqual({
    roleArn: 'arn:aws:iam::111111111111:role/meshgate-broker',
    externalId: externalIdFingerprint(config.domains.find((d) => d.id === 'sales')!.externalId),
  });
  expect(externalIdFingerprint('x')).toEqual({ set: true, sha256Prefix: '2d711642' });

  // A new ExternalId: the update says it changed (another fingerprint), and shows neither.
  const rotated = 'meshgate-rotated-0c9e1d';
  await applyConfiguration(p, {
    ...config,
    domains: config.domains.map((d) => (d.id === 'sales' ? { ...d, externalId: rotated } : d)),
  });
  const updated = (await eventsOf(p.store, 'DOMAIN_UPDATED'))[0]!;
  const fp = (v: unknown) => (v as { broker: { externalId: unknown } }).broker.externalId;
  expect(fp(updated.detail.before)).not.toEqual(fp(updated.detail.after));
  expect(fp(updated.detail.after)).toEqual(externalIdFingerprint(rotated));

  // An admin's registration of a domain with a broker: neither the event nor the answer shows it.
  const allow = { allowed: true, reason: 'allowed', rules: [] };
  const deps = { ...p, policy: { decide: () => allow } } as unknown as Deps;
  const answer = await registerDomain(
    deps,
    { userId: 'erin', name: 'erin' },
    {
      id: 'hr',
      name: 'HR',
      accountId: '222222222222',
      region: 'eu-west-1',
      broker: {
        roleArn: 'arn:aws:iam::222222222222:role/meshgate-broker',
        externalId: 'hr-secret-77',
      },
    },
  );
  expect(JSON.stringify(answer)).not.toContain('hr-secret-77');
  const after = await trail();
  for (const s of [...secrets, rotated, 'hr-secret-77'])
    expect(after.filter((t) => t.includes(s))).toEqual([]);
  // The domain itself keeps it: that is how Meshgate assumes the broker role.
  expect((await p.store.getDomain('hr'))!.broker!.externalId).toBe('hr-secret-77');
  await expectChainsIntact(p.store, await eventsOf(p.store));
});

test('configured consumer accounts are registered once, with their audit event and no ExternalId', async () => {
  const p = processOn('config-consumers');
  const withConsumer: Configuration = {
    ...config,
    consumerAccounts: [
      {
        id: 'analytics',
        accountId: '777777777777',
        region: 'eu-west-1',
        brokerRoleArn: 'arn:aws:iam::777777777777:role/meshgate-broker',
        externalId: 'consumer-secret-external-id',
      },
    ],
  };
  expect((await applyConfiguration(p, withConsumer)).status).toBe('applied');
  expect(await p.store.getConsumerAccount('777777777777')).toEqual({
    id: 'analytics',
    accountId: '777777777777',
    region: 'eu-west-1',
    broker: {
      roleArn: 'arn:aws:iam::777777777777:role/meshgate-broker',
      externalId: 'consumer-secret-external-id',
    },
  });
  // Another process, and a later start with the same configuration: nothing written twice.
  await applyConfiguration(processOn('config-consumers'), withConsumer);
  const events = await eventsOf(p.store, 'CONSUMER_ACCOUNT_REGISTERED');
  expect(events).toHaveLength(1);
  expect(JSON.stringify(events)).not.toContain('consumer-secret-external-id');
  // Adding consumer accounts changes the version; a configuration without them keeps its own.
  const { configurationVersion } = await import('../../functions/domain/configuration');
  expect(configurationVersion(withConsumer)).not.toBe(configurationVersion(config));
  expect(configurationVersion({ ...config, consumerAccounts: [] })).toBe(
    configurationVersion(config),
  );
});
