// How the scale benchmark reads `npm start`'s script (bench/start-command.ts): it starts each
// size's server with that script's environment and node flags.
import { npmStart, startCommand } from '../../bench/start-command';

test('the start script read as the scale benchmark reads it: its environment and node flags', () => {
  expect(startCommand('npm run build:web && tsx functions/entry/local.ts')).toEqual({
    env: {},
    nodeFlags: [],
  });
  expect(
    startCommand(
      'npm run build:web && A=1 B=x=y tsx --max-semi-space-size=8 --trace-gc functions/entry/local.ts',
    ),
  ).toEqual({
    env: { A: '1', B: 'x=y' },
    nodeFlags: ['--max-semi-space-size=8', '--trace-gc'],
  });
  expect(startCommand('npm run build:web && cross-env A=1 tsx functions/entry/local.ts')).toEqual({
    env: { A: '1' },
    nodeFlags: [],
  });
  // Another entry, or something that is not a flag before it: the benchmark would not start the
  // server as npm start does.
  expect(() => startCommand('tsx functions/entry/other.ts')).toThrow(
    /not "\[cross-env\] \[NAME=value\] tsx/,
  );
  expect(() => startCommand('node functions/entry/local.ts')).toThrow(
    /not "\[cross-env\] \[NAME=value\] tsx/,
  );
  expect(() => startCommand('tsx --x setup.ts functions/entry/local.ts')).toThrow(/tsx/);
});

test("npm start's own script reads: glibc's mmap threshold fixed, the entry run by tsx", () => {
  expect(npmStart()).toEqual({ env: { MALLOC_MMAP_THRESHOLD_: '131072' }, nodeFlags: [] });
});
