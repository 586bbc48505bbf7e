/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

/**
 * TransactWriteItems for dynalite.
 *
 * dynalite implements DynamoDB's single-item operations (with condition expressions) but not
 * transactions, and Meshgate's store writes every state change together with its audit event in
 * one transaction. This adds the operation to an in-process dynalite server, built from
 * dynalite's own parts (its validation, key, condition and index code):
 *
 * - every item the transaction touches is locked with dynalite's per-item locks (taken in a fixed
 *   order, so two transactions never deadlock), so single writes and other transactions cannot
 *   interleave;
 * - every condition is checked before anything is written; if one fails, nothing is written and
 *   the answer is a TransactionCanceledException with one cancellation reason per item, as
 *   DynamoDB gives it;
 * - two operations on one item are refused with a ValidationException, as DynamoDB does;
 * - everything the transaction writes (its items and their local and global secondary index
 *   entries) is written as ONE LevelDB batch: all of it or none of it is on disk, whenever the
 *   process is killed (see "Atomic commit" below for why that holds).
 *
 * (dynalite's own single-item writes, PutItem, UpdateItem and DeleteItem, still write an item's
 * index entries and the item one after the other.)
 *
 * Put, Delete, ConditionCheck and Update (with an UpdateExpression: SET, REMOVE, ADD and DELETE,
 * applied as dynalite's UpdateItem applies them; the legacy AttributeUpdates are refused) are
 * supported. As in DynamoDB, one read sees a transaction whole or not at all; two separate reads
 * that do not lock may fall on either side of it.
 */

const db = require('dynalite/db');
const validations = require('dynalite/validations');
const putItemRules = require('dynalite/validations/putItem');
const deleteItemRules = require('dynalite/validations/deleteItem');
const updateItemRules = require('dynalite/validations/updateItem');
// dynalite's own decimal library, as its UpdateItem uses it for ADD and arithmetic.
const Big = createRequire(require.resolve('dynalite'))('big.js');

export const TRANSACT_WRITE_TARGET = 'DynamoDB_20120810.TransactWriteItems';
const PREFIX = 'com.amazonaws.dynamodb.v20120810#';

class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Kind = 'Put' | 'Delete' | 'ConditionCheck' | 'Update';

interface Op {
  kind: Kind;
  data: any;
  table?: any;
  itemDb?: any;
  key?: string;
  existing?: any;
}

