// Property-based fuzzing of every route of the API, on the real embedded portal.
//
// The routes come from the app's own /openapi.json (so a new route is fuzzed without a change
// here), plus /auth/dev-login, /health, /openapi.json and paths that are no route at all. Each
// gets random and hostile input: wrong JSON types, huge strings, odd unicode (NUL, unpaired
// surrogates, right-to-left marks), SQL and expression injection in row filters, path traversal
// in ids, odd query strings, bad or missing Content-Type, malformed JSON, and forged, expired or
// someone else's tokens. Whatever comes in:
//
//   - the answer is never a 5xx;
//   - every error is JSON with `error.code` and `error.message`, and no stack trace;
//   - a 4xx writes nothing, but for the ACCESS_REFUSED audit event that a 403 records by design
//     (exactly one for a 403, none otherwise): every write that reaches the embedded DynamoDB
//     (store and Lake Formation ledger) is recorded at the client, and a scan of both tables at
//     the end checks that no change escaped the record;
//   - afterwards every audit chain still verifies, without a gap.
//
// Seeded, so a failure is reproducible: the report names the route, the seed and the input.
// MESHGATE_FUZZ_SEED and MESHGATE_FUZZ_RUNS (runs per route) change them; MESHGATE_FUZZ_STATS=1
// prints the answers by status, MESHGATE_FUZZ_TRACE=/v1/requests each exchange under that path.

import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { sign } from 'hono/jwt';
import { DEMO_USERS, newRequest, startPortal, type TestPortal } from '../support/portal';

const SEED = Number(process.env.MESHGATE_FUZZ_SEED ?? 20261121);
const RUNS_PER_ROUTE = Number(process.env.MESHGATE_FUZZ_RUNS ?? 15);

const clock = {
  t: new Date('2026-11-21T08:00:00Z'),
  now() {
    return this.t;
  },
};
let p: TestPortal;

// ------------------------------------------------------------------------------ what is written

interface Write {
  table: string;
  op: 'put' | 'update' | 'delete';
  key: string;
  item?: Record<string, unknown>;
}
interface WriteCall {
  target: string;
  writes: Write[];
}
/** Successful write calls to the embedded DynamoDB since the last `take()`. */
const recorder = {
  calls: [] as WriteCall[],
  touched: new Set<string>(),
  /** Calls that are neither a known read nor a known write (PartiQL, say): the record would miss them. */
  unknown: [] as string[],
  take(): WriteCall[] {
    return this.calls.splice(0);
  },
};

