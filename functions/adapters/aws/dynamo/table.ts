import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { conflict, unprocessable, validation } from '../../../domain/errors';
import type {
  ExtensionLock,
  OpenCount,
  KeyedPage,
  KeyPage,
  Page,
  PageRequest,
} from '../../../ports/store';
import { AUTHZ_KEY, strip, type IndexName, type Item } from './keys';

/** The stages a pending request can wait at (domain/model.ts `Stage`). */
export const STAGES = ['owner', 'compliance'] as const;

/**
 * The smallest key above `after` that a listing key can be: keys are `<time>#<id>` (or ids),
 * never holding a control character, so nothing lies between `after` and this.
 */
export const justAfter = (after: string) => `${after}\u0001`;

/** The equality filters of a listing that were given. */
export const filterOf = (q: { status?: string; domain?: string }): Record<string, string> =>
  Object.fromEntries(
    Object.entries({ status: q.status, domain: q.domain }).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;

/** One partition a merged listing reads. */
export interface Source {
  index?: IndexName;
  pk: string;
  /** Only keys in [lo, hi] (ascending listings). */
  lo?: string;
  hi?: string;
}

/**
 * The document client every Meshgate table access uses. A document client shares its settings
 * with every other one made from the same DynamoDB client (the SDK keeps them on the client's
 * config), so all of them are made here, with the same settings.
 */
export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];
export type Reasons = Array<{ Code?: string }> | undefined;
export const reasonsOf = (err: unknown): Reasons =>
  (err as { CancellationReasons?: Array<{ Code?: string }> })?.CancellationReasons;

/**
 * A filtered listing (a status or domain filter within a partition, applied by DynamoDB after
 * `Limit`) reads a source at most this many times per page: the page's read, then, if that came
 * back short with more to read, one more of up to FILTERED_EVALUATE items. A page then stays
 * within two Queries per source and evaluates at most `limit` + 1 + FILTERED_EVALUATE items; it
 * comes back short (even empty, with a cursor) only when fewer than about one item in a thousand
 * of the partition matches. The listings people filter most have their own partitions instead (a
 * user's ACTIVE grants: keys.ts `holderItem`; every domain's PENDING requests).
 */
export const FILTERED_READS = 2;
export const FILTERED_EVALUATE = 1_000;

/** Retrying a lost race for a chain head: exponential backoff with full jitter. */
export const CHAIN_RETRY = { attempts: 60, baseMs: 5, capMs: 200 };
export const MAX_TRANSACTION_ITEMS = 100;

export const isConditionFailure = (err: unknown) =>
  err instanceof TransactionCanceledException ||
  (err as { name?: string })?.name === 'ConditionalCheckFailedException' ||
  (err as { name?: string })?.name === 'TransactionCanceledException';

export const extensionOpen = (lock: ExtensionLock) =>
  conflict(
    'EXTENSION_OPEN',
    `Another extension of grant ${lock.grantId} is already open; it must be decided first.`,
  );

/** Lost a race for the last places: others' submissions took them between the read and the write. */
export const openRequestLimit = (open: OpenCount) =>
  unprocessable(
    'OPEN_REQUEST_LIMIT',
    `${open.user} already has the most open requests the policy allows (${open.max}). Cancel one, or wait until one is decided, then ask again.`,
    { maxOpenRequests: open.max },
  );

export const encodeCursor = (c: { p: string; k?: Record<string, unknown> }) =>
  Buffer.from(JSON.stringify(c)).toString('base64url');
export const badCursor = (why = 'is not one this API returned') =>
  validation('BAD_CURSOR', `The cursor ${why}.`);
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where an audit query resumes, from a cursor it handed out: the index of the partition among the
 * query's, and the index key to start after (none: the start of that partition). Anything but
 * what `queryAudit` writes is refused before it can reach DynamoDB: the cursor comes from the
 * caller, and a key that is not an object of the index's four key strings, in that partition,
 * would otherwise fail inside the SDK or the service.
 */
