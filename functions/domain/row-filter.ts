import type { Column } from './model';
import { validation } from './errors';

// Row filters: the subset of Lake Formation's PartiQL row filter grammar that Meshgate accepts,
// checked against the product's columns before a filter is stored or sent to Lake Formation.
//
//   filter     := or
//   or         := and ( OR and )*
//   and        := unary ( AND unary )*
//   unary      := NOT unary | '(' or ')' | predicate
//   predicate  := column ( op literal
//                        | [NOT] IN '(' literal ( ',' literal )* ')'
//                        | [NOT] BETWEEN literal AND literal
//                        | [NOT] LIKE string
//                        | IS [NOT] NULL )
//   op         := '=' | '<>' | '!=' | '<' | '<=' | '>' | '>='
//   literal    := string | number | TRUE | FALSE
//   column     := name | '"' name '"'      (a column of the product, matched ignoring case)
//   string     := "'" ( any character but a control character; '' for a quote )* "'"
//   number     := [ '-' ] digits [ '.' digits ]
//
// Keywords are case-insensitive. Nothing else is accepted: no functions, no arithmetic, no
// sub-queries, no comments, no second statement, no comparison of a column with a column (Lake
// Formation refuses those too). A comparison's literal must suit the column's type, and only the
// column types Lake Formation filters on may be used. The canonical form (what is stored and sent
// to Lake Formation) has single spaces, upper-case keywords, `<>` for `!=`, every column
// double-quoted as the product declares it (so a column named like a keyword still works), and
// parentheses only where AND and OR meet and after NOT.

/** Bounds on what one filter may hold. */
export const ROW_FILTER_LIMITS = {
  /** Characters of the filter as sent (the request schema allows as many). */
  maxLength: 2000,
  /** Lake Formation's limit on a filter expression: fewer than 2048 characters. */
  maxCanonicalLength: 2047,
  /** Nested parentheses and NOTs. */
  maxDepth: 8,
  /** Predicates (comparisons, IN, BETWEEN, LIKE, IS NULL). */
  maxTerms: 32,
  /** Values in one IN list. */
  maxInValues: 100,
} as const;

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'boolean'; value: boolean };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type RowFilterExpr =
  | { kind: 'compare'; column: string; op: Comparator; value: Literal }
  | { kind: 'in'; column: string; negated: boolean; values: Literal[] }
  | { kind: 'between'; column: string; negated: boolean; low: Literal; high: Literal }
  | { kind: 'like'; column: string; negated: boolean; pattern: string }
  | { kind: 'null'; column: string; negated: boolean }
  | { kind: 'and'; operands: RowFilterExpr[] }
  | { kind: 'or'; operands: RowFilterExpr[] }
  | { kind: 'not'; operand: RowFilterExpr };

export interface RowFilter {
  ast: RowFilterExpr;
  /** The filter as stored and sent to Lake Formation. */
  canonical: string;
  /** The columns it reads, as the product declares them, in order of first use. */
  columns: string[];
}

/** The code of every refusal of a row filter (a 400). */
export const ROW_FILTER_INVALID = 'ROW_FILTER_INVALID';

/** A refusal naming where (1-based character position in the filter) and what. */
export function rowFilterError(position: number | undefined, problem: string) {
  const where = position === undefined ? '' : ` at position ${position}`;
  return validation(ROW_FILTER_INVALID, `Invalid row filter${where}: ${problem}.`, {
    position: position ?? null,
    problem,
  });
}

// ------------------------------------------------------------------------------- column types

type ColumnKind = 'string' | 'integer' | 'number' | 'boolean';

/** Glue types a row filter may use, as Lake Formation documents them; anything else is refused. */
function kindOf(type: string): ColumnKind | undefined {
  const t = type.trim().toLowerCase();
  if (/^(string|char\(\d+\)|varchar\(\d+\)|char|varchar)$/.test(t)) return 'string';
  if (/^(tinyint|smallint|int|integer|bigint|long)$/.test(t)) return 'integer';
  if (
    /^(float|double|real|decimal|decimal\(\d+(,\s*\d+)?\)|numeric|numeric\(\d+(,\s*\d+)?\))$/.test(
      t,
    )
  )
    return 'number';
  if (t === 'boolean') return 'boolean';
  return undefined;
}

// ---------------------------------------------------------------------------------- tokenizer