const call = <T>(fn: (cb: (err: any, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) =>
    fn((err, value) => (err ? reject(err) : resolve(value as T))),
  );

function validate(kind: Kind, data: any, store: any): any {
  const rules =
    kind === 'Put' ? putItemRules : kind === 'Update' ? updateItemRules : deleteItemRules;
  const checked = validations.checkTypes(data, rules.types);
  validations.checkValidations(checked, rules.types, rules.custom, store);
  return checked;
}

async function transactWrite(store: any, body: any): Promise<Record<string, never>> {
  const items = body?.TransactItems;
  if (!Array.isArray(items) || items.length < 1 || items.length > 100) {
    throw new DynamoError('ValidationException', 'TransactItems must have between 1 and 100 items');
  }
  const ops: Op[] = items.map((ti: any) => {
    const kinds = Object.keys(ti ?? {});
    const kind = kinds[0];
    if (kinds.length !== 1)
      throw new DynamoError('ValidationException', 'Each TransactItem has exactly one operation');
    if (kind !== 'Put' && kind !== 'Delete' && kind !== 'ConditionCheck' && kind !== 'Update') {
      throw new DynamoError('ValidationException', `Unknown transaction operation ${kind}`);
    }
    if (
      kind === 'Update' &&
      (ti[kind]?.UpdateExpression == null || ti[kind]?.AttributeUpdates != null)
    ) {
      throw new DynamoError(
        'ValidationException',
        'An Update in a transaction takes an UpdateExpression (the embedded store has no AttributeUpdates)',
      );
    }
    return { kind, data: validate(kind, { ...ti[kind] }, store) };
  });

  for (const op of ops) {
    op.table = await call((cb) => store.getTable(op.data.TableName, cb));
    const invalid =
      op.kind === 'Put'
        ? db.validateItem(op.data.Item, op.table)
        : (db.validateKey(op.data.Key, op.table) ??
          (op.kind === 'Update'
            ? db.validateUpdates(undefined, op.data._updates, op.table)
            : undefined));
    if (invalid) throw invalid;
    op.itemDb = store.getItemDb(op.data.TableName);
    op.key = db.createKey(op.kind === 'Put' ? op.data.Item : op.data.Key, op.table);
  }
  const ids = ops.map((o) => `${o.data.TableName}\u0000${o.key}`);
  if (new Set(ids).size !== ids.length) {
    throw new DynamoError(
      'ValidationException',
      'Transaction request cannot include multiple operations on one item',
    );
  }

  // Lock every item in a fixed order, so that concurrent transactions cannot deadlock.
  const order = ops.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1));
  const releases: Array<() => void> = [];
  try {
    for (const i of order) {
      const op = ops[i]!;
      releases.push(
        await new Promise<() => void>((resolve) =>
          op.itemDb.lock(op.key, (release: any) => resolve(release())),
        ),
      );
    }
    for (const op of ops) {
      op.existing = await call((cb) =>
        op.itemDb.get(op.key, (err: any, item: any) =>
          err && err.name !== 'NotFoundError' ? cb(err) : cb(null, item),
        ),
      );
    }
    const reasons = ops.map((op) =>
      db.checkConditional(op.data, op.existing)
        ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
        : { Code: 'None' },
    );
    if (reasons.some((r) => r.Code !== 'None')) {
      throw new DynamoError(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        { CancellationReasons: reasons },
      );
    }
    // Every update is worked out before anything is written: one that cannot apply cancels all.
    const updated = ops.map((op) => (op.kind === 'Update' ? updatedItem(op, store) : undefined));
    const batch = ops.flatMap((op, i) =>
      writesOf(op, op.kind === 'Put' ? op.data.Item : (updated[i] ?? null)),
    );
    if (batch.length > 0) await call((cb) => store.db.batch(batch, cb));
    return {};
  } finally {
    releases.forEach((release) => release());
  }
}

/*
 * Atomic commit.
 *
 * dynalite 4.0.0 (pinned in package.json) keeps everything in ONE LevelDB database, `store.db`:
 * its "sub-databases" are only key prefixes on it (db/index.js, getSubDb: `<name>~<key>`), the
 * items of table T under `item-T~` and the entries of its index I under `index-global~T~I~` or
 * `index-local~T~I~`. So one `store.db.batch` can write every item and every index entry of a
 * transaction, and LevelDB applies a batch atomically: the batch is one record of its write-ahead
 * log, and recovery at the next open replays a record whole or, if a kill cut it short (its
 * checksum fails), drops it. LevelDB also makes a batch visible to readers only once all of it
 * is applied, so a concurrent read sees it whole or not at all (the in-memory store, without a
 * folder, applies a batch in one synchronous step).
 *
 * dynalite's single-item writes (db.updateIndexes, then itemDb.put or del) issue one write per
 * key; the writes below are the same ones, by the same rule (db.getIndexActions), gathered into
 * the one batch instead. The key layout is dynalite's (pinned): were it to change, transactional
 * writes would not be found by GetItem and Query, which this module's tests would catch at once.
 */
const itemKey = (table: string, key: string) => `item-${table}~${key}`;
const indexKey = (type: 'Local' | 'Global', table: string, index: string, key: string) =>
  `index-${type.toLowerCase()}~${table}~${index}~${key}`;

type BatchOp = { type: 'put'; key: string; value: any } | { type: 'del'; key: string };

/**
 * The root-database writes that turn `op`'s existing item into `item` (null: the item is deleted,
 * or, for a ConditionCheck or a Delete of a missing item, nothing changes): old index entries
 * removed, new ones put, then the item itself.
 */
function writesOf(op: Op, item: any): BatchOp[] {
  if (op.kind === 'ConditionCheck' || (!item && !op.existing)) return [];
  const name = op.table.TableName as string;
  const out: BatchOp[] = [];
  for (const type of ['Local', 'Global'] as const) {
    const indexes = op.table[`${type}SecondaryIndexes`] ?? [];
    const { puts, deletes } = db.getIndexActions(indexes, op.existing, item, op.table);
    for (const d of deletes) out.push({ type: 'del', key: indexKey(type, name, d.index, d.key) });
    for (const p of puts)
      out.push({ type: 'put', key: indexKey(type, name, p.index, p.key), value: p.item });
  }
  out.push(
    item
      ? { type: 'put', key: itemKey(name, op.key!), value: item }
      : { type: 'del', key: itemKey(name, op.key!) },
  );
  return out;
}

