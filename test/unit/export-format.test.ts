import fc from 'fast-check';
import { eventWithDetailJson } from '../../functions/domain/detail-json';
import {
  CHAIN_COLUMNS,
  CSV_COLUMNS,
  EXPORT_COLUMNS,
  csvCell,
  csvHeader,
  csvRow,
  jsonlRow,
  otherFieldName,
} from '../../functions/domain/export-format';
import type { AuditEvent, AuditEventType } from '../../functions/domain/model';

/** A small RFC 4180 parser: one record (CRLF-terminated) into its fields. */
function parseRecord(line: string): string[] {
  expect(line.endsWith('\r\n')).toBe(true);
  const text = line.slice(0, -2);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length)
          throw new Error(`unterminated quoted field in ${JSON.stringify(line)}`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          field += text[i++];
        }
      }
      if (i < text.length && text[i] !== ',')
        throw new Error(`text after a closing quote in ${JSON.stringify(line)}`);
    } else {
      while (i < text.length && text[i] !== ',') {
        const ch = text[i]!;
        if (ch === '"' || ch === '\r' || ch === '\n')
          throw new Error(`unquoted ${JSON.stringify(ch)} in ${JSON.stringify(line)}`);
        field += ch;
        i++;
      }
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  id: 'evt_01jabcdefghjkmnpqrstvwxyz0',
  at: '2026-03-01T10:00:00.000Z',
  type: 'REQUEST_CREATED',
  actor: 'alice',
  domain: 'sales',
  requestId: 'req_01jabcdefghjkmnpqrstvwxyz0',
  productId: 'sales/orders',
  toStatus: 'PENDING',
  detail: { purpose: 'Quarterly attribution' },
  ...over,
});

/** What a cell must read as after parsing: the value, with a quote before formula starts. */
const expected = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