type Token =
  | { t: 'word'; text: string; pos: number }
  | { t: 'quoted'; text: string; pos: number }
  | { t: 'string'; value: string; pos: number }
  | { t: 'number'; text: string; pos: number }
  | { t: 'op'; op: Comparator; pos: number }
  | { t: '(' | ')' | ','; pos: number }
  | { t: 'end'; pos: number };

const KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'IN',
  'BETWEEN',
  'LIKE',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
]);
/** Words that start or join SQL statements: named as such when they are not columns. */
const STATEMENT_WORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'UNION',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'CREATE',
  'ALTER',
  'EXEC',
  'EXECUTE',
  'GRANT',
  'REVOKE',
  'TRUNCATE',
  'MERGE',
  'WITH',
  'JOIN',
  'EXISTS',
  'CASE',
  'CAST',
  'VALUES',
  'INTO',
  'LIMIT',
]);

const isDigit = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '9';
const isWordStart = (ch: string | undefined) => ch !== undefined && /[A-Za-z_]/.test(ch);
const isWordPart = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_$]/.test(ch);

/** A character as it can be shown in a message: printable ASCII as is, anything else as U+XXXX. */
function show(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code >= 0x21 && code <= 0x7e
    ? `'${ch}'`
    : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Quoted text must be plain text: no control characters and no half of a surrogate pair. */
function checkQuotedText(s: string, start: number, what: string) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f)
      throw rowFilterError(start + i, `${what} holds the control character ${show(s[i]!)}`);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff)
      throw rowFilterError(start + i, `${what} holds an unpaired surrogate ${show(s[i]!)}`);
  }
}

/** Reads tokens one at a time, so that a problem is reported in the order it appears. */
class Lexer {
  private i = 0;
  private static readonly NUMBER = /-?\d+(\.\d+)?/y;

  constructor(readonly src: string) {}

  /** Whether the text after the word token `tok` (skipping blanks) opens a parenthesis. */
  openParenAfter(tok: Token & { t: 'word' }): boolean {
    return /^[ \t\r\n]*\(/.test(this.src.slice(tok.pos - 1 + tok.text.length));
  }

  /** Reads a quoted run from i (at the opening quote); a doubled quote is one quote. */
  private quotedRun(q: string, what: string): string {
    const src = this.src;
    const start = this.i;
    let j = start + 1;
    for (;;) {
      j = src.indexOf(q, j);
      if (j < 0)
        throw rowFilterError(
          start + 1,
          `${what} is not closed: the ${q} opened here has no matching ${q}`,
        );
      if (src[j + 1] !== q) break;
      j += 2;
    }
    const raw = src.slice(start + 1, j);
    checkQuotedText(raw, start + 2, what);
    this.i = j + 1;
    return raw.replaceAll(q + q, q);
  }

  next(): Token {
    const src = this.src;
    while (this.i < src.length && ' \t\n\r'.includes(src[this.i]!)) this.i++;
    const i = this.i;
    const pos = i + 1;
    if (i >= src.length) return { t: 'end', pos };
    const ch = src[i]!;
    if (ch === "'") return { t: 'string', value: this.quotedRun("'", 'a string'), pos };
    if (ch === '"') {
      const text = this.quotedRun('"', 'a quoted column name');
      if (text.length === 0) throw rowFilterError(pos, 'a quoted column name is empty');
      return { t: 'quoted', text, pos };
    }
    if (isDigit(ch) || (ch === '-' && isDigit(src[i + 1]))) {
      Lexer.NUMBER.lastIndex = i;
      const text = Lexer.NUMBER.exec(src)![0];
      const after = src[i + text.length];
      if (isWordPart(after) || after === '.')
        throw rowFilterError(
          pos,
          `a number is digits with an optional decimal part (found ${JSON.stringify(src.slice(i, i + text.length + 1))})`,
        );
      if (text.replace(/[-.]/g, '').length > 38)
        throw rowFilterError(pos, 'a number has more than 38 digits');
      this.i += text.length;
      return { t: 'number', text, pos };
    }
    if (isWordStart(ch)) {
      let j = i + 1;
      while (isWordPart(src[j])) j++;
      this.i = j;
      return { t: 'word', text: src.slice(i, j), pos };
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      this.i++;
      return { t: ch, pos };
    }
    const two = src.slice(i, i + 2);
    if (two === '==') throw rowFilterError(pos, "'==' is not an operator; use '='");
    const op =
      (['<=', '>=', '<>', '!='] as const).find((o) => o === two) ??
      (['=', '<', '>'] as const).find((o) => o === ch);
    if (op) {
      this.i += op.length;
      return { t: 'op', op: op === '!=' ? '<>' : op, pos };
    }
    if (two === '--') throw rowFilterError(pos, "comments ('--') are not allowed");
    if (two === '/*' || two === '*/')
      throw rowFilterError(pos, "comments ('/* */') are not allowed");
    if (ch === ';') throw rowFilterError(pos, "';' is not allowed: a row filter is one expression");
    if (two === '||')
      throw rowFilterError(
        pos,
        "'||' (concatenation) is not allowed: compare a column with a literal",
      );
    if (ch === '!') throw rowFilterError(pos, "'!' is only allowed in '!='");
    if ('+-*/%'.includes(ch))
      throw rowFilterError(
        pos,
        `arithmetic (${show(ch)}) is not allowed: compare a column with a literal`,
      );
    if (ch === '.')
      throw rowFilterError(
        pos,
        "'.' is not allowed: nested fields are not supported, and numbers start with a digit",
      );
    // The whole character, not half of it, when it lies outside the Basic Multilingual Plane.
    throw rowFilterError(
      pos,
      `unexpected character ${show(String.fromCodePoint(src.codePointAt(i)!))}`,
    );
  }
}

// ------------------------------------------------------------------------------------- parser

const describeToken = (tok: Token): string => {
  switch (tok.t) {
    case 'word':
      return KEYWORDS.has(tok.text.toUpperCase()) ? tok.text.toUpperCase() : `"${tok.text}"`;
    case 'quoted':
      return `"${tok.text}"`;
    case 'string':
      return 'a string';
    case 'number':
      return `the number ${tok.text}`;
    case 'op':
      return `'${tok.op}'`;
    case 'end':
      return 'the end of the filter';
    default:
      return `'${tok.t}'`;
  }
};

interface ResolvedColumn {
  name: string;
  type: string;
  kind: ColumnKind | undefined;
}

class Parser {
  private ahead: Token | undefined;
  private terms = 0;
  readonly used: string[] = [];

