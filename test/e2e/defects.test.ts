/**
 * "My access" and the defects of issue 17 in a real browser (Debian's Chromium via
 * playwright-core) against the real local server: each test failed before its fix.
 */
import type { Page } from 'playwright-core';
import { newRequest } from '../support/portal';
import { startBrowserPortal, type BrowserPortal } from './browser';

let b: BrowserPortal;
beforeAll(async () => {
  b = await startBrowserPortal();
}, 60_000);
afterAll(async () => {
  await b?.close();
});

/** A request through the API; returns its id. */
async function submit(user: string, productId: string, over: Record<string, unknown> = {}) {
  const res = await b.portal.call(user, 'POST', '/v1/requests', newRequest(productId, over));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Waits until fulfilment is done, then answers the request as its requester reads it. */
async function settled(user: string, id: string) {
  await b.portal.queue.onIdle();
  return (await b.portal.call(user, 'GET', `/v1/requests/${id}`)).body;
}

/** alice's ACTIVE grant on a product (approved by `approvers` in turn when it needs people). */
async function activeGrant(productId: string, approvers: string[] = []) {
  const id = await submit('alice', productId);
  for (const who of approvers)
    expect((await b.portal.call(who, 'POST', `/v1/requests/${id}/approve`, {})).status).toBe(200);
  const r = await settled('alice', id);
  expect(r.status).toBe('ACTIVE');
  return { requestId: id, grantId: r.grantId as string };
}

function problems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

test('My access: alice sees her active grant with how to use it, extends it within the policy, and gives it up', async () => {
  const { grantId } = await activeGrant('finance/fx_rates');
  const alice = await b.signIn('alice');
  await alice.getByRole('link', { name: 'My access' }).click();
  await alice.getByRole('heading', { level: 1, name: 'My access' }).waitFor();
  const card = alice.locator(`li[data-grant="${grantId}"]`);
  await card.locator('[data-testid="access-query"]').waitFor();
  expect(await card.locator('[data-testid="access-query"]').textContent()).toMatch(
    /SELECT \* FROM .*fx_rates/,
  );
  // Only her own grants: nobody else's grant of a domain she may read.
  for (const li of await alice.locator('li[data-grant]').all())
    expect(await li.getAttribute('data-grant')).toMatch(/^grt_/);

  // The extend form knows the policy's maximum and says how much may still be added.
  await card.getByRole('button', { name: 'Extend…' }).click();
  await card
    .locator('[data-testid="extend-limit"]')
    .filter({ hasText: 'you may add up to' })
    .waitFor();
  await card.getByLabel('Extend by').fill('5000');
  await card.locator('.field.invalid .field-error').filter({ hasText: 'At most' }).waitFor();
  expect(await card.locator('.field-error').textContent()).not.toMatch(/\.csv|policies\//);
  await card.getByLabel('Extend by').fill('1');
  await card.getByLabel('Why you still need it').fill('Month-end close runs late');
  await card.getByRole('button', { name: 'Ask for the extension' }).click();
  await alice
    .locator('[data-testid="access-note"]')
    .filter({ hasText: 'Extension of finance/fx_rates asked' })
    .waitFor();

  // Give up (the extension, approved automatically, replaced the grant): asks for confirmation first.
  await b.portal.queue.onIdle();
  const mine = (await b.portal.call('alice', 'GET', '/v1/requests?mine=true')).body.items as {
    id: string;
    extendsGrantId?: string;
  }[];
  const extension = mine.find((r) => r.extendsGrantId === grantId)!;
  const replaced = (await settled('alice', extension.id)).grantId as string;
  await alice.reload();
  await alice.locator(`li[data-grant="${grantId}"]`).waitFor({ state: 'detached' });
  const again = alice.locator(`li[data-grant="${replaced}"]`);
  await again.getByRole('button', { name: 'Give up…' }).click();
  await again.getByLabel('Why you no longer need it').fill('Project finished');
  await again.getByRole('button', { name: 'Give up access now' }).click();
  await alice
    .locator('[data-testid="access-note"]')
    .filter({ hasText: 'You gave up your access to finance/fx_rates' })
    .waitFor();
  await b.portal.queue.onIdle();
  const g = await b.portal.call('alice', 'GET', `/v1/grants/${replaced}`);
  expect(['REVOKING', 'REVOKED']).toContain(g.body.status);
  await b.screenshot(alice, 'my-access');
  expect(problems(alice)).toEqual([]);
});

test('the extension refused by the server is said at the field in plain words', async () => {
  const { grantId } = await activeGrant('finance/fx_rates');
  const alice = await b.signIn('alice');
  // The product's maximum as the page read it is 1 hour larger than the server's: its 422 shows.
  await alice.route('**/v1/products/finance/fx_rates', async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as { maxDurationHours: number };
    await route.fulfill({ response: res, json: { ...body, maxDurationHours: 100_000 } });
  });
  await alice.goto(`/#/access?grant=${grantId}`);
  const card = alice.locator(`li[data-grant="${grantId}"]`);
  await card
    .locator('[data-testid="extend-limit"]')
    .filter({ hasText: 'you may add up to' })
    .waitFor();
  await card.getByLabel('Extend by').fill('3000');
  await card.getByLabel('Why you still need it').fill('Longer than allowed');
  await card.getByRole('button', { name: 'Ask for the extension' }).click();
  const error = card.locator('.field.invalid .field-error');
  await error.filter({ hasText: 'too long' }).waitFor();
  expect(await error.textContent()).not.toMatch(/\.csv|policies\/|max-duration/);
  expect(problems(alice)).toEqual([]);
});

test('My requests shows the terms granted after an approver removed a column, not those asked', async () => {
  const id = await submit('alice', 'sales/orders');
  const product = (await b.portal.call('bob', 'GET', '/v1/products/sales/orders')).body as {
    columns: { name: string }[];
  };
  const kept = product.columns.map((c) => c.name).filter((c) => c !== 'customer_id');
  const approved = await b.portal.call('bob', 'POST', `/v1/requests/${id}/approve`, {
    narrowedScope: { permissions: ['SELECT'], columns: { mode: 'include', columns: kept } },
  });
  expect(approved.status).toBe(200);
  expect((await settled('alice', id)).status).toBe('ACTIVE');
  const alice = await b.signIn('alice');
  await alice.goto('/#/requests');
  const row = alice.locator(`tr[data-request="${id}"]`);
  await row.locator('[data-status="ACTIVE"]').waitFor();
  const scope = await row.locator('[data-testid="granted-scope"]').textContent();
  expect(scope).toContain('order_id');
  expect(scope).not.toContain('customer_id');
});

test('Who approves comes from the policy: compliance for restricted data, nobody for what is approved automatically', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/products/hr/employees');
  const who = alice.locator('[data-testid="who-approves"]');
  await who.waitFor();
  expect(await who.locator('li').count()).toBe(2);
  expect(await who.textContent()).toMatch(/compliance/);
  await alice.goto('/#/products/finance/fx_rates');
  await alice.locator('[data-testid="who-approves"]', { hasText: 'automatically' }).waitFor();
  expect(await alice.locator('[data-testid="who-approves"]').textContent()).not.toMatch(/fiona/);
});

