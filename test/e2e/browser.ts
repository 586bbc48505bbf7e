// The real local server (embedded store, ledger, in-process worker) with the built web UI,
// driven by Debian's Chromium through playwright-core.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../web/build';
import { serveLocal } from '../../functions/wiring/local-server';
import { startPortal } from '../support/portal';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT_DIR = join(__dirname, '..', '..', 'test-output', 'e2e');

export async function startBrowserPortal() {
  const webDir = mkdtempSync(join(tmpdir(), 'meshgate-web-'));
  await buildWeb(webDir);
  const portal = await startPortal({ webDir });
  // As `npm start` serves it: behind the local boundary, with the web stack's security headers.
  const server = await serveLocal(portal.app, { port: 0, hostname: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const contexts: BrowserContext[] = [];

  /** A fresh browser profile signed in as `user` through the sign-in picker. */
  async function signIn(user: string): Promise<Page> {
    const context = await browser.newContext({
      baseURL: baseUrl,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    // What the Content-Security-Policy blocks is only said on the console.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
        problems.push(m.text());
    });
    (page as Page & { problems?: string[] }).problems = problems;
    await page.goto('/');
    await page.locator(`button[data-user="${user}"]`).click();
    await page.getByTestId('who').waitFor();
    return page;
  }

  async function screenshot(page: Page, name: string) {
    await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage: true });
  }

  async function close() {
    for (const c of contexts) await c.close().catch(() => {});
    await browser.close();
    await server.close();
    await portal.close();
    rmSync(webDir, { recursive: true, force: true });
  }

  return { portal, baseUrl, browser, signIn, screenshot, close };
}

export type BrowserPortal = Awaited<ReturnType<typeof startBrowserPortal>>;