const keyOf = (table: string, k: Record<string, unknown>) =>
  `${table}|${String(k.pk)}|${String(k.sk)}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the wire JSON of DynamoDB calls, read field by field
type WireBody = Record<string, any>;

/** The items a DynamoDB write call changes, from its wire body. */
function writesOf(target: string, body: WireBody): Write[] {
  const put = (table: string, raw: Record<string, unknown>): Write => {
    const item = unmarshall(raw as never);
    return { table, op: 'put', key: keyOf(table, item), item };
  };
  const byKey = (table: string, raw: Record<string, unknown>, op: 'update' | 'delete'): Write => ({
    table,
    op,
    key: keyOf(table, unmarshall(raw as never)),
  });
  switch (target) {
    case 'PutItem':
      return [put(body.TableName, body.Item)];
    case 'UpdateItem':
      return [byKey(body.TableName, body.Key, 'update')];
    case 'DeleteItem':
      return [byKey(body.TableName, body.Key, 'delete')];
    case 'TransactWriteItems':
      return (body.TransactItems as WireBody[]).flatMap((t): Write[] => {
        if (t.Put) return [put(t.Put.TableName, t.Put.Item)];
        if (t.Update) return [byKey(t.Update.TableName, t.Update.Key, 'update')];
        if (t.Delete) return [byKey(t.Delete.TableName, t.Delete.Key, 'delete')];
        return []; // ConditionCheck
      });
    case 'BatchWriteItem':
      return Object.entries(body.RequestItems as Record<string, WireBody[]>).flatMap(
        ([table, reqs]) =>
          reqs.map((r) =>
            r.PutRequest
              ? put(table, r.PutRequest.Item)
              : byKey(table, r.DeleteRequest.Key, 'delete'),
          ),
      );
    default:
      return [];
  }
}

const WRITE_TARGETS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);
const READ_TARGETS = new Set([
  'GetItem',
  'BatchGetItem',
  'TransactGetItems',
  'Query',
  'Scan',
  'DescribeTable',
]);

/** Records every successful write call, at the wire, whoever makes it (store, ledger). */
function recordWrites(portal: TestPortal) {
  portal.client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as {
        headers?: Record<string, string>;
        body?: string | Uint8Array;
      };
      const target = (request.headers?.['x-amz-target'] ?? '').split('.')[1] ?? '';
      if (!WRITE_TARGETS.has(target) && !READ_TARGETS.has(target)) recorder.unknown.push(target);
      const out = await next(args);
      if (WRITE_TARGETS.has(target)) {
        const text =
          typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
        const writes = writesOf(target, JSON.parse(text || '{}'));
        recorder.calls.push({ target, writes });
        for (const w of writes) recorder.touched.add(w.key);
      }
      return out;
    },
    { step: 'build', name: 'fuzzWriteRecorder' },
  );
}

/**
 * A call that only records a refusal: the caller's refusal count for the action moved, or a new
 * window of it put with its ACCESS_REFUSED event (and the ACCESS_REFUSED_REPEATED count of the
 * window before) and its chain's head, nothing else.
 */
const isRefusalRecord = (call: WriteCall) =>
  (call.writes.length === 1 &&
    call.writes[0]!.op === 'update' &&
    /\|REFUSALS#/.test(call.writes[0]!.key)) ||
  (call.writes.some((w) => w.item?.kind === 'audit') &&
    call.writes.every(
      (w) =>
        w.op === 'put' &&
        ((w.item?.kind === 'audit' &&
          (w.item.type === 'ACCESS_REFUSED' || w.item.type === 'ACCESS_REFUSED_REPEATED')) ||
          w.item?.kind === 'chainhead' ||
          w.item?.kind === 'refusalcount'),
    ));

/** JSON with object keys sorted, at every level. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

/** Every item of both tables of the embedded store, by key. */
async function scanAll(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const table of ['meshgate', 'meshgate-lf-ledger']) {
    let start: Record<string, never> | undefined;
    do {
      const page = await p.client.send(
        new ScanCommand({ TableName: table, ExclusiveStartKey: start }),
      );
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw);
        out.set(keyOf(table, item), canonical(item));
      }
      start = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (start);
  }
  return out;
}

// ------------------------------------------------------------------------------------ routes

interface Route {
  method: string;
  /** OpenAPI path template, e.g. /v1/requests/{id}. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  hasBody: boolean;
}

async function routesFromOpenApi(): Promise<Route[]> {
  const res = await p.app.request('/openapi.json');
  expect(res.status).toBe(200);
  const doc = (await res.json()) as {
    paths: Record<
      string,
      Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>
    >;
  };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      pathParams: (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name),
      queryParams: (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name),
      hasBody: op.requestBody !== undefined,
    })),
  );
}

/** The routes the OpenAPI document does not list. */
const EXTRA_ROUTES: Route[] = [
  { method: 'POST', path: '/auth/dev-login', pathParams: [], queryParams: [], hasBody: true },
  { method: 'GET', path: '/health', pathParams: [], queryParams: [], hasBody: false },
  { method: 'GET', path: '/openapi.json', pathParams: [], queryParams: [], hasBody: false },
];

// ------------------------------------------------------------------------------- hostile input

const LONG = 'x'.repeat(2_001);
const HUGE = 'y'.repeat(70_000); // past the body limit

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d\ude00',
  '\u202eevil\u202c',
  'مرحبا بالعالم',
  '\ufeffbom',
  '\u200b',
  'e\u0301',
  '\r\n',
  "' OR 1=1 --",
  '1; DROP TABLE x',
  "region = 'EU' OR 1=1 --",
  "'a' || (SELECT secret FROM t)",
  '"; rm -rf /',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%2e%2e%2f',
  '..\\..\\windows',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '2026-02-30T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '-000001-01-01T00:00:00Z',
  '2026-11-21',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  'arn:aws:iam::555555555555:role/analyst',
  '123456789012',
  'sales/orders',
  'req_00000000000000000000000000',
  '*',
  'SELECT',
  'true',
  'null',
  LONG,
  HUGE,
];

const ROW_FILTERS = [
  "region = 'EMEA'",
  "region = 'EMEA' AND amount >= 100",
  "channel IN ('web', 'partner')",
  'amount BETWEEN 1 AND 10',
  "channel LIKE 'w%'",
  'cancelled_at IS NULL',
  '1=1; DROP TABLE x',
  "region = 'EU' OR 1=1 --",
  "'a' || (SELECT secret FROM t)",
  "region = 'a' /* */",
  'region = (SELECT 1)',
  "lower(region) = 'eu'",
  'amount > amount_eur',
  "amount = 'x'",
  "order_date > '2026-01-01'",
  "region = 'unclosed",
  "((region = 'a')",
  "region = 'a')",
  '\u0000',
  "region = '\ud800'",
  `${'('.repeat(500)}region = 'a'${')'.repeat(500)}`,
  Array.from({ length: 200 }, (_, i) => `amount = ${i}`).join(' OR '),
  "region = '" + 'z'.repeat(1990) + "'",
  ' ',
  '',
];

/** Short strings of awkward code units: halves of surrogate pairs, NUL, direction marks, a BOM. */
const oddUnicode = fc.string({
  unit: fc.constantFrom(
    'a',
    ' ',
    '\ud800',
    '\udbff',
    '\udc00',
    '\udfff',
    '\ud83d\ude00',
    '\u0000',
    '\u202e',
    '\u200f',
    '\ufeff',
    '\u200b',
    'e\u0301',
    '\n',
  ),
  minLength: 1,
  maxLength: 12,
});

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: oddUnicode },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 100_001) },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom(...HOSTILE_STRINGS.slice(0, 12)), { maxLength: 4 }),
  },
);

const MALFORMED_BODIES = [
  '',
  '{',
  '{"a":',
  '{"productId":"sales/orders",}',
  "{'a':1}",
  'null',
  'true',
  '1',
  '"str"',
  '[',
  '\ufeff{}',
  '{"a":1}{"b":2}',
  '{"a":NaN}',
  '{"a":undefined}',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  `${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}`,
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '\u0000',
  'not json at all',
  '{"x":"\\ud800"}',
  '{"user":"alice","user":"erin"}',
  `{"x":"${HUGE}"}`,
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  '*/*',
  'application/xml',
  '',
];

/** Path segments as they go into the URL (already percent-encoded where they are). */
const HOSTILE_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2e%2e%2f',
  '..%2f..%2fetc%2fpasswd',
  '..%2F..%2Fv1%2Faudit',
  '../../v1/audit',
  '../requests',
  '%2F',
  'a%2Fb',
  '%252e%252e%252f',
  '%00',
  '%ff',
  '%',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AF',
  '%u002e%u002e',
  ';jsessionid=1',
  'req_%30%30',
  '%E2%80%AE',
  '%EF%BB%BF',
  'x'.repeat(3_000),
  'REQ_01HX',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '*',
  '%2A',
  '%20',
  '+',
  '~',
  '$',
  'sales%2Forders',
  'a?b=c',
  '%3F',
  '%23',
];

const encodeSegment = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // an unpaired surrogate, as the bytes a client might still send
  }
};

const hostileSegment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map(encodeSegment) },
);

const b64 = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const DAY = '2026-11-21';
const FORGED_CURSORS = [
  b64({ p: `AUDITDAY#${DAY}`, k: 'x' }),
  b64({ p: `AUDITDAY#${DAY}`, k: { pk: 1 } }),
  b64({ p: `AUDITDAY#${DAY}`, k: [] }),
  b64({ p: `AUDITDAY#${DAY}`, k: null }),
  b64({ p: `AUDITDAY#${DAY}`, k: { pk: 'AUDIT#x', sk: 'EVENT#x' } }),
  b64({ p: 'AUDIT#sales', k: { gsi2pk: { S: 'x' } } }),
  b64({ p: 'AUDIT#sales', k: { pk: 'x', sk: 'y', gsi2pk: 'AUDIT#finance', gsi2sk: 'z' } }),
  b64({ p: `AUDITDAY#${DAY}`, k: { pk: 'x'.repeat(5_000) } }),
  b64({ p: 1 }),
  b64(null),
  b64('[]'),
  b64({ p: `AUDITDAY#${DAY}`, k: { pk: '\ud800', sk: '' } }),
  '!!!',
  'eyJ',
];

