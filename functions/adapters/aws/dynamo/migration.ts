import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  AccessRequest,
  ConsumerAccount,
  DataProduct,
  Domain,
  Grant,
  Membership,
  User,
} from '../../../domain/model';
import {
  auditEventOf,
  auditItem,
  chainHeadItem,
  consumerAccountItem,
  domainItem,
  grantItem,
  holderItem,
  holderKey,
  LAYOUT_KEY,
  membershipItem,
  productItem,
  requestItem,
  strip,
  TABLE_KEYS,
  userItem,
  type Item,
} from './keys';
import { documentClient } from './table';

/**
 * Bringing a table written by an earlier Meshgate to today's keys. Which index partition an item
 * is in follows from its fields (keys.ts); an earlier version put some items in other partitions
 * or in none (gsi4 and gsi5 came later; pending requests were in `PENDING#<domain>` without their
 * stage; audit events were not in `AUDITLOG`; chain heads not in `CHAINHEADS`), and it kept no
 * holder items. The migration reads the table a page at a time and, for each item of a kind whose
 * keys derive from its fields:
 *
 * - sets the index attributes today's item builder gives it and removes those it gives it no
 *   more. Nothing else of the item is written: its fields, an audit event's detail and hash stay
 *   exactly as they were. The update is conditional on the index attributes read, so a write by
 *   the running portal in between (which writes today's keys itself) wins, and the item is read
 *   again and judged anew;
 * - for an ACTIVE grant without its holder item, puts it, in one transaction with a check that the
 *   grant is still ACTIVE with the same expiry (a revocation in between removes no holder that
 *   the migration would then put back).
 *
 * Run it once after deploying the version that reads the new keys; running it again changes
 * nothing. Items of other kinds (locks, counters, notifications, the search index) are written
 * with today's keys by every version that has them, and are left alone.
 */

/** The index attributes: every key attribute but the table's own (pk, sk never move). */
export const INDEX_ATTRIBUTES: readonly string[] = TABLE_KEYS.filter(
  (k) => k !== 'pk' && k !== 'sk',
);

/** Today's item builder of each kind whose keys derive from its fields (keys.ts). */
const BUILDERS: Record<string, (item: Item) => Item> = {
  request: (i) => requestItem(strip<AccessRequest>(i)!),
  grant: (i) => grantItem(strip<Grant>(i)!),
  // gsi1 (a user's ACTIVE grants) came later.
  holder: (i) => holderItem(strip<Grant>(i)!),
  product: (i) => productItem(strip<DataProduct>(i)!),
  audit: (i) => auditItem(auditEventOf(i)),
  chainhead: (i) =>
    chainHeadItem(typeof i.chain === 'string' ? i.chain : String(i.pk).slice('CHAIN#'.length), {
      seq: Number(i.seq),
      hash: String(i.hash),
    }),
  membership: (i) => membershipItem(strip<Membership>(i)!),
  domain: (i) => domainItem(strip<Domain>(i)!),
  user: (i) => userItem(strip<User>(i)!),
  'consumer-account': (i) => consumerAccountItem(strip<ConsumerAccount>(i)!),
};

/** The item as today's builder writes it, for the kinds whose keys derive from their fields. */
export function rebuild(item: Item): Item | undefined {
  const build = Object.hasOwn(BUILDERS, String(item.kind))
    ? BUILDERS[String(item.kind)]
    : undefined;
  return build?.(item);
}

/** What one item needs: index attributes to set and to remove (none: it is current). */
export interface IndexFix {
  key: { pk: string; sk: string };
  set: Record<string, unknown>;
  remove: string[];
}

export type Verdict =
  | { kind: 'current' }
  | { kind: 'fix'; fix: IndexFix }
  /** Not a kind whose keys derive from its fields, or its table key is not today's: left alone. */
  | { kind: 'left'; reason: 'other kind' | 'key shape' };

