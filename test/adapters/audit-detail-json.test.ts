import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AuditArchiver } from '../../functions/adapters/aws/archiver';
import { auditEventOf, DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { verifyChain } from '../../functions/domain/audit-chain';
import { storedDetailJson } from '../../functions/domain/detail-json';
import { csvHeader, csvRow, jsonlRow } from '../../functions/domain/export-format';
import type { AuditEvent } from '../../functions/domain/model';
import { embeddedTables } from '../support/embedded-tables';
import { GOLDEN_EVENTS } from '../support/export-golden';

// Audit items keep the event's detail as JSON text, and exports embed that text: the exported
// bytes of a stored event are exactly those of the event as it was written.

const TABLE = 'detail-json-test';
const db = embeddedTables(TABLE);
let store: DynamoStore;
beforeAll(() => {
  store = new DynamoStore(TABLE, db.client);
});

/** The golden events as they are before the store seals them: no chain fields, one domain each. */
const unsealed = (domain: string): AuditEvent[] =>
  GOLDEN_EVENTS.map((e, i) => {
    const copy = {
      ...e,
      domain,
      id: `${e.id}-${domain}`,
      at: `2026-04-0${1 + (i % 7)}T10:00:00.000Z`,
    } as AuditEvent & Record<string, unknown>;
    for (const k of ['chain', 'seq', 'prevHash', 'hash', 'extra']) delete copy[k];
    return copy;
  });

const keyOf = (e: AuditEvent) => ({
  pk: e.requestId ? `REQUEST#${e.requestId}` : `AUDIT#${e.id}`,
  sk: `EVENT#${e.at}#${e.id}`,
});
const rawItem = async (e: AuditEvent) =>
  (await db.doc.send(new GetCommand({ TableName: TABLE, Key: keyOf(e) }))).Item!;

async function written(domain: string): Promise<AuditEvent[]> {
  const events = unsealed(domain);
  for (const e of events) await store.appendAudit(e);
  return events;
}

test('an audit item holds the detail as JSON text, in its own key order, and no detail map', async () => {
  const [first] = await written('d1');
  const item = await rawItem(first!);
  expect(item.detail).toBeUndefined();
  expect(item.detailJson).toBe(JSON.stringify(first!.detail));
  expect(item.detailJson).toMatch(/^\{"purpose":/);
});

test('every read gives back the detail, and exports of what was read are byte for byte those of what was written', async () => {
  const events = await written('d2');
  // appendAudit seals the given events in place (chain, seq, prevHash, hash): these are what was written.
  const expectedCsv = csvHeader() + events.map(csvRow).join('');
  const expectedJsonl = events.map(jsonlRow).join('');
  const reads = {
    chain: await store.listChain('d2'),
    range: (
      await store.queryAudit({
        from: '2026-04-01T00:00:00Z',
        to: '2026-04-30T00:00:00Z',
        domain: 'd2',
        limit: 100,
      })
    ).items,
  };
  for (const read of Object.values(reads)) {
    const byId = new Map(read.map((e) => [e.id, e]));
    const ordered = events.map((e) => byId.get(e.id)!);
    expect(ordered).toEqual(events);
    expect(csvHeader() + ordered.map(csvRow).join('')).toBe(expectedCsv);
    expect(ordered.map(jsonlRow).join('')).toBe(expectedJsonl);
    for (const e of ordered) expect(storedDetailJson(e)).toBe(JSON.stringify(e.detail));
  }
  expect(verifyChain(reads.chain)).toMatchObject({ ok: true, count: events.length });
});

test('an export of stored events embeds the stored text instead of serializing the detail again', async () => {
  await written('d3');
  const read = await store.listChain('d3');
  const stringify = jest.spyOn(JSON, 'stringify');
  try {
    const rows = read.map(csvRow).join('') + read.map(jsonlRow).join('');
    expect(rows.length).toBeGreaterThan(0);
    // (Numbers such as seq are still written by JSON.stringify; no object is.)
    expect(stringify.mock.calls.filter(([v]) => typeof v === 'object')).toEqual([]);
  } finally {
    stringify.mockRestore();
  }
});

test('the text is no field: JSON, keys, copies and hashes of a stored event never see it', async () => {
  await written('d4');
  const [e] = await store.listChain('d4');
  expect(Object.keys(e!)).not.toContain('detailJson');
  expect(JSON.stringify(e)).not.toContain('detailJson');
  const copy = { ...e! };
  expect(storedDetailJson(copy)).toBeUndefined();
  // The text goes with the detail it was read as: another detail is serialized afresh.
  const edited = Object.assign(e!, { detail: { edited: true } });
  expect(storedDetailJson(edited)).toBeUndefined();
  expect(jsonlRow(edited)).toContain('"detail":{"edited":true}');
});

test('items written before the text (a detail map) read and export as they always did', async () => {
  const legacy = unsealed('d5').map((e, i) => ({ ...e, chain: 'd5', seq: i + 1 }));
  for (const e of legacy) {
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          ...e,
          kind: 'audit',
          ...keyOf(e),
          gsi1pk: 'CHAIN#d5',
          gsi1sk: String(e.seq).padStart(12, '0'),
        },
      }),
    );
  }
  const read = await store.listChain('d5');
  expect(read).toEqual(legacy);
  expect(read.map(csvRow)).toEqual(legacy.map(csvRow));
  expect(read.map(jsonlRow)).toEqual(legacy.map(jsonlRow));
  expect(read.every((e) => storedDetailJson(e) === undefined)).toBe(true);
});

