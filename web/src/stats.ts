// The auditor's charts, computed from audit events as they stream in (constant memory per
// request: only a little state per open request is kept).
import type { AuditEvent, Grant } from './api';

export type Outcome = 'approved' | 'denied' | 'cancelled' | 'pending';
export const OUTCOMES: Outcome[] = ['approved', 'denied', 'cancelled', 'pending'];
export const DECISION_BUCKETS = ['< 1 h', '1–4 h', '4–24 h', '1–3 days', '> 3 days'] as const;

export interface AuditStats {
  events: number;
  /** Day (YYYY-MM-DD, UTC) -> requests created that day, by what became of them. */
  perDay: Map<string, Record<Outcome, number>>;
  /** Requests decided (approved or denied by a person or automatically), by time from creation. */
  decisionTimes: number[];
  /** Day (YYYY-MM-DD, UTC) -> how many of the matching events fell on it: the table's events. */
  eventsPerDay: Map<string, number>;
}

export function newStats(): AuditStats & { open: Map<string, { day: string; createdAt: number }> } {
  return {
    events: 0,
    perDay: new Map(),
    decisionTimes: [0, 0, 0, 0, 0],
    eventsPerDay: new Map(),
    open: new Map(),
  };
}

function bucketOf(ms: number): number {
  const h = ms / 3_600_000;
  return h < 1 ? 0 : h < 4 ? 1 : h < 24 ? 2 : h < 72 ? 3 : 4;
}

/** Adds one event (in trail order) to the running figures. */
export function addEvent(s: ReturnType<typeof newStats>, e: AuditEvent): void {
  s.events++;
  const at = e.at.slice(0, 10);
  s.eventsPerDay.set(at, (s.eventsPerDay.get(at) ?? 0) + 1);
  if (!e.requestId) return;
  if (e.type === 'REQUEST_CREATED') {
    const day = e.at.slice(0, 10);
    const row = s.perDay.get(day) ?? { approved: 0, denied: 0, cancelled: 0, pending: 0 };
    row.pending++;
    s.perDay.set(day, row);
    s.open.set(e.requestId, { day, createdAt: Date.parse(e.at) });
    return;
  }
  const outcome: Outcome | undefined =
    e.type === 'REQUEST_APPROVED'
      ? 'approved'
      : e.type === 'REQUEST_DENIED'
        ? 'denied'
        : e.type === 'REQUEST_CANCELLED'
          ? 'cancelled'
          : undefined;
  const open = outcome && s.open.get(e.requestId);
  if (!outcome || !open) return; // created before the window, or not a decision
  s.open.delete(e.requestId);
  const row = s.perDay.get(open.day)!;
  row.pending--;
  row[outcome]++;
  if (outcome !== 'cancelled') s.decisionTimes[bucketOf(Date.parse(e.at) - open.createdAt)]!++;
}

export function activeGrantsPerDomain(grants: Grant[]): [string, number][] {
  const m = new Map<string, number>();
  for (const g of grants) if (g.status === 'ACTIVE') m.set(g.domain, (m.get(g.domain) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Reads a JSON Lines body line by line, without holding it whole. */
export async function* jsonLines<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  rest += decoder.decode();
  if (rest.trim()) yield JSON.parse(rest) as T;
}