  constructor(
    private readonly lexer: Lexer,
    private readonly columns: readonly Pick<Column, 'name' | 'type'>[],
  ) {}

  private peek(): Token {
    return (this.ahead ??= this.lexer.next());
  }
  private next(): Token {
    const tok = this.peek();
    this.ahead = undefined;
    return tok;
  }
  private isWord(tok: Token, kw: string): boolean {
    return tok.t === 'word' && tok.text.toUpperCase() === kw;
  }
  private accept(kw: string): boolean {
    if (!this.isWord(this.peek(), kw)) return false;
    this.next();
    return true;
  }
  private expect(kw: string, context: string): void {
    const tok = this.peek();
    if (!this.accept(kw))
      throw rowFilterError(tok.pos, `expected ${kw} ${context}, found ${describeToken(tok)}`);
  }

  parse(): RowFilterExpr {
    const expr = this.or(0);
    const tok = this.peek();
    if (tok.t === ')') throw rowFilterError(tok.pos, "')' has no matching '('");
    if (tok.t !== 'end')
      throw rowFilterError(
        tok.pos,
        `expected AND, OR or the end of the filter, found ${describeToken(tok)}`,
      );
    return expr;
  }

  private or(depth: number): RowFilterExpr {
    const operands = [this.and(depth)];
    while (this.accept('OR')) operands.push(this.and(depth));
    return operands.length === 1
      ? operands[0]!
      : { kind: 'or', operands: operands.flatMap((o) => (o.kind === 'or' ? o.operands : [o])) };
  }

  private and(depth: number): RowFilterExpr {
    const operands = [this.unary(depth)];
    while (this.accept('AND')) operands.push(this.unary(depth));
    return operands.length === 1
      ? operands[0]!
      : { kind: 'and', operands: operands.flatMap((o) => (o.kind === 'and' ? o.operands : [o])) };
  }

  private deeper(depth: number, tok: Token): number {
    if (depth + 1 > ROW_FILTER_LIMITS.maxDepth)
      throw rowFilterError(
        tok.pos,
        `nesting is deeper than ${ROW_FILTER_LIMITS.maxDepth} levels of parentheses and NOT`,
      );
    return depth + 1;
  }