test('the first invalid submit focuses the first invalid field; a bad row filter is said at its field and Submit waits', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/products/sales/orders');
  await alice.getByRole('button', { name: 'Submit request' }).click();
  await alice.waitForFunction(() => document.activeElement?.id === 'rq-principal');
  await alice
    .getByLabel('IAM role that will read the data')
    .fill('arn:aws:iam::555555555555:role/x');
  await alice.getByLabel('Purpose').fill('Checking the form');
  await alice.getByLabel('Row filter (optional)').fill('no_such_column = 1');
  const field = alice
    .locator('.field.invalid')
    .filter({ has: alice.getByLabel('Row filter (optional)') });
  await field.locator('.field-error').filter({ hasText: 'no_such_column' }).waitFor();
  expect(await alice.getByRole('button', { name: 'Submit request' }).isDisabled()).toBe(true);
  expect(await alice.locator('.preview .error').count()).toBe(0);
  await alice.getByLabel('Row filter (optional)').fill("region = 'EMEA'");
  await alice.locator('.preview[data-outcome]').waitFor();
  expect(await alice.getByRole('button', { name: 'Submit request' }).isDisabled()).toBe(false);
});

test('the audit charts use the table’s filter, and event types are chosen from the catalogue', async () => {
  const id = await submit('alice', 'sales/orders');
  expect(
    (await b.portal.call('bob', 'POST', `/v1/requests/${id}/deny`, { reason: 'Not for this' }))
      .status,
  ).toBe(200);
  const dave = await b.signIn('dave');
  await dave.goto('/#/audit');
  const types = dave.getByLabel('Event types');
  expect(await types.evaluate((el) => el.tagName)).toBe('SELECT');
  await types.selectOption(['REQUEST_DENIED']);
  await dave.getByRole('button', { name: 'Show' }).click();
  await dave.locator('table.audit tr[data-type="REQUEST_DENIED"]').first().waitFor();
  const chart = dave.locator('figure.chart', { hasText: 'Matching events per day' });
  await chart.waitFor();
  expect(await chart.textContent()).not.toContain('Nothing in this window');
  expect(await dave.locator('figure.chart', { hasText: 'Nothing in this window' }).count()).toBe(0);
});