const bulkLoading = new WeakSet<object>();

/**
 * Bulk loading (`npm run seed`): puts `items` (DynamoDB JSON, `{ pk: { S: ... } }`) into
 * `tableName` as ONE LevelDB batch, with their index entries, by the same rule as a transaction's
 * Put. No condition, no lock and no read of what is there: for filling a store no server is
 * serving yet, with items that are not in it (an item put twice would leave the index entries of
 * its first version behind).
 */
export async function bulkPut(store: any, tableName: string, items: any[]): Promise<void> {
  if (!bulkLoading.has(store)) {
    // The first load reopens the database with a larger write buffer and table files than
    // dynalite's (LevelDB's defaults, 4 MB and 2 MB): fewer, larger files to compact while
    // gigabytes go in. The settings last until the database is closed.
    bulkLoading.add(store);
    // dynalite's own close() would mark its store closed for good: LevelDB's close, then open.
    await store.db.close._original();
    await store.db.open({ writeBufferSize: 64 * 1024 * 1024, maxFileSize: 32 * 1024 * 1024 });
  }
  const table = await call((cb) => store.getTable(tableName, cb));
  const batch: Array<BatchOp & { valueEncoding?: 'utf8' }> = [];
  for (const item of items) {
    const invalid = db.validateItem(item, table);
    if (invalid) throw invalid;
    // The item and its entries in indexes that project ALL attributes are the same value: its JSON
    // text (what the database's json encoding would store) is made once, not once per entry.
    let text: string | undefined;
    for (const op of writesOf(
      { kind: 'Put', data: {}, table, key: db.createKey(item, table) },
      item,
    )) {
      if (op.type === 'put' && op.value === item) {
        text ??= JSON.stringify(item);
        batch.push({ ...op, value: text, valueEncoding: 'utf8' });
      } else batch.push(op);
    }
  }
  if (batch.length > 0) await call((cb) => store.db.batch(batch, cb));
}

/** The item an Update makes of the existing one (or of its key, when there is none). */
function updatedItem(op: Op, store: any): any {
  const item = structuredClone(op.existing ?? op.data.Key);
  const err = applyUpdateExpression(op.data._updates.sections, op.table, item);
  if (err) throw err;
  if (db.itemSize(item) > store.options.maxItemSize)
    throw db.validationError('Item size to update has exceeded the maximum allowed size');
  return item;
}

// applyUpdateExpression, resolveValue, deleteFromParent and addToParent are dynalite 4.0.0's own
// (actions/updateItem.js, Apache-2.0), which that module does not export; kept as written there.

