/**
 * The admin console in a real browser (Debian's Chromium via playwright-core) against the real
 * local server: erin syncs a domain and watches it finish, adds and removes a backup approver,
 * retries a failed request, verifies the trail and asks the policy; alice is kept out.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LakeFormationError } from '../../functions/ports/lakeformation';
import { newRequest } from '../support/portal';
import { startBrowserPortal, type BrowserPortal } from './browser';

let b: BrowserPortal;
beforeAll(async () => {
  b = await startBrowserPortal();
}, 60_000);
afterAll(async () => {
  await b?.close();
});
afterEach(() => jest.restoreAllMocks());

const problems = (page: Page) => (page as Page & { problems?: string[] }).problems ?? [];

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** The serious and critical accessibility violations axe-core finds on the page as it is. */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's Content-Security-Policy does not apply.
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (ctx: Document) => Promise<{
            violations: { id: string; impact?: string; nodes: { target: unknown }[] }[];
          }>;
        };
      }
    ).axe;
    const r = await axe.run(document);
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
  });
}

test('erin starts a sync of sales and sees it finish with its report; the broker shows working', async () => {
  const erin = await b.signIn('erin');
  await erin.getByRole('link', { name: 'Admin' }).click();
  await erin.getByRole('heading', { name: 'Admin: Domains' }).waitFor();
  const row = erin.locator('tr[data-domain="sales"]');
  await row.locator('td[data-broker]').waitFor();
  await row.getByRole('button', { name: 'Sync sales' }).click();
  // It finishes: the last sync is SUCCEEDED, with the sync's report, and the broker works.
  const last = row.locator('[data-operation="sync"] [data-last="SUCCEEDED"]');
  await last.waitFor();
  expect(await last.textContent()).toMatch(
    /finished .*\(added \d+, updated \d+, retired \d+, unchanged \d+\)/,
  );
  await row.locator('td[data-broker="working"]').waitFor();
  // The API has it too, newest first.
  const ops = await b.portal.call('erin', 'GET', '/v1/operations?domain=sales');
  expect(ops.body.items[0]).toMatchObject({
    kind: 'sync',
    status: 'SUCCEEDED',
    requestedBy: 'erin',
  });
  await b.screenshot(erin, 'admin-domains');
  expect(await axeViolations(erin)).toEqual([]);
  expect(problems(erin)).toEqual([]);
});

test('erin adds henry as a backup approver of finance, then removes him', async () => {
  const erin = await b.signIn('erin');
  await erin.goto('/#/admin/members');
  await erin.getByLabel('Domain').selectOption('finance');
  const backups = erin.locator('section[data-role="backup"]');
  await backups.getByText('None.').waitFor();
  await erin.getByLabel('User').fill('henry');
  await erin.getByLabel('Role').selectOption('backup');
  await erin.getByRole('button', { name: 'Add' }).click();
  await backups.locator('li[data-member="henry"]').waitFor();
  expect(
    (await b.portal.call('erin', 'GET', '/v1/domains/finance/members')).body.items,
  ).toContainEqual(expect.objectContaining({ user: 'henry', role: 'backup', domain: 'finance' }));

  await erin.getByRole('button', { name: 'Remove henry as backup of finance' }).click();
  await backups.locator('li[data-member="henry"]').waitFor({ state: 'detached' });
  await backups.getByText('None.').waitFor();
  expect(
    (await b.portal.call('erin', 'GET', '/v1/domains/finance/members')).body.items,
  ).not.toContainEqual(expect.objectContaining({ user: 'henry', role: 'backup' }));
  expect(await axeViolations(erin)).toEqual([]);
  expect(problems(erin)).toEqual([]);
});

test('erin retries a request that failed in Lake Formation and it becomes ACTIVE', async () => {
  // Lake Formation refuses the first grant, for good: the request fails with the reason.
  jest
    .spyOn(b.portal.ledger, 'grant')
    .mockRejectedValueOnce(new LakeFormationError('AccessDeniedException', 'not allowed', true));
  const created = await b.portal.call('alice', 'POST', '/v1/requests', newRequest('sales/orders'));
  const id = created.body.id as string;
  await b.portal.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
  await b.portal.queue.onIdle();
  expect((await b.portal.call('alice', 'GET', `/v1/requests/${id}`)).body.status).toBe('FAILED');

  const erin = await b.signIn('erin');
  await erin.goto('/#/admin/failed');
  const row = erin.locator(`tr[data-request="${id}"]`);
  await row.getByText('not allowed', { exact: false }).waitFor();
  expect(await axeViolations(erin)).toEqual([]);
  await row.getByRole('button', { name: 'Retry' }).click();
  await row.getByRole('status').waitFor();
  await b.portal.queue.onIdle();
  expect((await b.portal.call('alice', 'GET', `/v1/requests/${id}`)).body.status).toBe('ACTIVE');
  // Once read again, the list no longer holds it.
  await row.waitFor({ state: 'detached' });
  expect(problems(erin)).toEqual([]);
});