  private unary(depth: number): RowFilterExpr {
    const tok = this.peek();
    if (this.accept('NOT')) {
      // `NOT (...)` is one level, as the canonical form writes it: the parenthesis counts it.
      return {
        kind: 'not',
        operand: this.unary(this.peek().t === '(' ? depth : this.deeper(depth, tok)),
      };
    }
    if (tok.t === '(') {
      this.next();
      const inner = this.or(this.deeper(depth, tok));
      const close = this.peek();
      if (close.t !== ')') {
        throw rowFilterError(
          close.pos,
          close.t === 'end'
            ? `the '(' at position ${tok.pos} is not closed`
            : `expected ')' to close the '(' at position ${tok.pos}, found ${describeToken(close)}`,
        );
      }
      this.next();
      return inner;
    }
    return this.predicate();
  }

  private column(): ResolvedColumn & { pos: number } {
    const tok = this.next();
    if (tok.t === 'word' || tok.t === 'quoted') {
      const upper = tok.text.toUpperCase();
      if (tok.t === 'word' && KEYWORDS.has(upper)) {
        throw rowFilterError(
          tok.pos,
          `expected a column name, found ${upper} (a column with that name must be written in double quotes)`,
        );
      }
      const col = this.resolve(tok.text, tok.pos);
      if (!col) {
        if (tok.t === 'word' && STATEMENT_WORDS.has(upper))
          throw rowFilterError(
            tok.pos,
            `SQL statements and sub-queries are not allowed (found ${upper})`,
          );
        if (tok.t === 'word' && this.lexer.openParenAfter(tok))
          throw rowFilterError(tok.pos, `function calls are not allowed (found ${tok.text}(...))`);
        throw rowFilterError(
          tok.pos,
          `unknown column "${tok.text}": the product has no such column`,
        );
      }
      if (!this.used.includes(col.name)) this.used.push(col.name);
      return { ...col, pos: tok.pos };
    }
    if (tok.t === 'string' || tok.t === 'number') {
      throw rowFilterError(
        tok.pos,
        `a condition must start with a column name, found ${describeToken(tok)} (write the column first, as in region = 'EU')`,
      );
    }
    if (tok.t === 'end')
      throw rowFilterError(tok.pos, 'the filter ends where a condition was expected');
    if (tok.t === ')') throw rowFilterError(tok.pos, "')' where a condition was expected");
    throw rowFilterError(tok.pos, `expected a column name, found ${describeToken(tok)}`);
  }

  /** The product's column with this name: exactly as written, else the one that differs only in case. */
  private resolve(name: string, pos: number): ResolvedColumn | undefined {
    const exact = this.columns.find((c) => c.name === name);
    const candidates = exact
      ? [exact]
      : this.columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
    if (candidates.length > 1) {
      throw rowFilterError(
        pos,
        `column "${name}" is ambiguous (${candidates.map((c) => c.name).join(', ')}); write it in double quotes exactly as declared`,
      );
    }
    const c = candidates[0];
    return c && { name: c.name, type: c.type, kind: kindOf(c.type) };
  }

  private predicate(): RowFilterExpr {
    const col = this.column();
    if (++this.terms > ROW_FILTER_LIMITS.maxTerms)
      throw rowFilterError(col.pos, `more than ${ROW_FILTER_LIMITS.maxTerms} conditions`);
    if (!col.kind) {
      throw rowFilterError(
        col.pos,
        `column ${col.name} is of type ${col.type || 'unknown'}, which row filters cannot use (they can use string, char, varchar, integer, decimal, float, double and boolean columns)`,
      );
    }
    const tok = this.next();
    if (tok.t === 'op')
      return { kind: 'compare', column: col.name, op: tok.op, value: this.literal(col, tok.op) };
    if (this.isWord(tok, 'IS')) {
      const negated = this.accept('NOT');
      this.expect('NULL', `after IS${negated ? ' NOT' : ''}`);
      return { kind: 'null', column: col.name, negated };
    }
    const negated = this.isWord(tok, 'NOT');
    const what = negated ? this.next() : tok;
    if (this.isWord(what, 'IN')) {
      const open = this.next();
      if (open.t !== '(')
        throw rowFilterError(open.pos, `expected '(' after IN, found ${describeToken(open)}`);
      const values = [this.literal(col, 'IN')];
      for (;;) {
        const sep = this.next();
        if (sep.t === ')') break;
        if (sep.t !== ',')
          throw rowFilterError(
            sep.pos,
            sep.t === 'end'
              ? `the IN list opened at position ${open.pos} is not closed`
              : `expected ',' or ')' in the IN list, found ${describeToken(sep)}`,
          );
        if (values.length >= ROW_FILTER_LIMITS.maxInValues)
          throw rowFilterError(
            sep.pos,
            `an IN list holds at most ${ROW_FILTER_LIMITS.maxInValues} values`,
          );
        values.push(this.literal(col, 'IN'));
      }
      return { kind: 'in', column: col.name, negated, values };
    }
    if (this.isWord(what, 'BETWEEN')) {
      const low = this.literal(col, 'BETWEEN');
      this.expect('AND', 'between the bounds of BETWEEN');
      const high = this.literal(col, 'BETWEEN');
      return { kind: 'between', column: col.name, negated, low, high };
    }
    if (this.isWord(what, 'LIKE')) {
      if (col.kind !== 'string')
        throw rowFilterError(what.pos, `LIKE needs a string column; ${col.name} is ${col.type}`);
      const pattern = this.next();
      if (pattern.t !== 'string')
        throw rowFilterError(
          pattern.pos,
          `expected a quoted pattern after LIKE, found ${describeToken(pattern)}`,
        );
      return { kind: 'like', column: col.name, negated, pattern: pattern.value };
    }
    if (negated)
      throw rowFilterError(
        what.pos,
        `expected IN, BETWEEN or LIKE after ${col.name} NOT, found ${describeToken(what)}`,
      );
    if (tok.t === 'end')
      throw rowFilterError(
        tok.pos,
        `column ${col.name} must be compared with something (=, <>, <, <=, >, >=, IN, BETWEEN, LIKE, IS NULL)`,
      );
    throw rowFilterError(
      tok.pos,
      `expected a comparison after column ${col.name} (=, <>, <, <=, >, >=, IN, BETWEEN, LIKE, IS NULL), found ${describeToken(tok)}`,
    );
  }

