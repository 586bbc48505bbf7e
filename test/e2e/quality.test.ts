/**
 * Phone layout and accessibility of every page: each page state below, for each demo role that
 * sees it, is checked with axe-core (no serious or critical violations) at 1366x900 and at
 * 390x844, where the page must not scroll sideways either.
 *
 * A new page is one line in STATES: the role, the route, and (if the page needs it) what to do
 * there first.
 */
import type { Page } from 'playwright-core';
import {
  checkQuality,
  DESKTOP,
  PHONE,
  startBrowserPortal,
  type BrowserPortal,
  type QualityProblem,
} from './browser';

let b: BrowserPortal;
/** Ids made in beforeAll: alice's pending request (bob's inbox) and her active grant. */
const made = { pending: '', active: '' };

interface State {
  /** A demo user, or 'signed-out' for a fresh profile on the sign-in picker. */
  role: string;
  /** The hash route; `:pending` and `:active` become the ids made in beforeAll. */
  route: string;
  /** What the state is, for the report. */
  name: string;
  /** Brings the page to the state (open a panel, press a button), once the route is shown. */
  setup?: (page: Page) => Promise<void>;
}

const click = (name: string | RegExp) => async (page: Page) => {
  await page.getByRole('button', { name }).first().click();
};

const STATES: State[] = [
  { role: 'signed-out', route: '/', name: 'sign-in picker' },
  ...['alice', 'bob', 'fiona', 'carol', 'dave', 'erin', 'grace', 'henry', 'sam'].map((role) => ({
    role,
    route: '#/catalog',
    name: 'catalog',
  })),
  { role: 'alice', route: '#/catalog?q=orders', name: 'catalog search' },
  { role: 'alice', route: '#/products/sales/leads', name: 'product with request form' },
  {
    role: 'alice',
    route: '#/products/sales/orders',
    name: 'request form with errors',
    setup: async (page) => {
      await page.getByRole('button', { name: 'Submit request' }).click();
      await page.locator('[aria-invalid="true"]').first().waitFor();
    },
  },
  { role: 'alice', route: '#/requests', name: 'my requests' },
  { role: 'alice', route: '#/requests/:pending', name: 'pending request detail' },
  {
    role: 'alice',
    route: '#/requests/:active',
    name: 'active request detail with extend open',
    setup: click('Extend…'),
  },
  { role: 'alice', route: '#/notifications', name: 'notifications' },
  { role: 'bob', route: '#/approvals', name: 'approvals with an item' },
  {
    role: 'bob',
    route: '#/approvals',
    name: 'approvals with approve open',
    setup: click('Approve…'),
  },
  { role: 'carol', route: '#/approvals', name: 'approvals' },
  { role: 'bob', route: '#/grants', name: 'grants' },
  { role: 'fiona', route: '#/grants', name: 'grants with revoke open', setup: click('Revoke…') },
  { role: 'erin', route: '#/grants', name: 'grants (admin)' },
  {
    role: 'dave',
    route: '#/audit',
    name: 'audit with events',
    setup: async (page) => {
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByRole('heading', { name: 'Events' }).waitFor();
    },
  },
  { role: 'bob', route: '#/notifications', name: 'notifications' },
  ...['domains', 'members', 'failed', 'audit', 'policy'].map((tab) => ({
    role: 'erin',
    route: `#/admin/${tab}`,
    name: `admin: ${tab}`,
  })),
  { role: 'alice', route: '#/admin', name: 'admin refused' },
  { role: 'alice', route: '#/access', name: 'my access' },
  { role: 'alice', route: '#/audit', name: 'audit refused' },
  { role: 'erin', route: '#/nowhere', name: 'page not found' },
];

