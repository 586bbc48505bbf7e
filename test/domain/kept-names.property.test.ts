import fc from 'fast-check';
import { KEPT_TABLES_MAX, keepNames, mergeNames } from '../../functions/domain/lifecycle';
import type { AccessRequest, NamesOnTables, RequestStatus } from '../../functions/domain/model';
import { STATUSES } from '../../functions/domain/status';

// The names a revoke kept for a request in flight (`keptNames`): recorded as their union per
// table, whatever the order and repetition of the revokes that kept them, recorded once, and only
// on a request APPROVED or GRANTING.

const tableArb = fc.constantFrom('orders', 'refunds', 'returns', 'events_0001', 'events_0002');
const groupArb: fc.Arbitrary<NamesOnTables> = fc.record({
  names: fc.subarray(['SELECT', 'DESCRIBE'] as const, { minLength: 1 }).map((n) => [...n]),
  tables: fc.array(tableArb, { minLength: 1, maxLength: 4 }),
});
const groupsArb = fc.array(groupArb, { maxLength: 6 });

/** Per table, the set of names, as sorted pairs. */
const perTable = (groups: readonly NamesOnTables[]) => {
  const m = new Map<string, Set<string>>();
  for (const g of groups)
    for (const t of g.tables) for (const n of g.names) m.set(t, new Set([...(m.get(t) ?? []), n]));
  return [...m].map(([t, s]) => [t, [...s].sort()] as const).sort(([a], [b]) => a.localeCompare(b));
};

const request = (status: RequestStatus, keptNames?: NamesOnTables[]): AccessRequest => ({
  id: 'req_1',
  requester: 'alice',
  principal: 'arn:aws:iam::555555555555:role/analyst',
  productId: 'sales/orders',
  domain: 'sales',
  classification: 'internal',
  scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
  duration: { value: 7, unit: 'days' },
  purpose: 'p',
  status,
  stages: [],
  explanation: [],
  ...(keptNames ? { keptNames } : {}),
  createdAt: '2026-12-06T00:00:00.000Z',
  updatedAt: '2026-12-06T00:00:00.000Z',
  version: 3,
});
const ctx = { actor: 'system', now: new Date('2026-12-06T12:00:00.000Z') };

test('merged names are the union per table, in one canonical form whatever the order', () => {
  fc.assert(
    fc.property(groupsArb, groupsArb, (a, b) => {
      const merged = mergeNames([...a, ...b]);
      expect(perTable(merged)).toEqual(perTable([...a, ...b]));
      // One group per set of names, each table once.
      const tables = merged.flatMap((g) => g.tables);
      expect(new Set(tables).size).toBe(tables.length);
      expect(new Set(merged.map((g) => g.names.join(','))).size).toBe(merged.length);
      expect(mergeNames([...b, ...a])).toEqual(merged);
      expect(mergeNames(merged)).toEqual(merged);
    }),
  );
});

test('a sequence of revokes keeping names records their union, each new name once, and only in flight', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...STATUSES),
      fc.array(groupsArb, { minLength: 1, maxLength: 5 }),
      (status, revokes) => {
        let r = request(status);
        let recorded = 0;
        for (const kept of revokes) {
          const out = keepNames(r, kept, 'grt_other', ctx);
          if (status !== 'APPROVED' && status !== 'GRANTING') {
            expect(out?.ok).toBe(false);
            continue;
          }
          const before = perTable(r.keptNames ?? []);
          const after = perTable([...(r.keptNames ?? []), ...kept]);
          if (JSON.stringify(before) === JSON.stringify(after)) {
            expect(out).toBeUndefined();
            continue;
          }
          if (!out?.ok) throw new Error('refused in flight');
          expect(out.request.status).toBe(status);
          expect(out.request.version).toBe(r.version + 1);
          expect(out.events.map((e) => e.type)).toEqual(['NAMES_KEPT']);
          r = out.request;
          recorded++;
        }
        if (status === 'APPROVED' || status === 'GRANTING')
          expect(perTable(r.keptNames ?? [])).toEqual(perTable(revokes.flat()));
        expect(recorded).toBeLessThanOrEqual(revokes.length);
      },
    ),
  );
});

test('names kept on more tables than the bound: the record names at most KEPT_TABLES_MAX, and counts the rest', () => {
  const tables = Array.from(
    { length: 1000 },
    (_, i) => `events_part_${String(i).padStart(4, '0')}`,
  );
  const out = keepNames(request('GRANTING'), [{ names: ['SELECT'], tables }], 'grt_big', ctx);
  if (!out?.ok) throw new Error('refused');
  expect(out.request.keptNames!.flatMap((g) => g.tables)).toHaveLength(KEPT_TABLES_MAX);
  expect(out.request.keptNamesOmitted).toBe(1000 - KEPT_TABLES_MAX);
  // A mark of a GRANTING request says an attempt may hold (its progress note may be lost).
  expect(out.request.progress?.earlier).toBe(true);
  expect(Buffer.byteLength(JSON.stringify(out.events[0]!.detail))).toBeLessThan(16 * 1024);
});
