/* eslint-disable @typescript-eslint/no-explicit-any */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../config/schema';
import { readConfigFile } from '../../functions/adapters/aws/configuration';

const example = () =>
  JSON.parse(readFileSync(join(__dirname, '../../config/example.json'), 'utf8'));

test('the example configuration is valid, with defaults filled in', () => {
  const c = parseConfig(example());
  expect(c.domains.map((d) => d.id)).toEqual(['sales', 'finance']);
  expect(c.tableName).toBe('meshgate-sandbox');
  expect(parseConfig({ ...example(), tableName: undefined }).tableName).toBe('meshgate');
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
  ['no domains', (c: any) => (c.domains = []), 'domains: register at least one domain'],
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
