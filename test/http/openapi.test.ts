import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPortal, type TestPortal } from '../support/portal';

/**
 * /openapi.json checked by a real OpenAPI 3 validator (@seriousme/openapi-schema-validator, ESM:
 * run in a child Node process), and every operation declares what it answers.
 */
const VALIDATE = `
import { Validator } from '@seriousme/openapi-schema-validator';
const v = new Validator();
const res = await v.validate(process.argv[1]);
process.stdout.write(JSON.stringify({ valid: res.valid, version: v.version, errors: res.errors ?? [] }));
`;

function validate(doc: unknown): { valid: boolean; version?: string; errors: unknown[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'meshgate-openapi-')), 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', VALIDATE, file], {
    cwd: join(__dirname, '../..'),
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

let p: TestPortal;
let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any
beforeAll(async () => {
  p = await startPortal();
  doc = (await p.call(null, 'GET', '/openapi.json')).body;
});
afterAll(() => p.close());

test('the document is valid OpenAPI 3.1', () => {
  expect(validate(doc)).toEqual({ valid: true, version: '3.1', errors: [] });
});

test('the validator refuses a broken document (the check can fail)', () => {
  const broken = structuredClone(doc);
  broken.paths['/v1/requests'].get.responses = 'none';
  expect(validate(broken).valid).toBe(false);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Operation = any;
const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );

test('every operation declares the schema of its success answer (no `any`)', () => {
  const undeclared = operations().flatMap(({ path, method, op }) => {
    const ok = Object.entries(op.responses ?? {}).filter(([s]) => /^2\d\d$/.test(s));
    if (ok.length !== 1) return [`${method} ${path}: ${ok.length} success answers`];
    const content = (ok[0]![1] as { content?: Record<string, { schema?: object }> }).content ?? {};
    const schemas = Object.values(content).map((c) => c.schema ?? {});
    return schemas.length > 0 && schemas.every((s) => Object.keys(s).length > 0)
      ? []
      : [`${method} ${path}`];
  });
  expect(undeclared).toEqual([]);
});

test('every operation states who may call it and declares its refusals', () => {
  for (const { path, method, op } of operations()) {
    expect([path, method, op.description]).toEqual([
      path,
      method,
      expect.stringMatching(/^Who may call: /),
    ]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '500']));
  }
});

test('web/src/api-types.ts is generated from this document (npm run api:types)', () => {
  const run = () =>
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/api-types.ts', '--check'], {
      cwd: join(__dirname, '../..'),
      encoding: 'utf8',
      stdio: 'pipe',
    });
  expect(run).not.toThrow();
});