test('catalog filters are in the URL and kept on Back; a new tab is still signed in', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/catalog?pii=true');
  await alice.locator('.facets a.chosen', { hasText: 'Holds personal data' }).waitFor();
  await alice.locator('.cards li', { hasText: 'hr/employees' }).first().locator('h2 a').click();
  await alice.getByRole('heading', { level: 1 }).waitFor();
  await alice.goBack();
  await alice.waitForURL(/#\/catalog\?pii=true$/);
  await alice.locator('.facets a.chosen', { hasText: 'Holds personal data' }).waitFor();

  const tab = await alice.context().newPage();
  await tab.goto('/#/requests');
  await tab.getByTestId('who').waitFor();
  expect(await tab.getByTestId('who').textContent()).toContain('alice');
  // Signing out in one tab signs the other out too.
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await alice.locator('button[data-user="alice"]').waitFor();
  await tab.close();
});

test('a second request for a product alice holds is warned about, with a link to extend instead', async () => {
  const { grantId } = await activeGrant('finance/fx_rates');
  const alice = await b.signIn('alice');
  await alice.goto('/#/products/finance/fx_rates');
  const warning = alice.locator('[data-testid="already-held"]');
  await warning.waitFor();
  const link = warning.getByRole('link', { name: 'Extend that access instead' });
  expect(await link.getAttribute('href')).toMatch(/^#\/access\?grant=grt_/);
  expect(await warning.textContent()).toMatch(/grt_/);
  void grantId;
});

test('extensions are labelled in the inbox; "all but these columns" can be narrowed; approving confirms; reasons are plain words', async () => {
  const { grantId } = await activeGrant('sales/orders', ['bob']);
  const ext = await b.portal.call('alice', 'POST', `/v1/grants/${grantId}/extend`, {
    duration: { value: 1, unit: 'days' },
    purpose: 'One more day',
  });
  expect(ext.status).toBe(201);
  const excl = await submit('alice', 'sales/orders', {
    scope: { permissions: ['SELECT'], columns: { mode: 'exclude', columns: ['customer_id'] } },
  });

  const bob = await b.signIn('bob');
  await bob.goto('/#/approvals');
  const extItem = bob.locator(`li[data-request="${ext.body.id}"]`);
  await extItem
    .getByRole('heading', { name: new RegExp(`Extension of grant ${grantId}`) })
    .waitFor();

  const item = bob.locator(`li[data-request="${excl}"]`);
  // Why policy sent it: plain words, the lines only in a collapsible detail.
  await item.locator('summary', { hasText: 'Why policy sent it to you' }).click();
  const why = await item.locator('details > ul').first().textContent();
  expect(why).not.toMatch(/Denied:|auto-approve|\.csv/);
  await item.getByRole('button', { name: 'Approve…' }).click();
  const narrow = item.locator('fieldset', { hasText: 'Narrow the columns' });
  await narrow.waitFor();
  expect(await narrow.getByText('customer_id').count()).toBe(0);
  await narrow.getByRole('checkbox', { name: 'region' }).uncheck();
  await item.getByRole('button', { name: 'Approve', exact: true }).click();
  await bob
    .locator('[data-testid="decided"]')
    .filter({ hasText: `Approved the request of alice for sales/orders` })
    .waitFor();
  const r = await settled('alice', excl);
  expect(r.terms.scope.columns.mode).toBe('include');
  expect(r.terms.scope.columns.columns).not.toContain('region');
  expect(r.terms.scope.columns.columns).not.toContain('customer_id');
  await b.screenshot(bob, 'approved-confirmation');
  expect(problems(bob)).toEqual([]);
});

test('a consumer who types #/audit is told it is not allowed', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/audit');
  await alice.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
  expect(await alice.locator('[data-testid="not-allowed"]').textContent()).toMatch(/auditors/);
  expect(problems(alice)).toEqual([]);
});
