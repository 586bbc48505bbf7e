import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { lambdaBuildOptions, packageOf } from '../../bench/bundles';
import { BUNDLING } from '../../infra/constructs/meshgate-function';
import { lambdaBundle } from '../support/bundle';

// What the Lambda functions spend their cold load on (issue 16: the API's load against a Hono +
// DynamoDB baseline, `npm run bench -- bundles`): the SQS, EventBridge and SES clients are loaded
// at their first use, the API carries no SES client at all, no bundle carries zod's locales, and
// the answers' schemas are built only for the OpenAPI document.

const REPO = join(__dirname, '..', '..');

/** Runs `code` (CommonJS, TypeScript through tsx) in a fresh `node` and parses what it prints. */
function inFreshNode<T>(code: string): T {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: REPO,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIATESTONLY',
      AWS_SECRET_ACCESS_KEY: 'test-only',
      // Nothing leaves the machine: every service is a closed local port, tried once.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** An esbuild `alias` less some of its names. */
const without = (alias: Record<string, string>, ...names: string[]) =>
  Object.fromEntries(Object.entries(alias).filter(([name]) => !names.includes(name)));

/** Prints which of these packages' modules are in require.cache. */
const LOADED = `
const loaded = () => Object.fromEntries(
  ['@aws-sdk/client-sqs', '@aws-sdk/client-eventbridge', '@aws-sdk/client-sesv2', '@aws-sdk/client-dynamodb']
    .map((p) => [p, Object.keys(require.cache).some((k) => k.includes('/node_modules/' + p + '/'))]));
`;

test('the Lambda wiring and adapters load no SQS, EventBridge or SES client until one is used', () => {
  const r = inFreshNode<Record<string, Record<string, boolean>>>(`${LOADED}
    require('./functions/wiring/lambda');
    const { SqsQueue } = require('./functions/adapters/aws/sqs-queue');
    const { EventBridgePublisher } = require('./functions/adapters/aws/eventbridge');
    const atLoad = loaded();
    (async () => {
      await new SqsQueue('http://127.0.0.1:9/jobs').send({ kind: 'grant', requestId: 'r1' }).catch(() => {});
      const event = { detailType: 'x', detail: { at: '2026-01-01T00:00:00Z' } };
      await new EventBridgePublisher('bus').publish([event]).catch(() => {});
      console.log(JSON.stringify({ atLoad, afterUse: loaded() }));
    })();`);
  expect(r.atLoad).toEqual({
    '@aws-sdk/client-sqs': false,
    '@aws-sdk/client-eventbridge': false,
    '@aws-sdk/client-sesv2': false,
    // The table's client is made at load (the startup reads it at once).
    '@aws-sdk/client-dynamodb': true,
  });
  // Loaded at the first job and the first event (the calls fail: nothing listens there).
  expect(r.afterUse!['@aws-sdk/client-sqs']).toBe(true);
  expect(r.afterUse!['@aws-sdk/client-eventbridge']).toBe(true);
}, 60_000);

test('creating the app builds no answer schema; the OpenAPI document does', () => {
  const r = inFreshNode<{ atCreate: boolean; afterDoc: boolean; status: number }>(`
    const built = () => Object.keys(require.cache).some((k) => k.endsWith('/functions/http/responses.ts'));
    const { createApp } = require('./functions/http/app');
    const app = createApp({ authenticate: async () => undefined });
    const atCreate = built();
    app.request('/openapi.json').then((res) =>
      console.log(JSON.stringify({ atCreate, afterDoc: built(), status: res.status })));`);
  expect(r).toEqual({ atCreate: false, afterDoc: true, status: 200 });
}, 60_000);

describe('the bundles, as the stacks build them', () => {
  const bundle = lambdaBundle;
  /** Bytes each package puts in the bundle's output. */
  const bytesOf = (meta: Metafile, pkg: string) =>
    Object.values(meta.outputs)
      .flatMap((o) => Object.entries(o.inputs))
      .filter(([input]) => packageOf(input) === pkg)
      .reduce((sum, [, i]) => sum + i.bytesInOutput, 0);

  test('the API carries no SES client; the functions that send e-mail do', async () => {
    expect(bytesOf((await bundle('api')).meta, '@aws-sdk/client-sesv2')).toBe(0);
    for (const name of ['scheduled', 'notifier'])
      expect(bytesOf((await bundle(name)).meta, '@aws-sdk/client-sesv2')).toBeGreaterThan(0);
  }, 120_000);

  test('the functions carry no configuration schema: they read the file synth parsed (deployed-config.ts)', async () => {
    for (const name of ['api', 'scheduled']) {
      const { meta } = await bundle(name);
      expect(Object.keys(meta.inputs).filter((i) => i.startsWith('config/'))).toEqual([
        'config/webhooks.ts',
      ]);
    }
  }, 120_000);

  test('the SQS and EventBridge clients are reached only by dynamic import (loaded at first use)', async () => {
    const { meta } = await bundle('api');
    const edges = Object.entries(meta.inputs).flatMap(([from, input]) =>
      input.imports.map((imp) => ({ from, to: imp.path, kind: imp.kind })),
    );
    for (const client of ['sqs', 'eventbridge']) {
      const pkg = `@aws-sdk/client-${client}`;
      const module = `functions/adapters/aws/clients/${client}.ts`;
      // Each package is imported from outside it by the module BUNDLING aliases it to alone
      // (LAZY_CLIENTS), which only its module in adapters/aws/clients/ imports...
      const alias = `functions/bundling/aws-sdk/${client}.mjs`;
      const into = edges.filter((e) => packageOf(e.to) === pkg && packageOf(e.from) !== pkg);
      expect([...new Set(into.map((e) => e.from))]).toEqual([alias]);
      expect([...new Set(edges.filter((e) => e.to === alias).map((e) => e.from))]).toEqual([
        module,
      ]);
      // ...which is reached by import() alone.
      const reached = edges.filter((e) => e.to === module);
      expect(reached.length).toBeGreaterThan(0);
      expect([...new Set(reached.map((e) => e.kind))]).toEqual(['dynamic-import']);
    }
  }, 120_000);

  test.each(['api', 'worker'])(
    "the %s bundle holds zod's English messages and no other locale",
    async (name) => {
      const { meta, text } = await bundle(name);
      const locales = Object.values(meta.outputs)
        .flatMap((o) => Object.entries(o.inputs))
        .filter(([input, i]) => input.includes('/zod/v4/locales/') && i.bytesInOutput > 0)
        .map(([input]) => input.split('/').pop());
      // index.js: an empty stub, once every locale it names is left out.
      expect(locales.sort()).toEqual(['en.js', 'index.js']);
      expect(text).toContain('Invalid input: expected');
      expect(text).not.toContain('Ungültige Eingabe'); // German, one of zod's ~50 locales
    },
    120_000,
  );
});

test("the bundles' zod has zod's exports and English messages, and no locales", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-zod-'));
  try {
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import * as ns from 'zod';
       import zDefault from 'zod';
       const keys = (o: object) => Object.keys(o).sort();
       const z = ns.z;
       const issues = z.strictObject({ n: z.number() }).safeParse({ n: 'x', m: 1 }).error!.issues;
       console.log(JSON.stringify({
         ns: keys(ns), z: keys(z), core: keys(z.core), same: z === zDefault,
         locales: keys(z.locales).length, coreLocales: keys(z.core.locales).length,
         messages: issues.map((i) => i.message),
       }));`,
    );
    const run = async (options: Parameters<typeof build>[0]) => {
      const outfile = join(dir, `${Object.keys(options!.alias ?? {}).length}.js`);
      await build({
        ...options,
        entryPoints: [entry],
        outfile,
        nodePaths: [join(REPO, 'node_modules')],
      });
      return JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' })) as {
        ns: string[];
        z: string[];
        core: string[];
        same: boolean;
        locales: number;
        coreLocales: number;
        messages: string[];
      };
    };
    const options = { ...lambdaBuildOptions(BUNDLING), sourcemap: false };
    expect(options.alias).toMatchObject({ zod: join(REPO, 'functions', 'bundling', 'zod.ts') });
    const bundled = await run(options);
    const plain = await run({ ...options, alias: without(options.alias!, 'zod') });
    expect(plain.locales).toBeGreaterThan(40);
    expect(bundled).toEqual({ ...plain, locales: 0, coreLocales: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test("the bundles' casbin, without its policy-file parser and glob matching, decides as casbin does", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-casbin-'));
  try {
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { loadPolicyEngine } from ${JSON.stringify(join(REPO, 'functions', 'policy', 'files'))};
       const memberships = [
         { user: 'bob', role: 'owner', domain: 'sales' },
         { user: 'sam', role: 'steward', domain: 'sales' },
         { user: 'carol', role: 'compliance', domain: '*' },
         { user: 'dave', role: 'auditor', domain: '*' },
         { user: 'erin', role: 'admin', domain: '*' },
       ];
       (async () => {
         const engine = await loadPolicyEngine(${JSON.stringify(join(REPO, 'policies'))}, memberships);
         const decisions = [];
         for (const user of ['alice', 'bob', 'sam', 'carol', 'dave', 'erin'])
           for (const action of ['request', 'approve:owner', 'approve:compliance', 'revoke', 'read', 'audit', 'admin'])
             for (const relation of [undefined, 'rel:requester'])
               for (const classification of ['class:internal', 'class:restricted'])
                 decisions.push(engine.decide({ user, domain: 'sales', object: 'sales/orders', classification, action, ...(relation ? { relation } : {}) }));
         console.log(JSON.stringify({ failure: engine.loadFailure ?? null, allowed: decisions.filter((d) => d.allowed).length, decisions }));
       })();`,
    );
    const run = async (alias: Record<string, string>) => {
      const outfile = join(dir, `${Object.keys(alias).length}.js`);
      await build({
        ...lambdaBuildOptions(BUNDLING),
        sourcemap: false,
        alias,
        entryPoints: [entry],
        outfile,
        nodePaths: [join(REPO, 'node_modules')],
      });
      return {
        text: readFileSync(outfile, 'utf8'),
        out: JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' })) as {
          failure: string | null;
          allowed: number;
        },
      };
    };
    const options = lambdaBuildOptions(BUNDLING);
    const parts = join(REPO, 'functions', 'bundling', 'casbin-parts.ts');
    expect(options.alias).toMatchObject({ 'csv-parse/sync': parts, minimatch: parts });
    const bundled = await run(options.alias!);
    const plain = await run(without(options.alias!, 'csv-parse/sync', 'minimatch'));
    // One of csv-parse's error codes: its parser is in the plain bundle only.
    expect(plain.text.includes('CSV_QUOTE_NOT_CLOSED')).toBe(true);
    expect(bundled.text.includes('CSV_QUOTE_NOT_CLOSED')).toBe(false);
    expect(bundled.out.failure).toBeNull();
    expect(bundled.out.allowed).toBeGreaterThan(10);
    expect(bundled.out).toEqual(plain.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
