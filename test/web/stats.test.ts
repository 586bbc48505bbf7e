// The auditor's charts, from streamed audit events; the routes of the UI.
import { activeGrantsPerDomain, addEvent, jsonLines, newStats } from '../../web/src/stats';
import { parseRoute } from '../../web/src/main';
import { toWindow } from '../../web/src/pages/audit';
import type { AuditEvent, Grant } from '../../web/src/api';
import type { AuditEventType } from '../../functions/domain/model';

const ev = (type: AuditEventType, requestId: string, at: string): AuditEvent => ({
  id: `${type}-${requestId}-${at}`,
  at,
  type,
  actor: 'x',
  domain: 'sales',
  requestId,
  detail: {},
});

test('requests per day by outcome and time to decision', () => {
  const s = newStats();
  for (const e of [
    ev('REQUEST_CREATED', 'a', '2026-06-01T09:00:00.000Z'),
    ev('REQUEST_CREATED', 'b', '2026-06-01T10:00:00.000Z'),
    ev('REQUEST_CREATED', 'c', '2026-06-01T11:00:00.000Z'),
    ev('APPROVAL_RECORDED', 'a', '2026-06-01T09:20:00.000Z'),
    ev('REQUEST_APPROVED', 'a', '2026-06-01T09:30:00.000Z'), // 30 min
    ev('REQUEST_DENIED', 'b', '2026-06-02T12:00:00.000Z'), // 26 h
    ev('REQUEST_CREATED', 'd', '2026-06-02T08:00:00.000Z'),
    ev('REQUEST_CANCELLED', 'd', '2026-06-02T08:05:00.000Z'),
    ev('REQUEST_APPROVED', 'z', '2026-06-02T08:05:00.000Z'), // created before the window: not counted
    { ...ev('POLICY_CHANGED', '', '2026-06-02T08:05:00.000Z'), requestId: undefined },
  ])
    addEvent(s, e);
  expect(s.events).toBe(10);
  expect(Object.fromEntries(s.perDay)).toEqual({
    '2026-06-01': { approved: 1, denied: 1, cancelled: 0, pending: 1 },
    '2026-06-02': { approved: 0, denied: 0, cancelled: 1, pending: 0 },
  });
  expect(s.decisionTimes).toEqual([1, 0, 0, 1, 0]);
});

test('active grants per domain, most first', () => {
  const g = (domain: string, status: Grant['status']) => ({ domain, status }) as Grant;
  expect(
    activeGrantsPerDomain([
      g('hr', 'ACTIVE'),
      g('sales', 'ACTIVE'),
      g('sales', 'ACTIVE'),
      g('sales', 'EXPIRED'),
    ]),
  ).toEqual([
    ['sales', 2],
    ['hr', 1],
  ]);
});

test('JSON Lines are read across chunk boundaries, including multi-byte characters', async () => {
  const text = '{"a":"é"}\n{"a":2}\n\n{"a":"日本"}';
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 3) c.enqueue(bytes.slice(i, i + 3));
      c.close();
    },
  });
  const out: unknown[] = [];
  for await (const x of jsonLines(body)) out.push(x);
  expect(out).toEqual([{ a: 'é' }, { a: 2 }, { a: '日本' }]);
});

test('the audit form days are whole UTC days, the last included', () => {
  expect(toWindow({ fromDay: '2026-06-01', toDay: '2026-06-30' })).toEqual({
    from: '2026-06-01T00:00:00.000Z',
    to: '2026-07-01T00:00:00.000Z',
  });
  expect(toWindow({ fromDay: '', toDay: '' })).toEqual({ from: undefined, to: undefined });
});

test.each([
  ['', { page: 'catalog', params: {} }],
  ['#/catalog', { page: 'catalog', params: {} }],
  ['#/products/sales/orders', { page: 'product', params: { id: 'sales/orders' } }],
  ['#/requests', { page: 'requests', params: {} }],
  ['#/requests/req_01abc', { page: 'request', params: { id: 'req_01abc' } }],
  ['#/approvals', { page: 'approvals', params: {} }],
  ['#/audit?x=1', { page: 'audit', params: {} }],
  ['#/../../etc', { page: 'not-found', params: {} }],
  ['#/requests/%E0', { page: 'not-found', params: {} }],
])('route %s', (hash, route) => {
  expect(parseRoute(hash)).toEqual(route);
});
