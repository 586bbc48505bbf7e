import { batchedLines } from '../../functions/adapters/local/line-log';

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('the lines of one turn are written together, in order, and the next turn on its own', async () => {
  const writes: string[] = [];
  const log = batchedLines(
    (text) => writes.push(text),
    () => {},
  );
  log('one');
  log('two');
  log('three');
  expect(writes).toEqual([]);
  await turn();
  expect(writes).toEqual(['one\ntwo\nthree\n']);
  log('four');
  await turn();
  expect(writes).toEqual(['one\ntwo\nthree\n', 'four\n']);
  await turn();
  expect(writes).toHaveLength(2);
});

test('what is pending at exit is written then', () => {
  const writes: string[] = [];
  const atExit: Array<() => void> = [];
  const log = batchedLines(
    (text) => writes.push(text),
    (flush) => atExit.push(flush),
  );
  expect(atExit).toHaveLength(0); // nothing hooked until something is logged
  log('last words');
  expect(atExit).toHaveLength(1);
  atExit.forEach((flush) => flush());
  expect(writes).toEqual(['last words\n']);
});
