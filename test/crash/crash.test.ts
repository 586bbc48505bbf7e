import { crashVerdicts, runCrash } from '../../bench/crash';

// The crash benchmark (npm run bench -- crash) bounded to 3 kills: the server killed with SIGKILL
// under load and restarted on the same data folder loses no acknowledged write, leaves no change
// without its audit record, resumes every request in flight, and keeps every audit chain intact.

test('3 kills under load: nothing acknowledged lost, every change recorded, nothing in flight 15 s after the last restart, every chain intact', async () => {
  const f = await runCrash({ kills: 3 });
  // The kills landed among writes of every kind.
  expect(f.acknowledged.created).toBeGreaterThan(0);
  expect(f.acknowledged.approved).toBeGreaterThan(0);
  expect(f.lost).toEqual([]);
  expect(f.withoutRecord).toEqual([]);
  expect(f.stalled).toEqual([]);
  expect(f.chains.bad).toEqual([]);
  expect(crashVerdicts(f).filter((v) => !v.pass)).toEqual([]);
}, 120_000);
