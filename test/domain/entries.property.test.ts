import fc from 'fast-check';
import { boundEntries, countEntries, ENTRIES_MAX_BYTES } from '../../functions/domain/entries';

// What a grant's entries take in a record: never more than the bound, whatever the product's size
// (up to 1,000 tables: one grant, one revoke and two link entries each), and the counts kept.

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');
const entry = (action: string, table: string, result: string) => ({
  action,
  table,
  sent: {
    Principal: { DataLakePrincipalIdentifier: 'arn:aws:iam::555555555555:role/a-fairly-long-role' },
    Resource: { Table: { CatalogId: '111111111111', DatabaseName: 'sales_gold', Name: table } },
    Permissions: ['SELECT', 'DESCRIBE'],
  },
  result,
  ...(result === 'failed'
    ? { error: { code: 'EntityNotFoundException', message: 'x'.repeat(200) } }
    : {}),
});

test('bounded entries fit, keep their counts per action and result, and keep failures first', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.array(fc.constantFrom('ok', 'already', 'failed'), { minLength: 1, maxLength: 8 }),
      (tables, pattern) => {
        const entries = ['grant', 'revoke', 'create-link', 'grant-describe'].flatMap((action) =>
          Array.from({ length: tables }, (_, i) =>
            entry(
              action,
              `events_part_${String(i).padStart(4, '0')}`,
              pattern[i % pattern.length]!,
            ),
          ),
        );
        const bounded = boundEntries(entries);
        expect(bytes(bounded)).toBeLessThanOrEqual(ENTRIES_MAX_BYTES);
        expect(countEntries(bounded)).toEqual(countEntries(entries));
        if (bytes(entries) <= ENTRIES_MAX_BYTES) expect(bounded).toEqual(entries);
        // Bounded again (a grant's entries with an earlier attempt's): the counts still add up.
        expect(countEntries(boundEntries([...bounded, ...entries]))).toEqual(
          countEntries([...entries, ...entries]),
        );
      },
    ),
    { numRuns: 30 },
  );
});