/** Values a query parameter might be given, by name (any name also gets hostile strings). */
const QUERY_VALUES: Record<string, string[]> = {
  limit: [
    '1',
    '100',
    '1000',
    '1001',
    '0',
    '-1',
    '1e309',
    'NaN',
    'Infinity',
    '99999999999999999999',
    '0x10',
    '1.5',
    '',
  ],
  from: [
    '2026-11-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2026-11-21',
    'yesterday',
    '2026-11-21T00:00:00+02:00',
  ],
  to: [
    '2026-11-22T00:00:00Z',
    '2020-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '2026-13-01T00:00:00Z',
  ],
  domain: ['sales', '*', 'finance', 'nowhere', 'SALES', '..%2F'],
  actor: ['bob', 'meshgate', 'Bob'],
  cursor: FORGED_CURSORS,
  format: ['csv', 'jsonl', 'json', 'xml', 'CSV'],
  mine: ['true', 'false', 'yes', '1'],
  status: ['PENDING', 'ACTIVE', 'pending', 'BOGUS'],
  classification: ['public', 'restricted', 'secret'],
  product: ['sales/orders', 'sales', '../x'],
  type: ['REQUEST_CREATED', 'ACCESS_REFUSED,REQUEST_CREATED', 'lower', ','],
  q: ['orders', '%', '_', "' OR 1=1 --"],
  tag: ['gold', ''],
};

/** A query string of declared parameters with values of the right form (which may still break a rule). */
const validQuery = (declared: string[]) =>
  declared.length === 0
    ? fc.constant('')
    : fc
        .subarray(declared)
        .chain((names) =>
          fc.tuple(
            ...names.map((n) =>
              fc
                .constantFrom(...(Object.hasOwn(QUERY_VALUES, n) ? QUERY_VALUES[n]! : ['1']))
                .map((v) => `${n}=${encodeURIComponent(v)}`),
            ),
          ),
        )
        .map((pairs) => (pairs.length > 0 ? `?${pairs.join('&')}` : ''));

/** Repeated keys, arrays, unknown and prototype names, raw and broken percent-escapes. */
const hostileQuery = (declared: string[]) => {
  const name = fc.oneof(
    { weight: 4, arbitrary: declared.length > 0 ? fc.constantFrom(...declared) : fc.constant('x') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'limit[]',
        '__proto__',
        'constructor',
        'a[b]',
        '',
        '%00',
        'x'.repeat(500),
        'domain[0]',
        'cursor',
      ),
    },
  );
  const pair = name.chain((n) =>
    fc
      .oneof(
        {
          weight: 3,
          arbitrary: fc
            .constantFrom(...(Object.hasOwn(QUERY_VALUES, n) ? QUERY_VALUES[n]! : ['1']))
            .map(encodeURIComponent),
        },
        { weight: 2, arbitrary: hostileString.map(encodeSegment) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            '%',
            '%ZZ',
            '&&&',
            '==',
            'a[]=1',
            '%00',
            '+',
            '%2B1',
            '2026-11-21T00:00:00+02:00',
          ),
        },
      )
      .map((v) => `${encodeSegment(n)}=${v}`),
  );
  return fc.array(pair, { minLength: 1, maxLength: 6 }).map((pairs) => `?${pairs.join('&')}`);
};

// ------------------------------------------------------------------------------------ bodies

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Body = { kind: 'json'; value: unknown } | { kind: 'text'; text: string } | { kind: 'none' };

/** A valid body for each route that takes one; mutations start from it, so they reach deep. */
function templateFor(route: Route): Record<string, Json> {
  const scope = {
    permissions: ['SELECT'],
    columns: { mode: 'exclude', columns: ['cancelled_at'] },
    rowFilter: "region = 'EMEA'",
  };
  const byRoute: Record<string, Record<string, Json>> = {
    'POST /auth/dev-login': { user: 'alice' },
    'POST /v1/domains': {
      id: 'fuzzland',
      name: 'Fuzz',
      accountId: '999999999999',
      region: 'eu-west-1',
      description: 'made by the fuzz test',
    },
    'POST /v1/memberships': { user: 'henry', domain: 'sales', role: 'steward' },
    'POST /v1/requests': newRequest('sales/orders', { scope }) as Record<string, Json>,
    'POST /v1/requests/preview': {
      productId: 'sales/orders',
      scope,
      duration: { value: 7, unit: 'days' },
    },
    'POST /v1/requests/{id}/approve': {
      comment: 'ok',
      narrowedScope: {
        ...scope,
        columns: { mode: 'exclude', columns: ['cancelled_at', 'channel'] },
        rowFilter: "region = 'EMEA' AND currency = 'EUR'",
      },
      narrowedDuration: { value: 1, unit: 'days' },
    },
    'POST /v1/requests/{id}/deny': { reason: 'no' },
    'POST /v1/grants/{id}/revoke': { reason: 'done' },
    'POST /v1/grants/{id}/extend': { duration: { value: 3, unit: 'days' }, purpose: 'longer' },
    'POST /v1/policy/explain': { action: 'request', productId: 'sales/orders', user: 'alice' },
  };
  const key = `${route.method} ${route.path}`;
  return Object.hasOwn(byRoute, key) ? byRoute[key]! : { anything: 'at all' };
}

