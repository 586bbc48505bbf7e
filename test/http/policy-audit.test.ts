import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY_DIR, startPortal } from '../support/portal';

// A change of policy is itself audited, once, when it first takes effect.

const work = mkdtempSync(join(tmpdir(), 'meshgate-policy-'));
const policies = join(work, 'policies');
const dataDir = join(work, 'data');
cpSync(POLICY_DIR, policies, { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function policyEvents() {
  const p = await startPortal({ dataDir, policyDir: policies });
  try {
    const to = new Date(Date.now() + 60_000).toISOString();
    const res = await p.call('dave', 'GET', `/v1/audit?domain=*&to=${to}&limit=1000`);
    expect(res.status).toBe(200);
    return res.body.items.filter((e: { type: string }) => e.type === 'POLICY_CHANGED');
  } finally {
    await p.close();
  }
}

test('the policy in force is recorded once, and again when a file changes', async () => {
  const first = await policyEvents();
  expect(first).toHaveLength(1);
  expect(first[0].actor).toBe('meshgate');
  expect(first[0].detail.files.map((f: { source: string }) => f.source)).toEqual(
    expect.arrayContaining([
      'model.conf',
      expect.stringMatching(/global\.csv$/),
      expect.stringMatching(/domains\/hr\.csv$/),
    ]),
  );

  // A restart with the same files adds nothing.
  expect(await policyEvents()).toHaveLength(1);

  // The hr domain tightens its limit: the next start records the new version, naming the file.
  appendFileSync(join(policies, 'domains', 'hr.csv'), 'p2, hr, max-duration-hours, 168\n');
  const after = await policyEvents();
  expect(after).toHaveLength(2);
  const [older, newer] = [...after].sort((a: { at: string }, b: { at: string }) =>
    a.at.localeCompare(b.at),
  );
  expect(newer.detail.version).not.toBe(older.detail.version);
  const hr = (e: { detail: { files: Array<{ source: string; sha256: string }> } }) =>
    e.detail.files.find((f) => f.source.endsWith('hr.csv'))!.sha256;
  expect(hr(newer)).not.toBe(hr(older));
});
