// The documented, stable formats of audit exports: CSV (RFC 4180, safe to open in a spreadsheet)
// and JSON Lines. Pure and hot: these run once per exported event, so the usual row (no cell that
// needs quoting or defusing) is recognised by a few string searches and written as it is, and an
// event's detail is the JSON text the store kept (domain/detail-json.ts) rather than serialized
// again. The bytes are pinned by test/unit/export-bytes.test.ts and checked against a plain
// reference by export-format.test.ts. Measured by `npm run bench export`.
import { storedDetailJson } from './detail-json';
import type { AuditEvent } from './model';

/** The columns of an export, in order. New columns are only ever appended. */
export const EXPORT_COLUMNS = [
  'at',
  'id',
  'type',
  'actor',
  'domain',
  'requestId',
  'productId',
  'fromStatus',
  'toStatus',
  'detail',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/**
 * CSV also carries each event's place in its hash chain, so that an exported file can be verified
 * on its own (`npm run audit:verify -- <file>`). JSON Lines carries them as the event's own fields.
 */
export const CHAIN_COLUMNS = ['chain', 'seq', 'prevHash', 'hash'] as const;
export const CSV_COLUMNS = [...EXPORT_COLUMNS, ...CHAIN_COLUMNS] as const;

const COLUMN_SET: ReadonlySet<string> = new Set(EXPORT_COLUMNS);
const CRLF = '\r\n';

const EQUALS = 61;
const PLUS = 43;
const MINUS = 45;
const AT = 64;
const TAB = 9;
const CR = 13;
const LF = 10;
const COMMA = 44;
const QUOTE = 34;

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (it begins with =, +, -, @, a tab or
 * a carriage return: OWASP "CSV injection") is prefixed with a single quote; a cell holding a
 * comma, quote, CR or LF is quoted, its quotes doubled.
 */
export function csvCell(value: string): string {
  const n = value.length;
  if (n === 0) return '';
  const first = value.charCodeAt(0);
  const formula =
    first === EQUALS ||
    first === PLUS ||
    first === MINUS ||
    first === AT ||
    first === TAB ||
    first === CR;
  let quote = false;
  let quotes = false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE) {
      quotes = true;
      quote = true;
    } else if (c === COMMA || c === CR || c === LF) {
      quote = true;
    }
  }
  if (!quote) return formula ? "'" + value : value;
  const text = formula ? "'" + value : value;
  return '"' + (quotes ? text.replaceAll('"', '""') : text) + '"';
}

/**
 * What makes a cell more than its text: a formula start, a comma, quote, CR or LF. One test by
 * the regular expression engine is quicker here than a loop over character codes in JavaScript
 * (measured on the export benchmark's events).
 */
const CSV_SPECIAL = /^[=+\-@\t\r]|[",\r\n]/;

/** An optional text column: absent is an empty cell. Plain strings (the common case) are returned as they are. */
function opt(v: unknown): string {
  if (typeof v === 'string') return CSV_SPECIAL.test(v) ? csvCell(v) : v;
  return v === undefined || v === null ? '' : csvCell(JSON.stringify(v));
}

/**
 * Scratch space for doubleQuotes: the text as UTF-8 (room for 3 bytes a character, so that the
 * count written tells ASCII from the rest), then the text with its quotes doubled.
 */
let bytesIn = Buffer.allocUnsafe(48 * 1024);
let bytesOut = Buffer.allocUnsafe(32 * 1024);

/**
 * `text` with every quote doubled. ASCII text (JSON text nearly always is: JSON.stringify leaves
 * only non-ASCII letters as they are) is copied to bytes by the engine, doubled byte by byte and
 * read back as Latin-1, a few times quicker than replaceAll on text with many quotes (and quicker
 * than reading it by character codes); any other text goes through replaceAll.
 */
function doubleQuotes(text: string): string {
  const n = text.length;
  if (n * 3 > bytesIn.length) {
    bytesIn = Buffer.allocUnsafe(n * 3);
    bytesOut = Buffer.allocUnsafe(n * 2);
  }
  const src = bytesIn;
  const out = bytesOut;
  if (src.write(text, 0, 'utf8') !== n) return text.replaceAll('"', '""');
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = src[i]!;
    out[o++] = c;
    if (c === QUOTE) out[o++] = QUOTE;
  }
  return out.toString('latin1', 0, o);
}