/** Compares an item's index attributes with today's builder's. Pure. */
export function judge(item: Item): Verdict {
  const want = rebuild(item);
  if (!want) return { kind: 'left', reason: 'other kind' };
  if (want.pk !== item.pk || want.sk !== item.sk) return { kind: 'left', reason: 'key shape' };
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const a of INDEX_ATTRIBUTES) {
    if (want[a] === undefined) {
      if (item[a] !== undefined) remove.push(a);
    } else if (want[a] !== item[a]) set[a] = want[a];
  }
  if (Object.keys(set).length === 0 && remove.length === 0) return { kind: 'current' };
  return { kind: 'fix', fix: { key: { pk: String(item.pk), sk: String(item.sk) }, set, remove } };
}

/** The holder item an ACTIVE grant needs (keys.ts `holderItem`), if the item is one. */
export function holderOf(item: Item): Item | undefined {
  if (item.kind !== 'grant' || item.status !== 'ACTIVE') return undefined;
  return holderItem(strip<Grant>(item)!);
}

export interface MigrationProgress {
  /** Items read so far. */
  scanned: number;
  /** Items whose index attributes were (or, in a dry run, would be) rewritten. */
  rewritten: number;
  /** Holder items put (or that would be). */
  holders: number;
  /** Items already current. */
  current: number;
  /** Items left alone, by reason. */
  left: { 'other kind': number; 'key shape': number };
  /** Rewrites a concurrent write got to first (the item was read again and judged anew). */
  raced: number;
  /** Rewritten items by kind. */
  byKind: Record<string, number>;
  /** Where the next page starts (pass it as `startKey` to resume); absent when the table is done. */
  nextKey?: Record<string, unknown>;
}

export interface MigrationOptions {
  /** Judge and count, write nothing. */
  dryRun?: boolean;
  /** Resume where an earlier run stopped (its last `nextKey`). */
  startKey?: Record<string, unknown>;
  /** Items per Scan page (DynamoDB also stops a page at 1 MB). @default 500 */
  pageSize?: number;
  /** Called after every page. */
  onPage?: (p: Readonly<MigrationProgress>) => void;
}

/** How often one item is read again after a concurrent write before it is reported. */
const MAX_RACES_PER_ITEM = 3;

const isConditionFailure = (err: unknown) =>
  (err as { name?: string })?.name === 'ConditionalCheckFailedException' ||
  (err as { name?: string })?.name === 'TransactionCanceledException';

