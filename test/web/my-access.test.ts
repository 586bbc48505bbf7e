// My access and the plain words of policy decisions, without a browser.
import { ApiError } from '../../web/src/api';
import { plainReason } from '../../web/src/explain';
import { addableHours, extensionRefusal } from '../../web/src/pages/my-access';

test('how much may still be added: the policy maximum less what is left of the grant', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  expect(addableHours(90 * 24, '2026-06-11T00:00:00Z', now)).toBe(80 * 24);
  expect(addableHours(24, '2026-06-03T00:00:00Z', now)).toBe(0);
  expect(addableHours(24, '2026-05-01T00:00:00Z', now)).toBe(24);
});

test("the server's refusal of an extension is said in plain words, never a policy line", () => {
  const e = new ApiError(422, 'EXTENSION_EXCEEDS_POLICY', 'policies/domains/sales.csv: 12 ...', {
    maxDurationHours: 2160,
    rule: { source: 'policies/domains/sales.csv', line: 'p, max-duration, ...' },
    resultingExpiresAt: '2026-09-01T00:00:00.000Z',
  });
  const text = extensionRefusal(e)!;
  expect(text).toMatch(/too long/);
  expect(text).toMatch(/90 days/);
  expect(text).not.toMatch(/\.csv|max-duration/);
  expect(extensionRefusal(new ApiError(422, 'OTHER', 'x'))).toBeUndefined();
});

test('policy decisions in plain words', () => {
  expect(
    plainReason({
      allowed: false,
      reason: 'Denied: auto-approve on sales/orders in sales by policies/domains/sales.csv',
    }),
  ).toBe('Not approved automatically: people decide');
  expect(
    plainReason({ allowed: false, reason: 'Denied: no policy line allows request on hr/x in hr' }),
  ).toBe('You may not ask for this data');
  expect(
    plainReason({ allowed: true, reason: 'Allowed: auto-approve on f/x in finance by global.csv' }),
  ).toMatch(/^Approved automatically/);
  expect(
    plainReason({ allowed: false, reason: 'Denied: the hr policy failed to load: x' }),
  ).toMatch(/could not be read/);
});
