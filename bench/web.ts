// Web UI benchmark: the bundle the browser downloads (bytes and gzip bytes of the script and
// style sheet) and how long a signed-in person waits for the catalog, in Debian's headless
// Chromium against the embedded portal on loopback: from navigation start until the product
// cards are on screen (config read, /v1/me, /v1/domains and /v1/products answered, rendered).
// Baseline in the same run: a Preact hello-world page (bench/fixtures/hello-web.tsx) bundled with
// the same options and served by the same server, timed until its heading is on screen.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { serve } from '@hono/node-server';
import { buildWeb, WEB_BUILD_OPTIONS } from '../web/build';
import { createEmbeddedPortal } from '../functions/wiring/local';
import { fmt, median, type Benchmark, type BenchResult, type Row, type Verdict } from './lib';

const CONFIG = {
  /** Page loads per page, each in a fresh browser context (empty cache); the median is reported. */
  loads: 9,
  /** Ceiling for what the browser downloads for the UI (script and styles, gzipped). */
  targetGzipKB: 100,
  /** Ceiling for the signed-in catalog's median time to cards on screen, on loopback. */
  targetCatalogMs: 1000,
  chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
} as const;

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

interface Sizes {
  bytes: number;
  gzipBytes: number;
}

function sizeOf(files: string[]): Sizes {
  return files.reduce(
    (acc, f) => {
      const data = readFileSync(f);
      return {
        bytes: acc.bytes + data.length,
        gzipBytes: acc.gzipBytes + gzipSync(data, { level: 9 }).length,
      };
    },
    { bytes: 0, gzipBytes: 0 },
  );
}

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-bench-web-'));
  const appDir = join(dir, 'app');
  const baseDir = join(appDir, 'baseline');
  try {
    await buildWeb(appDir);
    mkdirSync(baseDir, { recursive: true });
    await build({
      ...WEB_BUILD_OPTIONS,
      entryPoints: { app: join(__dirname, 'fixtures', 'hello-web.tsx') },
      outdir: baseDir,
    });
    writeFileSync(
      join(baseDir, 'index.html'),
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hello</title><script type="module" src="/baseline/app.js"></script></head><body><div id="app"></div></body></html>',
    );
    const ui = sizeOf([
      join(appDir, 'app.js'),
      join(appDir, 'style.css'),
      join(appDir, 'index.html'),
    ]);
    const base = sizeOf([join(baseDir, 'app.js'), join(baseDir, 'index.html')]);
    log(`UI ${kb(ui.gzipBytes)} gzipped, baseline ${kb(base.gzipBytes)}`);

    const rows: Row[] = [
      {
        figure: 'downloaded: script, styles, HTML (gzip)',
        value: `${kb(ui.bytes)} (${kb(ui.gzipBytes)})`,
        baseline: `${kb(base.bytes)} (${kb(base.gzipBytes)})`,
        ratio: `${fmt.x(ui.gzipBytes / base.gzipBytes)} gzip`,
      },
    ];
    const verdicts: Verdict[] = [
      {
        name: 'web UI download (gzip)',
        pass: ui.gzipBytes <= CONFIG.targetGzipKB * 1024,
        value: kb(ui.gzipBytes),
        target: `<= ${CONFIG.targetGzipKB} KB`,
        detail: 'script, styles and HTML',
      },
    ];
    const figures: Record<string, unknown> = { config: CONFIG, ui, baseline: base };

    if (!existsSync(CONFIG.chromium)) {
      rows.push({
        figure: 'page load in Chromium',
        value: `not measured: no browser at ${CONFIG.chromium} (apt-get install chromium, or set CHROMIUM_PATH)`,
      });
    } else {
      const timing = await pageLoads(appDir, log);
      figures.loads = timing;
      const cat = median(timing.catalog);
      const hello = median(timing.baseline);
      rows.push(
        {
          figure: `signed-in catalog, navigation to cards on screen (median of ${CONFIG.loads}, cold cache)`,
          value: fmt.ms(cat),
          baseline: `${fmt.ms(hello)} (hello page)`,
          ratio: fmt.x(cat / hello),
        },
        {
          figure: 'range (catalog | hello page)',
          value: `${fmt.ms(Math.min(...timing.catalog))}..${fmt.ms(Math.max(...timing.catalog))}`,
          baseline: `${fmt.ms(Math.min(...timing.baseline))}..${fmt.ms(Math.max(...timing.baseline))}`,
        },
      );
      verdicts.push({
        name: 'signed-in catalog on screen (median)',
        pass: cat <= CONFIG.targetCatalogMs,
        value: fmt.ms(cat),
        target: `<= ${CONFIG.targetCatalogMs} ms`,
        detail: 'loopback, embedded portal',
      });
    }
    rows.push(
      ...verdicts.map((v): Row => ({
        figure: `VERDICT ${v.name}`,
        value: v.value,
        ratio: v.target,
        verdict: v.pass ? 'PASS' : 'FAIL',
      })),
    );
    return {
      name: 'web',
      title: 'Web UI: download size and time to a signed-in catalog in Chromium',
      rows,
      verdicts,
      figures,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pageLoads(
  appDir: string,
  log: (msg: string) => void,
): Promise<{ catalog: number[]; baseline: number[] }> {
  const { chromium } = await import('playwright-core');
  const portal = await createEmbeddedPortal({
    policyDir: join(__dirname, '..', 'policies'),
    webDir: appDir,
  });
  const server = serve({ fetch: portal.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((ok) => server.once('listening', () => ok()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: CONFIG.chromium,
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
  try {
    const login = (await (
      await fetch(`${origin}/auth/dev-login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'alice' }),
      })
    ).json()) as { token: string; expiresAt: string };
    const catalog: number[] = [];
    const baseline: number[] = [];
    // Alternate the two pages so that a busy moment on the machine falls on both.
    for (let i = 0; i < CONFIG.loads; i++) {
      for (const which of ['catalog', 'baseline'] as const) {
        const context = await browser.newContext();
        if (which === 'catalog')
          await context.addInitScript(
            (s) => sessionStorage.setItem('meshgate.token', s),
            JSON.stringify(login),
          );
        const page = await context.newPage();
        await page.goto(
          which === 'catalog' ? `${origin}/#/catalog` : `${origin}/baseline/index.html`,
          { waitUntil: 'commit' },
        );
        await page
          .locator(which === 'catalog' ? '.cards li' : 'h1')
          .first()
          .waitFor({ timeout: 30_000 });
        const ms = await page.evaluate(() => performance.now());
        (which === 'catalog' ? catalog : baseline).push(ms);
        await context.close();
      }
    }
    log(`catalog median ${fmt.ms(median(catalog))}, hello page ${fmt.ms(median(baseline))}`);
    return { catalog, baseline };
  } finally {
    await browser.close();
    await new Promise<void>((ok) => server.close(() => ok()));
    await portal.close();
  }
}

export const webBenchmark: Benchmark = { name: 'web', title: 'Web UI: size and load time', run };
