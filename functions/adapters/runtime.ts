import { monotonicFactory } from 'ulid';
import type { Clock, IdGenerator } from '../ports/runtime';

export const systemClock: Clock = { now: () => new Date() };

/** ULIDs: unique, and sorted by creation time even within one millisecond. */
export function ulidIds(): IdGenerator {
  const ulid = monotonicFactory();
  return { next: (prefix) => `${prefix}_${ulid().toLowerCase()}` };
}