/**
 * The detail column: its JSON text, the stored one when the event has it. JSON.stringify escapes
 * CR and LF inside strings, and an object's text starts with "{", so the only work left is
 * quoting when it holds a quote or comma.
 */
function detailCell(e: AuditEvent): string {
  const detail = e.detail;
  if (detail === undefined || detail === null) return '{}';
  const json = storedDetailJson(e) ?? JSON.stringify(detail);
  if (typeof detail !== 'object' || json.charCodeAt(0) !== 123) return csvCell(json);
  if (json.indexOf('"') >= 0) return '"' + doubleQuotes(json) + '"';
  return json.indexOf(',') >= 0 ? '"' + json + '"' : json;
}

/** The header line, CRLF-terminated. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + CRLF;
}

const formulaStart = (c: number) =>
  c === EQUALS || c === PLUS || c === MINUS || c === AT || c === TAB || c === CR;

/** Whether a cell's first character would make a spreadsheet read it as a formula. */
const plainStart = (s: string) => !formulaStart(s.charCodeAt(0));

/** One event as a CSV line (CSV_COLUMNS), CRLF-terminated; `detail` is its JSON text. */
export function csvRow(e: AuditEvent): string {
  const {
    at,
    id,
    type,
    actor,
    domain,
    requestId = '',
    productId = '',
    fromStatus = '',
    toStatus = '',
    chain = '',
    seq,
    prevHash = '',
    hash = '',
  } = e;
  // The usual event: text columns and a chain position, none with a comma, quote, CR or LF (one
  // string search of all of them for each, quicker on the export benchmark than a regular
  // expression per cell) or a formula start. Anything else goes cell by cell.
  if (
    typeof at === 'string' &&
    typeof id === 'string' &&
    typeof type === 'string' &&
    typeof actor === 'string' &&
    typeof domain === 'string' &&
    typeof requestId === 'string' &&
    typeof productId === 'string' &&
    typeof fromStatus === 'string' &&
    typeof toStatus === 'string' &&
    typeof chain === 'string' &&
    typeof prevHash === 'string' &&
    typeof hash === 'string' &&
    (seq === undefined || (Number.isSafeInteger(seq) && seq >= 0))
  ) {
    const seqText = seq === undefined ? '' : String(seq);
    const all =
      at +
      id +
      type +
      actor +
      domain +
      requestId +
      productId +
      fromStatus +
      toStatus +
      chain +
      seqText +
      prevHash +
      hash;
    if (
      all.indexOf(',') < 0 &&
      all.indexOf('"') < 0 &&
      all.indexOf('\n') < 0 &&
      all.indexOf('\r') < 0 &&
      plainStart(at) &&
      plainStart(id) &&
      plainStart(type) &&
      plainStart(actor) &&
      plainStart(domain) &&
      plainStart(requestId) &&
      plainStart(productId) &&
      plainStart(fromStatus) &&
      plainStart(toStatus) &&
      plainStart(chain) &&
      plainStart(prevHash) &&
      plainStart(hash)
    ) {
      return (
        at +
        ',' +
        id +
        ',' +
        type +
        ',' +
        actor +
        ',' +
        domain +
        ',' +
        requestId +
        ',' +
        productId +
        ',' +
        fromStatus +
        ',' +
        toStatus +
        ',' +
        detailCell(e) +
        ',' +
        chain +
        ',' +
        seqText +
        ',' +
        prevHash +
        ',' +
        hash +
        CRLF
      );
    }
  }
  return csvRowByCell(e);
}

/** One event as a CSV line, each cell checked and quoted on its own. */
function csvRowByCell(e: AuditEvent): string {
  return (
    opt(e.at) +
    ',' +
    opt(e.id) +
    ',' +
    opt(e.type) +
    ',' +
    opt(e.actor) +
    ',' +
    opt(e.domain) +
    ',' +
    opt(e.requestId) +
    ',' +
    opt(e.productId) +
    ',' +
    opt(e.fromStatus) +
    ',' +
    opt(e.toStatus) +
    ',' +
    detailCell(e) +
    ',' +
    opt(e.chain) +
    ',' +
    opt(e.seq) +
    ',' +
    opt(e.prevHash) +
    ',' +
    opt(e.hash) +
    CRLF
  );
}

