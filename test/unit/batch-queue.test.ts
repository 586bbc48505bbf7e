import { InProcessBatchQueue } from '../../functions/adapters/local/batch-queue';

test('what is pushed meanwhile is handled together, in order, after the pushes', async () => {
  const batches: number[][] = [];
  const q = new InProcessBatchQueue<number>(async (b) => void batches.push(b), undefined, 200, 1);
  q.push(1);
  q.push(2);
  q.push(3);
  expect(batches).toEqual([]);
  await q.onIdle();
  expect(batches).toEqual([[1, 2, 3]]);
  q.push(4);
  await q.onIdle();
  expect(batches).toEqual([[1, 2, 3], [4]]);
});

test('a failed batch is logged and the next one still handled; paused work waits; dropped is gone', async () => {
  const log = jest.fn();
  const seen: number[] = [];
  const q = new InProcessBatchQueue<number>(
    async (b) => {
      if (b.includes(1)) throw new Error('store down');
      seen.push(...b);
    },
    log,
    200,
    0,
  );
  q.push(1);
  await q.onIdle();
  expect(log).toHaveBeenCalledWith(expect.stringMatching(/1 queued change/), expect.any(Error));
  q.pause();
  q.push(2);
  let idle = false;
  const waiting = q.onIdle().then(() => (idle = true));
  await new Promise((r) => setTimeout(r, 5));
  expect(seen).toEqual([]);
  expect(idle).toBe(false);
  q.resume();
  await waiting;
  expect(seen).toEqual([2]);
  q.pause();
  q.push(3);
  expect(q.drop()).toEqual([3]);
  q.resume();
  await q.onIdle();
  expect(seen).toEqual([2]);
});
