import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, webhooksOf } from '../../config/schema';
import { configurationChanges, configurationVersion } from '../../functions/domain/configuration';

// A domain's chat webhook is configuration for the notifier alone: never part of what is
// registered (so never stored, audited or answered by the API), HTTPS only.

const example = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'config', 'example.json'), 'utf8'),
);
const HOOK = 'https://hooks.slack.example/services/T000/B000/secret-part';
const withHook = () => {
  const c = structuredClone(example);
  c.domains[0].notify = { webhookUrl: HOOK };
  return c;
};

test('webhooks per domain, for the notifier', () => {
  expect(webhooksOf(parseConfig(withHook()))).toEqual({ sales: HOOK });
  expect(webhooksOf(parseConfig(example))).toEqual({});
});

test('a webhook is not part of the registered domain nor of its audit events', () => {
  const c = parseConfig(withHook());
  expect(configurationVersion(c)).toBe(configurationVersion(parseConfig(example)));
  const changes = configurationChanges(c, { domains: [], memberships: [] });
  expect(JSON.stringify(changes)).not.toContain('secret-part');
});

test('a webhook is an https URL; the e-mail identity an address', () => {
  const c = withHook();
  c.domains[0].notify.webhookUrl = 'http://hooks.slack.example/x';
  expect(() => parseConfig(c)).toThrow(/webhookUrl/);
  expect(() => parseConfig({ ...example, notifications: { emailFrom: 'not an address' } })).toThrow(
    /emailFrom/,
  );
});