describe('the CSV format', () => {
  test('the header is the documented columns, in order', () => {
    expect(csvHeader()).toBe(
      'at,id,type,actor,domain,requestId,productId,fromStatus,toStatus,detail,chain,seq,prevHash,hash\r\n',
    );
    expect(parseRecord(csvHeader())).toEqual([...CSV_COLUMNS]);
  });

  test('a plain event is one unquoted CRLF line; absent fields are empty cells', () => {
    const line = csvRow(event({ detail: {} }));
    expect(line).toBe(
      '2026-03-01T10:00:00.000Z,evt_01jabcdefghjkmnpqrstvwxyz0,REQUEST_CREATED,alice,sales,req_01jabcdefghjkmnpqrstvwxyz0,sales/orders,,PENDING,{},,,,\r\n',
    );
    const noSubject = parseRecord(
      csvRow(
        event({ requestId: undefined, productId: undefined, toStatus: undefined, detail: {} }),
      ),
    );
    expect(noSubject).toEqual([
      '2026-03-01T10:00:00.000Z',
      'evt_01jabcdefghjkmnpqrstvwxyz0',
      'REQUEST_CREATED',
      'alice',
      'sales',
      '',
      '',
      '',
      '',
      '{}',
      '',
      '',
      '',
      '',
    ]);
    // A sealed event carries its place in the chain.
    expect(
      parseRecord(
        csvRow(
          event({
            detail: {},
            chain: 'sales',
            seq: 7,
            prevHash: 'a'.repeat(64),
            hash: 'b'.repeat(64),
          }),
        ),
      ).slice(-4),
    ).toEqual(['sales', '7', 'a'.repeat(64), 'b'.repeat(64)]);
  });

  test.each([
    ['a comma', 'a,b', '"a,b"'],
    ['a quote', 'say "hi"', '"say ""hi"""'],
    ['LF', 'one\ntwo', '"one\ntwo"'],
    ['CR', 'one\rtwo', '"one\rtwo"'],
    ['CRLF', 'one\r\ntwo', '"one\r\ntwo"'],
    ['only a quote', '"', '""""'],
    ['nothing special', 'plain text', 'plain text'],
    ['empty', '', ''],
    ['unicode', 'Zoë 数据 🚀 naïve', 'Zoë 数据 🚀 naïve'],
  ])('a cell with %s', (_, value, cell) => {
    expect(csvCell(value)).toBe(cell);
    expect(parseRecord(`${cell}\r\n`)).toEqual([value]);
  });

  test.each([
    ['=', '=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+', '+1+1', "'+1+1"],
    ['-', '-2+3', "'-2+3"],
    ['@', '@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['tab', '\t=1', "'\t=1"],
    ['CR', '\r=1', `"'\r=1"`],
  ])('a cell starting with %s is defused with a leading quote', (_, value, cell) => {
    expect(csvCell(value)).toBe(cell);
    expect(parseRecord(`${cell}\r\n`)).toEqual([`'${value}`]);
  });

  test('formula characters elsewhere than the first are left alone', () => {
    expect(csvCell('a=b+c-d@e')).toBe('a=b+c-d@e');
  });

  test('every column is defused, including the actor and the detail JSON', () => {
    const fields = parseRecord(
      csvRow(
        event({
          actor: '=cmd|/c calc!A0',
          domain: '@x',
          type: '-1' as AuditEventType,
          detail: { note: '=1+1', nested: { v: '+x,"y"\r\n' } },
        }),
      ),
    );
    expect(fields[2]).toBe("'-1");
    expect(fields[3]).toBe("'=cmd|/c calc!A0");
    expect(fields[4]).toBe("'@x");
    // The detail cell is JSON text, which starts with "{" (never a formula) and parses back.
    expect(fields[9]!.startsWith('{')).toBe(true);
    expect(JSON.parse(fields[9]!)).toEqual({ note: '=1+1', nested: { v: '+x,"y"\r\n' } });
  });

  test('a detail that is not an object is still its JSON text', () => {
    const fields = parseRecord(
      csvRow(event({ detail: undefined as unknown as Record<string, unknown> })),
    );
    expect(fields[9]).toBe('{}');
  });

  test('property: parsing a row back gives every value (formula cells with their quote)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.string({
        unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ',', '"', 'a', ' ', 'é', '😀'),
        maxLength: 12,
      }),
    );
    const opt = fc.option(text, { nil: undefined });
    const detail = fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(
        text,
        text,
        text,
        text,
        text,
        opt,
        opt,
        opt,
        opt,
        detail,
        (at, id, type, actor, domain, requestId, productId, fromStatus, toStatus, d) => {
          const e = {
            at,
            id,
            type,
            actor,
            domain,
            requestId,
            productId,
            fromStatus,
            toStatus,
            detail: d,
          } as AuditEvent;
          const fields = parseRecord(csvRow(e));
          expect(fields).toHaveLength(CSV_COLUMNS.length);
          const values = [
            at,
            id,
            type,
            actor,
            domain,
            requestId ?? '',
            productId ?? '',
            fromStatus ?? '',
            toStatus ?? '',
          ];
          expect(fields.slice(0, 9)).toEqual(values.map(expected));
          expect(JSON.parse(fields[9]!)).toEqual(d);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the JSON Lines format', () => {
  test('one object per line, the export columns first, in order, then any other field', () => {
    const e = {
      ...event({ fromStatus: 'APPROVED', toStatus: 'GRANTING' }),
      extra: 1,
    } as AuditEvent;
    const line = jsonlRow(e);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed)).toEqual([...EXPORT_COLUMNS, 'extra']);
    expect(parsed).toEqual(e);
  });

  test('absent fields are left out, and newlines or quotes in values stay escaped on one line', () => {
    const e = event({
      requestId: undefined,
      productId: undefined,
      toStatus: undefined,
      actor: 'a\nb "c"',
      detail: { reason: 'x\r\ny', n: '=1' },
    });
    const line = jsonlRow(e);
    expect(line.split('\n')).toHaveLength(2);
    const parsed = JSON.parse(line);
    expect(parsed).toEqual({
      at: e.at,
      id: e.id,
      type: e.type,
      actor: 'a\nb "c"',
      domain: 'sales',
      detail: { reason: 'x\r\ny', n: '=1' },
    });
    expect(Object.keys(parsed)).toEqual(['at', 'id', 'type', 'actor', 'domain', 'detail']);
  });
});

/**
 * The formats as plainly as they can be written: every cell through csvCell, the detail through
 * JSON.stringify; one JSON.stringify of an object in column order for JSON Lines. The exporters'
 * fast paths must give exactly these bytes.
 */
const reference = {
  csv(e: AuditEvent): string {
    const r = e as unknown as Record<string, unknown>;
    const cell = (v: unknown) =>
      v === undefined || v === null ? '' : csvCell(typeof v === 'string' ? v : JSON.stringify(v));
    const detail =
      e.detail === undefined || e.detail === null ? '{}' : csvCell(JSON.stringify(e.detail));
    return (
      [
        ...EXPORT_COLUMNS.slice(0, 9).map((c) => cell(r[c])),
        detail,
        ...CSV_COLUMNS.slice(10).map((c) => cell(r[c])),
      ].join(',') + '\r\n'
    );
  },
  jsonl(e: AuditEvent): string {
    const r = e as unknown as Record<string, unknown>;
    const o: Record<string, unknown> = {};
    for (const c of EXPORT_COLUMNS) o[c] = r[c];
    for (const k of Object.keys(r))
      if (!(EXPORT_COLUMNS as readonly string[]).includes(k)) o[k] = r[k];
    return JSON.stringify(o) + '\n';
  },
};

/** The event as the store reads it back: the same fields, the detail parsed from its stored text. */
function asStored(e: AuditEvent): AuditEvent {
  const json = JSON.stringify(e.detail);
  if (json === undefined) return e;
  const detail = JSON.parse(json) as unknown;
  const out = eventWithDetailJson(detail, json);
  for (const [k, v] of Object.entries(e)) out[k] = k === 'detail' ? detail : v;
  return out as unknown as AuditEvent;
}