/** Values that are valid in form but may break a rule, by field name: they reach the use cases. */
const FIELD_VALUES: Record<string, unknown[]> = {
  value: [0, 1, 90, 91, 2160, 2161, 100_000, 100_001, -1, 1.5],
  unit: ['hours', 'days', 'weeks', 'DAYS'],
  productId: [
    'sales/orders',
    'sales/leads',
    'hr/payroll',
    'hr/employees',
    'finance/fx_rates',
    'marketing/web_traffic',
    'sales/nope',
    'nowhere/orders',
  ],
  principal: [
    '123456789012',
    'arn:aws:iam::555555555555:role/analyst',
    'arn:aws-cn:iam::555555555555:role/a/b/c',
    'arn:aws:iam::555555555555:role/*',
  ],
  permissions: [
    ['SELECT'],
    ['DESCRIBE'],
    ['SELECT', 'DESCRIBE'],
    [],
    ['SELECT', 'SELECT'],
    ['ALL'],
  ],
  mode: ['all', 'include', 'exclude', 'none'],
  'columns.columns': [
    ['order_id'],
    ['region', 'amount'],
    ['ssn'],
    [
      'order_id',
      'customer_id',
      'order_date',
      'region',
      'currency',
      'amount',
      'amount_eur',
      'channel',
      'cancelled_at',
    ],
    [],
    ['region', 'region'],
  ],
  rowFilter: ROW_FILTERS,
  // Not alice, bob, dave or erin: the fixtures and the final checks need their roles as seeded.
  user: ['henry', 'grace', 'sam', 'nobody'],
  domain: ['sales', 'finance', '*', 'nowhere', 'hr'],
  role: ['owner', 'steward', 'admin', 'compliance', 'auditor', 'root'],
  action: ['request', 'approve:owner', 'read', 'audit:read', 'members:manage', '*', 'nothing'],
  object: ['*', 'sales/orders', 'class:restricted'],
  asRequester: [true, false],
  id: ['sales', 'fuzzland', 'nowhere', 'a'.repeat(64), 'constructor', 'tostring', 'prototype'],
  accountId: ['123456789012', '000000000000', '1234'],
  region: ['eu-west-1', 'us-gov-west-1', 'mars-north-1'],
};

/** Every path into a JSON value (objects' keys and arrays' indexes). */
function pathsOf(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [
    prefix,
    ...keys.flatMap((k) => pathsOf((v as Record<string | number, Json>)[k]!, [...prefix, k])),
  ];
}

function withValueAt(
  root: Json,
  path: (string | number)[],
  value: unknown,
  remove = false,
): unknown {
  if (path.length === 0) return remove ? undefined : value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

/**
 * Bodies of the right form (the template, a field given another value of the right form, another
 * row filter, valid or not): they reach the use cases. `hostile`: anything else.
 */
function bodyFor(route: Route, hostile: boolean): fc.Arbitrary<Body> {
  const template = templateFor(route);
  const paths = pathsOf(template);
  const json = (a: fc.Arbitrary<unknown>) => a.map((value): Body => ({ kind: 'json', value }));
  if (hostile) {
    return fc.oneof(
      {
        weight: 4,
        arbitrary: json(
          fc
            .tuple(fc.constantFrom(...paths), hostileValue)
            .map(([at, v]) => withValueAt(template, at, v)),
        ),
      },
      {
        weight: 1,
        arbitrary: json(
          fc.constantFrom(...paths).map((at) => withValueAt(template, at, undefined, true)),
        ),
      },
      {
        weight: 1,
        arbitrary: json(
          fc
            .tuple(fc.constantFrom('__proto__', 'constructor', 'extra', '', 'scope'), hostileValue)
            .map(([k, v]) => ({ ...template, [k]: v })),
        ),
      },
      { weight: 1, arbitrary: json(fc.jsonValue({ maxDepth: 3 })) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(...MALFORMED_BODIES)
          .map((text): Body => ({ kind: 'text', text })),
      },
      { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    );
  }
  const options: fc.WeightedArbitrary<Body>[] = [
    { weight: 1, arbitrary: json(fc.constant(template)) },
  ];
  // A field is known by its name, or by its parent's and its own (`columns.columns`).
  const fieldOf = (at: (string | number)[]) =>
    [at.slice(-2).join('.'), String(at[at.length - 1])].find((k) => Object.hasOwn(FIELD_VALUES, k));
  const semantic = paths.filter((x) => x.length > 0 && fieldOf(x) !== undefined);
  if (semantic.length > 0) {
    const valueAt = (at: (string | number)[]) =>
      fc.constantFrom(...FIELD_VALUES[fieldOf(at)!]!).map((v) => withValueAt(template, at, v));
    options.push({ weight: 4, arbitrary: json(fc.constantFrom(...semantic).chain(valueAt)) });
  }
  const filterPaths = paths.filter((x) => x[x.length - 1] === 'rowFilter');
  if (filterPaths.length > 0) {
    const filter = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...ROW_FILTERS) },
      { weight: 1, arbitrary: hostileString },
    );
    options.push({
      weight: 3,
      arbitrary: json(
        fc
          .tuple(fc.constantFrom(...filterPaths), filter)
          .map(([at, rf]) => withValueAt(template, at, rf)),
      ),
    });
  }
  return fc.oneof(...options);
}

// -------------------------------------------------------------------------------------- auth

type Auth =
  { kind: 'user'; user: string } | { kind: 'header'; label: string; value: string | undefined };
let badAuth: { label: string; value: string | undefined }[] = [];

