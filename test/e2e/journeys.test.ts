/**
 * The approval journeys in a real browser (Debian's Chromium via playwright-core) against the
 * real local server. Each test leaves a screenshot of its final page in test-output/e2e/.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { pendingRequest } from '../support/embedded-tables';
import { startBrowserPortal, type BrowserPortal } from './browser';

let b: BrowserPortal;
beforeAll(async () => {
  b = await startBrowserPortal();
}, 60_000);
afterAll(async () => {
  await b?.close();
});

let roles = 0;
const uniqueRole = () => `arn:aws:iam::555555555555:role/e2e-analyst-${++roles}`;

/** alice fills the request form of a product and submits it; returns the request id. */
async function requestAccess(page: Page, productId: string, purpose: string): Promise<string> {
  await page.goto(`/#/products/${productId}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.getByLabel('IAM role that will read the data').fill(uniqueRole());
  await page.getByLabel('Purpose').fill(purpose);
  // The explain preview answers before submitting.
  await page.locator('.preview[data-outcome]').waitFor();
  await page.getByRole('button', { name: 'Submit request' }).click();
  await page.waitForURL(/#\/requests\/req_/);
  return decodeURIComponent(new URL(page.url()).hash.split('/').pop()!);
}

/** An approver opens the inbox and approves one request. */
async function approve(page: Page, id: string, comment: string) {
  await page.goto('/#/approvals');
  const item = page.locator(`li[data-request="${id}"]`);
  await item.getByRole('button', { name: 'Approve…' }).click();
  await item.getByLabel('Comment (optional)').fill(comment);
  await item.getByRole('button', { name: 'Approve', exact: true }).click();
  await item.waitFor({ state: 'detached' });
}

async function statusOf(page: Page, id: string) {
  await page.goto(`/#/requests/${id}`);
  await page.reload();
  return page.locator('.status-line [data-status]');
}

test('alice requests a confidential product, bob approves it, alice sees ACTIVE', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/products/sales/orders');
  await expectText(alice, '.preview', 'Needs one approval');
  const id = await requestAccess(alice, 'sales/orders', 'Quarterly revenue attribution');
  await expectAttr(alice, '.status-line [data-status]', 'data-status', 'PENDING');

  const bob = await b.signIn('bob');
  await approve(bob, id, 'Fine for attribution');

  const status = await statusOf(alice, id);
  await status.and(alice.locator('[data-status="ACTIVE"]')).waitFor();
  await alice.locator('.timeline [data-type="GRANT_ACTIVE"]').waitFor();
  await expectText(alice, '.timeline', 'Fine for attribution');
  // How to use it: the ready-to-run query, and (her role's account is not managed) the setup.
  await expectText(
    alice,
    '[data-testid="access-query"]',
    'SELECT * FROM "meshgate_sales"."sales_gold__orders" LIMIT 10',
  );
  await expectText(alice, '[data-testid="access"]', 'aws glue create-table');
  await alice.getByRole('button', { name: 'Copy the Athena query' }).click();
  await alice.getByText(/Copied\.|Selected: press/).waitFor();
  await b.screenshot(alice, 'confidential-approved');
  expect(problems(alice)).toEqual([]);
});

test('alice requests a restricted product, bob then carol approve, alice sees ACTIVE', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/products/sales/leads');
  await expectText(alice, '.preview', 'Needs 2 approvals');
  const id = await requestAccess(
    alice,
    'sales/leads',
    'Lead scoring model, contact fields excluded later',
  );

  const bob = await b.signIn('bob');
  await approve(bob, id, 'Owner stage ok');
  const carol = await b.signIn('carol');
  await carol.goto('/#/approvals');
  await expectText(carol, `li[data-request="${id}"]`, 'compliance');
  await approve(carol, id, 'Compliance ok');

  await (await statusOf(alice, id)).and(alice.locator('[data-status="ACTIVE"]')).waitFor();
  await expect(alice.locator('.timeline [data-type="APPROVAL_RECORDED"]').count()).resolves.toBe(2);
  await b.screenshot(alice, 'restricted-approved');
});