  /** A literal that suits the column's type, for operator `op`. */
  private literal(col: ResolvedColumn, op: string): Literal {
    const tok = this.next();
    let lit: Literal;
    if (tok.t === 'string') lit = { kind: 'string', value: tok.value };
    else if (tok.t === 'number') lit = { kind: 'number', text: canonicalNumber(tok.text) };
    else if (this.isWord(tok, 'TRUE') || this.isWord(tok, 'FALSE'))
      lit = { kind: 'boolean', value: this.isWord(tok, 'TRUE') };
    else if (this.isWord(tok, 'NULL'))
      throw rowFilterError(
        tok.pos,
        `NULL is not a value to compare with; write ${col.name} IS NULL or IS NOT NULL`,
      );
    else if (tok.t === 'word' && this.lexer.openParenAfter(tok))
      throw rowFilterError(tok.pos, `function calls are not allowed (found ${tok.text}(...))`);
    else if ((tok.t === 'word' || tok.t === 'quoted') && this.resolve(tok.text, tok.pos)) {
      throw rowFilterError(
        tok.pos,
        `a column can only be compared with a literal, not with another column (${tok.text})`,
      );
    } else if (tok.t === 'word' && STATEMENT_WORDS.has(tok.text.toUpperCase())) {
      throw rowFilterError(
        tok.pos,
        `SQL statements and sub-queries are not allowed (found ${tok.text.toUpperCase()})`,
      );
    } else if (tok.t === '(')
      throw rowFilterError(
        tok.pos,
        "expected a literal, found '(': sub-expressions and sub-queries are not allowed here",
      );
    else
      throw rowFilterError(
        tok.pos,
        `expected a literal (a 'string', a number, TRUE or FALSE) after ${op}, found ${describeToken(tok)}`,
      );
    this.checkType(col, op, lit, tok.pos);
    return lit;
  }