describe('tampering with the stored detail is caught by the chain', () => {
  test('edited text', async () => {
    const events = await written('d6');
    const victim = events[1]!;
    const item = await rawItem(victim);
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...item, detailJson: item.detailJson.replace('sales_gold', 'hr_gold') },
      }),
    );
    const read = await store.listChain('d6');
    expect(read[1]!.detail).toMatchObject({
      entries: [expect.objectContaining({ database: 'hr_gold' })],
    });
    expect(verifyChain(read)).toMatchObject({
      ok: false,
      eventId: victim.id,
      problem: 'hash mismatch (edited)',
    });
  });

  test('text that is not JSON any more is shown as it is, not thrown', async () => {
    const events = await written('d7');
    const victim = events[0]!;
    const item = await rawItem(victim);
    await db.doc.send(
      new PutCommand({ TableName: TABLE, Item: { ...item, detailJson: '{"purpose": oops' } }),
    );
    const read = await store.listChain('d7');
    expect(read[0]!.detail).toBe('{"purpose": oops');
    expect(verifyChain(read)).toMatchObject({
      ok: false,
      eventId: victim.id,
      problem: 'hash mismatch (edited)',
    });
  });

  test('line breaks added to the text (the same value, so the hash still holds) never split an exported row', async () => {
    const events = await written('d10');
    const victim = events[0]!;
    const item = await rawItem(victim);
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...item, detailJson: `${item.detailJson}\n\r\n` },
      }),
    );
    const read = (await store.listChain('d10'))[0]!;
    const row = jsonlRow(read);
    expect(row.indexOf('\n')).toBe(row.length - 1);
    expect(row).toBe(jsonlRow({ ...read }));
    expect(csvRow(read)).not.toMatch(/\n(?!$)/);
  });

  test('a detail map written beside the text is what the event holds', async () => {
    const events = await written('d8');
    const victim = events[3]!;
    const item = await rawItem(victim);
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...item, detail: { user: 'mallory', role: 'admin' } },
      }),
    );
    const read = await store.listChain('d8');
    expect(read[3]!.detail).toEqual({ user: 'mallory', role: 'admin' });
    expect(storedDetailJson(read[3]!)).toBeUndefined();
    expect(verifyChain(read)).toMatchObject({
      ok: false,
      eventId: victim.id,
      problem: 'hash mismatch (edited)',
    });
  });
});

test('auditEventOf keeps the fields in their order, the detail in its place', () => {
  const e = auditEventOf({
    pk: 'x',
    sk: 'y',
    kind: 'audit',
    id: 'evt_1',
    at: 't',
    detailJson: '{"b":1,"a":2}',
    type: 'T',
    gsi2pk: 'z',
  });
  expect(Object.keys(e)).toEqual(['id', 'at', 'detail', 'type']);
  expect(JSON.stringify(e)).toBe('{"id":"evt_1","at":"t","detail":{"b":1,"a":2},"type":"T"}');
});

test('the archive holds the event as it was written, detail as an object', async () => {
  const s3 = mockClient(S3Client);
  try {
    s3.on(PutObjectCommand).resolves({});
    const events = await written('d9');
    const item = await rawItem(events[0]!);
    await new AuditArchiver('audit-bucket', new S3Client({})).archive([
      { eventName: 'INSERT', dynamodb: { NewImage: marshall(item) } },
    ]);
    const body = s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as string;
    expect(JSON.parse(body)).toEqual(events[0]);
    expect(body).toBe(JSON.stringify(events[0]));
  } finally {
    s3.restore();
  }
});
