import {
  exhausted,
  failRun,
  MAX_OPERATION_ATTEMPTS,
  queueOperation,
  startRun,
  succeedRun,
} from '../../functions/domain/operations';

// The operation state machine (functions/domain/operations.ts): pure, with the times passed in.

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const queued = () =>
  queueOperation({ id: 'opn_1', kind: 'sync', domain: 'sales', requestedBy: 'bob' }, T0);

test('a new operation is QUEUED, version 1, never started', () => {
  expect(queued()).toEqual({
    id: 'opn_1',
    kind: 'sync',
    domain: 'sales',
    requestedBy: 'bob',
    status: 'QUEUED',
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    attempts: 0,
    version: 1,
  });
});

test('QUEUED -> RUNNING -> SUCCEEDED, each a new version', () => {
  const running = startRun(queued(), at(1000), T0)!;
  expect(running).toMatchObject({ status: 'RUNNING', attempts: 1, version: 2 });
  expect(running.startedAt).toBe(at(1000).toISOString());
  const done = succeedRun(running, { unchanged: 3 }, at(2000));
  expect(done).toMatchObject({ status: 'SUCCEEDED', report: { unchanged: 3 }, version: 3 });
  expect(done.finishedAt).toBe(at(2000).toISOString());
});

test('a RUNNING operation moved recently is not taken; one untouched since before the threshold is taken over', () => {
  const running = startRun(queued(), at(1000), T0)!;
  expect(startRun(running, at(5000), at(500))).toBeUndefined();
  const again = startRun(running, at(5000), at(2000))!;
  expect(again).toMatchObject({ status: 'RUNNING', attempts: 2, version: 3 });
});

test('finished operations are never taken, succeeded or failed again', () => {
  const running = startRun(queued(), at(1000), T0)!;
  const done = succeedRun(running, {}, at(2000));
  const failed = failRun(running, { code: 'INTERNAL', message: 'x' }, at(2000));
  for (const op of [done, failed]) {
    expect(startRun(op, at(9_000_000), at(9_000_000))).toBeUndefined();
    expect(() => failRun(op, { code: 'INTERNAL', message: 'x' }, at(3000))).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    );
    expect(() => succeedRun(op, {}, at(3000))).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    );
  }
  // Only a RUNNING operation succeeds.
  expect(() => succeedRun(queued(), {}, at(1))).toThrow(
    expect.objectContaining({ code: 'INVALID_TRANSITION' }),
  );
});

test(`an operation started ${MAX_OPERATION_ATTEMPTS} times is exhausted`, () => {
  let op = queued();
  for (let i = 1; i <= MAX_OPERATION_ATTEMPTS; i++) {
    expect(exhausted(op)).toBe(false);
    op = startRun(op, at(i * 10_000), at(i * 10_000))!;
  }
  expect(op.attempts).toBe(MAX_OPERATION_ATTEMPTS);
  expect(exhausted(op)).toBe(true);
});