test('erin verifies the audit trail: every chain is whole', async () => {
  const erin = await b.signIn('erin');
  await erin.goto('/#/admin/audit');
  await erin.getByRole('button', { name: 'Verify the trail' }).click();
  await erin.locator('[data-verified="ok"]').waitFor();
  await erin.locator('tr[data-chain="sales"][data-ok="true"]').waitFor();
  await erin.locator('tr[data-chain="*"][data-ok="true"]').waitFor();
  await b.screenshot(erin, 'admin-audit-verified');
  expect(await axeViolations(erin)).toEqual([]);
  expect(problems(erin)).toEqual([]);
});

test('erin reads the policy in force and asks it whether alice may approve sales/orders', async () => {
  const erin = await b.signIn('erin');
  await erin.goto('/#/admin/policy');
  const policy = erin.getByTestId('policy');
  await policy.getByText(/Version [0-9a-f]{12}, number \d+, in force since/).waitFor();
  await policy.locator('details[data-file$="global.csv"]').locator('summary').click();
  await policy.getByText('p, role:owner, *, *, approve:owner, allow').first().waitFor();

  await erin.getByLabel('User', { exact: true }).fill('alice');
  await erin.getByLabel('Action').selectOption('approve:owner');
  await erin.getByLabel('Product or domain').fill('sales/orders');
  await erin.getByRole('button', { name: 'Ask' }).click();
  const answer = erin.locator('[data-allowed="false"]');
  await answer.waitFor();
  expect(await answer.textContent()).toContain(
    'Denied: alice may not approve, as owner or steward, sales/orders.',
  );
  expect(await answer.textContent()).toContain('alice holds no role there.');

  await erin.getByLabel('User', { exact: true }).fill('bob');
  await erin.getByRole('button', { name: 'Ask' }).click();
  const allowed = erin.locator('[data-allowed="true"]');
  await allowed.waitFor();
  expect(await allowed.textContent()).toContain('bob holds owner there.');
  expect(await allowed.textContent()).toContain('approve:owner');
  await b.screenshot(erin, 'admin-policy');
  expect(await axeViolations(erin)).toEqual([]);
  expect(problems(erin)).toEqual([]);
});

test('alice has no Admin link, and typing #/admin says not allowed', async () => {
  const alice = await b.signIn('alice');
  await alice.getByRole('link', { name: 'Catalog' }).waitFor();
  expect(await alice.getByRole('link', { name: 'Admin' }).count()).toBe(0);
  await alice.goto('/#/admin');
  await alice.getByRole('heading', { name: 'Not allowed' }).waitFor();
  await alice.goto('/#/admin/policy');
  await alice.getByTestId('not-allowed').waitFor();
  // And the API refuses her too.
  expect((await b.portal.call('alice', 'GET', '/v1/policy')).status).toBe(403);
  expect((await b.portal.call('alice', 'GET', '/v1/operations?domain=sales')).status).toBe(403);
  await b.screenshot(alice, 'admin-not-allowed');
  expect(await axeViolations(alice)).toEqual([]);
  expect(problems(alice)).toEqual([]);
});

// Last in the file: it adds a domain to the mesh the other tests share.
test('erin registers a domain: a bad account is refused at its field, then the domain is listed', async () => {
  const erin = await b.signIn('erin');
  await erin.goto('/#/admin/domains');
  const form = erin.getByRole('form', { name: 'Register a domain' });
  await form.getByLabel('Id').fill('research');
  await form.getByLabel('Name').fill('Research');
  await form.getByLabel('AWS account').fill('12345');
  await form.getByLabel('Region').fill('eu-west-1');
  await form.getByRole('button', { name: 'Register' }).click();
  // The API's 400 names the field; the form shows it there, and nothing is registered.
  const accountField = form.locator('.field.invalid', { has: erin.getByLabel('AWS account') });
  await accountField.locator('.field-error').waitFor();
  expect((await b.portal.store.getDomain('research')) ?? null).toBeNull();

  await form.getByLabel('AWS account').fill('222233334444');
  await form.getByRole('button', { name: 'Register' }).click();
  await form.getByRole('status').filter({ hasText: 'Registered research.' }).waitFor();
  await erin.locator('tr[data-domain="research"]').waitFor();
  expect(await b.portal.store.getDomain('research')).toMatchObject({
    accountId: '222233334444',
    region: 'eu-west-1',
  });
  expect(await axeViolations(erin)).toEqual([]);
  expect(problems(erin)).toEqual([]);
});
