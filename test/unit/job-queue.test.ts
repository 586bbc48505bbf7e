import { InProcessQueue } from '../../functions/adapters/local/job-queue';
import { jobSubject } from '../../functions/ports/queue';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('jobs run up to four at a time, after the sender returned, and onIdle waits for all', async () => {
  const q = new InProcessQueue(() => {});
  let now = 0;
  let most = 0;
  const done: string[] = [];
  q.consume(async (job) => {
    most = Math.max(most, ++now);
    await tick();
    now--;
    done.push(jobSubject(job));
  });
  for (let i = 0; i < 10; i++) await q.send({ kind: 'grant', requestId: `r${i}` });
  expect(done).toEqual([]); // nothing runs inside send
  await q.onIdle();
  expect(done.sort()).toEqual([...Array(10).keys()].map((i) => `r${i}`).sort());
  expect(most).toBe(4);
});

test('a job that throws is delivered again, up to three attempts', async () => {
  const logged: string[] = [];
  const q = new InProcessQueue((m) => logged.push(m));
  let attempts = 0;
  q.consume(async () => {
    attempts++;
    throw new Error('boom');
  });
  await q.send({ kind: 'revoke', requestId: 'r1' });
  await q.onIdle();
  expect(attempts).toBe(3);
  expect(logged.at(-1)).toMatch(/attempt 3, giving up/);
});