function applyUpdateExpression(sections: any[], table: any, item: any): Error | undefined {
  const toSquash: any[] = [];
  for (const section of sections) {
    if (section.type == 'set') {
      section.val = resolveValue(section.val, item);
      if (typeof section.val == 'string') return db.validationError(section.val);
    }
  }
  for (const section of sections) {
    const parent = db.mapPath(section.path.slice(0, -1), item);
    const attr = section.path[section.path.length - 1];
    if (parent == null || (typeof attr == 'number' ? parent.L : parent.M) == null) {
      return db.validationError(
        'The document path provided in the update expression is invalid for update',
      );
    }
    let existing = parent.M ? parent.M[attr] : parent.L[attr];
    const alreadyExists = existing != null;
    if (section.type == 'remove') {
      deleteFromParent(parent, attr);
    } else if (section.type == 'delete') {
      if (alreadyExists && Object.keys(existing)[0] != section.attrType) {
        return db.validationError('An operand in the update expression has an incorrect data type');
      }
      if (alreadyExists) {
        existing[section.attrType] = existing[section.attrType].filter(
          (val: any) => !~section.val[section.attrType].indexOf(val),
        );
        if (!existing[section.attrType].length) deleteFromParent(parent, attr);
      }
    } else if (section.type == 'add') {
      if (alreadyExists && Object.keys(existing)[0] != section.attrType) {
        return db.validationError('An operand in the update expression has an incorrect data type');
      }
      if (section.attrType == 'N') {
        if (!existing) existing = { N: '0' };
        existing.N = new Big(existing.N).plus(section.val.N).toFixed();
      } else {
        if (!existing) existing = {};
        if (!existing[section.attrType]) existing[section.attrType] = [];
        existing[section.attrType] = existing[section.attrType].concat(
          section.val[section.attrType].filter((a: any) => !~existing[section.attrType].indexOf(a)),
        );
      }
      if (!alreadyExists) addToParent(parent, attr, existing, toSquash);
    } else if (section.type == 'set') {
      if (section.path.length == 1) {
        const err = db.traverseIndexes(table, (indexAttr: string, type: string) => {
          if (section.path[0] == indexAttr && section.val[type] == null) {
            return db.validationError(
              'The update expression attempted to update the secondary index key to unsupported type',
            );
          }
        });
        if (err) return err;
      }
      addToParent(parent, attr, section.val, toSquash);
    }
  }
  toSquash.forEach((obj) => (obj.L = obj.L.filter(Boolean)));
  return undefined;
}

/** The two operands of `val` resolved, each of attribute type `type` ('N' or 'L'); or the error message. */
function operands(val: any, item: any, type: 'N' | 'L'): [any, any] | string {
  const out: any[] = [];
  for (const arg of val.args.slice(0, 2)) {
    const v = resolveValue(arg, item);
    if (typeof v == 'string') return v;
    if (v[type] == null) return 'An operand in the update expression has an incorrect data type';
    out.push(v);
  }
  return out as [any, any];
}

function resolveValue(val: any, item: any): any {
  if (Array.isArray(val)) {
    val = db.mapPath(val, item);
  } else if (val.type == 'add' || val.type == 'subtract') {
    const both = operands(val, item, 'N');
    if (typeof both == 'string') return both;
    val = { N: new Big(both[0].N)[val.type == 'add' ? 'plus' : 'minus'](both[1].N).toFixed() };
  } else if (val.type == 'function' && val.name == 'if_not_exists') {
    val = db.mapPath(val.args[0], item) || resolveValue(val.args[1], item);
  } else if (val.type == 'function' && val.name == 'list_append') {
    const both = operands(val, item, 'L');
    if (typeof both == 'string') return both;
    return { L: both[0].L.concat(both[1].L) };
  }
  return val || 'The provided expression refers to an attribute that does not exist in the item';
}

function deleteFromParent(parent: any, attr: any) {
  if (parent.M) delete parent.M[attr];
  else if (parent.L) parent.L.splice(attr, 1);
}

function addToParent(parent: any, attr: any, val: any, toSquash: any[]) {
  if (parent.M) {
    parent.M[attr] = val;
  } else if (parent.L) {
    if (attr > parent.L.length && !~toSquash.indexOf(parent)) toSquash.push(parent);
    parent.L[attr] = val;
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/x-amz-json-1.0');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** A TransactWriteItems call's JSON body answered as DynamoDB answers it: a status and a body. */
export async function answerTransaction(
  store: any,
  text: string,
): Promise<{ status: number; body: unknown }> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } };
  }
  try {
    return { status: 200, body: await transactWrite(store, body) };
  } catch (err: any) {
    if (err instanceof DynamoError)
      return {
        status: 400,
        body: { __type: PREFIX + err.type, message: err.message, ...err.extra },
      };
    if (err?.statusCode && err.body) return { status: err.statusCode, body: err.body };
    return {
      status: 500,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message: String(err?.message ?? err),
      },
    };
  }
}

/** Teaches a dynalite server TransactWriteItems; every other call goes to dynalite unchanged. */
export function addTransactions(server: Server, store: any): void {
  const listeners = server.listeners('request') as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-amz-target'] !== TRANSACT_WRITE_TARGET) {
      listeners.forEach((l) => l(req, res));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void answerTransaction(store, Buffer.concat(chunks).toString('utf8')).then((a) =>
        send(res, a.status, a.body),
      );
    });
  });
}
