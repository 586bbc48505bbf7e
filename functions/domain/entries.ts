// What Lake Formation and the consumer account were sent, as it is recorded on grants and in the
// trail. A product may have 1,000 tables: one entry each (and as many for the revoke, the links)
// would make an item DynamoDB refuses (400 KB). Pure.

/** The most a list of entries takes in one record, whole. */
export const ENTRIES_MAX_BYTES = 48 * 1024;

/** How many entries of each action came back with each result. */
export type EntryCounts = Record<string, Record<string, number>>;

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

interface Summary {
  action: string;
  result: 'summary';
  /** Per result, the entries of this action not recorded one by one. */
  counts: Record<string, number>;
  /** How many entries this summary stands for. */
  omitted: number;
}

const isSummary = (e: unknown): e is Summary =>
  typeof e === 'object' && e !== null && (e as { result?: unknown }).result === 'summary';

const fieldOf = (e: unknown, k: 'action' | 'result') => {
  const v = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? v : '?';
};

/** Per action, per result: entries summarised earlier count for what they summarise. */
export function countEntries(entries: readonly unknown[]): EntryCounts {
  const counts: EntryCounts = {};
  for (const e of entries) {
    const action = fieldOf(e, 'action');
    const of = (counts[action] ??= {});
    if (isSummary(e)) {
      for (const [result, n] of Object.entries(e.counts)) of[result] = (of[result] ?? 0) + n;
    } else {
      const result = fieldOf(e, 'result');
      of[result] = (of[result] ?? 0) + 1;
    }
  }
  return counts;
}

const worthKeeping = (e: unknown) => {
  const result = fieldOf(e, 'result');
  return result !== 'ok' && result !== 'already' && result !== 'summary';
};

/**
 * The entries as recorded: whole when they fit in `maxBytes`; otherwise the entries that did not
 * come back ok or already (the failures), as many as fit, and one summary per action of the rest
 * (how many came back with each result), so that `countEntries` of the record is that of the
 * entries. Always within `maxBytes` (give it at least a kilobyte).
 */
export function boundEntries(
  entries: readonly unknown[],
  maxBytes: number = ENTRIES_MAX_BYTES,
): unknown[] {
  if (jsonBytes(entries) <= maxBytes) return [...entries];
  // Room for the summaries, at their largest (every action, every result, counts of 7 digits).
  const all = countEntries(entries);
  const room = Object.values(all).reduce(
    (n, byResult) => n + 120 + Object.keys(byResult).length * 40,
    2,
  );
  const recorded = new Set<unknown>();
  let bytes = room;
  for (const e of entries) {
    if (!worthKeeping(e)) continue;
    const size = jsonBytes(e) + 1;
    if (bytes + size > maxBytes) continue;
    bytes += size;
    recorded.add(e);
  }
  const rest = countEntries(entries.filter((e) => !recorded.has(e)));
  const summaries: Summary[] = Object.entries(rest).map(([action, counts]) => ({
    action,
    result: 'summary',
    counts,
    omitted: Object.values(counts).reduce((a, b) => a + b, 0),
  }));
  return [...summaries, ...entries.filter((e) => recorded.has(e))];
}

/** At most `max` of `items`, and how many were left out. */
export function capList<T>(items: readonly T[], max: number): { items: T[]; omitted: number } {
  return { items: items.slice(0, max), omitted: Math.max(0, items.length - max) };
}
