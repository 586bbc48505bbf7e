import fc from 'fast-check';
import { MeshgateError } from '../../functions/domain/errors';
import type { Column } from '../../functions/domain/model';
import {
  conjuncts,
  parseRowFilter,
  ROW_FILTER_INVALID,
  ROW_FILTER_LIMITS,
  serialiseRowFilter,
  type Literal,
  type RowFilterExpr,
} from '../../functions/domain/row-filter';

// A product with a column of every kind a filter may or may not use.
const col = (name: string, type: string): Column => ({ name, type, pii: false });
const COLUMNS: Column[] = [
  col('region', 'string'),
  col('channel', 'varchar(16)'),
  col('code', 'char(2)'),
  col('amount', 'decimal(12,2)'),
  col('ratio', 'double'),
  col('score', 'float'),
  col('qty', 'int'),
  col('views', 'bigint'),
  col('approved', 'boolean'),
  col('Country', 'string'),
  col('order', 'string'),
  col('like', 'string'),
  col('order_date', 'date'),
  col('cancelled_at', 'timestamp'),
  col('tags', 'array<string>'),
  col('attrs', 'map<string,string>'),
  col('customer', 'struct<id:bigint,name:string>'),
  col('blob', 'binary'),
  col('untyped', ''),
];
const FILTERABLE = [
  'region',
  'channel',
  'code',
  'amount',
  'ratio',
  'score',
  'qty',
  'views',
  'approved',
  'Country',
  'order',
  'like',
];

const canonical = (text: string) => parseRowFilter(text, COLUMNS).canonical;

