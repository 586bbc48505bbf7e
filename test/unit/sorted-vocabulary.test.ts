import fc from 'fast-check';
import SearchableMap from 'minisearch/SearchableMap';
import { SortedVocabulary } from '../../functions/adapters/search/sorted-vocabulary';

/**
 * The catalog index's vocabulary answers as MiniSearch's radix tree (`SearchableMap`, built from
 * the same sorted terms) answers: the exact term, the terms a prefix starts, and the terms within
 * an edit distance, with their distances, in the same order.
 */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const termArb = fc.stringMatching(/^[a-dé0-2_]{1,7}$/);

test('exact, prefix and fuzzy look-ups answer as the radix tree does', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(termArb, { maxLength: 300 }),
      fc.array(fc.stringMatching(/^[a-dé0-2_]{0,8}$/), { minLength: 1, maxLength: 15 }),
      (unsorted, queries) => {
        const terms = [...unsorted].sort(compare);
        const tree = new SearchableMap<number>();
        terms.forEach((t, i) => tree.set(t, i));
        const vocabulary = new SortedVocabulary(terms);
        for (const q of [...queries, ...terms.slice(0, 5)]) {
          expect(vocabulary.get(q)).toBe(tree.get(q));
          expect([...vocabulary.atPrefix(q)]).toEqual([...tree.atPrefix(q)]);
          for (const distance of [1, 2])
            expect([...vocabulary.fuzzyGet(q, distance)]).toEqual([...tree.fuzzyGet(q, distance)]);
        }
      },
    ),
    { numRuns: 300 },
  );
});
