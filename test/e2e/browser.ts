// The real local server (embedded store, ledger, in-process worker) with the built web UI,
// driven by Debian's Chromium through playwright-core.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** The desktop and the phone viewports the quality checks run at. */
export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

let axeSource: string | undefined;

/** One accessibility problem axe-core found (serious or critical), or a sideways scroll. */
export interface QualityProblem {
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * axe-core on the page as it is now (WCAG 2.1 A/AA and best practices), keeping the serious and
 * critical violations (axe-core is loaded into the page once); at a phone width also whether the page scrolls sideways, and which
 * elements stick out past the viewport. The page is left at `viewport`.
 */
export async function checkQuality(
  page: Page,
  viewport: { width: number; height: number },
): Promise<QualityProblem[]> {
  await page.setViewportSize(viewport);
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol: the page's Content-Security-Policy refuses inline script.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${axeSource}\n;void 0`);
  const found = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            o: object,
          ) => Promise<{
            violations: {
              id: string;
              impact?: string | null;
              help: string;
              nodes: { target: unknown[] }[];
            }[];
          }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
      resultTypes: ['violations'],
    });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        rule: v.id,
        impact: v.impact!,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
  });
  if (viewport.width < 600) {
    const overflow = await page.evaluate(() => {
      const width = window.innerWidth;
      if (document.documentElement.scrollWidth <= width) return null;
      const wide = [...document.querySelectorAll<HTMLElement>('body *')]
        .filter((e) => e.getBoundingClientRect().right > width + 1)
        .filter(
          (e) => !e.parentElement || e.parentElement.getBoundingClientRect().right <= width + 1,
        )
        .slice(0, 5)
        .map(
          (e) =>
            `${e.tagName.toLowerCase()}${e.className ? `.${String(e.className).split(' ').join('.')}` : ''} (right ${Math.round(e.getBoundingClientRect().right)})`,
        );
      return { scrollWidth: document.documentElement.scrollWidth, width, wide };
    });
    if (overflow)
      found.push({
        rule: 'sideways-scroll',
        impact: 'serious',
        help: `the page is ${overflow.scrollWidth} px wide on a ${overflow.width} px screen`,
        targets: overflow.wide,
      });
  }
  return found;
}