/** The refusal `text` meets: a 400 ROW_FILTER_INVALID, with its position in the details. */
function refusal(text: string, columns: Column[] = COLUMNS): MeshgateError {
  let thrown: unknown;
  try {
    parseRowFilter(text, columns);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(MeshgateError);
  const err = thrown as MeshgateError;
  expect({ kind: err.kind, code: err.code }).toEqual({
    kind: 'validation',
    code: ROW_FILTER_INVALID,
  });
  expect(err.message).toMatch(/^Invalid row filter( at position \d+)?: .+\.$/);
  return err;
}

const positionOf = (err: MeshgateError) => err.details?.position;

// ------------------------------------------------------------------------------ accepted forms

describe('accepted forms and their canonical text', () => {
  test.each([
    // comparisons, each operator
    ["region = 'EU'", `"region" = 'EU'`],
    ["region <> 'EU'", `"region" <> 'EU'`],
    ["region != 'EU'", `"region" <> 'EU'`],
    ['amount < 10', `"amount" < 10`],
    ['amount <= 10.5', `"amount" <= 10.5`],
    ['amount > -3', `"amount" > -3`],
    ['amount >= 0.25', `"amount" >= 0.25`],
    ['qty = 42', `"qty" = 42`],
    ['views > 9000000000', `"views" > 9000000000`],
    ['ratio < 1', `"ratio" < 1`],
    ['score >= 0.5', `"score" >= 0.5`],
    ['approved = TRUE', `"approved" = TRUE`],
    ['approved <> false', `"approved" <> FALSE`],
    ["channel = 'web'", `"channel" = 'web'`],
    ["code = 'FR'", `"code" = 'FR'`],
    // strings: '' is a quote; anything printable, in any script, stays as it is
    ["region = 'it''s'", `"region" = 'it''s'`],
    ["region = ''", `"region" = ''`],
    ["region = 'Zürich 東京 مرحبا 🙂'", `"region" = 'Zürich 東京 مرحبا 🙂'`],
    ["region = '; DROP TABLE x; --'", `"region" = '; DROP TABLE x; --'`],
    ["region = '\" OR 1=1'", `"region" = '" OR 1=1'`],
    ["region = 'a\\'", `"region" = 'a\\'`],
    // IN, BETWEEN, LIKE, IS NULL, and their negations
    ["region IN ('EU', 'NA')", `"region" IN ('EU', 'NA')`],
    ["region in('EU')", `"region" IN ('EU')`],
    ["region NOT IN ('EU','NA')", `"region" NOT IN ('EU', 'NA')`],
    ['qty BETWEEN 1 AND 10', `"qty" BETWEEN 1 AND 10`],
    ['qty not between -5 and 5', `"qty" NOT BETWEEN -5 AND 5`],
    ["region BETWEEN 'A' AND 'M'", `"region" BETWEEN 'A' AND 'M'`],
    ["channel LIKE 'web%'", `"channel" LIKE 'web%'`],
    ["channel NOT LIKE '%_partner'", `"channel" NOT LIKE '%_partner'`],
    ['region IS NULL', `"region" IS NULL`],
    ['amount is not null', `"amount" IS NOT NULL`],
    ['approved IN (TRUE)', `"approved" IN (TRUE)`],
    // AND, OR, NOT, parentheses
    ["region = 'EU' AND qty > 1", `"region" = 'EU' AND "qty" > 1`],
    ["region = 'EU' OR qty > 1", `"region" = 'EU' OR "qty" > 1`],
    ["NOT region = 'EU'", `NOT ("region" = 'EU')`],
    ["not (region = 'EU' or qty > 1)", `NOT ("region" = 'EU' OR "qty" > 1)`],
    ["NOT NOT region = 'EU'", `NOT (NOT ("region" = 'EU'))`],
    ["region = 'EU' AND (qty > 1 OR qty < -1)", `"region" = 'EU' AND ("qty" > 1 OR "qty" < -1)`],
    [
      "(region = 'EU' AND qty > 1) OR code = 'FR'",
      `("region" = 'EU' AND "qty" > 1) OR "code" = 'FR'`,
    ],
    [
      "region = 'EU' AND qty > 1 OR code = 'FR'",
      `("region" = 'EU' AND "qty" > 1) OR "code" = 'FR'`,
    ],
    [
      "region = 'EU' OR qty > 1 AND code = 'FR'",
      `"region" = 'EU' OR ("qty" > 1 AND "code" = 'FR')`,
    ],
    ['qty BETWEEN 1 AND 2 AND views > 3', `"qty" BETWEEN 1 AND 2 AND "views" > 3`],
    // redundant parentheses go, nested ANDs (and ORs) are flattened
    ["((region = 'EU'))", `"region" = 'EU'`],
    [
      "region = 'EU' AND (qty > 1 AND (views > 2 AND code = 'FR'))",
      `"region" = 'EU' AND "qty" > 1 AND "views" > 2 AND "code" = 'FR'`,
    ],
    ["(region = 'EU' OR qty > 1) OR code = 'FR'", `"region" = 'EU' OR "qty" > 1 OR "code" = 'FR'`],
  ])('%s', (input, expected) => {
    expect(canonical(input)).toBe(expected);
  });

  test('spacing, line breaks and the case of keywords do not matter', () => {
    const expected = `"region" = 'EU' AND "qty" BETWEEN 1 AND 5 AND "channel" IS NOT NULL`;
    expect(canonical("region='EU' and qty between 1 and 5 and channel is not null")).toBe(expected);
    expect(
      canonical("  region\t=\n'EU'\r\nAND   qty  BETWEEN 1   AND 5 AnD channel Is NoT nUlL  "),
    ).toBe(expected);
  });

  test('columns match ignoring case, quoted or not, and come out as the product declares them', () => {
    for (const written of ['country', 'COUNTRY', 'Country', '"country"', '"COUNTRY"']) {
      expect(canonical(`${written} = 'FR'`)).toBe(`"Country" = 'FR'`);
    }
  });

  test('a column named like a keyword is written in double quotes, and always comes out quoted', () => {
    expect(canonical(`"like" LIKE 'a%'`)).toBe(`"like" LIKE 'a%'`);
    expect(canonical(`"LIKE" = 'x' AND "order" = 'y'`)).toBe(`"like" = 'x' AND "order" = 'y'`);
    // `order` is no keyword of the filter grammar, but it is one of SQL's: quoting keeps Lake Formation happy.
    expect(canonical(`order = 'y'`)).toBe(`"order" = 'y'`);
  });

  test('numbers lose leading zeros and the sign of zero, and keep their decimals', () => {
    expect(canonical('qty = 007')).toBe(`"qty" = 7`);
    expect(canonical('qty = -0')).toBe(`"qty" = 0`);
    expect(canonical('amount = 000.50')).toBe(`"amount" = 0.50`);
    expect(canonical('amount = -0.0')).toBe(`"amount" = 0.0`);
    expect(canonical('amount = -0.01')).toBe(`"amount" = -0.01`);
  });

  test('the tree: typed nodes for each form, and the columns read', () => {
    const f = parseRowFilter(
      "country = 'FR' AND NOT (qty IN (1, 2) OR approved = true) AND region IS NOT NULL",
      COLUMNS,
    );
    expect(f.ast).toEqual({
      kind: 'and',
      operands: [
        { kind: 'compare', column: 'Country', op: '=', value: { kind: 'string', value: 'FR' } },
        {
          kind: 'not',
          operand: {
            kind: 'or',
            operands: [
              {
                kind: 'in',
                column: 'qty',
                negated: false,
                values: [
                  { kind: 'number', text: '1' },
                  { kind: 'number', text: '2' },
                ],
              },
              {
                kind: 'compare',
                column: 'approved',
                op: '=',
                value: { kind: 'boolean', value: true },
              },
            ],
          },
        },
        { kind: 'null', column: 'region', negated: true },
      ],
    });
    expect(f.columns).toEqual(['Country', 'qty', 'approved', 'region']);
    expect(conjuncts(f.ast)).toHaveLength(3);
    expect(conjuncts(parseRowFilter("region = 'EU'", COLUMNS).ast)).toHaveLength(1);
  });

  test('the limits themselves are allowed', () => {
    const deep = `${'('.repeat(ROW_FILTER_LIMITS.maxDepth)}region = 'EU'${')'.repeat(ROW_FILTER_LIMITS.maxDepth)}`;
    expect(canonical(deep)).toBe(`"region" = 'EU'`);
    expect(canonical(`${'NOT '.repeat(ROW_FILTER_LIMITS.maxDepth)}region = 'EU'`)).toMatch(
      /^(NOT \(){8}"region" = 'EU'\){8}$/,
    );
    const terms = Array.from({ length: ROW_FILTER_LIMITS.maxTerms }, (_, i) => `qty = ${i}`).join(
      ' OR ',
    );
    expect(parseRowFilter(terms, COLUMNS).ast).toMatchObject({
      kind: 'or',
      operands: expect.any(Array),
    });
    const list = Array.from({ length: ROW_FILTER_LIMITS.maxInValues }, (_, i) => String(i)).join(
      ',',
    );
    expect(parseRowFilter(`qty IN (${list})`, COLUMNS).ast).toMatchObject({ kind: 'in' });
    expect(canonical(`region = '${'x'.repeat(ROW_FILTER_LIMITS.maxLength - 11)}'`)).toHaveLength(
      ROW_FILTER_LIMITS.maxLength + 2,
    );
  });
});

// ------------------------------------------------------------------------------- refusals

describe('refusals name the position and the problem', () => {
  test.each([
    // injection: second statements, comments, concatenation, sub-queries, always-true tricks
    ['1=1; DROP TABLE x', 1, /condition must start with a column name, found the number 1/],
    ["region = 'EU'; DROP TABLE x", 14, /';' is not allowed/],
    ["region = 'EU' OR 1=1 --", 18, /condition must start with a column name, found the number 1/],
    ["region = 'EU' --", 15, /comments \('--'\) are not allowed/],
    ["region = 'EU' -- AND qty > 1", 15, /comments/],
    ["region = 'EU' /* hidden */", 15, /comments \('\/\* \*\/'\) are not allowed/],
    ["region = 'EU' */", 15, /comments/],
    ["'a' || (SELECT 1)", 1, /condition must start with a column name, found a string/],
    ["region = 'a' || (SELECT secret FROM t)", 14, /'\|\|' \(concatenation\) is not allowed/],
    ['region = (SELECT 1)', 10, /sub-expressions and sub-queries are not allowed/],
    [
      'region IN (SELECT region FROM x)',
      12,
      /SQL statements and sub-queries are not allowed \(found SELECT\)/,
    ],
    ['SELECT * FROM orders', 1, /SQL statements and sub-queries are not allowed \(found SELECT\)/],
    [
      "region = 'EU' UNION SELECT 1",
      15,
      /expected AND, OR or the end of the filter, found "UNION"/,
    ],
    ['EXISTS (SELECT 1)', 1, /SQL statements and sub-queries are not allowed \(found EXISTS\)/],
    ['TRUE', 1, /expected a column name, found TRUE/],
    ["region = 'EU' OR TRUE", 18, /expected a column name, found TRUE/],
    ["region = 'EU' OR 'a' = 'a'", 18, /condition must start with a column name/],
    // functions and arithmetic
    ["lower(region) = 'eu'", 1, /function calls are not allowed \(found lower\(\.\.\.\)\)/],
    ["region = upper ('eu')", 10, /function calls are not allowed/],
    ['qty + 1 > 2', 5, /arithmetic \('\+'\) is not allowed/],
    ['qty > 1 * 2', 9, /arithmetic \('\*'\) is not allowed/],
    ['qty = 5-3', 8, /expected AND, OR or the end of the filter, found the number -3/],
    ['qty % 2 = 0', 5, /arithmetic/],
    // columns
    ["foo = 'x'", 1, /unknown column "foo"/],
    ['"region " = \'x\'', 1, /unknown column "region "/],
    ['region = channel', 10, /compared with a literal, not with another column \(channel\)/],
    ['qty > views', 7, /not with another column \(views\)/],
    ['customer.id = 1', 1, /of type struct<id:bigint,name:string>, which row filters cannot use/],
    ['"" = \'x\'', 1, /quoted column name is empty/],
    [
      "like = 'x'",
      1,
      /expected a column name, found LIKE \(a column with that name must be written in double quotes\)/,
    ],
    // types
    [
      "amount = 'x'",
      10,
      /column amount is decimal\(12,2\): compare it with a number, not the string 'x'/,
    ],
    [
      'region = 5',
      10,
      /column region is string: compare it with a 'quoted string', not the number 5/,
    ],
    ["code IN ('FR', 5)", 16, /compare it with a 'quoted string', not the number 5/],
    ['qty = 1.5', 7, /column qty is int: compare it with a whole number, not the number 1.5/],
    ['views BETWEEN 1 AND 2.5', 21, /whole number/],
    ["qty = '5'", 7, /whole number, not the string '5'/],
    ['approved = 1', 12, /compare it with TRUE or FALSE, not the number 1/],
    ['approved > TRUE', 12, /boolean: use =, <>, IN or IS NULL, not >/],
    ['approved BETWEEN FALSE AND TRUE', 18, /boolean: use =, <>, IN or IS NULL, not BETWEEN/],
    ['region = TRUE', 10, /'quoted string', not TRUE/],
    ["amount LIKE '1%'", 8, /LIKE needs a string column; amount is decimal\(12,2\)/],
    [
      "order_date > '2024-01-01'",
      1,
      /column order_date is of type date, which row filters cannot use/,
    ],
    ['cancelled_at IS NULL', 1, /of type timestamp, which row filters cannot use/],
    ["tags = 'x'", 1, /array<string>/],
    ["attrs = 'x'", 1, /map<string,string>/],
    ["blob = 'x'", 1, /binary/],
    ["untyped = 'x'", 1, /of type unknown/],
    // literals
    ["region = 'EU", 10, /a string is not closed/],
    ["region = 'it''s", 10, /a string is not closed/],
    ['"region = 1', 1, /a quoted column name is not closed/],
    ["region = 'a\u0000b'", 12, /control character U\+0000/],
    ["region = 'line\nbreak'", 15, /control character U\+000A/],
    ["region = 'del\u007f'", 14, /control character U\+007F/],
    ["region = 'half \ud83d'", 16, /unpaired surrogate U\+D83D/],
    ["region = 'half \ude00 x'", 16, /unpaired surrogate U\+DE00/],
    ['region = NULL', 10, /NULL is not a value to compare with; write region IS NULL/],
    ['amount = 1e5', 10, /a number is digits with an optional decimal part \(found "1e"\)/],
    ['amount = 0x10', 10, /a number is digits/],
    ['amount = 1.', 10, /a number is digits/],
    ['amount = 1.2.3', 10, /a number is digits/],
    ['amount > .5', 10, /'\.' is not allowed/],
    [`amount = ${'9'.repeat(39)}`, 10, /more than 38 digits/],
    ['region = `x`', 10, /unexpected character '`'/],
    ['region = $1', 10, /unexpected character '\$'/],
    ['region = ?', 10, /unexpected character '\?'/],
    ["region = 'EU'\u00a0", 14, /unexpected character U\+00A0/],
    ["region\u200f = 'EU'", 7, /unexpected character U\+200F/],
    ["region = 'EU' AND qty > 1\u0000", 26, /unexpected character U\+0000/],
    ["region = 'EU' 🙂", 15, /unexpected character U\+1F642/],
    ["region = 'EU' \ud800", 15, /unexpected character U\+D800/],
    // structure
    ["(region = 'EU'", 15, /the '\(' at position 1 is not closed/],
    ["((region = 'EU') AND qty > 1", 29, /the '\(' at position 1 is not closed/],
    ["region = 'EU')", 14, /'\)' has no matching '\('/],
    ["(region = 'EU' qty > 1)", 16, /expected '\)' to close the '\(' at position 1, found "qty"/],
    ['()', 2, /'\)' where a condition was expected/],
    ['region', 7, /column region must be compared with something/],
    ['region region', 8, /expected a comparison after column region .*found "region"/],
    ["region = 'EU' AND", 18, /the filter ends where a condition was expected/],
    ["AND region = 'EU'", 1, /expected a column name, found AND/],
    ["region = 'EU' qty = 1", 15, /expected AND, OR or the end of the filter/],
    ["region = = 'EU'", 10, /expected a literal .* found '='/],
    ["region == 'EU'", 8, /'==' is not an operator; use '='/],
    ["region ! 'EU'", 8, /'!' is only allowed in '!='/],
    ["region NOT = 'EU'", 12, /expected IN, BETWEEN or LIKE after region NOT, found '='/],
    ['region IS 5', 11, /expected NULL after IS, found the number 5/],
    ['region IS NOT TRUE', 15, /expected NULL after IS NOT, found TRUE/],
    ["region IN 'EU'", 11, /expected '\(' after IN, found a string/],
    ['region IN ()', 12, /expected a literal .* after IN, found '\)'/],
    ["region IN ('EU' 'NA')", 17, /expected ',' or '\)' in the IN list, found a string/],
    ["region IN ('EU', 'NA'", 22, /the IN list opened at position 11 is not closed/],
    ['qty BETWEEN 1 OR 2', 15, /expected AND between the bounds of BETWEEN, found OR/],
    ['channel LIKE web', 14, /expected a quoted pattern after LIKE, found "web"/],
    ['', undefined, /it is empty/],
    ['   \n ', undefined, /it is empty/],
  ])('%j: at %s', (input, position, problem) => {
    const err = refusal(input);
    expect(positionOf(err)).toBe(position ?? null);
    expect(err.message).toMatch(problem);
    if (position !== undefined) expect(err.message).toContain(`at position ${position}:`);
  });

  test('too deep: one level past the limit of parentheses or NOT', () => {
    const depth = ROW_FILTER_LIMITS.maxDepth + 1;
    const parens = refusal(`${'('.repeat(depth)}region = 'EU'${')'.repeat(depth)}`);
    expect(parens.message).toMatch(
      new RegExp(
        `at position ${depth}: nesting is deeper than ${ROW_FILTER_LIMITS.maxDepth} levels`,
      ),
    );
    expect(refusal(`${'NOT '.repeat(depth)}region = 'EU'`).message).toMatch(/nesting is deeper/);
    // `a OR b AND c` is written `a OR (b AND c)`: the level it gains counts, so that the canonical
    // form of an accepted filter is always accepted too.
    const nested = (levels: number): string =>
      levels === 0 ? 'qty = 9' : `qty = 0 OR qty = 1 AND (${nested(levels - 1)})`;
    expect(canonical(nested(4))).toMatch(/^"qty" = 0 OR \("qty" = 1 AND \("qty" = 0 OR/);
    const implicit = refusal(nested(5)); // 5 parentheses, 10 levels once normalised
    expect(implicit.message).toMatch(
      /nesting is deeper than 8 levels of parentheses and NOT once normalised/,
    );
    expect(positionOf(implicit)).toBeNull();
    // Deep enough to overflow a careless recursive parser: refused at the limit, not by a crash.
    expect(refusal('('.repeat(1999) + 'x').message).toMatch(/nesting is deeper/);
  });

  test('too many terms, too long an IN list, too long a text', () => {
    const terms = Array.from(
      { length: ROW_FILTER_LIMITS.maxTerms + 1 },
      (_, i) => `qty = ${i}`,
    ).join(' OR ');
    const t = refusal(terms);
    expect(t.message).toMatch(new RegExp(`more than ${ROW_FILTER_LIMITS.maxTerms} conditions`));
    expect(positionOf(t)).toBe(terms.lastIndexOf('qty') + 1);
    const list = Array.from({ length: ROW_FILTER_LIMITS.maxInValues + 1 }, (_, i) =>
      String(i),
    ).join(',');
    expect(refusal(`qty IN (${list})`).message).toMatch(
      new RegExp(`at most ${ROW_FILTER_LIMITS.maxInValues} values`),
    );
    expect(refusal(`region = '${'x'.repeat(ROW_FILTER_LIMITS.maxLength)}'`).message).toMatch(
      /longer than 2000 characters/,
    );
  });

  test("a filter that grows past Lake Formation's limit once normalised is refused", () => {
    const prefix = Array.from({ length: ROW_FILTER_LIMITS.maxTerms - 1 }, () => 'qty=1 OR ').join(
      '',
    );
    const input = `${prefix}region='${'x'.repeat(ROW_FILTER_LIMITS.maxLength - prefix.length - 9)}'`;
    expect(input).toHaveLength(ROW_FILTER_LIMITS.maxLength);
    expect(refusal(input).message).toMatch(
      /characters once normalised, and Lake Formation takes at most 2047/,
    );
  });

  test('two columns that differ only in case must be written exactly', () => {
    const columns = [
      col('Region', 'string'),
      col('region', 'string'),
      col('REGION_CODE', 'string'),
    ];
    expect(parseRowFilter(`"Region" = 'a' AND region = 'b'`, columns).canonical).toBe(
      `"Region" = 'a' AND "region" = 'b'`,
    );
    expect(refusal(`REGION = 'a'`, columns).message).toMatch(
      /at position 1: column "REGION" is ambiguous \(Region, region\)/,
    );
    expect(parseRowFilter(`region_code = 'a'`, columns).canonical).toBe(`"REGION_CODE" = 'a'`);
  });
});

// ------------------------------------------------------------------------------- properties

const printable = (s: string) =>
  [...s].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f);
const stringLit = fc.string({ maxLength: 8, unit: 'grapheme' }).filter(printable);
const literalFor = (name: string): fc.Arbitrary<Literal> => {
  const type = COLUMNS.find((c) => c.name === name)!.type;
  if (type === 'boolean') return fc.boolean().map((value) => ({ kind: 'boolean', value }));
  if (type === 'int' || type === 'bigint')
    return fc
      .integer({ min: -1_000_000, max: 1_000_000 })
      .map((n) => ({ kind: 'number', text: String(n) }));
  if (/decimal|double|float/.test(type)) {
    return fc
      .tuple(fc.integer({ min: -9999, max: 9999 }), fc.option(fc.integer({ min: 0, max: 99 })))
      .map(([i, f]) => ({ kind: 'number', text: f === null ? String(i) : `${i}.${f}` }));
  }
  return stringLit.map((value) => ({ kind: 'string', value }));
};
const ordered = (name: string) => COLUMNS.find((c) => c.name === name)!.type !== 'boolean';

const predicate: fc.Arbitrary<RowFilterExpr> = fc
  .constantFrom(...FILTERABLE)
  .chain((column): fc.Arbitrary<RowFilterExpr> => {
    const lit = literalFor(column);
    const options: fc.Arbitrary<RowFilterExpr>[] = [
      fc.record({
        kind: fc.constant('compare' as const),
        column: fc.constant(column),
        op: fc.constantFrom(
          ...(ordered(column)
            ? (['=', '<>', '<', '<=', '>', '>='] as const)
            : (['=', '<>'] as const)),
        ),
        value: lit,
      }),
      fc.record({
        kind: fc.constant('in' as const),
        column: fc.constant(column),
        negated: fc.boolean(),
        values: fc.array(lit, { minLength: 1, maxLength: 4 }),
      }),
      fc.record({
        kind: fc.constant('null' as const),
        column: fc.constant(column),
        negated: fc.boolean(),
      }),
    ];
    if (ordered(column))
      options.push(
        fc.record({
          kind: fc.constant('between' as const),
          column: fc.constant(column),
          negated: fc.boolean(),
          low: lit,
          high: lit,
        }),
      );
    if (
      ['string', 'varchar(16)', 'char(2)'].includes(COLUMNS.find((c) => c.name === column)!.type)
    ) {
      options.push(
        fc.record({
          kind: fc.constant('like' as const),
          column: fc.constant(column),
          negated: fc.boolean(),
          pattern: stringLit,
        }),
      );
    }
    return fc.oneof(...options);
  });

/** Trees as the parser builds them: ANDs never directly inside ANDs, nor ORs inside ORs. */
const tree: fc.Arbitrary<RowFilterExpr> = fc.letrec<{
  expr: RowFilterExpr;
  and: RowFilterExpr;
  or: RowFilterExpr;
  not: RowFilterExpr;
}>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    predicate,
    tie('and'),
    tie('or'),
    tie('not'),
  ),
  and: fc
    .array(fc.oneof(predicate, tie('or'), tie('not')), { minLength: 2, maxLength: 3 })
    .map((operands) => ({ kind: 'and' as const, operands })),
  or: fc
    .array(fc.oneof(predicate, tie('and'), tie('not')), { minLength: 2, maxLength: 3 })
    .map((operands) => ({ kind: 'or' as const, operands })),
  not: tie('expr').map((operand) => ({ kind: 'not' as const, operand })),
})).expr;