beforeAll(async () => {
  b = await startBrowserPortal();
  const alice = await page('alice');
  const request = async (productId: string, purpose: string) => {
    await alice.goto(`/#/products/${productId}`);
    await alice
      .getByLabel('IAM role that will read the data')
      .fill('arn:aws:iam::555555555555:role/a-rather-long-analyst-role-name-for-phones');
    await alice.getByLabel('Purpose').fill(purpose);
    await alice.locator('.preview[data-outcome]').waitFor();
    await alice.getByRole('button', { name: 'Submit request' }).click();
    await alice.waitForURL(/#\/requests\/req_/);
    return decodeURIComponent(new URL(alice.url()).hash.split('/').pop()!);
  };
  // A confidential product waits for bob; a public one is approved automatically (fiona's grant).
  made.pending = await request(
    'sales/orders',
    'Quarterly revenue attribution across every region and sales channel',
  );
  made.active = await request('finance/fx_rates', 'Currency conversion in the revenue dashboards');
  await alice.locator('[data-status="ACTIVE"]').waitFor({ timeout: 20_000 });
}, 90_000);
afterAll(async () => {
  await b?.close();
});

/** One signed-in page per role, reused by every state of that role. */
const pages = new Map<string, Promise<Page>>();
function page(role: string): Promise<Page> {
  let p = pages.get(role);
  if (!p) {
    p = role === 'signed-out' ? b.browser.newPage({ baseURL: b.baseUrl }) : b.signIn(role);
    pages.set(role, p);
  }
  return p;
}

async function show(p: Page, state: State) {
  const route = state.route.replace(':pending', made.pending).replace(':active', made.active);
  await p.setViewportSize(DESKTOP);
  await p.goto(route === '/' ? '/' : `/${route}`);
  // Leave the previous state's panels behind: a same-page hash change keeps them open.
  await p.reload();
  await p
    .locator('h1')
    .first()
    .waitFor()
    .catch(async (e: Error) => {
      throw new Error(`${e.message}\nThe page says: ${await p.locator('body').innerText()}`);
    });
  // Every listing loaded (a page may hold several, each with its own "Loading…").
  await p.waitForFunction(
    () =>
      ![...document.querySelectorAll('[role="status"]')].some(
        (e) => e.textContent?.trim() === 'Loading…',
      ),
  );
  await state.setup?.(p);
}

const describe = (found: QualityProblem[]) =>
  found.map((f) => `${f.rule} (${f.impact}): ${f.help}\n    ${f.targets.join('\n    ')}`);

test.each(STATES.map((s) => [`${s.role}: ${s.name} (${s.route})`, s] as const))(
  '%s has no serious accessibility problem at 1366x900 and 390x844, and no sideways scroll on the phone',
  async (_, state) => {
    const p = await page(state.role);
    await show(p, state);
    const desktop = await checkQuality(p, DESKTOP);
    const phone = await checkQuality(p, PHONE);
    // QUALITY_SCREENSHOTS=1 keeps each state's phone page in test-output/e2e/ (to look at).
    if (process.env.QUALITY_SCREENSHOTS)
      await b.screenshot(p, `phone-${state.role}-${state.name.replace(/\W+/g, '-')}`);
    expect({ desktop: describe(desktop), phone: describe(phone) }).toEqual({
      desktop: [],
      phone: [],
    });
  },
);

test('on a phone the action buttons stay on screen: Revoke, Approve, Extend', async () => {
  const cases: [string, string, string][] = [
    ['fiona', '#/grants', 'Revoke…'],
    ['bob', '#/approvals', 'Approve…'],
    ['alice', `#/requests/${made.active}`, 'Extend…'],
  ];
  for (const [role, route, name] of cases) {
    const p = await page(role);
    await p.setViewportSize(PHONE);
    await p.goto(`/${route}`);
    await p.reload();
    const button = p.getByRole('button', { name }).first();
    await button.waitFor();
    const box = (await button.boundingBox())!;
    expect({ role, name, right: Math.round(box.x + box.width) <= PHONE.width }).toEqual({
      role,
      name,
      right: true,
    });
    await b.screenshot(p, `phone-${role}-${route.split('/')[1]}`);
  }
});

test('the check itself fails on a page that scrolls sideways or has an unlabelled field', async () => {
  const p = await page('signed-out');
  await p.goto('/');
  await p.locator('h1').first().waitFor();
  await p.evaluate(() => {
    const wide = document.createElement('div');
    wide.style.width = '900px';
    wide.textContent = 'wide';
    const field = document.createElement('input');
    document.querySelector('main')!.append(wide, field);
  });
  const found = await checkQuality(p, PHONE);
  expect(found.map((f) => f.rule).sort()).toEqual(['label', 'sideways-scroll']);
  await p.reload();
});

test('on a phone the navigation folds behind a Menu button that says whether it is open', async () => {
  const p = await page('bob');
  await p.setViewportSize(PHONE);
  await p.goto('/#/catalog');
  await p.reload();
  const menu = p.getByRole('button', { name: /^Menu/ });
  const grants = p.getByRole('link', { name: 'Grants' });
  // The menu's state as it settles (Preact renders a change after the event that caused it).
  const menuIs = (open: boolean) =>
    p.locator(`button[aria-controls="main-nav"][aria-expanded="${open}"]`).waitFor();
  await menuIs(false);
  await expect(grants.isVisible()).resolves.toBe(false);
  await menu.click();
  await menuIs(true);
  await grants.click();
  await p.getByRole('heading', { name: 'Grants', level: 1 }).waitFor();
  // A page change closes it.
  await menuIs(false);
  await b.screenshot(p, 'phone-grants');
  await p.setViewportSize(DESKTOP);
  await expect(menu.isVisible()).resolves.toBe(false);
  await expect(grants.isVisible()).resolves.toBe(true);
});