async function forgedTokens(expired: string) {
  const now = Math.floor(clock.now().getTime() / 1000);
  const claims = { sub: 'erin', name: 'Erin', until: now + 3_600, iss: 'meshgate-local' };
  const valid = await p.token('alice');
  const [h, payload, sig] = valid.split('.') as [string, string, string];
  const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return [
    { label: 'no header', value: undefined },
    { label: 'empty', value: '' },
    { label: 'bare Bearer', value: 'Bearer' },
    { label: 'Bearer and a blank', value: 'Bearer ' },
    { label: 'Basic credentials', value: 'Basic ZXJpbjplcmlu' },
    { label: 'garbage token', value: 'Bearer not.a.token' },
    { label: 'two parts', value: `Bearer ${h}.${payload}` },
    { label: 'lower-case scheme', value: `bearer ${valid}` },
    { label: 'token twice', value: `Bearer ${valid} ${valid}` },
    {
      label: 'bad signature',
      value: `Bearer ${h}.${payload}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`,
    },
    {
      label: "another user's claims under alice's signature",
      value: `Bearer ${h}.${b64json(claims)}.${sig}`,
    },
    {
      label: 'signed with the wrong secret',
      value: `Bearer ${await sign(claims, 'not-the-portal-secret', 'HS256')}`,
    },
    {
      label: 'HS512 with the wrong secret',
      value: `Bearer ${await sign(claims, 'not-the-portal-secret', 'HS512')}`,
    },
    {
      label: 'alg none, no signature',
      value: `Bearer ${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims)}.`,
    },
    {
      label: 'alg none, any signature',
      value: `Bearer ${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims)}.x`,
    },
    {
      label: 'RS256 header on an HMAC token',
      value: `Bearer ${b64json({ alg: 'RS256', typ: 'JWT' })}.${payload}.${sig}`,
    },
    { label: 'expired', value: `Bearer ${expired}` },
    { label: 'huge token', value: `Bearer ${'a'.repeat(20_000)}.b.c` },
    { label: 'unicode token', value: 'Bearer ÿÿ.ÿÿ.ÿÿ' },
  ];
}

const validAuth = (): fc.Arbitrary<Auth> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .constantFrom('erin', 'dave', 'alice', 'bob', 'sam')
        .map((user): Auth => ({ kind: 'user', user })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          ...DEMO_USERS.filter((u) => !['erin', 'dave', 'alice', 'bob', 'sam'].includes(u)),
        )
        .map((user): Auth => ({ kind: 'user', user })),
    },
  );
const hostileAuth = (): fc.Arbitrary<Auth> =>
  fc.constantFrom(...badAuth).map((b): Auth => ({ kind: 'header', ...b }));
const authArb = (): fc.Arbitrary<Auth> =>
  fc.oneof({ weight: 4, arbitrary: validAuth() }, { weight: 1, arbitrary: hostileAuth() });

// --------------------------------------------------------------------------------- exchanges

interface FuzzRequest {
  method: string;
  url: string;
  auth: Auth;
  contentType?: string;
  body: Body;
}

const describeRequest = (r: FuzzRequest) => {
  const body =
    r.body.kind === 'none'
      ? '(no body)'
      : r.body.kind === 'text'
        ? JSON.stringify(r.body.text)
        : (JSON.stringify(r.body.value) ?? '(undefined: no body)');
  const who = r.auth.kind === 'user' ? `as ${r.auth.user}` : `with ${r.auth.label}`;
  const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s);
  return `${r.method} ${short(r.url)} ${who}, content-type ${JSON.stringify(r.contentType)}, body ${short(body)}`;
};

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The path of the first string (or key) in `v` holding half of a surrogate pair, if any. */
function illFormedAt(v: unknown, path = '$'): string | undefined {
  if (typeof v === 'string') return LONE_SURROGATE.test(v) ? path : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (LONE_SURROGATE.test(k)) return `${path} (a key)`;
    const bad = illFormedAt(x, `${path}.${k}`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** What a stack trace line looks like: "at fn (/path/file.ts:12:3)", node internals. */
const STACK_TRACE = /\bat\s[^\n"]*?\S+\.(?:[cm]?js|tsx?):\d+|node:internal|node_modules\//;

const stats = { requests: 0, byStatus: new Map<number, number>() };

/** Sends one request, waits for the worker, and checks every property of the answer. */
async function exchange(r: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (r.auth.kind === 'user') headers.authorization = `Bearer ${await p.token(r.auth.user)}`;
  else if (r.auth.value !== undefined) headers.authorization = r.auth.value;
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  const body =
    r.method === 'GET' || r.method === 'HEAD' || r.body.kind === 'none'
      ? undefined
      : r.body.kind === 'text'
        ? r.body.text
        : JSON.stringify(r.body.value);

  r = { ...r, url: await resolveFresh(r.url) };
  await p.queue.onIdle();
  recorder.take();
  const res = await p.app.request(r.url, { method: r.method, headers, body });
  const text = await res.text();
  await p.queue.onIdle();
  const calls = recorder.take();
  stats.requests++;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);

  const what = `${describeRequest(r)}\n  -> ${res.status} ${text.slice(0, 500)}`;
  if (recorder.unknown.length > 0)
    throw new Error(
      `DynamoDB calls the fuzz test cannot account for (${recorder.unknown.join(', ')}): ${what}`,
    );
  if (process.env.MESHGATE_FUZZ_TRACE && r.url.startsWith(process.env.MESHGATE_FUZZ_TRACE))
    console.info(what.slice(0, 600));
  if (res.status >= 500) throw new Error(`a 5xx: ${what}`);
  const isJson = /^application\/json/.test(res.headers.get('content-type') ?? '');
  if (isJson && r.method !== 'HEAD') {
    try {
      JSON.parse(text);
    } catch {
      throw new Error(`a body said to be JSON that does not parse: ${what}`);
    }
  }
  if (res.status >= 400 && r.method !== 'HEAD') {
    if (!isJson) throw new Error(`an error that is not JSON: ${what}`);
    let parsed: { error?: { code?: unknown; message?: unknown } };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`an error body that does not parse: ${what}`);
    }
    if (
      typeof parsed.error?.code !== 'string' ||
      parsed.error.code === '' ||
      typeof parsed.error.message !== 'string' ||
      parsed.error.message === ''
    ) {
      throw new Error(`an error without code and message: ${what}`);
    }
    if (STACK_TRACE.test(text)) throw new Error(`a stack trace in an error: ${what}`);
  }
  // DynamoDB keeps strings as UTF-8, in which half of a surrogate pair has no encoding: whatever
  // is written must be well-formed, or it would not read back as written (nor hash the same).
  for (const w of calls.flatMap((c) => c.writes)) {
    const bad = illFormedAt(w.item);
    if (bad !== undefined)
      throw new Error(
        `a string that is not well-formed Unicode was written (${w.key}, at ${bad}): ${what}`,
      );
  }
  if (res.status >= 400 && res.status < 500) {
    const others = calls.filter((c) => !isRefusalRecord(c));
    if (others.length > 0)
      throw new Error(
        `a ${res.status} that wrote ${JSON.stringify(others.map((c) => [c.target, c.writes.map((w) => `${w.op} ${w.key}`)]))}: ${what}`,
      );
    const refusals = calls.length;
    const expected = res.status === 403 ? 1 : 0;
    if (refusals !== expected)
      throw new Error(
        `a ${res.status} that recorded ${refusals} refusal(s), not ${expected}: ${what}`,
      );
  }
  const signedOut =
    r.auth.kind === 'header' && new URL(r.url, 'http://localhost').pathname.startsWith('/v1/');
  // Without a valid token nothing gets past sign-in: 401, or 413 for a body over the limit (checked first).
  if (signedOut && res.status !== 401 && res.status !== 413)
    throw new Error(`a forged, expired or missing token was not refused with 401: ${what}`);
  return { status: res.status, text };
}

