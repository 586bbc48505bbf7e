import { MeshgateError } from '../../functions/domain/errors';
import type { RequestStatus } from '../../functions/domain/model';
import { assertTransition, canTransition, isFinal, STATUSES } from '../../functions/domain/status';

// Written out from the specification, independently of TRANSITIONS.
const ALL: RequestStatus[] = [
  'PENDING',
  'APPROVED',
  'GRANTING',
  'ACTIVE',
  'REVOKING',
  'REVOKED',
  'EXPIRED',
  'DENIED',
  'CANCELLED',
  'FAILED',
];

const ALLOWED: Record<RequestStatus, RequestStatus[]> = {
  PENDING: ['APPROVED', 'DENIED', 'CANCELLED'],
  APPROVED: ['GRANTING'],
  GRANTING: ['ACTIVE', 'FAILED'],
  FAILED: ['GRANTING'],
  ACTIVE: ['REVOKING', 'REVOKED', 'EXPIRED'],
  REVOKING: ['REVOKED', 'EXPIRED'],
  REVOKED: [],
  EXPIRED: [],
  DENIED: [],
  CANCELLED: [],
};

const FINAL: RequestStatus[] = ['REVOKED', 'EXPIRED', 'DENIED', 'CANCELLED'];

const PAIRS: [RequestStatus, RequestStatus, boolean][] = ALL.flatMap((from) =>
  ALL.map((to): [RequestStatus, RequestStatus, boolean] => [from, to, ALLOWED[from].includes(to)]),
);
const allowedPairs = PAIRS.filter(([, , ok]) => ok);
const refusedPairs = PAIRS.filter(([, , ok]) => !ok);

describe('request state machine', () => {
  test('the table covers all 100 ordered pairs of the 10 statuses', () => {
    expect(PAIRS).toHaveLength(100);
    expect(allowedPairs).toHaveLength(12);
    expect([...STATUSES].sort()).toEqual([...ALL].sort());
  });

  test.each(PAIRS)('canTransition(%s, %s) is %s', (from, to, expected) => {
    expect(canTransition(from, to)).toBe(expected);
  });

  test.each(allowedPairs)('assertTransition(%s, %s) does not throw', (from, to) => {
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  test.each(refusedPairs)('assertTransition(%s, %s) throws INVALID_TRANSITION', (from, to) => {
    let caught: unknown;
    try {
      assertTransition(from, to);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MeshgateError);
    const err = caught as MeshgateError;
    expect(err.kind).toBe('conflict');
    expect(err.code).toBe('INVALID_TRANSITION');
    expect(err.message).toContain(from);
    expect(err.message).toContain(to);
  });

  test.each(ALL.map((s): [RequestStatus, boolean] => [s, FINAL.includes(s)]))(
    'isFinal(%s) is %s',
    (s, expected) => {
      expect(isFinal(s)).toBe(expected);
    },
  );

  test('no status can transition to itself', () => {
    for (const s of ALL) expect(canTransition(s, s)).toBe(false);
  });

  test('no status can go back to PENDING', () => {
    for (const s of ALL) expect(canTransition(s, 'PENDING')).toBe(false);
  });
});
