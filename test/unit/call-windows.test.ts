import { CallWindows } from '../../functions/domain/call-windows';

const T0 = Date.UTC(2026, 11, 6, 10, 0, 0);

test('each user has the limit in each one-minute window, then gets the seconds to wait', () => {
  const w = new CallWindows();
  for (let i = 0; i < 3; i++) expect(w.take('alice', T0 + i, 3)).toBeUndefined();
  expect(w.take('alice', T0 + 15_000, 3)).toBe(45);
  expect(w.take('bob', T0 + 15_000, 3)).toBeUndefined(); // another user, another count
  expect(w.take('alice', T0 + 60_000, 3)).toBeUndefined(); // the next window starts afresh
});

test('memory stays bounded: past the most users, ended windows go first, then the oldest', () => {
  const w = new CallWindows(60_000, 2);
  w.take('a', T0, 1);
  w.take('b', T0 + 60_000, 1);
  w.take('c', T0 + 60_000, 1); // a's window ended: a is forgotten
  expect(w.take('a', T0 + 60_001, 1)).toBeUndefined();
  expect(w.take('c', T0 + 60_002, 1)).toBe(60);
});
