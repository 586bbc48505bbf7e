/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@aws-sdk/types';
import { answerTransaction, TRANSACT_WRITE_TARGET } from './dynalite-transactions';

/**
 * The embedded store's DynamoDB client calls dynalite in this process, without HTTP.
 *
 * The embedded store runs in the same process as the API, and each DynamoDB command sent to it
 * over loopback HTTP cost more CPU than the command itself: the SDK's node HTTP handler, a socket
 * write and read on each side, dynalite's request parsing, its CRC32 of the answer, and a SigV4
 * signature that dynalite never checks (it only looks for the header). Measured under
 * `npm run bench -- load`, that transport was the largest share of a search's and of a request
 * creation's CPU. This handler takes the request the SDK serialised (the same JSON body and
 * `x-amz-target` header DynamoDB receives) and hands it to dynalite's own validation and action
 * code (or to the transaction support, for TransactWriteItems), then answers the same JSON body
 * and status code dynalite's HTTP server would: the SDK deserialises it, errors included, exactly
 * as it deserialises DynamoDB's answers. The SDK's own stack (its middleware, serialisation and
 * deserialisation, retries) is the same as on AWS; only the transport differs.
 *
 * The embedded server still listens on loopback (`EmbeddedDynamo.endpoint`) for the clients of
 * tests and tools that reach it as AWS mode reaches DynamoDB; AWS mode never sees this handler.
 */

const validations = require('dynalite/validations');

const VALID_API = 'DynamoDB_20120810';
const OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
] as const;

type Action = (store: any, data: any, cb: (err: any, out?: any) => void) => void;
const ACTIONS = new Map<string, { action: Action; rules: any }>(
  OPERATIONS.map((op) => {
    const name = validations.toLowerFirst(op) as string;
    return [
      `${VALID_API}.${op}`,
      {
        action: require(`dynalite/actions/${name}`),
        rules: require(`dynalite/validations/${name}`),
      },
    ];
  }),
);

export interface DynamoAnswer {
  status: number;
  body: unknown;
}

const error = (status: number, type: string, message?: string): DynamoAnswer => ({
  status,
  body: { __type: `com.amazon.coral.service#${type}`, ...(message ? { message } : {}) },
});

/**
 * One DynamoDB call (its `x-amz-target` and JSON body) answered by dynalite's store, as its HTTP
 * handler answers it (`dynalite/index.js`, from the body's parsing on; the signature's presence
 * is not checked, dynalite checks nothing more of it).
 */
export async function answerDynamo(store: unknown, target: string, text: string) {
  if (target === TRANSACT_WRITE_TARGET) return answerTransaction(store, text);
  const op = ACTIONS.get(target);
  if (!op) return error(400, 'UnknownOperationException');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return error(400, 'SerializationException');
  }
  try {
    data = validations.checkTypes(data, op.rules.types);
    validations.checkValidations(data, op.rules.types, op.rules.custom, store);
  } catch (err: any) {
    if (err?.statusCode) return { status: err.statusCode as number, body: err.body };
    throw err;
  }
  return new Promise<DynamoAnswer>((resolve, reject) =>
    op.action(store, data, (err, out) => {
      if (err?.statusCode) resolve({ status: err.statusCode, body: err.body });
      else if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve({ status: 200, body: out });
    }),
  );
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return decoder.decode(body);
  throw new Error('the in-process DynamoDB handler takes a string or byte body');
}

/**
 * The SDK's `requestHandler` for the embedded store's client: each request answered by
 * `answerDynamo` in this process. It honours the abort signal as the node handler does.
 */
export class InProcessDynamoHandler {
  readonly metadata = { handlerProtocol: 'in-process' };

  constructor(private readonly store: unknown) {}

