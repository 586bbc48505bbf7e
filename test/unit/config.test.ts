/* eslint-disable @typescript-eslint/no-explicit-any */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/schema';
import { configuredMemberships } from '../../functions/domain/configuration';
import { awsConfig } from '../../functions/adapters/aws/config';
import { readConfigFile } from '../../functions/adapters/aws/configuration';
import { readDeployedConfig } from '../../functions/adapters/aws/deployed-config';
import { localConfig } from '../../functions/adapters/local/config';

const example = () =>
  JSON.parse(readFileSync(join(__dirname, '../../config/example.json'), 'utf8'));

test('the example configuration is valid, with defaults filled in', () => {
  const c = parseConfig(example());
  expect(c.domains.map((d) => d.id)).toEqual(['sales', 'finance']);
  expect(c.tableName).toBe('meshgate-sandbox');
  expect(parseConfig({ ...example(), tableName: undefined }).tableName).toBe('meshgate');
  expect(c.users).toEqual([
    { id: 'alice', name: 'Alice Martin', title: 'Marketing analyst', email: 'alice@example.com' },
  ]);
  expect(parseConfig({ ...example(), users: undefined }).users).toEqual([]);
});

test.each([
  [
    'a bad account id',
    (c: any) => (c.domains[0].accountId = '1234'),
    'domains.0.accountId: a 12-digit AWS account id',
  ],
  [
    'a broker role in another account',
    (c: any) => (c.domains[0].brokerRoleArn = 'arn:aws:iam::999999999999:role/x'),
    "domains.0.brokerRoleArn: the broker role must be in the domain's account 111111111111",
  ],
  [
    'a domain listed twice',
    (c: any) => c.domains.push({ ...c.domains[0] }),
    'domains.2.id: domain sales is listed twice',
  ],
  [
    'a domain without owners',
    (c: any) => (c.domains[1].owners = []),
    'domains.1.owners: every domain needs at least one owner',
  ],
  ['an unknown field', (c: any) => (c.extra = 1), 'Unrecognized key'],
  [
    'a user listed twice',
    (c: any) => c.users.push({ id: 'alice', name: 'Alice again' }),
    'users.1.id: user alice is listed twice',
  ],
  ['a user without a name', (c: any) => c.users.push({ id: 'zoe' }), 'users.1.name'],
  [
    'a user with a malformed email',
    (c: any) => (c.users[0].email = 'alice at example'),
    'users.0.email',
  ],
  ['a user id in upper case', (c: any) => (c.users[0].id = 'Alice'), 'users.0.id'],
  ['no domains', (c: any) => (c.domains = []), 'domains: register at least one domain'],
  [
    'a consumer account in another account than a domain, without cross-account sharing',
    (c: any) => {
      c.crossAccountSharing = false;
      c.consumerAccounts = [
        {
          id: 'analytics',
          accountId: '777777777777',
          region: 'eu-west-1',
          brokerRoleArn: 'arn:aws:iam::777777777777:role/meshgate-broker',
          externalId: 'analytics-external-id',
        },
      ];
    },
    'consumerAccounts.0.accountId: account 777777777777 receives grants from domain sales in account 111111111111, which needs crossAccountSharing: true',
  ],
  [
    'a one-character ExternalId',
    (c: any) => (c.domains[0].externalId = 'x'),
    'domains.0.externalId',
  ],
])('refuses %s, naming where', (_label, change, message) => {
  const c = example();
  change(c);
  expect(() => parseConfig(c, 'meshgate.json')).toThrow(message);
  expect(() => parseConfig(c, 'meshgate.json')).toThrow(/^Invalid meshgate\.json:/);
});

test('the AWS backend needs a readable configuration file', () => {
  expect(() => readConfigFile(undefined)).toThrow(/MESHGATE_CONFIG/);
  expect(() => readConfigFile('/nonexistent/meshgate.json')).toThrow(
    /Cannot read \/nonexistent\/meshgate.json/,
  );
});

test('the Lambda functions read the bundled configuration as synth parsed it: parsing it again changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-config-'));
  try {
    const full = example();
    full.domains[0].notify = { webhookUrl: 'https://chat.example.com/hooks/sales' };
    full.domains[0].backups = ['henry'];
    full.notifications = { emailFrom: 'meshgate@example.com' };
    full.web = { urls: ['https://meshgate.example.com'] };
    for (const json of [example(), full]) {
      // What infra/stacks/api-stack.ts bundles as meshgate.json: the configuration synth parsed.
      const deployed = parseConfig(json);
      const file = join(dir, 'meshgate.json');
      writeFileSync(file, JSON.stringify(deployed));
      expect(readDeployedConfig(file)).toEqual(deployed);
      expect(readDeployedConfig(file)).toEqual(parseConfig(readDeployedConfig(file)));
    }
    expect(() => readDeployedConfig(join(dir, 'missing.json'))).toThrow(/Cannot read .*missing/);
    // A file that never went through synth (edited by hand, its defaults not filled in) is refused,
    // naming what is missing, instead of failing somewhere in the wiring.
    const raw = example();
    delete raw.admins;
    delete raw.domains[0].owners;
    writeFileSync(join(dir, 'raw.json'), JSON.stringify(raw));
    expect(() => readDeployedConfig(join(dir, 'raw.json'))).toThrow(
      /not a configuration as synth parsed it \(admins, .*domains\[0\]\.owners.* missing\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the sweeper's stall threshold is a setting: 2 minutes unless set, locally and on Lambda", () => {
  expect(localConfig({}).stalledAfterSeconds).toBe(120);
  expect(localConfig({ MESHGATE_STALLED_AFTER_SECONDS: '30' }).stalledAfterSeconds).toBe(30);
  expect(() => localConfig({ MESHGATE_STALLED_AFTER_SECONDS: '0' })).toThrow(
    /MESHGATE_STALLED_AFTER_SECONDS/,
  );
  const lambdaEnv = {
    MESHGATE_TABLE_NAME: 'meshgate',
    MESHGATE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111111111111/jobs',
    MESHGATE_EVENT_BUS_NAME: 'meshgate',
  };
  // Unset on Lambda: the core's default (DEFAULT_STALLED_AFTER_MS) applies.
  expect(awsConfig(lambdaEnv).stalledAfterMs).toBeUndefined();
  expect(awsConfig({ ...lambdaEnv, MESHGATE_STALLED_AFTER_SECONDS: '45' }).stalledAfterMs).toBe(
    45_000,
  );
});

test("a domain's backup approvers: optional, and memberships with the backup role", () => {
  const json = example();
  json.domains[0].backups = ['henry'];
  const c = parseConfig(json);
  expect(c.domains.map((d) => [d.id, d.backups])).toEqual([
    ['sales', ['henry']],
    ['finance', []],
  ]);
  expect(configuredMemberships(c)).toContainEqual({
    user: 'henry',
    domain: 'sales',
    role: 'backup',
  });
  json.domains[0].backups = ['Not An Id'];
  expect(() => parseConfig(json)).toThrow('domains.0.backups.0');
});

test('a consumer account in the one account of every domain needs no cross-account sharing', () => {
  const local = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'config', 'local-aws.json'), 'utf8'),
  );
  const consumer = {
    id: 'same',
    accountId: '000000000000',
    region: 'eu-west-1',
    brokerRoleArn: 'arn:aws:iam::000000000000:role/meshgate-dev-consumer-broker',
    externalId: 'same-account-external-id',
  };
  expect(parseConfig({ ...local, consumerAccounts: [consumer] }).consumerAccounts).toEqual([
    consumer,
  ]);
});