// ------------------------------------------------------------------------------------- tests

interface Fixtures {
  pendingId: string;
  activeId: string;
  grantId: string;
  financeId: string;
}
let fx: Fixtures;

/**
 * Placeholders for fixtures made just before the request that uses them (outside what the
 * request is checked for), so that approving, denying, cancelling, revoking and extending keep
 * meeting requests and grants in the state they act on, however many runs used the first ones.
 */
const FRESH = {
  pending: '@fresh-pending',
  hrPending: '@fresh-hr-pending',
  grant: '@fresh-grant',
  grantRequest: '@fresh-grant-request',
} as const;

async function createRequest(user: string, productId: string) {
  const r = await p.call(user, 'POST', '/v1/requests', newRequest(productId));
  if (r.status !== 201)
    throw new Error(
      `fixture: ${user} could not ask for ${productId}: ${r.status} ${JSON.stringify(r.body)}`,
    );
  return r.body.id as string;
}
async function createGrant() {
  const id = await createRequest('alice', 'sales/orders');
  const ok = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'fixture' });
  if (ok.status !== 200) throw new Error(`fixture: approval refused: ${ok.status}`);
  await p.queue.onIdle();
  const grantId = (await p.call('erin', 'GET', `/v1/requests/${id}`)).body.grantId as string;
  return { id, grantId };
}

/** Makes the fixtures a URL names, and puts their ids in it. */
async function resolveFresh(url: string): Promise<string> {
  let out = url;
  if (out.includes(FRESH.pending))
    out = out.replaceAll(FRESH.pending, await createRequest('alice', 'sales/orders'));
  if (out.includes(FRESH.hrPending))
    out = out.replaceAll(FRESH.hrPending, await createRequest('alice', 'hr/employees'));
  if (out.includes(FRESH.grant) || out.includes(FRESH.grantRequest)) {
    const g = await createGrant();
    out = out.replaceAll(FRESH.grantRequest, g.id).replaceAll(FRESH.grant, g.grantId);
  }
  return out;
}
let routes: Route[];
let before: Map<string, string>;

/** Known-good values for path parameters, by name (and for ids, by what the route is about). */
function knownValues(route: Route, param: string): string[] {
  if (param === 'id' && route.path.startsWith('/v1/domains'))
    return ['sales', 'finance', 'nowhere', 'hr', 'constructor', 'valueof'];
  if (param === 'id' && route.path.startsWith('/v1/grants'))
    return [FRESH.grant, FRESH.grant, fx.grantId, 'grt_00000000000000000000000000', fx.activeId];
  if (param === 'id')
    return [
      FRESH.pending,
      FRESH.pending,
      FRESH.hrPending,
      FRESH.grantRequest,
      fx.pendingId,
      fx.activeId,
      fx.financeId,
      'req_00000000000000000000000000',
      fx.grantId,
    ];
  // dave keeps his auditor role: the chains are verified as him at the end.
  const byName: Record<string, string[]> = {
    domain: ['sales', '*', 'finance', 'nowhere', 'constructor'],
    user: ['henry', 'sam', 'erin', 'nobody', 'hasownproperty'],
    role: ['steward', 'owner', 'admin', 'pilot'],
    name: ['orders', 'employees', 'nope'],
  };
  return Object.hasOwn(byName, param) ? byName[param]! : ['x'];
}

const DIMENSIONS = ['method', 'path', 'query', 'auth', 'contentType', 'body'] as const;

/**
 * A request to `route` in which a few dimensions (none, one or two) are hostile and the others are
 * of the right form: a request hostile everywhere would be stopped at the first check, and the
 * later ones never reached.
 */
