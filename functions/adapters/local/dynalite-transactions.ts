/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

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
 * - two operations on one item are refused with a ValidationException, as DynamoDB does.
 *
 * Put, Delete and ConditionCheck are supported (the store uses no Update inside transactions);
 * an Update is refused with a ValidationException that says so. Unlike DynamoDB, a reader that
 * does not lock may see a transaction half applied for the moment it takes to write.
 */

const db = require('dynalite/db');
const validations = require('dynalite/validations');
const putItemRules = require('dynalite/validations/putItem');
const deleteItemRules = require('dynalite/validations/deleteItem');

const TARGET = 'DynamoDB_20120810.TransactWriteItems';
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

interface Op {
  kind: 'Put' | 'Delete' | 'ConditionCheck';
  data: any;
  table?: any;
  itemDb?: any;
  key?: string;
  existing?: any;
}

const call = <T>(fn: (cb: (err: any, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

function validate(kind: Op['kind'], data: any, store: any): any {
  const rules = kind === 'Put' ? putItemRules : deleteItemRules;
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
    if (kinds.length !== 1) throw new DynamoError('ValidationException', 'Each TransactItem has exactly one operation');
    if (kind === 'Update') {
      throw new DynamoError('ValidationException', 'The embedded store supports Put, Delete and ConditionCheck in transactions, not Update');
    }
    if (kind !== 'Put' && kind !== 'Delete' && kind !== 'ConditionCheck') {
      throw new DynamoError('ValidationException', `Unknown transaction operation ${kind}`);
    }
    return { kind, data: validate(kind, { ...ti[kind] }, store) };
  });

  for (const op of ops) {
    op.table = await call((cb) => store.getTable(op.data.TableName, cb));
    const invalid = op.kind === 'Put' ? db.validateItem(op.data.Item, op.table) : db.validateKey(op.data.Key, op.table);
    if (invalid) throw invalid;
    op.itemDb = store.getItemDb(op.data.TableName);
    op.key = db.createKey(op.kind === 'Put' ? op.data.Item : op.data.Key, op.table);
  }
  const ids = ops.map((o) => `${o.data.TableName}\u0000${o.key}`);
  if (new Set(ids).size !== ids.length) {
    throw new DynamoError('ValidationException', 'Transaction request cannot include multiple operations on one item');
  }

  // Lock every item in a fixed order, so that concurrent transactions cannot deadlock.
  const order = ops.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1));
  const releases: Array<() => void> = [];
  try {
    for (const i of order) {
      const op = ops[i]!;
      releases.push(await new Promise<() => void>((resolve) => op.itemDb.lock(op.key, (release: any) => resolve(release()))));
    }
    for (const op of ops) {
      op.existing = await call((cb) =>
        op.itemDb.get(op.key, (err: any, item: any) => (err && err.name !== 'NotFoundError' ? cb(err) : cb(null, item))),
      );
    }
    const reasons = ops.map((op) =>
      db.checkConditional(op.data, op.existing) ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' } : { Code: 'None' },
    );
    if (reasons.some((r) => r.Code !== 'None')) {
      throw new DynamoError(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        { CancellationReasons: reasons },
      );
    }
    for (const op of ops) {
      if (op.kind === 'Put') {
        await call((cb) => db.updateIndexes(store, op.table, op.existing, op.data.Item, cb));
        await call((cb) => op.itemDb.put(op.key, op.data.Item, cb));
      } else if (op.kind === 'Delete' && op.existing) {
        await call((cb) => db.updateIndexes(store, op.table, op.existing, null, cb));
        await call((cb) => op.itemDb.del(op.key, cb));
      }
    }
    return {};
  } finally {
    releases.forEach((release) => release());
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/x-amz-json-1.0');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Teaches a dynalite server TransactWriteItems; every other call goes to dynalite unchanged. */
export function addTransactions(server: Server, store: any): void {
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-amz-target'] !== TARGET) {
      listeners.forEach((l) => l(req, res));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
      }
      transactWrite(store, body).then(
        (out) => send(res, 200, out),
        (err) => {
          if (err instanceof DynamoError) return send(res, 400, { __type: PREFIX + err.type, message: err.message, ...err.extra });
          if (err?.statusCode && err.body) return send(res, err.statusCode, err.body);
          send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(err?.message ?? err) });
        },
      );
    });
  });
}