export function readCursor(
  cursor: string,
  index: 'gsi2' | 'gsi3',
  partitions: string[],
): { i: number; key?: Record<string, string> } {
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (
    !isPlainObject(c) ||
    typeof c.p !== 'string' ||
    !Object.keys(c).every((k) => k === 'p' || k === 'k')
  )
    throw badCursor();
  const i = partitions.indexOf(c.p);
  if (i < 0) throw badCursor('does not belong to this query');
  if (c.k === undefined) return { i };
  const names = ['pk', 'sk', `${index}pk`, `${index}sk`];
  const k = c.k;
  const wellFormed =
    isPlainObject(k) &&
    Object.keys(k).length === names.length &&
    names.every((n) => typeof k[n] === 'string' && k[n] !== '') &&
    k[`${index}pk`] === c.p;
  if (!wellFormed) throw badCursor();
  return { i, key: k as Record<string, string> };
}

/**
 * The one table, as every aggregate adapter reads and writes it: the document client, item reads
 * and writes, and the listings' Query shapes (a page merged over partitions, a gsi3 page).
 */
export class DynamoTable {
  protected readonly doc: DynamoDBDocumentClient;

  constructor(
    protected readonly tableName: string,
    client: DynamoDBClient,
  ) {
    this.doc = documentClient(client);
  }