  private checkType(col: ResolvedColumn, op: string, lit: Literal, pos: number) {
    const mismatch = (wanted: string) =>
      rowFilterError(
        pos,
        `column ${col.name} is ${col.type}: compare it with ${wanted}, not ${describeLiteral(lit)}`,
      );
    switch (col.kind) {
      case 'string':
        if (lit.kind !== 'string') throw mismatch("a 'quoted string'");
        return;
      case 'integer':
        if (lit.kind !== 'number' || lit.text.includes('.')) throw mismatch('a whole number');
        return;
      case 'number':
        if (lit.kind !== 'number') throw mismatch('a number');
        return;
      case 'boolean':
        if (lit.kind !== 'boolean') throw mismatch('TRUE or FALSE');
        if (!['=', '<>', 'IN'].includes(op))
          throw rowFilterError(
            pos,
            `column ${col.name} is boolean: use =, <>, IN or IS NULL, not ${op}`,
          );
        return;
    }
  }
}

const describeLiteral = (lit: Literal) =>
  lit.kind === 'string'
    ? `the string ${quoteString(lit.value)}`
    : lit.kind === 'number'
      ? `the number ${lit.text}`
      : lit.value
        ? 'TRUE'
        : 'FALSE';

/** Leading zeros dropped, and the sign of zero. */
function canonicalNumber(text: string): string {
  const negative = text.startsWith('-');
  const [int, frac] = (negative ? text.slice(1) : text).split('.') as [string, string | undefined];
  const digits = int.replace(/^0+(?=\d)/, '');
  const body = frac === undefined ? digits : `${digits}.${frac}`;
  return negative && /[1-9]/.test(body) ? `-${body}` : body;
}

// ---------------------------------------------------------------------------- serialisation

const quoteString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const quoteColumn = (s: string) => `"${s.replaceAll('"', '""')}"`;
const literalText = (lit: Literal) =>
  lit.kind === 'string'
    ? quoteString(lit.value)
    : lit.kind === 'number'
      ? lit.text
      : lit.value
        ? 'TRUE'
        : 'FALSE';

/** The canonical text of a filter (or of one of its parts). */
export function serialiseRowFilter(e: RowFilterExpr): string {
  const not = (negated: boolean) => (negated ? 'NOT ' : '');
  switch (e.kind) {
    case 'compare':
      return `${quoteColumn(e.column)} ${e.op} ${literalText(e.value)}`;
    case 'in':
      return `${quoteColumn(e.column)} ${not(e.negated)}IN (${e.values.map(literalText).join(', ')})`;
    case 'between':
      return `${quoteColumn(e.column)} ${not(e.negated)}BETWEEN ${literalText(e.low)} AND ${literalText(e.high)}`;
    case 'like':
      return `${quoteColumn(e.column)} ${not(e.negated)}LIKE ${quoteString(e.pattern)}`;
    case 'null':
      return `${quoteColumn(e.column)} IS ${not(e.negated)}NULL`;
    case 'not':
      return `NOT (${serialiseRowFilter(e.operand)})`;
    case 'and':
    case 'or': {
      const other = e.kind === 'and' ? 'or' : 'and';
      return e.operands
        .map((o) => (o.kind === other ? `(${serialiseRowFilter(o)})` : serialiseRowFilter(o)))
        .join(e.kind === 'and' ? ' AND ' : ' OR ');
    }
  }
}

/** Levels of parentheses and NOT in the canonical form. */
function nesting(e: RowFilterExpr): number {
  if (e.kind === 'not') return 1 + nesting(e.operand);
  if (e.kind === 'and' || e.kind === 'or')
    return Math.max(
      ...e.operands.map((o) => nesting(o) + (o.kind === 'and' || o.kind === 'or' ? 1 : 0)),
    );
  return 0;
}

/** The conditions a filter ANDs together (the filter itself when it is not an AND). */
export const conjuncts = (e: RowFilterExpr): RowFilterExpr[] =>
  e.kind === 'and' ? e.operands : [e];

/**
 * Parses a row filter against a product's columns. Throws a `ROW_FILTER_INVALID` validation error
 * naming the position and the problem; otherwise answers the tree and the canonical text.
 */
export function parseRowFilter(
  text: string,
  columns: readonly Pick<Column, 'name' | 'type'>[],
): RowFilter {
  if (text.trim().length === 0) throw rowFilterError(undefined, 'it is empty');
  if (text.length > ROW_FILTER_LIMITS.maxLength)
    throw rowFilterError(
      ROW_FILTER_LIMITS.maxLength + 1,
      `longer than ${ROW_FILTER_LIMITS.maxLength} characters`,
    );
  const parser = new Parser(new Lexer(text), columns);
  const ast = parser.parse();
  // Checked again on the tree, as the canonical form nests it (`a OR b AND c` becomes
  // `a OR (b AND c)`), so that the canonical form is always accepted too.
  if (nesting(ast) > ROW_FILTER_LIMITS.maxDepth)
    throw rowFilterError(
      undefined,
      `nesting is deeper than ${ROW_FILTER_LIMITS.maxDepth} levels of parentheses and NOT once normalised`,
    );
  const canonical = serialiseRowFilter(ast);
  if (canonical.length > ROW_FILTER_LIMITS.maxCanonicalLength) {
    throw rowFilterError(
      undefined,
      `it is ${canonical.length} characters once normalised, and Lake Formation takes at most ${ROW_FILTER_LIMITS.maxCanonicalLength}`,
    );
  }
  return { ast, canonical, columns: parser.used };
}