function requestFor(route: Route): fc.Arbitrary<FuzzRequest> {
  return fc.subarray([...DIMENSIONS], { maxLength: 2 }).chain((hostile) => {
    const bad = (d: (typeof DIMENSIONS)[number]) => hostile.includes(d);
    const segments = fc.tuple(
      ...route.pathParams.map((name) =>
        bad('path')
          ? fc.oneof(hostileSegment, fc.constantFrom(...knownValues(route, name)))
          : fc.constantFrom(...knownValues(route, name)),
      ),
    );
    const body =
      route.hasBody || bad('body')
        ? bodyFor(route, bad('body'))
        : fc.constant<Body>({ kind: 'none' });
    // A GET may come as HEAD; any route may be called with a method it does not have.
    const method = bad('method')
      ? fc.constantFrom(
          ...(route.method === 'GET' ? ['HEAD', 'HEAD'] : []),
          'PUT',
          'PATCH',
          'OPTIONS',
          'DELETE',
          'POST',
          'GET',
        )
      : fc.constant(route.method);
    return fc
      .record({
        method,
        values: route.pathParams.length > 0 ? segments : fc.constant([] as string[]),
        query: bad('query') ? hostileQuery(route.queryParams) : validQuery(route.queryParams),
        auth: bad('auth') ? hostileAuth() : validAuth(),
        contentType: bad('contentType')
          ? fc.constantFrom<string | undefined>(
              ...CONTENT_TYPES.filter((t) => t !== 'application/json'),
              undefined,
            )
          : fc.constant('application/json'),
        body,
      })
      .map(({ method: m, values, query, auth, contentType, body: b }) => {
        let path = route.path;
        route.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, values[i]!)));
        return {
          method: m,
          url: `${path}${query}`,
          auth,
          contentType: b.kind === 'none' && !bad('contentType') ? undefined : contentType,
          body: b,
        };
      });
  });
}

const unknownRoute: () => fc.Arbitrary<FuzzRequest> = () =>
  fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(
          '/',
          '/v2/requests',
          '/admin',
          '/.env',
          '/v1',
          '/v1/',
          '/v1/requests/x/y/z',
          '/v1/requests/',
          '//v1//requests',
          '/V1/REQUESTS',
          '/health/',
          '/auth/dev-login/x',
          '/openapi.json/..',
          '/v1/%2e%2e/%2e%2e/health',
          '/%2e%2e/%2e%2e/etc/passwd',
          '/v1/audit/../../auth/dev-login',
          '/v1/requests%2Fpreview',
          '/v1/products/sales/orders/columns',
          '/v1/memberships',
          '/v1/grants/x',
          '/v1/approvals/x',
          '/auth',
          '/auth/dev-login%00',
        ),
        fc
          .array(fc.string({ maxLength: 12 }).map(encodeSegment), { minLength: 1, maxLength: 4 })
          .map((s) => `/v1/${s.join('/')}`),
        fc
          .array(fc.constantFrom(...HOSTILE_SEGMENTS), { minLength: 1, maxLength: 3 })
          .map((s) => `/${s.join('/')}`),
      ),
      auth: authArb(),
      body: fc.oneof(
        fc.constant<Body>({ kind: 'none' }),
        fc.constantFrom(...MALFORMED_BODIES).map((text): Body => ({ kind: 'text', text })),
      ),
    })
    .map(({ method, path, auth, body }) => ({
      method,
      url: path,
      auth,
      contentType: body.kind === 'none' ? undefined : 'application/json',
      body,
    }));

/** Runs a property; a failure names the seed, the counterexample and how to run it again. */
async function check(label: string, arb: fc.Arbitrary<FuzzRequest>, seed: number, numRuns: number) {
  const details = await fc.check(
    fc.asyncProperty(arb, async (r) => void (await exchange(r))),
    { seed, numRuns, endOnFailure: true },
  );
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error
        ? details.errorInstance.message
        : String(details.errorInstance);
    throw new Error(
      `${label}: failed after ${details.numRuns} run(s), seed ${details.seed}, path ${details.counterexamplePath}.\n` +
        `${cause}\nRun again with MESHGATE_FUZZ_SEED=${SEED} (the whole file is one deterministic sequence).`,
    );
  }
}