  async handle(
    request: HttpRequest,
    options: HttpHandlerOptions = {},
  ): Promise<{ response: HttpResponse }> {
    const signal = options.abortSignal as { aborted?: boolean } | undefined;
    if (signal?.aborted) {
      const abort = new Error('Request aborted');
      abort.name = 'AbortError';
      throw abort;
    }
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
    const answer = await answerDynamo(this.store, target, bodyText(request.body));
    const text = JSON.stringify(answer.body);
    return {
      response: {
        statusCode: answer.status,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: encoder.encode(text),
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

/**
 * The embedded client's signer: the request goes to no network and dynalite checks no
 * signature, so it is left unsigned (a SigV4 signature is an HMAC chain per request).
 */
export const unsignedRequests = {
  sign: async (request: HttpRequest) => request,
};

/**
 * dynalite reads a table's description from LevelDB (and decodes its JSON) before every item
 * operation, and the transaction support once per item written: the largest share of the
 * embedded store's own CPU per command after the transport. Descriptions change only through
 * CreateTable, UpdateTable and DeleteTable, which write them through `tableDb`; this keeps the
 * ACTIVE descriptions that item operations read (`getTable` with its status check) in memory,
 * and forgets them all at any write of `tableDb` (a read begun before the write is not kept). Calls without the status check (describe,
 * update, delete, tags: they change the object they get) still read LevelDB.
 */
export function cacheTableDescriptions(store: any): void {
  const read = store.getTable as (name: string, checkStatus: unknown, cb?: unknown) => void;
  const tableDb = store.tableDb;
  const cached = new Map<string, unknown>();
  // Bumped at every write: a read that began before one must not fill the cache after it.
  let writes = 0;
  for (const method of ['put', 'del', 'batch'] as const) {
    const write = tableDb[method];
    tableDb[method] = (...args: unknown[]) => {
      writes++;
      cached.clear();
      return write.apply(tableDb, args);
    };
  }
  store.getTable = (name: string, checkStatus: unknown, cb?: unknown) => {
    const callback = (typeof checkStatus === 'function' ? checkStatus : cb) as (
      err: unknown,
      table?: any,
    ) => void;
    if (checkStatus === false) return read(name, false, callback);
    const hit = cached.get(name);
    if (hit) return queueMicrotask(() => callback(null, hit));
    const at = writes;
    read(name, true, (err: unknown, table?: any) => {
      if (!err && table?.TableStatus === 'ACTIVE' && at === writes) cached.set(name, table);
      callback(err, table);
    });
  };
}

/**
 * Item reads served from memory. dynalite reads each item (a GetItem, and every item a
 * transaction writes, for its conditions and old index entries) with a LevelDB `get` on the main
 * thread, then answers a turn of the event loop later: under `npm run bench -- load` that was the
 * largest share of the embedded store's own CPU per command once the transport was gone. This
 * keeps, as JSON text (a reader gets its own copy), the values read last: at most `maxKept` of
 * them and `maxChars` characters of text in all (so its memory is bounded whatever the items' size).
 *
 * Every write of the store goes through `store.db` (`put`, `del`, `batch`: dynalite's own writes,
 * through its prefixed sub-databases, and the transactions' single batch). A write forgets the keys
 * it writes when it starts and again when it completes, before its caller hears of it (dynalite
 * releases its item locks then); each does so by moving the key's epoch. A read keeps what it read
 * only if the key's epoch did not move while it read: what is kept is never older than the last
 * write completed, so a write answered is seen by every later read, as from LevelDB. Range reads
 * (Query, Scan: iterators) are not served from here.
 *
 * A key that was kept when a write of it began is kept again with the value written, once the
 * write completed, if no other write of that key began meanwhile (its epoch moved only by this
 * write): the items every request creation reads and writes again (the audit chain's head, the
 * requester's open-request count, the approvers' unread counts) are then not read back from
 * LevelDB by the next one. A key written but never read (a new request, an event) is not kept.
 */
export function keepItemReads(store: any, maxKept = 20_000, maxChars = 16 * 1024 * 1024): void {
  const db = store.db;
  const kept = new Map<string, string>();
  let chars = 0;
  const drop = (key: string) => {
    const text = kept.get(key);
    if (text === undefined) return;
    chars -= text.length;
    kept.delete(key);
  };
  /** Keeps `text` under `key` as the most recent; the oldest go first, until both bounds hold. */
  const keep = (key: string, text: string) => {
    drop(key);
    kept.set(key, text);
    chars += text.length;
    while (kept.size > maxKept || chars > maxChars) drop(kept.keys().next().value!);
  };
  const epochs = new Map<string, number>();
  // Epochs are dropped when there are many; the generation then voids every read under way.
  let generation = 0;
  const moved = (key: string) => {
    drop(key);
    epochs.set(key, (epochs.get(key) ?? 0) + 1);
  };
  const forget = (keys: string[]) => {
    keys.forEach(moved);
    if (epochs.size > maxKept * 4) {
      epochs.clear();
      generation++;
    }
  };
  const keyOf = (k: unknown) => (typeof k === 'string' ? k : undefined);
  /** The text a later read of `value` would keep (the database encodes values as JSON). */
  const textOf = (value: unknown, encoding: unknown): string | undefined =>
    encoding === 'utf8'
      ? typeof value === 'string'
        ? value
        : undefined
      : encoding === undefined && value !== null && typeof value === 'object'
        ? JSON.stringify(value)
        : undefined;
  type Written = { key: unknown; value?: unknown; encoding?: unknown };
  const wrapWrite = (method: 'put' | 'del' | 'batch', writesOf: (args: any[]) => Written[]) => {
    const write = db[method];
    db[method] = (...args: any[]) => {
      const writes = writesOf(args);
      const keys = writes.map((w) => keyOf(w.key));
      // A key not a string (never the case in dynalite): forget everything.
      const all = keys.some((k) => k === undefined);
      // Values of kept keys, to keep again once written.
      const again = new Map<string, string>();
      if (!all)
        for (const w of writes) {
          const text = kept.has(w.key as string) ? textOf(w.value, w.encoding) : undefined;
          if (text !== undefined) again.set(w.key as string, text);
          else again.delete(w.key as string);
        }
      const clear = () => {
        if (all) {
          kept.clear();
          chars = 0;
          epochs.clear();
          generation++;
        } else forget(keys as string[]);
      };
      clear();
      const at = generation;
      const started = new Map([...again.keys()].map((k) => [k, epochs.get(k)]));
      const completed = (err: unknown) => {
        clear();
        if (err || at !== generation) return;
        for (const [key, text] of again) {
          // Moved once more by this write's completion, by nothing else.
          if (epochs.get(key) !== (started.get(key) ?? 0) + 1) continue;
          keep(key, text);
        }
      };
      const cb = args[args.length - 1];
      if (typeof cb === 'function') {
        args[args.length - 1] = (...out: unknown[]) => {
          completed(out[0]);
          cb(...out);
        };
        return write.apply(db, args);
      }
      const done = write.apply(db, args);
      return Promise.resolve(done).then(
        (v) => {
          completed(undefined);
          return v;
        },
        (err) => {
          completed(err ?? new Error('write failed'));
          throw err;
        },
      );
    };
  };
  const optionsOf = (o: unknown) =>
    o !== null && typeof o === 'object' ? (o as { valueEncoding?: unknown }) : undefined;
  wrapWrite('put', (a) => [{ key: a[0], value: a[1], encoding: optionsOf(a[2])?.valueEncoding }]);
  wrapWrite('del', (a) => [{ key: a[0] }]);
  wrapWrite('batch', (a) =>
    Array.isArray(a[0])
      ? a[0].map(
          (op: { type?: string; key?: unknown; value?: unknown; valueEncoding?: unknown }) =>
            op?.type === 'put'
              ? {
                  key: op.key,
                  value: op.value,
                  encoding: op.valueEncoding ?? optionsOf(a[1])?.valueEncoding,
                }
              : { key: op?.key },
        )
      : [{ key: undefined }],
  );

  const get = db.get;
  db.get = (key: unknown, callback?: unknown) => {
    if (typeof key !== 'string' || typeof callback !== 'function')
      return get.call(db, key, callback);
    const cb = callback as (err: unknown, value?: unknown) => void;
    const text = kept.get(key);
    if (text !== undefined) {
      // Most recently read last: the oldest go first when full.
      kept.delete(key);
      kept.set(key, text);
      const value = JSON.parse(text) as unknown;
      return queueMicrotask(() => cb(null, value));
    }
    const epoch = epochs.get(key) ?? 0;
    const at = generation;
    return get.call(db, key, (err: unknown, value?: unknown) => {
      if (!err && value !== undefined && at === generation && (epochs.get(key) ?? 0) === epoch) {
        keep(key, JSON.stringify(value));
      }
      cb(err, value);
    });
  };
}

/** The stream methods of dynalite's prefixed sub-databases that open a LevelDB iterator. */
const STREAMS = ['createValueStream', 'createKeyStream', 'createReadStream'] as const;
/** The iterators opened while a noted stream is being made (it opens its iterator synchronously). */
let noting: Array<{ close(): Promise<void> }> | undefined;
const notingDbs = new WeakSet<object>();

/** The level database's iterator methods, noting what they open while `noting` is set. */
function noteIterators(db: any): void {
  if (notingDbs.has(db)) return;
  notingDbs.add(db);
  for (const method of ['iterator', 'keys', 'values'] as const) {
    const open = db[method] as (...a: unknown[]) => { close(): Promise<void> };
    db[method] = (...a: unknown[]) => {
      const it = open.apply(db, a);
      noting?.push(it);
      return it;
    };
  }
}

/**
 * Closes the LevelDB iterator of every Query and Scan once it has answered. dynalite reads a
 * query's range through a stream over a LevelDB iterator (`queryTable`), stops taking items at
 * the query's `Limit`, and never closes the iterator (its stream's `destroy` looks for a `return`
 * method that level iterators do not have): each Query left an open iterator behind it, and an
 * open LevelDB iterator pins the tables it read (each mapped into the process, outside the table
 * cache's bound) and its buffers until the database closes. Measured on a store of 7 million
 * items: 400 queries left 185 table maps and +200 MB of anonymous memory. This wraps dynalite's
 * `queryTable` (its Query and Scan actions call it through the module's exports): the store it is
 * handed gives out sub-databases whose streams note the iterator they open, and after the query's
 * answer is made each stream is destroyed and its iterator closed. Installed once per process;
 * answers are unchanged.
 */
export function closeQueryIterators(dbModule: any): void {
  if (dbModule.queryTable.closesIterators) return;
  const queryTable = dbModule.queryTable as (...args: any[]) => void;
  const wrapped = (store: any, ...rest: any[]) => {
    const cb = rest.pop() as (...out: unknown[]) => void;
    noteIterators(store.db);
    const streams: Array<{ destroy(): void }> = [];
    const iterators: Array<{ close(): Promise<void> }> = [];
    const notingStreams = (sub: any) => {
      const out = Object.create(sub);
      for (const method of STREAMS)
        if (typeof sub[method] === 'function')
          out[method] = (...a: unknown[]) => {
            const outer = noting;
            noting = iterators;
            try {
              const stream = sub[method](...a);
              streams.push(stream);
              return stream;
            } finally {
              noting = outer;
            }
          };
      return out;
    };
    const tracked = Object.create(store);
    tracked.getItemDb = (...a: unknown[]) => notingStreams(store.getItemDb(...a));
    tracked.getIndexDb = (...a: unknown[]) => notingStreams(store.getIndexDb(...a));
    queryTable(tracked, ...rest, (...out: unknown[]) => {
      for (const stream of streams.splice(0)) stream.destroy();
      for (const it of iterators.splice(0)) it.close().catch(() => {});
      cb(...out);
    });
  };
  wrapped.closesIterators = true;
  dbModule.queryTable = wrapped;
}
