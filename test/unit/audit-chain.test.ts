import {
  GENESIS_HASH,
  hashEvent,
  sealChain,
  verifyChain,
  verifyExport,
} from '../../functions/domain/audit-chain';
import type { AuditEvent, AuditEventType } from '../../functions/domain/model';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../functions/domain/lakeformation';

const ev = (i: number, domain = 'sales'): AuditEvent => ({
  id: `evt_${domain}_${String(i).padStart(3, '0')}`,
  at: `2024-03-01T10:00:${String(i).padStart(2, '0')}.000Z`,
  type: 'TEST_EVENT' as AuditEventType,
  actor: 'tester',
  domain,
  requestId: `req_${i % 3}`,
  detail: { n: i, note: `event ${i}`, tags: ['b', 'a'] },
});

const chainOf = (n: number, domain = 'sales') =>
  sealChain(
    undefined,
    Array.from({ length: n }, (_, i) => ev(i + 1, domain)),
  ).events;

describe('hashEvent', () => {
  test('hashEvent is SHA-256 of the canonical JSON without hash', () => {
    const e = sealChain(undefined, [ev(1)]).events[0]!;
    const { hash, ...rest } = e;
    expect(hash).toBe(createHash('sha256').update(canonicalJson(rest)).digest('hex'));
  });
});

describe('sealChain', () => {
  test('assigns chain, seq from 1, links and hashes', () => {
    const events = chainOf(3);
    expect(events.map((e) => [e.chain, e.seq])).toEqual([
      ['sales', 1],
      ['sales', 2],
      ['sales', 3],
    ]);
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[2]!.prevHash).toBe(events[1]!.hash);
    for (const e of events) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEvent(events[1]!)).toBe(events[1]!.hash);
  });

  test('continues after a head, and the hash does not depend on key order', () => {
    const first = sealChain(undefined, [ev(1)]);
    const next = sealChain(first.head, [ev(2)]);
    expect(next.events[0]).toMatchObject({ seq: 2, prevHash: first.head.hash });
    expect(verifyChain([...first.events, ...next.events])).toMatchObject({
      ok: true,
      count: 2,
      head: next.head,
    });
    const reversed = Object.fromEntries(
      Object.entries(next.events[0]!).reverse(),
    ) as unknown as AuditEvent;
    expect(hashEvent(reversed)).toBe(next.events[0]!.hash);
  });

  test('does not touch the events it was given', () => {
    const given = [ev(1)];
    sealChain(undefined, given);
    expect(given[0]!.hash).toBeUndefined();
  });
});

describe('verifyChain names the first bad event', () => {
  test('a valid chain verifies', () => {
    const events = chainOf(20);
    expect(verifyChain(events)).toEqual({
      ok: true,
      count: 20,
      head: { seq: 20, hash: events[19]!.hash },
    });
    expect(verifyChain([])).toEqual({ ok: true, count: 0 });
  });

  test('an edited event', () => {
    const events = chainOf(10);
    events[4] = { ...events[4]!, detail: { ...events[4]!.detail, n: 999 } };
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 4,
      eventId: events[4]!.id,
      seq: 5,
      problem: 'hash mismatch (edited)',
    });
  });

  test('an edited event whose hash was recomputed breaks the next link', () => {
    const events = chainOf(10);
    const edited = { ...events[4]!, actor: 'mallory' };
    events[4] = { ...edited, hash: hashEvent(edited) };
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 5,
      eventId: events[5]!.id,
      seq: 6,
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('a deleted event', () => {
    const events = chainOf(10);
    events.splice(3, 1);
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 3,
      eventId: 'evt_sales_005',
      seq: 5,
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('a deleted first event', () => {
    const events = chainOf(5).slice(1);
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 0,
      eventId: 'evt_sales_002',
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('a deleted last event is seen against the stored head', () => {
    const events = chainOf(5);
    const head = { seq: 5, hash: events[4]!.hash! };
    const verdict = verifyChain(events.slice(0, 4));
    expect(verdict.ok && verdict.head).not.toEqual(head);
  });

  test('two events reordered', () => {
    const events = chainOf(10);
    [events[6], events[7]] = [events[7]!, events[6]!];
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 6,
      eventId: 'evt_sales_008',
      seq: 8,
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('an inserted event', () => {
    const events = chainOf(10);
    const forged = sealChain({ seq: 3, hash: events[2]!.hash! }, [{ ...ev(77), id: 'evt_forged' }])
      .events[0]!;
    events.splice(3, 0, forged);
    // The forged event links well to its predecessor; the one after it no longer does.
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 4,
      eventId: 'evt_sales_004',
      seq: 4,
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('an inserted event with a made-up link', () => {
    const events = chainOf(10);
    const forged = {
      ...ev(77),
      id: 'evt_forged',
      chain: 'sales',
      seq: 4,
      prevHash: 'f'.repeat(64),
    };
    events.splice(3, 0, { ...forged, hash: hashEvent(forged) });
    expect(verifyChain(events)).toMatchObject({
      ok: false,
      index: 3,
      eventId: 'evt_forged',
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('a sequence number changed with its hash recomputed is a gap', () => {
    const events = chainOf(3);
    const renumbered = sealChain({ seq: 5, hash: events[1]!.hash! }, [ev(3)]).events[0]!;
    expect(verifyChain([events[0]!, events[1]!, renumbered])).toMatchObject({
      ok: false,
      index: 2,
      seq: 6,
      problem: 'sequence gap',
    });
  });

  test('an unsealed event', () => {
    expect(verifyChain([...chainOf(2), ev(3)])).toMatchObject({
      ok: false,
      index: 2,
      eventId: 'evt_sales_003',
      problem: 'not sealed',
    });
  });
});

describe('verifyExport', () => {
  const interleaved = () => {
    const a = chainOf(6, 'sales');
    const b = chainOf(4, 'hr');
    return [a[0]!, b[0]!, a[1]!, a[2]!, b[1]!, a[3]!, b[2]!, b[3]!, a[4]!, a[5]!];
  };

  test('two interleaved chains verify', () => {
    const v = verifyExport(interleaved());
    expect(v.ok).toBe(true);
    expect(v.events).toBe(10);
    expect(v.chains.map((c) => [c.chain, c.verdict.count])).toEqual([
      ['sales', 6],
      ['hr', 4],
    ]);
  });

  test('exported by time rather than seq still verifies (seq is under the hash)', () => {
    const events = interleaved();
    [events[2], events[3]] = [events[3]!, events[2]!];
    expect(verifyExport(events).ok).toBe(true);
  });

  test('names the first bad event and its chain', () => {
    const events = interleaved();
    events[4] = { ...events[4]!, actor: 'mallory' };
    const v = verifyExport(events);
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({
      chain: 'hr',
      eventId: 'evt_hr_002',
      seq: 2,
      problem: 'hash mismatch (edited)',
    });
  });

  test('a deleted event in one chain', () => {
    const events = interleaved().filter((e) => e.id !== 'evt_sales_003');
    expect(verifyExport(events).firstBad).toMatchObject({
      chain: 'sales',
      eventId: 'evt_sales_004',
      problem: 'broken link (deleted, reordered or inserted)',
    });
  });

  test('a time-range export that starts mid-chain verifies as a segment', () => {
    const events = chainOf(8).slice(3);
    expect(verifyExport(events).ok).toBe(true);
  });
});