/** Levels of parentheses and NOT the canonical text of a tree has, and its number of conditions. */
const measure = (e: RowFilterExpr): { depth: number; terms: number } => {
  if (e.kind === 'not') {
    const m = measure(e.operand);
    return { depth: m.depth + 1, terms: m.terms };
  }
  if (e.kind === 'and' || e.kind === 'or') {
    const ms = e.operands.map((o) => ({
      ...measure(o),
      nested: o.kind === 'and' || o.kind === 'or' ? 1 : 0,
    }));
    return {
      depth: Math.max(...ms.map((m) => m.depth + m.nested)),
      terms: ms.reduce((n, m) => n + m.terms, 0),
    };
  }
  return { depth: 0, terms: 1 };
};
const withinLimits = (e: RowFilterExpr) => {
  const m = measure(e);
  return m.depth <= ROW_FILTER_LIMITS.maxDepth && m.terms <= ROW_FILTER_LIMITS.maxTerms;
};

describe('properties', () => {
  test('a tree written in canonical form parses back to the same tree and the same text', () => {
    fc.assert(
      fc.property(tree, (ast) => {
        fc.pre(withinLimits(ast));
        const text = serialiseRowFilter(ast);
        fc.pre(text.length <= ROW_FILTER_LIMITS.maxLength);
        const parsed = parseRowFilter(text, COLUMNS);
        expect(parsed.ast).toEqual(ast);
        expect(parsed.canonical).toBe(text);
      }),
      { seed: 20261121, numRuns: 400, verbose: 0 },
    );
  });

  test('canonicalising is idempotent, whatever the spacing and case of the keywords', () => {
    fc.assert(
      fc.property(
        tree,
        fc.constantFrom('lower', 'upper', 'mixed'),
        fc.constantFrom(' ', '  ', '\n', '\t '),
        (ast, casing, blank) => {
          fc.pre(withinLimits(ast));
          const text = serialiseRowFilter(ast);
          fc.pre(text.length <= ROW_FILTER_LIMITS.maxLength / 2);
          // Re-spell only outside literals and quoted names: split on quoted runs, keep the odd parts.
          const respelled = text
            .split(/('(?:[^']|'')*'|"(?:[^"]|"")*")/)
            .map((part, i) => {
              if (i % 2 === 1) return part;
              const cased =
                casing === 'lower'
                  ? part.toLowerCase()
                  : casing === 'upper'
                    ? part.toUpperCase()
                    : part.replace(/[A-Z]+/g, (w) => w[0] + w.slice(1).toLowerCase());
              return cased.replaceAll(' ', blank);
            })
            .join('');
          expect(canonical(respelled)).toBe(text);
          expect(canonical(canonical(respelled))).toBe(text);
        },
      ),
      { seed: 4242, numRuns: 200 },
    );
  });

  test('any text at all is either accepted or refused with ROW_FILTER_INVALID, never anything else', () => {
    const pieces = fc.constantFrom(
      'region',
      'qty',
      'approved',
      'foo',
      '"region"',
      "'EU'",
      "'",
      '"',
      '(',
      ')',
      ',',
      '=',
      '<>',
      '!=',
      '<',
      '>=',
      'AND',
      'OR',
      'NOT',
      'IN',
      'BETWEEN',
      'LIKE',
      'IS',
      'NULL',
      'TRUE',
      '1',
      '-2.5',
      ';',
      '--',
      '/*',
      '*/',
      '||',
      'SELECT',
      'lower(',
      ' ',
      '\u0000',
      '\ud800',
      '\u202e',
    );
    const text = fc.oneof(
      fc.string({ maxLength: 60, unit: 'binary' }),
      fc.array(pieces, { maxLength: 25 }).map((p) => p.join(' ')),
      fc.array(pieces, { maxLength: 25 }).map((p) => p.join('')),
    );
    fc.assert(
      fc.property(text, (t) => {
        let result: string | undefined;
        try {
          result = parseRowFilter(t, COLUMNS).canonical;
        } catch (err) {
          expect(err).toBeInstanceOf(MeshgateError);
          expect((err as MeshgateError).code).toBe(ROW_FILTER_INVALID);
          const pos = (err as MeshgateError).details?.position;
          if (pos !== null) expect(pos).toEqual(expect.any(Number));
          if (typeof pos === 'number') expect(pos).toBeGreaterThanOrEqual(1);
          if (typeof pos === 'number') expect(pos).toBeLessThanOrEqual(t.length + 1);
          return;
        }
        // Whatever is accepted is stable, and carries nothing outside literals but the grammar.
        expect(canonical(result)).toBe(result);
        const outside = result.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, '');
        expect(outside).toMatch(/^[A-Z0-9 ()<>=,.-]*$/);
      }),
      { seed: 777, numRuns: 2000 },
    );
  });
});