/** Rewrites the index attributes of `fix`, conditional on those read in `read`. */
async function rewrite(doc: DynamoDBDocumentClient, table: string, read: Item, fix: IndexFix) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const conditions = ['attribute_exists(pk)'];
  INDEX_ATTRIBUTES.forEach((a, i) => {
    names[`#a${i}`] = a;
    if (read[a] === undefined) conditions.push(`attribute_not_exists(#a${i})`);
    else {
      values[`:old${i}`] = read[a];
      conditions.push(`#a${i} = :old${i}`);
    }
    if (a in fix.set) {
      values[`:new${i}`] = fix.set[a];
      sets.push(`#a${i} = :new${i}`);
    }
  });
  const removes = fix.remove.map((a) => `#a${INDEX_ATTRIBUTES.indexOf(a)}`);
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: fix.key,
      UpdateExpression: [
        sets.length ? `SET ${sets.join(', ')}` : '',
        removes.length ? `REMOVE ${removes.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' '),
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
    }),
  );
}

/** Puts an ACTIVE grant's missing holder item, if the grant is still ACTIVE with that expiry. */
async function putHolder(doc: DynamoDBDocumentClient, table: string, grant: Item, holder: Item) {
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: table,
              Key: { pk: grant.pk, sk: grant.sk },
              ConditionExpression: '#status = :active AND expiresAt = :expiresAt',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':active': 'ACTIVE', ':expiresAt': grant.expiresAt },
            },
          },
          {
            Put: {
              TableName: table,
              Item: holder,
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
    return true;
  } catch (err) {
    // The grant ended or changed (its own write keeps its holder right), or the holder is there.
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/**
 * The layout of the table's items that this code writes and reads. It moves with each change that
 * needs `migrateTable` on a table written before it; the table records the layout it holds
 * (LAYOUT_KEY), written by a completed migration and when an embedded store is made. 1: before
 * the record existed (a table without one). 2: each ACTIVE grant's holder item is also in gsi1 as
 * the user's (`ACTIVEGRANTEE#<user>`).
 */
export const LAYOUT_VERSION = 2;

/** The layout the table records, or 1 when it records none (written before the record existed). */
export async function layoutOf(client: DynamoDBClient, table: string): Promise<number> {
  const out = await documentClient(client).send(
    new GetCommand({ TableName: table, Key: LAYOUT_KEY, ConsistentRead: true }),
  );
  return typeof out.Item?.version === 'number' ? out.Item.version : 1;
}

/**
 * Records that the table holds today's layout (after a migration, or in a store made today). A
 * record of this layout or a later one is left as it is: a second run writes nothing, and an older
 * version's run never takes a newer record back.
 */
export async function recordLayout(client: DynamoDBClient, table: string, at: Date) {
  try {
    await documentClient(client).send(
      new PutCommand({
        TableName: table,
        Item: { ...LAYOUT_KEY, kind: 'layout', version: LAYOUT_VERSION, at: at.toISOString() },
        ConditionExpression: 'attribute_not_exists(pk) OR version < :v',
        ExpressionAttributeValues: { ':v': LAYOUT_VERSION },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/**
 * Brings every item of `table` to today's keys (see the top of this file). Reads the table once,
 * a page at a time (a Scan: this is an operator's one-off command, never a request path); writes
 * only what differs. A run that reaches the end (not a dry run) records today's layout.
 */
export async function migrateTable(
  client: DynamoDBClient,
  table: string,
  opts: MigrationOptions = {},
): Promise<MigrationProgress> {
  const doc = documentClient(client);
  const p: MigrationProgress = {
    scanned: 0,
    rewritten: 0,
    holders: 0,
    current: 0,
    left: { 'other kind': 0, 'key shape': 0 },
    raced: 0,
    byKind: {},
    nextKey: opts.startKey,
  };
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        Limit: opts.pageSize ?? 500,
        ExclusiveStartKey: p.nextKey,
      }),
    );
    for (const scanned of page.Items ?? []) {
      p.scanned++;
      await migrateItem(doc, table, scanned, p, opts.dryRun === true);
    }
    p.nextKey = page.LastEvaluatedKey;
    opts.onPage?.(p);
  } while (p.nextKey);
  if (!opts.dryRun) await recordLayout(client, table, new Date());
  return p;
}

async function migrateItem(
  doc: DynamoDBDocumentClient,
  table: string,
  scanned: Item,
  p: MigrationProgress,
  dryRun: boolean,
) {
  let item: Item | undefined = scanned;
  for (let attempt = 0; item; attempt++) {
    const verdict = judge(item);
    if (verdict.kind === 'left') {
      p.left[verdict.reason]++;
      return;
    }
    if (verdict.kind === 'fix') {
      if (!dryRun) {
        try {
          await rewrite(doc, table, item, verdict.fix);
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          p.raced++;
          if (attempt + 1 >= MAX_RACES_PER_ITEM)
            throw new Error(
              `${String(item.pk)} / ${String(item.sk)} changed ${MAX_RACES_PER_ITEM} times while it was being migrated; run the migration again.`,
              { cause: err },
            );
          item = (
            await doc.send(
              new GetCommand({ TableName: table, Key: verdict.fix.key, ConsistentRead: true }),
            )
          ).Item;
          continue;
        }
      }
      p.rewritten++;
      p.byKind[String(item.kind)] = (p.byKind[String(item.kind)] ?? 0) + 1;
    } else p.current++;
    await ensureHolder(doc, table, item, p, dryRun);
    return;
  }
}

async function ensureHolder(
  doc: DynamoDBDocumentClient,
  table: string,
  grant: Item,
  p: MigrationProgress,
  dryRun: boolean,
) {
  const holder = holderOf(grant);
  if (!holder) return;
  const found = await doc.send(
    new GetCommand({
      TableName: table,
      Key: holderKey(strip<Grant>(grant)!),
      ConsistentRead: true,
    }),
  );
  if (found.Item) return;
  if (dryRun || (await putHolder(doc, table, grant, holder))) p.holders++;
}
