import { canonicalJson } from './lakeformation';
import { createHash } from 'node:crypto';
import type { AuditEvent } from './model';

/**
 * Tamper evidence for the audit trail: hash chains.
 *
 * Design
 * - One chain per domain (the event's `domain`); events that belong to no one domain — memberships
 *   in '*' and domain registrations — chain under '*'. Every event records its `chain`, its 1-based
 *   position `seq`, the `prevHash` of the event before it (64 zeros for seq 1) and its own `hash`:
 *   hex SHA-256 of the canonical JSON (keys sorted, see canonicalJson) of the event without `hash`.
 *   Editing an event breaks its hash; deleting, reordering or inserting one breaks a link or a
 *   sequence number, and the chain cannot be repaired without rewriting every later event.
 * - The store keeps one head item per chain (pk `CHAIN#<chain>`, sk `HEAD`: seq and hash of the
 *   last event). Every write that carries audit events reads the heads it touches (consistent
 *   read), seals its events after them, and puts the new heads in the SAME transaction as the
 *   state change and the events, conditional on the head being unchanged (`#seq = :prevSeq`, or
 *   `attribute_not_exists(pk)` for the first event). Two writers of one domain therefore cannot
 *   both extend the chain from one head: one transaction wins and the other is cancelled, so the
 *   chain can neither fork nor lose a link, and a state change never lands without its events.
 * - A writer that lost only the head race (its own condition held) re-reads the head and tries
 *   again, with exponential backoff and full jitter. A writer whose own condition failed (a stale
 *   request, a duplicate id) fails as before, without retrying.
 * - The head serializes the writers of one domain, which bounds a domain's audited write
 *   throughput to roughly tens of writes per second. Approval workflows never approach that; the
 *   domains do not contend with each other.
 * - Events are listed per chain in seq order through gsi1 (`CHAIN#<chain>` / zero-padded seq), and
 *   verification (here, `GET /v1/audit/verify`, `npm run audit:verify -- <export>`) recomputes the
 *   chain independently and names the first bad event.
 */

export const GLOBAL_CHAIN = '*';
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainHead {
  seq: number;
  hash: string;
}

/** Hex SHA-256 of the canonical form of the event without its `hash`. */
export function hashEvent(e: AuditEvent): string {
  const rest: Record<string, unknown> = { ...e };
  delete rest.hash;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/**
 * Assigns chain position, link and hash to `events`, in order, after `prev` (undefined: the
 * chain is empty). Events without a `chain` get `chain` as given. Returns new events and the new head.
 */
export function sealChain(
  prev: ChainHead | undefined,
  events: AuditEvent[],
  chain?: string,
): { events: AuditEvent[]; head: ChainHead } {
  let seq = prev?.seq ?? 0;
  let prevHash = prev?.hash ?? GENESIS_HASH;
  const out = events.map((e) => {
    const base: AuditEvent = { ...e, chain: chain ?? e.chain ?? e.domain, seq: ++seq, prevHash };
    delete base.hash;
    const hash = hashEvent(base);
    prevHash = hash;
    return { ...base, hash };
  });
  return { events: out, head: { seq, hash: prevHash } };
}

export type ChainProblem =
  | 'hash mismatch (edited)'
  | 'broken link (deleted, reordered or inserted)'
  | 'sequence gap'
  | 'not sealed'
  | 'wrong chain';

export type ChainVerdict =
  | { ok: true; count: number; head?: ChainHead }
  | {
      ok: false;
      count: number;
      index: number;
      eventId: string;
      seq?: number;
      problem: ChainProblem;
    };

/**
 * Checks one chain given in seq order from its start (or, with `after`, from just after a known
 * head). Names the first bad event.
 */
export function verifyChain(events: AuditEvent[], after?: ChainHead): ChainVerdict {
  let prevHash = after?.hash ?? GENESIS_HASH;
  let expectedSeq = (after?.seq ?? 0) + 1;
  const chain = events[0]?.chain;
  for (let index = 0; index < events.length; index++) {
    const e = events[index]!;
    const bad = (problem: ChainProblem): ChainVerdict => ({
      ok: false,
      count: events.length,
      index,
      eventId: e.id,
      seq: e.seq,
      problem,
    });
    if (
      typeof e.hash !== 'string' ||
      typeof e.prevHash !== 'string' ||
      typeof e.seq !== 'number' ||
      typeof e.chain !== 'string'
    ) {
      return bad('not sealed');
    }
    if (e.chain !== chain) return bad('wrong chain');
    if (hashEvent(e) !== e.hash) return bad('hash mismatch (edited)');
    if (e.prevHash !== prevHash) return bad('broken link (deleted, reordered or inserted)');
    if (e.seq !== expectedSeq) return bad('sequence gap');
    prevHash = e.hash;
    expectedSeq++;
  }
  const last = events[events.length - 1];
  return {
    ok: true,
    count: events.length,
    head: last ? { seq: last.seq!, hash: last.hash! } : after,
  };
}

export interface ExportVerdict {
  ok: boolean;
  events: number;
  chains: Array<{ chain: string; verdict: ChainVerdict }>;
  /** The first bad chain's verdict, with its chain. */
  firstBad?: { chain: string } & Extract<ChainVerdict, { ok: false }>;
}

/**
 * Checks an export: events are grouped by `chain`, each chain put in seq order (an export lists
 * events by time, and concurrent writers may take their time and their seq in different orders;
 * seq is covered by the hash, so ordering by it hides nothing) and verified. A chain that starts
 * at seq 1 is verified from its genesis; an export of a time range that starts later is verified
 * as a segment, trusting its first link. Events without a chain are reported as 'not sealed'.
 */
export function verifyExport(events: AuditEvent[]): ExportVerdict {
  const groups = new Map<string, AuditEvent[]>();
  for (const e of events) {
    const key = typeof e.chain === 'string' ? e.chain : '(unsealed)';
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const chains = [...groups].map(([chain, list]) => {
    const sorted = [...list].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    const first = sorted[0];
    const segment =
      first && typeof first.seq === 'number' && first.seq > 1 && typeof first.prevHash === 'string';
    return {
      chain,
      verdict: verifyChain(
        sorted,
        segment ? { seq: first.seq! - 1, hash: first.prevHash! } : undefined,
      ),
    };
  });
  const bad = chains.find((c) => !c.verdict.ok);
  return {
    ok: !bad,
    events: events.length,
    chains,
    ...(bad
      ? { firstBad: { chain: bad.chain, ...(bad.verdict as Extract<ChainVerdict, { ok: false }>) } }
      : {}),
  };
}