test('bob denies a request with a reason and alice sees the reason', async () => {
  const alice = await b.signIn('alice');
  const id = await requestAccess(alice, 'sales/orders', 'Curiosity');
  const bob = await b.signIn('bob');
  await bob.goto('/#/approvals');
  const item = bob.locator(`li[data-request="${id}"]`);
  await item.getByRole('button', { name: 'Deny…' }).click();
  await item
    .getByLabel('Reason (the requester sees it)')
    .fill('Use the aggregated revenue product instead');
  await item.getByRole('button', { name: 'Deny', exact: true }).click();
  await item.waitFor({ state: 'detached' });

  await (await statusOf(alice, id)).and(alice.locator('[data-status="DENIED"]')).waitFor();
  await expectText(alice, '[data-testid="denial"]', 'Use the aggregated revenue product instead');
  await b.screenshot(alice, 'denied-with-reason');
});

test('dave exports the audit CSV and it has the rows of those journeys', async () => {
  const dave = await b.signIn('dave');
  await dave.goto('/#/audit');
  await dave.getByRole('button', { name: 'Show' }).click();
  await dave.getByRole('heading', { name: 'Events' }).waitFor();
  await expectText(dave, '.charts', 'Requests per day, by outcome');
  const [download] = await Promise.all([
    dave.waitForEvent('download'),
    dave.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const csv = readFileSync((await download.path())!, 'utf8');
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toMatch(/^at,id,type,actor,domain,requestId,productId/);
  const rows = lines.slice(1).join('\n');
  for (const type of [
    'REQUEST_CREATED',
    'APPROVAL_RECORDED',
    'REQUEST_APPROVED',
    'GRANT_ACTIVE',
    'REQUEST_DENIED',
  ])
    expect(rows).toContain(type);
  expect(rows).toContain('Use the aggregated revenue product instead');
  expect(rows).toMatch(/,carol,sales,req_\w+,sales\/leads,/);
  await b.screenshot(dave, 'audit-export');
});

/** Waits until `read` answers `want` (pages refresh their counts on their own time). */
async function until<T>(read: () => Promise<T>, want: T, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: T = await read();
  while (last !== want) {
    if (Date.now() > end) throw new Error(`still ${String(last)}, not ${String(want)}`);
    await new Promise((ok) => setTimeout(ok, 200));
    last = await read();
  }
}

/** The number next to the Approvals item (0 when there is no badge). */
async function pendingCount(page: Page): Promise<number> {
  const badge = page.getByTestId('pending-count');
  if ((await badge.count()) === 0) return 0;
  return Number((await badge.locator('[aria-hidden="true"]').textContent())!.replace('+', ''));
}

test('bob sees the pending count before he opens his inbox; alice finds a notification when her request is active', async () => {
  const bob = await b.signIn('bob');
  await bob.goto('/#/catalog');
  await bob.getByRole('heading', { level: 1 }).waitFor();
  await bob.getByTestId('bell').waitFor();
  const before = await pendingCount(bob);

  const alice = await b.signIn('alice');
  const id = await requestAccess(alice, 'sales/orders', 'Weekly order dashboard');
  // alice holds no approving role: no pending badge for her.
  await expect(alice.getByTestId('pending-count').count()).resolves.toBe(0);

  // bob moves on (any page): the count is read again, before he opens the inbox.
  await bob.goto('/#/requests');
  await bob.getByRole('heading', { level: 1 }).waitFor();
  await until(() => pendingCount(bob), before + 1);
  await bob.getByTestId('unread-count').waitFor();
  await expect(bob.getByTestId('pending-count').textContent()).resolves.toMatch(/waiting for you/);
  await b.screenshot(bob, 'pending-count');
  // His notification leads to the request.
  await bob.getByTestId('bell').click();
  await bob.getByRole('heading', { name: 'Notifications' }).waitFor();
  await bob.locator(`[data-kind="APPROVAL_NEEDED"] a[href="#/requests/${id}"]`).waitFor();

  await approve(bob, id, 'Dashboard ok');
  await (await statusOf(alice, id)).and(alice.locator('[data-status="ACTIVE"]')).waitFor();
  await alice.getByTestId('unread-count').waitFor();
  await alice.getByTestId('bell').click();
  await alice.getByRole('heading', { name: 'Notifications' }).waitFor();
  const active = alice.locator(`[data-kind="REQUEST_ACTIVE"].unread`).filter({
    has: alice.locator(`a[href="#/requests/${id}"]`),
  });
  await active.waitFor();
  await expectText(alice, '[data-kind="REQUEST_ACTIVE"]', 'Your access to sales/orders is active');
  await b.screenshot(alice, 'notifications');
  // Marked read, it is no longer counted.
  const unread = Number(await alice.getByTestId('unread-count').textContent());
  await active.getByRole('button', { name: /Mark read/ }).click();
  await alice
    .locator(`[data-kind="REQUEST_ACTIVE"].read`)
    .filter({ has: alice.locator(`a[href="#/requests/${id}"]`) })
    .waitFor();
  await until(
    async () =>
      (await alice.getByTestId('unread-count').count()) === 0
        ? 0
        : Number(await alice.getByTestId('unread-count').textContent()),
    unread - 1,
  );
  expect(problems(alice)).toEqual([]);
  expect(problems(bob)).toEqual([]);
});

test('alice cannot open the approvals inbox', async () => {
  const alice = await b.signIn('alice');
  await expect(alice.getByRole('link', { name: 'Approvals' }).count()).resolves.toBe(0);
  await alice.goto('/#/approvals');
  await alice.getByTestId('not-an-approver').waitFor();
  await expect(alice.locator('li[data-request]').count()).resolves.toBe(0);
  await b.screenshot(alice, 'approvals-refused');
});

test('the request journey works from the keyboard alone, and focus starts at each page heading', async () => {
  const page = await b.browser.newPage({ baseURL: b.baseUrl });
  try {
    await page.goto('/');
    await page.locator('button[data-user="alice"]').waitFor();
    await tabTo(page, 'button[data-user="alice"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('who').waitFor();
    await page.goto('/#/products/sales/orders');
    await page.locator('h1:focus').filter({ hasText: 'Customer orders' }).waitFor();
    await tabTo(page, '#rq-principal');
    await page.keyboard.type(uniqueRole());
    await tabTo(page, 'input[name="columnMode"][value="all"]');
    await page.keyboard.press('ArrowDown'); // radio group: "only the columns I choose"
    await tabTo(page, 'input[name="columns"][value="order_id"]');
    await page.keyboard.press('Space');
    await tabTo(page, '#rq-purpose');
    await page.keyboard.type('Order volumes per region');
    await page.locator('.preview[data-outcome="needs-approval"]').waitFor();
    await tabTo(page, 'button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/requests\/req_/);
    await page.locator('h1:focus').filter({ hasText: 'Request for sales/orders' }).waitFor();
    await expectText(page, '.facts', 'SELECT on only order_id');
    await b.screenshot(page, 'keyboard-request');
  } finally {
    await page.close();
  }
});

test('the catalog finds a product through a typo, narrows by a facet, and Back restores the search', async () => {
  const alice = await b.signIn('alice');
  await alice.goto('/#/catalog');
  await alice.getByLabel('Search').fill('emplyee');
  await alice.waitForURL(/#\/catalog\?q=emplyee$/);
  await expectText(alice, '.cards li:first-child', 'hr/employees');
  await alice.locator('.facets a', { hasText: 'Holds personal data' }).click();
  await alice.waitForURL(/#\/catalog\?q=emplyee&pii=true$/);
  await alice.locator('.facets a.chosen', { hasText: 'Holds personal data' }).waitFor();
  await b.screenshot(alice, 'catalog-search');
  await alice.goBack();
  await alice.waitForURL(/#\/catalog\?q=emplyee$/);
  await alice.locator('.facets a', { hasText: 'Holds personal data' }).waitFor();
  expect(await alice.locator('.facets a.chosen').count()).toBe(0);
  expect(await alice.getByLabel('Search').inputValue()).toBe('emplyee');
  expect(problems(alice)).toEqual([]);
});

test('an error from the API is shown in plain words next to the field that caused it, and nothing is created', async () => {
  const alice = await b.signIn('alice');
  const before = (await b.portal.call('alice', 'GET', '/v1/requests?mine=true')).body.items.length;
  await alice.goto('/#/products/sales/orders');
  await alice.getByLabel('IAM role that will read the data').fill(uniqueRole());
  await alice.getByLabel('Purpose').fill('Checking the error display');
  await alice.getByLabel('For how long').fill('100000');
  await alice.getByLabel('Unit').selectOption('hours');
  // The form knows the domain's longest grant and says so before anything is sent.
  await expectText(alice, '.field.invalid', 'Policy allows at most 90 days on this domain.');
  await alice.getByLabel('For how long').fill('7');
  await alice.getByLabel('Row filter (optional)').fill('no_such_column = 1');
  // Forced: once the preview has said the filter is wrong, Submit is disabled (nothing is sent).
  await alice.getByRole('button', { name: 'Submit request' }).click({ force: true });
  const field = alice
    .locator('.field.invalid')
    .filter({ has: alice.getByLabel('Row filter (optional)') });
  await field.locator('.field-error').waitFor();
  expect(await field.locator('.field-error').textContent()).toMatch(/no_such_column/);
  expect(alice.url()).toMatch(/#\/products\/sales\/orders$/);
  expect((await b.portal.call('alice', 'GET', '/v1/requests?mine=true')).body.items.length).toBe(
    before,
  );
  await b.screenshot(alice, 'field-error');
});

test('every page runs under the Content-Security-Policy of the local server, which refuses inline script', async () => {
  const erin = await b.signIn('erin');
  for (const hash of [
    '#/products/sales/orders',
    '#/requests',
    '#/approvals',
    '#/grants',
    '#/audit',
  ])
    await erin.goto(`/${hash}`).then(() => erin.getByRole('heading', { level: 1 }).waitFor());
  expect(problems(erin)).toEqual([]);
  // The policy is enforced, not only sent: an injected inline script does not run, and says why.
  const ran = await erin.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = true';
    document.body.append(s);
    return (window as unknown as { __inline?: boolean }).__inline === true;
  });
  expect(ran).toBe(false);
  for (let i = 0; i < 40 && problems(erin).length === 0; i++) await erin.waitForTimeout(50);
  expect(problems(erin).join('\n')).toMatch(/Content Security Policy/);
});

test('long lists page: henry loads his 60 requests 50 at a time with Load more, grace her inbox too', async () => {
  for (let i = 0; i < 60; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    await b.portal.store.createRequest(
      pendingRequest('hr', `req_${String(i).padStart(26, '0')}`, at, {
        requester: 'henry',
        productId: 'hr/headcount_by_team',
      }),
      [],
    );
  }
  const henry = await b.signIn('henry');
  await henry.goto('/#/requests');
  const rows = henry.locator('tr[data-request]');
  await rows.nth(49).waitFor();
  expect(await rows.count()).toBe(50);
  await henry.getByRole('button', { name: 'Load more' }).click();
  await rows.nth(59).waitFor();
  expect(await rows.count()).toBe(60);
  await henry.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });

  const grace = await b.signIn('grace');
  await grace.goto('/#/approvals');
  const items = grace.locator('li[data-request]');
  await items.nth(49).waitFor();
  await expectText(grace, '[role="status"]', '50+ requests waiting for you');
  await grace.getByRole('button', { name: 'Load more' }).click();
  await items.nth(59).waitFor();
  expect(await items.count()).toBe(60);
  await b.screenshot(grace, 'inbox-paged');
  expect(problems(henry)).toEqual([]);
  expect(problems(grace)).toEqual([]);
});

/** Presses Tab until the element matching `selector` has focus (at most 80 presses). */
async function tabTo(page: Page, selector: string) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

function problems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}
async function expectText(page: Page, selector: string, text: string) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor();
}
async function expectAttr(page: Page, selector: string, attr: string, value: string) {
  await page.locator(`${selector}[${attr}="${value}"]`).waitFor();
}