/** What JSON.stringify would escape in a string (or check, for surrogates). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const JSON_ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * A string as JSON text, exactly as JSON.stringify gives it. Strings with nothing to escape (no
 * quote, backslash, control character or surrogate) are wrapped in quotes directly.
 */
function jsonString(s: string): string {
  return JSON_ESCAPED.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** The original JSON Lines construction: an object in column order, then JSON.stringify. */
function jsonlRowGeneric(e: AuditEvent): string {
  const o: Record<string, unknown> = {
    at: e.at,
    id: e.id,
    type: e.type,
    actor: e.actor,
    domain: e.domain,
    requestId: e.requestId,
    productId: e.productId,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    detail: e.detail,
  };
  for (const k in e) {
    if (!COLUMN_SET.has(k)) o[k] = (e as unknown as Record<string, unknown>)[k];
  }
  return JSON.stringify(o) + '\n';
}

/**
 * The JSON text of a field's name in a JSON Lines row; undefined for EXPORT_COLUMNS, which are
 * written in their own places, first. A switch on the names every stored event has answers those
 * without a set lookup or a scan of the name.
 */
export function otherFieldName(k: string): string | undefined {
  switch (k) {
    case 'at':
    case 'id':
    case 'type':
    case 'actor':
    case 'domain':
    case 'requestId':
    case 'productId':
    case 'fromStatus':
    case 'toStatus':
    case 'detail':
      return undefined;
    case 'chain':
      return '"chain"';
    case 'seq':
      return '"seq"';
    case 'prevHash':
      return '"prevHash"';
    case 'hash':
      return '"hash"';
    default:
      return jsonString(k);
  }
}

/** An optional text column's `,"name":value` (`prefix` and its JSON): '' when absent, undefined when not text. */
function member(prefix: string, value: unknown): string | undefined {
  if (value === undefined) return '';
  return typeof value === 'string' ? prefix + jsonString(value) : undefined;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/**
 * One event as a JSON Lines line: the export columns first, in their order (absent ones left
 * out), then any other field the event carries.
 *
 * The line is built as text, field by field, and is byte for byte what JSON.stringify gives for
 * that object. Anything unusual (a column that is not a string, a detail with toJSON, another
 * field that is an object or whose name could be an array index) takes the generic path.
 */
export function jsonlRow(e: AuditEvent): string {
  const { at, id, type, actor, domain, requestId, productId, fromStatus, toStatus, detail } = e;
  if (
    typeof at !== 'string' ||
    typeof id !== 'string' ||
    typeof type !== 'string' ||
    typeof actor !== 'string' ||
    typeof domain !== 'string'
  ) {
    return jsonlRowGeneric(e);
  }
  const request = member(',"requestId":', requestId);
  const product = member(',"productId":', productId);
  const from = member(',"fromStatus":', fromStatus);
  const to = member(',"toStatus":', toStatus);
  if (request === undefined || product === undefined || from === undefined || to === undefined)
    return jsonlRowGeneric(e);
  let s =
    '{"at":' +
    jsonString(at) +
    ',"id":' +
    jsonString(id) +
    ',"type":' +
    jsonString(type) +
    ',"actor":' +
    jsonString(actor) +
    ',"domain":' +
    jsonString(domain);
  s += request + product + from + to;
  if (detail !== undefined) {
    if (
      typeof detail !== 'object' ||
      detail === null ||
      typeof (detail as { toJSON?: unknown }).toJSON === 'function'
    )
      return jsonlRowGeneric(e);
    s += ',"detail":' + (storedDetailJson(e) ?? JSON.stringify(detail));
  }
  for (const k in e) {
    const name = otherFieldName(k);
    if (name === undefined) continue;
    const c = k.charCodeAt(0);
    if (c >= DIGIT_0 && c <= DIGIT_9) return jsonlRowGeneric(e);
    const v = (e as unknown as Record<string, unknown>)[k];
    if (typeof v === 'string') s += ',' + name + ':' + jsonString(v);
    else if (typeof v === 'number' || typeof v === 'boolean')
      s += ',' + name + ':' + JSON.stringify(v);
    else if (v === null) s += ',' + name + ':null';
    else if (v !== undefined) return jsonlRowGeneric(e);
  }
  return s + '}\n';
}