beforeAll(async () => {
  p = await startPortal({ clock });
  // A token that will have expired: issued now, the clock then moves past its 12 hours.
  const expired = await p.token('erin');
  clock.t = new Date('2026-11-21T21:00:00Z');
  p.resetTokens();

  const create = async (user: string, productId: string) => {
    const r = await p.call(user, 'POST', '/v1/requests', newRequest(productId));
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const pendingId = await create('alice', 'sales/orders');
  const activeId = await create('alice', 'sales/orders');
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${activeId}/approve`, { comment: 'fixture' }))
      .status,
  ).toBe(200);
  const financeId = await create('fiona', 'finance/invoices');
  await p.queue.onIdle();
  const grantId = (await p.call('erin', 'GET', `/v1/requests/${activeId}`)).body.grantId as string;
  expect(grantId).toMatch(/^grt_/);
  fx = { pendingId, activeId, grantId, financeId };
  badAuth = await forgedTokens(expired);
  for (const u of DEMO_USERS) await p.token(u);

  recordWrites(p);
  routes = await routesFromOpenApi();
  before = await scanAll();
}, 60_000);
afterAll(() => p?.close());

test('the routes come from /openapi.json and include every request route', () => {
  const keys = routes.map((r) => `${r.method} ${r.path}`);
  expect(keys).toEqual(
    expect.arrayContaining([
      'POST /v1/requests',
      'POST /v1/requests/{id}/approve',
      'GET /v1/audit/export',
      'DELETE /v1/memberships/{domain}/{user}/{role}',
    ]),
  );
  expect(routes.length).toBeGreaterThanOrEqual(27);
});

test('every route, with random and hostile input: never a 5xx, errors are JSON, a 4xx changes nothing', async () => {
  const all = [...routes, ...EXTRA_ROUTES];
  for (const [i, route] of all.entries()) {
    await check(`${route.method} ${route.path}`, requestFor(route), SEED + i, RUNS_PER_ROUTE);
  }
  await check('paths that are no route', unknownRoute(), SEED - 1, RUNS_PER_ROUTE * 3);
}, 240_000);

test('every /v1 route refuses every forged, expired or missing token with 401 and writes nothing', async () => {
  for (const route of routes) {
    const url = route.pathParams.reduce(
      (path, name) =>
        path.replace(
          `{${name}}`,
          knownValues(route, name).find((v) => !v.startsWith('@'))!,
        ),
      route.path,
    );
    for (const bad of badAuth) {
      const { status } = await exchange({
        method: route.method,
        url,
        auth: { kind: 'header', ...bad },
        contentType: 'application/json',
        body: route.hasBody ? { kind: 'json', value: templateFor(route) } : { kind: 'none' },
      });
      expect([`${route.method} ${route.path} with ${bad.label}`, status]).toEqual([
        `${route.method} ${route.path} with ${bad.label}`,
        401,
      ]);
    }
  }
}, 120_000);

describe('what the fuzzing found, pinned', () => {
  const asDave = (url: string): FuzzRequest => ({
    method: 'GET',
    url,
    auth: { kind: 'user', user: 'dave' },
    body: { kind: 'none' },
  });

  test.each([
    ['null', null],
    ['0', 0],
    ['an empty string', ''],
    ['false', false],
  ])('an audit cursor whose key is %s is a 400 BAD_CURSOR (it was a 500)', async (_label, k) => {
    for (const [p, domain] of [
      [`AUDITDAY#${DAY}`, ''],
      ['AUDIT#sales', '&domain=sales'],
    ]) {
      const { status, text } = await exchange(
        asDave(`/v1/audit?to=2026-11-22T00%3A00%3A00Z&cursor=${b64({ p, k })}${domain}`),
      );
      expect([status, JSON.parse(text).error.code]).toEqual([400, 'BAD_CURSOR']);
    }
  });

  test.each([
    [
      'POST /v1/requests',
      'purpose',
      (v: string) => ({
        url: '/v1/requests',
        user: 'alice',
        body: newRequest('sales/orders', { purpose: v }),
      }),
    ],
    [
      'POST /v1/domains',
      'name',
      (v: string) => ({
        url: '/v1/domains',
        user: 'erin',
        body: { id: 'surrogates', name: v, accountId: '123456789012', region: 'eu-west-1' },
      }),
    ],
    [
      'POST /v1/requests/{id}/approve',
      'comment',
      (v: string) => ({
        url: `/v1/requests/${FRESH.pending}/approve`,
        user: 'bob',
        body: { comment: v },
      }),
    ],
    [
      'POST /v1/requests/{id}/deny',
      'reason',
      (v: string) => ({
        url: `/v1/requests/${FRESH.pending}/deny`,
        user: 'bob',
        body: { reason: v },
      }),
    ],
    [
      'POST /v1/grants/{id}/extend',
      'purpose',
      (v: string) => ({
        url: `/v1/grants/${FRESH.grant}/extend`,
        user: 'alice',
        body: { duration: { value: 1, unit: 'days' }, purpose: v },
      }),
    ],
  ])(
    '%s: half of a surrogate pair in %s is a 400, and nothing is stored (it was stored)',
    async (_route, field, make) => {
      for (const v of ['\ud800', 'a\udfffb', 'ends with \ud83d', '\ude00 starts']) {
        const { url, user, body } = make(v);
        const { status, text } = await exchange({
          method: 'POST',
          url,
          auth: { kind: 'user', user },
          contentType: 'application/json',
          body: { kind: 'json', value: body },
        });
        expect([status, JSON.parse(text).error]).toEqual([
          400,
          expect.objectContaining({
            code: 'VALIDATION_FAILED',
            message: `${field}: must be well-formed Unicode text (it holds half of a surrogate pair)`,
          }),
        ]);
      }
      // A whole pair is text like any other.
      const { url, user, body } = make('ok \ud83d\ude00');
      expect(
        (
          await exchange({
            method: 'POST',
            url,
            auth: { kind: 'user', user },
            contentType: 'application/json',
            body: { kind: 'json', value: body },
          })
        ).status,
      ).toBeLessThan(300);
    },
  );
});

afterAll(() => {
  if (process.env.MESHGATE_FUZZ_STATS)
    console.info(
      `fuzz: ${stats.requests} requests, by status ${JSON.stringify(Object.fromEntries([...stats.byStatus].sort()))}`,
    );
});

test('afterwards: no change escaped the record, nothing was polluted, and every audit chain verifies without a gap', async () => {
  expect(stats.requests).toBeGreaterThan(routes.length * RUNS_PER_ROUTE);
  // Every item that differs from the scan before the fuzzing was written by a recorded call.
  const after = await scanAll();
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (k) => before.get(k) !== after.get(k),
  );
  expect(changed.length).toBeGreaterThan(0); // refusals at least
  expect(changed.filter((k) => !recorder.touched.has(k))).toEqual([]);

  expect(({} as Record<string, unknown>).polluted).toBeUndefined();

  const heads = [...after.entries()]
    .filter(([k]) => k.startsWith('meshgate|CHAIN#') && k.endsWith('|HEAD'))
    .map(([, v]) => JSON.parse(v) as { chain: string; seq: number });
  expect(heads.map((h) => h.chain)).toEqual(expect.arrayContaining(['*', 'sales']));
  const all = await p.call('dave', 'GET', '/v1/audit/verify');
  expect(all.status).toBe(200);
  expect(all.body.ok).toBe(true);
  for (const head of heads) {
    const res = await p.call(
      'dave',
      'GET',
      `/v1/audit/verify?domain=${encodeURIComponent(head.chain)}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.chains).toEqual([
      expect.objectContaining({
        chain: head.chain,
        ok: true,
        count: head.seq,
        head: expect.objectContaining({ seq: head.seq }),
      }),
    ]);
  }
  // Each 403 is in the trail (the first of its window) or counted (in an ACCESS_REFUSED_REPEATED
  // event, or in the count of a window still open).
  const items = [...after.values()].map((v) => JSON.parse(v) as Record<string, unknown>);
  const refused =
    items.filter((i) => i.kind === 'audit' && i.type === 'ACCESS_REFUSED').length +
    items
      .filter((i) => i.kind === 'audit' && i.type === 'ACCESS_REFUSED_REPEATED')
      .reduce((n, i) => n + (JSON.parse(i.detailJson as string) as { count: number }).count, 0) +
    items
      .filter((i) => i.kind === 'refusalcount')
      .reduce((n, i) => n + (i.count as number) - (i.recorded as number), 0);
  expect(refused).toBe(stats.byStatus.get(403) ?? 0);
});