  protected async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    return strip<T>(out.Item);
  }

  protected async put(item: Item): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  /** Runs a query to the end, following pages. */
  protected async queryAll<T>(
    input: Omit<QueryCommandInput, 'TableName'>,
    of: (item: Item) => T = (i) => strip<T>(i)!,
  ): Promise<T[]> {
    const items: T[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey }),
      );
      for (const i of out.Items ?? []) items.push(of(i));
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  protected byKey<T>(
    pk: string,
    index?: 'gsi1' | 'gsi2' | 'gsi3',
    descending = false,
    consistent = false,
  ): Promise<T[]> {
    const attr = index ? `${index}pk` : 'pk';
    return this.queryAll<T>({
      IndexName: index,
      ConsistentRead: consistent || undefined,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': attr },
      ExpressionAttributeValues: { ':pk': pk },
      ScanIndexForward: !descending,
    });
  }

  /** Increments the authorization generation; part of every transaction that changes who holds which role. */
  protected bumpGeneration(): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: AUTHZ_KEY,
        UpdateExpression: 'SET #kind = :kind ADD #generation :one',
        ExpressionAttributeNames: { '#kind': 'kind', '#generation': 'generation' },
        ExpressionAttributeValues: { ':kind': 'authz', ':one': 1 },
      },
    };
  }

  /**
   * One page of the items of `sources` merged by their sort key (unique: `<time>#<id>`, or an
   * id), each item once: one Query per source, each of at most `limit` + 1 items after `after`
   * (a filtered source whose read came back short reads once more: FILTERED_READS). A source
   * that has more (it stopped at its limit, or its filter left items out) bounds how far the page
   * may go: items beyond its last key read wait for the next page, which then may come back short,
   * with `next`.
   */
  protected async mergedPage<T>(
    sources: Source[],
    page: KeyPage,
    opts: {
      descending: boolean;
      consistent?: boolean;
      filter?: Record<string, string>;
      of?: (item: Item) => T;
    },
  ): Promise<KeyedPage<T>> {
    const of = opts.of ?? ((i: Item) => strip<T>(i)!);
    const before = (a: string, b: string) => (opts.descending ? a > b : a < b);
    const reads = await Promise.all(
      sources.map(async (src) => {
        const skName = src.index ? `${src.index}sk` : 'sk';
        const values: Record<string, unknown> = { ':pk': src.pk };
        let range = '';
        const lo =
          page.after !== undefined && !opts.descending
            ? src.lo === undefined || justAfter(page.after) > src.lo
              ? justAfter(page.after)
              : src.lo
            : src.lo;
        if (opts.descending && page.after !== undefined) {
          range = ' AND #sk < :after';
          values[':after'] = page.after;
        } else if (lo !== undefined && src.hi !== undefined) {
          range = ' AND #sk BETWEEN :lo AND :hi';
          Object.assign(values, { ':lo': lo, ':hi': src.hi });
        } else if (lo !== undefined) {
          range = ' AND #sk >= :lo';
          values[':lo'] = lo;
        } else if (src.hi !== undefined) {
          range = ' AND #sk <= :hi';
          values[':hi'] = src.hi;
        }
        if (lo !== undefined && src.hi !== undefined && lo > src.hi)
          return { items: [] as Array<{ key: string; item: Item }> };
        const filters = Object.entries(opts.filter ?? {});
        const found: Array<{ key: string; item: Item }> = [];
        let start: Record<string, unknown> | undefined;
        for (let read = 0; read < (filters.length > 0 ? FILTERED_READS : 1); read++) {
          const out = await this.doc.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: src.index,
              ConsistentRead: opts.consistent || undefined,
              KeyConditionExpression: `#pk = :pk${range}`,
              FilterExpression:
                filters.length > 0
                  ? filters.map((_, i) => `#f${i} = :f${i}`).join(' AND ')
                  : undefined,
              ExpressionAttributeNames: {
                '#pk': src.index ? `${src.index}pk` : 'pk',
                ...(range ? { '#sk': skName } : {}),
                ...Object.fromEntries(filters.map(([k], i) => [`#f${i}`, k])),
              },
              ExpressionAttributeValues: {
                ...values,
                ...Object.fromEntries(filters.map(([, v], i) => [`:f${i}`, v])),
              },
              ScanIndexForward: !opts.descending,
              // One more than the page: a source that has more says so without another read.
              // DynamoDB applies Limit before the filter: a filtered source whose first read
              // came back short reads once more, further (see FILTERED_EVALUATE).
              Limit: read === 0 ? page.limit + 1 : FILTERED_EVALUATE,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of out.Items ?? []) found.push({ key: item[skName] as string, item });
          start = out.LastEvaluatedKey;
          if (!start || found.length > page.limit) break;
        }
        return { items: found, frontier: start?.[skName] as string | undefined };
      }),
    );
    // How far every source has been read: the nearest of the last keys of those that have more.
    let cut: string | undefined;
    for (const r of reads)
      if (r.frontier !== undefined && (cut === undefined || before(r.frontier, cut)))
        cut = r.frontier;
    const merged = new Map<string, Item>();
    for (const r of reads)
      for (const { key, item } of r.items)
        if (cut === undefined || !before(cut, key)) merged.set(key, item);
    const keys = [...merged.keys()].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    const taken = keys.slice(0, page.limit);
    const items = taken.map((k) => of(merged.get(k)!));
    if (taken.length === page.limit && (keys.length > page.limit || cut !== undefined))
      return { items, next: taken[taken.length - 1] };
    return cut !== undefined ? { items, next: cut } : { items };
  }

  /**
   * One page of a gsi3 partition. The cursor is the key to start after, as `queryAudit` writes
   * it, and is read back with the same checks.
   */
  protected async gsi3Page<T>(
    partition: string,
    page: PageRequest,
    input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'>,
  ): Promise<Page<T>> {
    const start = page.cursor ? readCursor(page.cursor, 'gsi3', [partition]).key : undefined;
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi3',
        ...input,
        Limit: page.limit,
        ExclusiveStartKey: start,
      }),
    );
    const items = (out.Items ?? []).map((i) => strip<T>(i)!);
    return out.LastEvaluatedKey
      ? { items, cursor: encodeCursor({ p: partition, k: out.LastEvaluatedKey }) }
      : { items };
  }
}
