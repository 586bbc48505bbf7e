/**
 * The catalog index's vocabulary: its terms, sorted (by UTF-16 code unit, as `<` compares
 * strings), each standing for its position. It answers the three look-ups MiniSearch's radix tree
 * (`SearchableMap`) answered for the index — the exact term, the terms a prefix starts, and the
 * terms within an edit distance (Levenshtein: insertions, deletions, substitutions) — with the
 * same terms, distances and order (the radix tree built from sorted terms keeps every node's keys
 * sorted: its fuzzy search walks them in order, its iterator last first), from
 * the sorted array alone: the sorted array is an implicit trie (the terms sharing a prefix are a
 * run of it). The radix tree kept a Map per node: at 100,000 products ~100,000 Maps and ~30 MB of
 * the heap, which V8 lets grow several times over between full collections.
 */
export class SortedVocabulary {
  constructor(readonly terms: readonly string[]) {}

  get size(): number {
    return this.terms.length;
  }

  /** The position of `term`, or undefined. */
  get(term: string): number | undefined {
    const i = this.lowerBound(term, 0, this.terms.length);
    return i < this.terms.length && this.terms[i] === term ? i : undefined;
  }

  /**
   * Every term that starts with `prefix` (itself included), with its position, last first: the
   * order the radix tree's iterator walks them (its last key first, at every node), and so the
   * order a query's prefix matches add up their scores in.
   */
  *atPrefix(prefix: string): IterableIterator<[string, number]> {
    const lo = this.lowerBound(prefix, 0, this.terms.length);
    let hi = lo;
    while (hi < this.terms.length && this.terms[hi]!.startsWith(prefix)) hi++;
    for (let i = hi - 1; i >= lo; i--) yield [this.terms[i]!, i];
  }

  /** Every term within `maxDistance` edits of `query`: term to [position, distance], in order. */
  fuzzyGet(query: string, maxDistance: number): Map<string, [number, number]> {
    const results = new Map<string, [number, number]>();
    const terms = this.terms;
    const n = query.length + 1;
    // A term longer than the query by more than maxDistance is further than maxDistance.
    const maxLength = query.length + maxDistance;
    // rows[k]: the Levenshtein row of the query against the run's common prefix of length k.
    const rows = Array.from({ length: maxLength + 1 }, () => new Uint16Array(n));
    for (let j = 0; j < n; j++) rows[0]![j] = j;
    const visit = (lo: number, hi: number, k: number) => {
      let i = lo;
      // The prefix itself, when it is a term, sorts first in its run.
      if (terms[i]!.length === k) {
        const distance = rows[k]![n - 1]!;
        if (distance <= maxDistance) results.set(terms[i]!, [i, distance]);
        i++;
      }
      if (k >= maxLength) return;
      const prev = rows[k]!;
      const row = rows[k + 1]!;
      while (i < hi) {
        const c = terms[i]!.charCodeAt(k);
        const end = this.runEnd(c, k, i, hi);
        row[0] = k + 1;
        let min = row[0]!;
        for (let j = 1; j < n; j++) {
          const d = Math.min(
            prev[j - 1]! + (query.charCodeAt(j - 1) === c ? 0 : 1),
            prev[j]! + 1,
            row[j - 1]! + 1,
          );
          row[j] = d;
          if (d < min) min = d;
        }
        // Distances never fall as a term goes on: nothing in this run is near enough.
        if (min <= maxDistance) visit(i, end, k + 1);
        i = end;
      }
    };
    if (terms.length > 0) visit(0, terms.length, 0);
    return results;
  }

  /** The first position in [lo, hi) whose term is not below `s`. */
  private lowerBound(s: string, lo: number, hi: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.terms[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** In [lo, hi) (terms longer than k, sharing their first k units), the end of the run with unit c at k. */
  private runEnd(c: number, k: number, lo: number, hi: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.terms[mid]!.charCodeAt(k) <= c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