describe('the fast paths, one unusual cell at a time', () => {
  test('CSV: one cell that needs quoting or defusing, in any column, is quoted or defused in a sealed row', () => {
    const sealed = event({
      fromStatus: 'APPROVED',
      chain: 'sales',
      seq: 12,
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
      detail: { k: 'v' },
    });
    const r = sealed as unknown as Record<string, unknown>;
    const texts = CSV_COLUMNS.filter((c) => c !== 'detail' && c !== 'seq');
    for (const column of texts) {
      for (const bad of [
        'x,y',
        'say "hi"',
        'a\nb',
        'a\rb',
        '=1+1',
        '+1',
        '-1',
        '@x',
        '\tx',
        '\rx',
      ]) {
        const e = { ...r, [column]: bad } as unknown as AuditEvent;
        expect(csvRow(e)).toBe(reference.csv(e));
        expect(parseRecord(csvRow(e))[CSV_COLUMNS.indexOf(column)]).toBe(expected(bad));
      }
    }
    // Sequence numbers that are not plain counts are written as any other value.
    for (const seq of [-3, 1.5, Number.MAX_SAFE_INTEGER + 2, -0])
      expect(csvRow({ ...sealed, seq })).toBe(reference.csv({ ...sealed, seq }));
    expect(csvRow(sealed)).toBe(reference.csv(sealed));
  });

  test('JSON Lines: the export columns keep their places; every other name is its JSON text', () => {
    for (const c of EXPORT_COLUMNS) expect(otherFieldName(c)).toBeUndefined();
    for (const k of [...CHAIN_COLUMNS, 'extra', 'we"ird', '\u0001', 'é', '\ud800'])
      expect(otherFieldName(k)).toBe(JSON.stringify(k));
  });
});

describe('the fast paths give the reference bytes', () => {
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({
      unit: fc.constantFrom(
        '=',
        '+',
        '-',
        '@',
        '\t',
        '\r',
        '\n',
        ',',
        '"',
        '\\',
        'a',
        ' ',
        'é',
        'ÿ',
        'Ā',
        '😀',
        '\ud800',
        '\udc00',
        '\u0000',
      ),
      maxLength: 12,
    }),
  );
  const opt = fc.option(text, { nil: undefined });
  const detail = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 5,
      }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
  const seq = fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined });
  const event = fc
    .tuple(
      text,
      text,
      text,
      text,
      text,
      opt,
      opt,
      opt,
      opt,
      detail,
      opt,
      seq,
      opt,
      opt,
      fc.option(
        fc.dictionary(
          fc.string({ maxLength: 6 }),
          fc.oneof(text, fc.integer(), fc.constant(null)),
          { maxKeys: 2 },
        ),
        { nil: undefined },
      ),
    )
    .map(
      ([
        at,
        id,
        type,
        actor,
        domain,
        requestId,
        productId,
        fromStatus,
        toStatus,
        d,
        chain,
        s,
        prevHash,
        hash,
        extra,
      ]) => {
        const e: Record<string, unknown> = {
          at,
          id,
          type,
          actor,
          domain,
          requestId,
          productId,
          fromStatus,
          toStatus,
          detail: d,
          chain,
          seq: s,
          prevHash,
          hash,
        };
        for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
        return { ...e, ...(extra ?? {}) } as unknown as AuditEvent;
      },
    );

  test('property: CSV', () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(csvRow(e)).toBe(reference.csv(e));
        expect(csvRow(asStored(e))).toBe(reference.csv(e));
      }),
      { numRuns: 2000 },
    );
  });

  test('property: JSON Lines', () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(jsonlRow(e)).toBe(reference.jsonl(e));
        expect(jsonlRow(asStored(e))).toBe(reference.jsonl(e));
      }),
      { numRuns: 2000 },
    );
  });

  test('long details, ASCII or not, and the scratch space they need', () => {
    for (const n of [10, 20_000, 100_000]) {
      for (const unit of ['"a,', 'é"', '数"据']) {
        const e: AuditEvent = {
          id: 'evt_1',
          at: '2026-01-01T00:00:00.000Z',
          type: 'T' as AuditEventType,
          actor: 'a',
          domain: 'd',
          detail: { big: unit.repeat(n), after: 'x' },
        };
        expect(csvRow(e)).toBe(reference.csv(e));
        expect(csvRow(asStored(e))).toBe(reference.csv(e));
        expect(jsonlRow(asStored(e))).toBe(reference.jsonl(e));
      }
    }
    // And small ones again, after the scratch space grew.
    const small: AuditEvent = {
      id: 'evt_2',
      at: 't',
      type: 'T' as AuditEventType,
      actor: 'a',
      domain: 'd',
      detail: { q: '"' },
    };
    expect(csvRow(small)).toBe(reference.csv(small));
  });
});
