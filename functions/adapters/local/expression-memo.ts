/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */

/**
 * dynalite's parsed expressions, kept.
 *
 * dynalite parses every ConditionExpression, UpdateExpression, KeyConditionExpression,
 * FilterExpression and ProjectionExpression of every call with its PEG parsers
 * (`dynalite/db/*Parser.js`), and the store sends the same few expressions again and again with
 * other values: under `npm run bench -- load` the parsing was about a sixth of the embedded
 * store's own CPU per request creation. A parse's result embeds the call's
 * ExpressionAttributeValues (the very objects), its names resolved, and what the parser checked of
 * them; so it is kept as a template, keyed by what decides it:
 *
 * - the expression's text and which parser (and whether it is a key condition);
 * - the ExpressionAttributeNames, whole (the result holds the resolved names);
 * - the name and the DynamoDB type of every ExpressionAttributeValue (the parsers check operand
 *   types, and whether a value is defined; they read no value's content, except BETWEEN's bounds,
 *   compared, and attribute_type's type name: expressions with either are not kept).
 *
 * A call whose key was parsed before gets a copy of the template with its own values put where the
 * first call's were (the same object at every place, as the parser leaves it; nothing is shared
 * with the template, which the caller may change, as dynalite's UpdateItem and key conditions do),
 * and the names and values the expression uses are struck off the call's unused ones, as the
 * parser strikes them. A syntax error (the parser throws) is not kept: it is parsed again each
 * time. dynalite answers a semantic error (an undefined name or value, a wrong operand type, a
 * reserved word) as a message, which is kept like a parse: it depends only on what the key holds
 * (the text, the names, which values exist and their types). The memo wraps the parsers'
 * `parse` in this process, which only the embedded store loads; AWS mode never reaches dynalite.
 * `test/adapters/expression-memo.test.ts` runs the same calls with and without it, failing
 * conditions and invalid expressions included, and compares every answer and item.
 */

type Parse = (input: string, options?: any) => any;

interface Parser {
  parse: Parse;
}

const PARSERS: Array<[string, Parser]> = [
  ['condition', require('dynalite/db/conditionParser')],
  ['update', require('dynalite/db/updateParser')],
  ['projection', require('dynalite/db/projectionParser')],
];

/** Value placeholders in a template: the value named `name` of the call. */
class ValueRef {
  constructor(readonly name: string) {}
}

interface Template {
  tree: unknown;
  usedNames: string[];
  usedValues: string[];
}

/** Expressions whose result depends on the values' content, not only their types. */
const READS_VALUES = /between|attribute_type/i;

const state = {
  enabled: false,
  installed: false,
  maxKept: 2_000,
  kept: new Map<string, Template>(),
  hits: 0,
  misses: 0,
};

function typesOf(value: any): string {
  if (!value || typeof value !== 'object') return typeof value;
  return Object.keys(value)
    .filter((k) => value[k] != null)
    .join('/');
}

function keyOf(kind: string, input: string, context: any): string {
  const names = context.attrNames == null ? '' : JSON.stringify(context.attrNames);
  let values = '';
  if (context.attrVals != null)
    for (const k of Object.keys(context.attrVals))
      values += `${k}=${typesOf(context.attrVals[k])};`;
  return `${kind}\u0000${context.isKeyCondition ? 1 : 0}\u0000${input}\u0000${names}\u0000${values}`;
}

/** A copy of `node` (aliasing kept), with `swap` deciding what an object becomes instead. */
function copy(node: unknown, swap: (o: object) => unknown, seen = new Map<object, unknown>()): any {
  if (node === null || typeof node !== 'object') return node;
  if (seen.has(node)) return seen.get(node);
  const swapped = swap(node);
  if (swapped !== undefined) {
    seen.set(node, swapped);
    return swapped;
  }
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    seen.set(node, out);
    for (const v of node) out.push(copy(v, swap, seen));
    return out;
  }
  const out = Object.create(Object.getPrototypeOf(node)) as Record<string, unknown>;
  seen.set(node, out);
  for (const k of Object.keys(node)) out[k] = copy((node as any)[k], swap, seen);
  return out;
}

function memoized(kind: string, original: Parse): Parse {
  return function parse(this: unknown, input: string, options?: any) {
    const context = options?.context;
    if (!state.enabled || !context || typeof input !== 'string' || READS_VALUES.test(input))
      return original.call(this, input, options);
    const key = keyOf(kind, input, context);
    const kept = state.kept.get(key);
    if (kept) {
      state.hits++;
      for (const n of kept.usedNames)
        if (context.unusedAttrNames) delete context.unusedAttrNames[n];
      for (const v of kept.usedValues) if (context.unusedAttrVals) delete context.unusedAttrVals[v];
      const values = context.attrVals;
      return copy(kept.tree, (o) => (o instanceof ValueRef ? values[o.name] : undefined));
    }
    state.misses++;
    // Parsed with unused sets of its own, to learn which names and values this expression uses
    // (the call's sets may already lack those an earlier expression of the call used).
    const unusedNames: Record<string, true> = {};
    const unusedValues: Record<string, true> = {};
    for (const n of Object.keys(context.attrNames ?? {})) unusedNames[n] = true;
    for (const v of Object.keys(context.attrVals ?? {})) unusedValues[v] = true;
    const result = original.call(this, input, {
      ...options,
      context: { ...context, unusedAttrNames: unusedNames, unusedAttrVals: unusedValues },
    });
    const usedNames = Object.keys(context.attrNames ?? {}).filter((n) => !unusedNames[n]);
    const usedValues = Object.keys(context.attrVals ?? {}).filter((v) => !unusedValues[v]);
    for (const n of usedNames) if (context.unusedAttrNames) delete context.unusedAttrNames[n];
    for (const v of usedValues) if (context.unusedAttrVals) delete context.unusedAttrVals[v];
    const refs = new Map<object, ValueRef>();
    for (const v of usedValues) refs.set(context.attrVals[v], new ValueRef(v));
    state.kept.set(key, {
      tree: copy(result, (o) => refs.get(o)),
      usedNames,
      usedValues,
    });
    if (state.kept.size > state.maxKept) state.kept.delete(state.kept.keys().next().value!);
    return result;
  };
}

/**
 * Keeps dynalite's parsed expressions in this process from now on (see above); `false` parses
 * every expression again, as dynalite does (the tests compare both).
 */
export function keepParsedExpressions(on = true): void {
  if (!state.installed) {
    for (const [kind, parser] of PARSERS) parser.parse = memoized(kind, parser.parse.bind(parser));
    state.installed = true;
  }
  state.enabled = on;
  if (!on) state.kept.clear();
}

/** How many parses were answered from the memo, and how many parsed (for tests and tools). */
export function parsedExpressionStats() {
  return { hits: state.hits, misses: state.misses, kept: state.kept.size };
}
