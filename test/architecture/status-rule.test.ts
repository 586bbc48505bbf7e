import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The rule "no status is set outside the domain" (eslint.config.mjs, STATUS_WRITES), run on
// snippets as ESLint runs it on the tree: each way of setting a status by hand is refused in a
// use case, an adapter or a route, and allowed in the domain.

const ROOT = join(__dirname, '../..');
const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');

function lint(code: string, file: string): string[] {
  try {
    execFileSync(
      process.execPath,
      [ESLINT, '--stdin', '--stdin-filename', file, '--format', 'json'],
      {
        cwd: ROOT,
        input: code,
        encoding: 'utf8',
      },
    );
    return [];
  } catch (err) {
    const out = JSON.parse((err as { stdout: string }).stdout) as Array<{
      messages: Array<{ ruleId: string | null; message: string }>;
    }>;
    return out.flatMap((f) => f.messages.map((m) => `${m.ruleId}: ${m.message}`));
  }
}

const HAND_SET = [
  "export const f = (r: { status: string }) => ({ ...r, status: 'APPROVED' });",
  'export const f = (r: { status: string }, s: string) => ({ ...r, status: s });',
  "export const f = (r: { status: string }) => { r.status = 'ACTIVE'; };",
  "export const f = (r: { status: string }) => { r['status'] = 'ACTIVE'; };",
  "export const r = { id: 'x', requester: 'alice', status: s };\ndeclare const s: string;",
  "export const g = { status: 'REVOKED' };",
];

test.each(HAND_SET)('a status set by hand outside the domain is refused: %s', (code) => {
  for (const file of ['functions/usecases/example.ts', 'functions/adapters/aws/example.ts']) {
    const problems = lint(code, file);
    expect(
      problems.some((p) =>
        p.startsWith('no-restricted-syntax: A status is set only by the domain'),
      ),
    ).toBe(true);
  }
});

test('the domain may set a status, and reading one is fine anywhere', () => {
  expect(lint(HAND_SET[0]!, 'functions/domain/example.ts')).toEqual([]);
  const reads =
    "export const f = (r: { status: string }) => r.status === 'ACTIVE' ? { status: r.status } : {};";
  expect(lint(reads, 'functions/usecases/example.ts')).toEqual([]);
});
