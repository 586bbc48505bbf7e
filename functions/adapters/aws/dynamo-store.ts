import {
  DynamoDBClient,
  TransactionCanceledException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type {
  AccessRequest,
  AuditEvent,
  DataProduct,
  Domain,
  FulfilmentProgress,
  Grant,
  Membership,
  User,
} from '../../domain/model';
import { conflict, notFound, unavailable, unprocessable, validation } from '../../domain/errors';
import { GLOBAL_CHAIN, sealChain, type ChainHead } from '../../domain/audit-chain';
import { detailJson, eventWithDetailJson } from '../../domain/detail-json';
import { listPendingDue, PENDING_DUE_KEYS, pendingDueKeys } from './pending-due';
import type {
  AuditQuery,
  AuthzState,
  ConfigurationRecord,
  ConfigurationWrite,
  Expected,
  ExtensionLock,
  OpenCount,
  Page,
  PageRequest,
  Store,
} from '../../ports/store';

/**
 * One table, overloaded keys. Every listing the API serves is a Query on a key or an index;
 * nothing on a request path scans.
 *
 *   item        pk                  sk                     gsi1 (pk / sk)                gsi2 (pk / sk)             gsi3 (pk / sk)
 *   domain      DOMAIN              <id>
 *   user        USER                <id>
 *   membership  MEMBERSHIP          <domain>#<user>#<role>
 *   product     PRODUCT#<id>        META                   PRODUCTS#<domain> / <id>
 *   request     REQUEST#<id>        META                   REQUESTER#<user> / <at>#<id>  REQDOMAIN#<d> / <at>#<id> PENDING#<d> / <at>#<id> (while pending), INFLIGHT / <updatedAt>#<id> (while APPROVED|GRANTING)
 *   grant       GRANT#<id>          META                   GRANTEE#<user> / <at>#<id>    GRANTDOMAIN#<d> / <at>#<id> ACTIVEGRANT|ENDINGGRANT / <expiresAt>#<id> (while ACTIVE|REVOKING)
 *   audit       REQUEST#<id>|AUDIT  EVENT#<at>#<id>        CHAIN#<chain> / <seq, 12 digits> AUDIT#<d> / <at>#<id>  AUDITDAY#<yyyy-mm-dd> / <at>#<id>
 *   chain head  CHAIN#<chain>       HEAD
 *   authz state POLICY              CURRENT                (generation; version, policySeq, at of the policy in force)
 *   config      CONFIGURATION       APPLIED                (version and at of the configuration applied; seq)
 *   refusals    REFUSALS#<user>     <action>                                                                         REFUSALWINDOW / <until> (while count > recorded)
 *
 * Pending requests are also in gsi5 under PENDINGDUE, keyed by their next deadline (escalation or
 * timeout), for the sweeper: see pending-due.ts.
 *
 * Audit events are hash-chained, one chain per domain ('*' for global events); the head item is
 * put in the same transaction as every audited write, conditional on the head read. See
 * domain/audit-chain.ts for the design. An audit item holds the event's detail as JSON text
 * (`detailJson`, see domain/detail-json.ts); items written before that hold it as a map
 * (`detail`), and read as they are.
 *
 * Refusals of one caller for one action are counted per window (`from`, `until`, `count`,
 * `recorded`: how many of them are in the trail). A window is in gsi3 under REFUSALWINDOW, keyed
 * by its end, while it counts refusals not yet in the trail, so the sweep finds the ended ones
 * with a Query (countRefusal, flushRefusals).
 *
 * The authorization state is what every deciding process reads (one strongly consistent GetItem
 * of an item of about 150 bytes) before the decisions of a call. Its `generation` is incremented
 * (ADD) in the same transaction as every membership write and domain registration, listed after
 * the changed item, so it cannot move without the change nor the change land without it. A GetItem is
 * serializable with transactions (DynamoDB's isolation levels): a process that reads generation N
 * reads it after transaction N has committed as a whole, and the strongly consistent Query of the
 * memberships it issues next sees that transaction's membership write.
 */
/**
 * The document client every Meshgate table access uses. A document client shares its settings
 * with every other one made from the same DynamoDB client (the SDK keeps them on the client's
 * config), so all of them are made here, with the same settings.
 */
export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export const TABLE_KEYS = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  ...PENDING_DUE_KEYS,
] as const;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const gsi = (n: number) => ({
    IndexName: `gsi${n}`,
    KeySchema: [
      { AttributeName: `gsi${n}pk`, KeyType: 'HASH' as const },
      { AttributeName: `gsi${n}sk`, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: TABLE_KEYS.map((k) => ({
      AttributeName: k,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi(1), gsi(2), gsi(3), gsi(5)],
  };
}

type Item = Record<string, unknown>;

const strip = <T>(item: Item | undefined): T | undefined => {
  if (!item) return undefined;
  const copy = { ...item };
  for (const k of TABLE_KEYS) delete copy[k];
  delete copy.kind;
  return copy as T;
};

const requestItem = (r: AccessRequest): Item => ({
  ...r,
  kind: 'request',
  pk: `REQUEST#${r.id}`,
  sk: 'META',
  gsi1pk: `REQUESTER#${r.requester}`,
  gsi1sk: `${r.createdAt}#${r.id}`,
  gsi2pk: `REQDOMAIN#${r.domain}`,
  gsi2sk: `${r.createdAt}#${r.id}`,
  ...(r.status === 'PENDING'
    ? { gsi3pk: `PENDING#${r.domain}`, gsi3sk: `${r.createdAt}#${r.id}` }
    : {}),
  ...(r.status === 'APPROVED' || r.status === 'GRANTING'
    ? { gsi3pk: 'INFLIGHT', gsi3sk: `${r.updatedAt}#${r.id}` }
    : {}),
  ...pendingDueKeys(r),
});

const productItem = (p: DataProduct): Item => ({
  ...p,
  kind: 'product',
  pk: `PRODUCT#${p.id}`,
  sk: 'META',
  gsi1pk: `PRODUCTS#${p.domain}`,
  gsi1sk: p.id,
});

const seqKey = (seq: number) => String(seq).padStart(12, '0');

/** The event's fields in their order, the detail as its JSON text in the detail's place. */
function auditFields(e: AuditEvent): Item {
  const fields: Item = {};
  for (const k of Object.keys(e)) {
    if (k === 'detail') fields.detailJson = detailJson(e.detail);
    else fields[k] = (e as unknown as Item)[k];
  }
  return fields;
}

const NOT_EVENT_FIELDS: ReadonlySet<string> = new Set([...TABLE_KEYS, 'kind', 'detailJson']);

/**
 * An audit event from its item: the item without its keys, the detail parsed from its JSON text
 * (the event remembers the text, for exports). A `detail` map beside the text (written by hand:
 * Meshgate writes only the text) is what the event holds, so that the hash check judges it. Text
 * that is not JSON (edited by hand) is the detail as it is, and fails the hash check.
 */
export function auditEventOf(item: Item): AuditEvent {
  const json = item.detailJson;
  if (typeof json !== 'string') return strip<AuditEvent>(item)!;
  let detail: unknown = json;
  let e: Item = {};
  try {
    detail = JSON.parse(json);
    // The text is embedded in exports as it is only when it is one line, as Meshgate writes it
    // (JSON.parse also takes raw line breaks between tokens, which would split a JSON Lines row).
    if (!/[\r\n]/.test(json)) e = eventWithDetailJson(detail, json);
  } catch {
    // Not JSON: kept as the string it is.
  }
  const map = 'detail' in item;
  for (const k in item) {
    if (k === 'detailJson' && !map) e.detail = detail;
    else if (!NOT_EVENT_FIELDS.has(k)) e[k] = item[k];
  }
  return e as unknown as AuditEvent;
}

const auditItem = (e: AuditEvent): Item => ({
  ...auditFields(e),
  kind: 'audit',
  ...(e.chain !== undefined && e.seq !== undefined
    ? { gsi1pk: `CHAIN#${e.chain}`, gsi1sk: seqKey(e.seq) }
    : {}),
  pk: e.requestId ? `REQUEST#${e.requestId}` : `AUDIT#${e.id}`,
  sk: `EVENT#${e.at}#${e.id}`,
  gsi2pk: `AUDIT#${e.domain}`,
  gsi2sk: `${e.at}#${e.id}`,
  gsi3pk: `AUDITDAY#${e.at.slice(0, 10)}`,
  gsi3sk: `${e.at}#${e.id}`,
});

const grantItem = (g: Grant): Item => ({
  ...g,
  kind: 'grant',
  pk: `GRANT#${g.id}`,
  sk: 'META',
  gsi1pk: `GRANTEE#${g.requester}`,
  gsi1sk: `${g.grantedAt}#${g.id}`,
  gsi2pk: `GRANTDOMAIN#${g.domain}`,
  gsi2sk: `${g.grantedAt}#${g.id}`,
  ...(g.status === 'ACTIVE' ? { gsi3pk: 'ACTIVEGRANT', gsi3sk: `${g.expiresAt}#${g.id}` } : {}),
  ...(g.status === 'REVOKING' ? { gsi3pk: 'ENDINGGRANT', gsi3sk: `${g.expiresAt}#${g.id}` } : {}),
});

const membershipKey = (m: Membership) => ({
  pk: 'MEMBERSHIP',
  sk: `${m.domain}#${m.user}#${m.role}`,
});
const membershipItem = (m: Membership): Item => ({ ...m, kind: 'membership', ...membershipKey(m) });
const AUTHZ_KEY = { pk: 'POLICY', sk: 'CURRENT' } as const;
const CONFIGURATION_KEY = { pk: 'CONFIGURATION', sk: 'APPLIED' } as const;
const domainItem = (d: Domain): Item => ({ ...d, kind: 'domain', pk: 'DOMAIN', sk: d.id });

/** The refusal counts: one item per caller and action, `REFUSALS#<user>` / `<action>`. */
const REFUSALS = 'REFUSALS#';
/** The gsi3 partition of the refusal windows whose count is not all in the trail yet. */
const REFUSAL_WINDOWS = 'REFUSALWINDOW';
/** A refusal count item: the window (from, until), refusals counted, and how many are in the trail. */
interface RefusalWindow {
  from: string;
  until: string;
  count: number;
  recorded: number;
}

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];
type Reasons = Array<{ Code?: string }> | undefined;
const reasonsOf = (err: unknown): Reasons =>
  (err as { CancellationReasons?: Array<{ Code?: string }> })?.CancellationReasons;

/** Retrying a lost race for a chain head: exponential backoff with full jitter. */
export const CHAIN_RETRY = { attempts: 60, baseMs: 5, capMs: 200 };
const MAX_TRANSACTION_ITEMS = 100;

const isConditionFailure = (err: unknown) =>
  err instanceof TransactionCanceledException ||
  (err as { name?: string })?.name === 'ConditionalCheckFailedException' ||
  (err as { name?: string })?.name === 'TransactionCanceledException';

const extensionOpen = (lock: ExtensionLock) =>
  conflict(
    'EXTENSION_OPEN',
    `Another extension of grant ${lock.grantId} is already open; it must be decided first.`,
  );

/** Lost a race for the last places: others' submissions took them between the read and the write. */
const openRequestLimit = (open: OpenCount) =>
  unprocessable(
    'OPEN_REQUEST_LIMIT',
    `${open.user} already has the most open requests the policy allows (${open.max}). Cancel one, or wait until one is decided, then ask again.`,
    { maxOpenRequests: open.max },
  );

const openCountKey = (user: string) => ({ pk: `OPENREQUESTS#${user}`, sk: 'COUNT' });

const encodeCursor = (c: { p: string; k?: Record<string, unknown> }) =>
  Buffer.from(JSON.stringify(c)).toString('base64url');
const badCursor = (why = 'is not one this API returned') =>
  validation('BAD_CURSOR', `The cursor ${why}.`);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where an audit query resumes, from a cursor it handed out: the index of the partition among the
 * query's, and the index key to start after (none: the start of that partition). Anything but
 * what `queryAudit` writes is refused before it can reach DynamoDB: the cursor comes from the
 * caller, and a key that is not an object of the index's four key strings, in that partition,
 * would otherwise fail inside the SDK or the service.
 */
function readCursor(
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

const defaultClient = new DynamoDBClient({});

export class DynamoStore implements Store {
  private readonly doc: DynamoDBDocumentClient;
  /** Per chain, the tail of this instance's queue of writers (see withChains). */
  private readonly chainTails = new Map<string, Promise<void>>();

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient = defaultClient,
  ) {
    this.doc = documentClient(client);
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    return strip<T>(out.Item);
  }

  private async put(item: Item): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  /** Runs a query to the end, following pages. */
  private async queryAll<T>(
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

  private byKey<T>(
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
  private bumpGeneration(): TransactItem {
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

  putDomain = (d: Domain) => this.put(domainItem(d));
  async createDomain(d: Domain, audit: AuditEvent): Promise<void> {
    try {
      await this.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: domainItem(d),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
        [audit],
        [this.bumpGeneration()],
        () => GLOBAL_CHAIN,
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw conflict('DOMAIN_EXISTS', `Domain ${d.id} is already registered.`, err);
      throw err;
    }
  }

  async saveDomain(d: Domain, audit: AuditEvent): Promise<void> {
    await this.writeAudited(
      [{ Put: { TableName: this.tableName, Item: domainItem(d) } }],
      [audit],
      [this.bumpGeneration()],
      () => GLOBAL_CHAIN,
    );
  }

  async readAuthzState(): Promise<AuthzState> {
    const item = await this.get<{
      generation?: number;
      version?: string;
      policySeq?: number;
      at?: string;
    }>(AUTHZ_KEY.pk, AUTHZ_KEY.sk);
    return {
      generation: item?.generation ?? 0,
      // An item recorded before policySeq existed holds its version with seq 0.
      policy: item?.version
        ? { version: item.version, seq: item.policySeq ?? 0, at: item.at ?? '' }
        : undefined,
    };
  }

  async claimPolicyVersion(
    policy: { version: string; at: string },
    expected: AuthzState['policy'],
    audit: AuditEvent,
  ): Promise<boolean> {
    const condition = !expected
      ? { ConditionExpression: 'attribute_not_exists(#version)' }
      : expected.seq === 0
        ? {
            ConditionExpression: '#version = :expectedVersion AND attribute_not_exists(#seq)',
            values: { ':expectedVersion': expected.version },
          }
        : { ConditionExpression: '#seq = :expectedSeq', values: { ':expectedSeq': expected.seq } };
    try {
      await this.writeAudited(
        [
          {
            Update: {
              TableName: this.tableName,
              Key: AUTHZ_KEY,
              UpdateExpression: 'SET #kind = :kind, #version = :version, #seq = :seq, #at = :at',
              ConditionExpression: condition.ConditionExpression,
              ExpressionAttributeNames: {
                '#kind': 'kind',
                '#version': 'version',
                '#seq': 'policySeq',
                '#at': 'at',
              },
              ExpressionAttributeValues: {
                ':kind': 'authz',
                ':version': policy.version,
                ':seq': (expected?.seq ?? 0) + 1,
                ':at': policy.at,
                ...condition.values,
              },
            },
          },
        ],
        [audit],
        [],
        () => GLOBAL_CHAIN,
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed')
        return false;
      throw err;
    }
  }

  getDomain = (id: string) => this.get<Domain>('DOMAIN', id);
  listDomains = () => this.byKey<Domain>('DOMAIN', undefined, false, true);

  async readConfiguration(): Promise<ConfigurationRecord> {
    const item = await this.get<{ version?: string; seq?: number }>(
      CONFIGURATION_KEY.pk,
      CONFIGURATION_KEY.sk,
    );
    return { version: item?.version, seq: item?.seq ?? 0 };
  }

  async writeConfiguration(
    changes: ConfigurationWrite[],
    expected: ConfigurationRecord,
    done?: { version: string; audit: AuditEvent },
  ): Promise<boolean> {
    // First in the transaction, so that its cancellation reason is the first.
    const record: TransactItem = {
      Update: {
        TableName: this.tableName,
        Key: CONFIGURATION_KEY,
        UpdateExpression: `SET #kind = :kind, #seq = :next${done ? ', #version = :version, #at = :at' : ''}`,
        ConditionExpression: expected.seq === 0 ? 'attribute_not_exists(#seq)' : '#seq = :seq',
        ExpressionAttributeNames: {
          '#kind': 'kind',
          '#seq': 'seq',
          ...(done ? { '#version': 'version', '#at': 'at' } : {}),
        },
        ExpressionAttributeValues: {
          ':kind': 'configuration',
          ':next': expected.seq + 1,
          ...(expected.seq === 0 ? {} : { ':seq': expected.seq }),
          ...(done ? { ':version': done.version, ':at': done.audit.at } : {}),
        },
      },
    };
    const writes: TransactItem[] = changes.map((c) => ({
      Put: {
        TableName: this.tableName,
        Item: 'domain' in c ? domainItem(c.domain) : membershipItem(c.membership),
      },
    }));
    // Domain registrations and updates go to the global chain, as createDomain's and saveDomain's.
    const domainEvents = new Set(changes.filter((c) => 'domain' in c).map((c) => c.audit));
    try {
      await this.writeAudited(
        [record, ...writes],
        [...changes.map((c) => c.audit), ...(done ? [done.audit] : [])],
        changes.length > 0 ? [this.bumpGeneration()] : [],
        (e) => (domainEvents.has(e) ? GLOBAL_CHAIN : e.domain),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed')
        return false;
      throw err;
    }
  }

  putProduct = (p: DataProduct) => this.put(productItem(p));

  async saveProduct(p: DataProduct, audit: AuditEvent): Promise<void> {
    await this.writeAudited(
      [{ Put: { TableName: this.tableName, Item: productItem(p) } }],
      [audit],
    );
  }
  getProduct = (id: string) => this.get<DataProduct>(`PRODUCT#${id}`, 'META');
  listProducts = (domain: string) => this.byKey<DataProduct>(`PRODUCTS#${domain}`, 'gsi1');

  putUser = (u: User) => this.put({ ...u, kind: 'user', pk: 'USER', sk: u.id });
  getUser = (id: string) => this.get<User>('USER', id);
  listUsers = () => this.byKey<User>('USER');

  async putMembership(m: Membership, audit: AuditEvent): Promise<void> {
    await this.writeAudited(
      [
        {
          Put: {
            TableName: this.tableName,
            Item: membershipItem(m),
          },
        },
      ],
      [audit],
      [this.bumpGeneration()],
    );
  }

  async deleteMembership(m: Membership, audit: AuditEvent): Promise<void> {
    try {
      await this.writeAudited(
        [
          {
            Delete: {
              TableName: this.tableName,
              Key: membershipKey(m),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
        [audit],
        [this.bumpGeneration()],
      );
    } catch (err) {
      const reasons = reasonsOf(err);
      if (isConditionFailure(err) && reasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw notFound('MEMBERSHIP_NOT_FOUND', `${m.user} is not ${m.role} of ${m.domain}.`);
      }
      throw err;
    }
  }

  listMemberships = () => this.byKey<Membership>('MEMBERSHIP', undefined, false, true);

  async createRequest(
    request: AccessRequest,
    audit: AuditEvent[],
    lock?: ExtensionLock,
    open?: OpenCount,
  ): Promise<void> {
    const lockItems = this.lockItems(lock);
    try {
      await this.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: requestItem(request),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...lockItems,
          ...this.openCountItems(open),
        ],
        audit,
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        if (lock && reasonsOf(err)?.[1]?.Code === 'ConditionalCheckFailed')
          throw extensionOpen(lock);
        if (open && reasonsOf(err)?.[1 + lockItems.length]?.Code === 'ConditionalCheckFailed')
          throw openRequestLimit(open);
        throw conflict('REQUEST_EXISTS', `Request ${request.id} already exists.`, err);
      }
      throw err;
    }
  }

  /**
   * The grant's extension lock, one item per grant: claimed with a put conditional on its absence
   * (so two extensions racing for one grant cannot both be opened), released by its holder only.
   */
  private lockItems(lock: ExtensionLock | undefined): TransactItem[] {
    if (!lock) return [];
    const Key = { pk: `GRANT#${lock.grantId}`, sk: 'EXTENSION' };
    if (lock.op === 'claim') {
      return [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...Key, kind: 'extensionlock', requestId: lock.requestId },
            ConditionExpression: 'attribute_not_exists(pk) OR requestId = :holder',
            ExpressionAttributeValues: { ':holder': lock.requestId },
          },
        },
      ];
    }
    return [
      {
        Delete: {
          TableName: this.tableName,
          Key,
          ConditionExpression: 'attribute_not_exists(pk) OR requestId = :holder',
          ExpressionAttributeValues: { ':holder': lock.requestId },
        },
      },
    ];
  }

  /**
   * The requester's count of open requests (item `OPENREQUESTS#<user>` / `COUNT`): a claim adds
   * one, conditional on the count being below the limit, so of simultaneous submissions only as
   * many as there are places left go through; a release takes one away. Both in the transaction
   * of the request's write.
   */
  private openCountItems(open: OpenCount | undefined): TransactItem[] {
    if (!open) return [];
    const claim = open.op === 'claim';
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: openCountKey(open.user),
          UpdateExpression: 'SET #kind = :kind ADD #open :delta',
          ...(claim
            ? {
                ConditionExpression: 'attribute_not_exists(#open) OR #open < :max',
                ExpressionAttributeValues: { ':kind': 'opencount', ':delta': 1, ':max': open.max },
              }
            : { ExpressionAttributeValues: { ':kind': 'opencount', ':delta': -1 } }),
          ExpressionAttributeNames: { '#kind': 'kind', '#open': 'open' },
        },
      },
    ];
  }

  async countOpenRequests(user: string): Promise<number> {
    const item = await this.get<{ open?: number }>(openCountKey(user).pk, openCountKey(user).sk);
    return Math.max(0, item?.open ?? 0);
  }

  getRequest = (id: string) => this.get<AccessRequest>(`REQUEST#${id}`, 'META');

  async recordProgress(id: string, progress: FulfilmentProgress): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `REQUEST#${id}`, sk: 'META' },
          UpdateExpression: 'SET #progress = :progress',
          ConditionExpression: '#status = :granting',
          ExpressionAttributeNames: { '#progress': 'progress', '#status': 'status' },
          ExpressionAttributeValues: { ':progress': progress, ':granting': 'GRANTING' },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // moved on (ACTIVE, FAILED...): nothing to note
    }
  }

  async updateRequest(
    next: AccessRequest,
    expected: Expected,
    audit: AuditEvent[],
    grant?: Grant,
    lock?: ExtensionLock,
    open?: OpenCount,
  ): Promise<void> {
    if (next.version !== expected.version + 1)
      throw new Error('updateRequest: next.version must be expected.version + 1');
    try {
      await this.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: requestItem(next),
              ConditionExpression: '#status = :status AND #version = :version',
              ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
              ExpressionAttributeValues: {
                ':status': expected.status,
                ':version': expected.version,
              },
            },
          },
          ...this.lockItems(lock),
          ...this.openCountItems(open),
        ],
        audit,
        grant ? [{ Put: { TableName: this.tableName, Item: grantItem(grant) } }] : [],
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        if (lock && reasonsOf(err)?.[1]?.Code === 'ConditionalCheckFailed')
          throw extensionOpen(lock);
        throw conflict(
          'STALE_REQUEST',
          `Request ${next.id} changed since it was read (expected ${expected.status} v${expected.version}); reload it and try again.`,
          err,
        );
      }
      throw err;
    }
  }

  listRequestsByRequester = (user: string) =>
    this.byKey<AccessRequest>(`REQUESTER#${user}`, 'gsi1', true);
  listRequestsByDomain = (domain: string) =>
    this.byKey<AccessRequest>(`REQDOMAIN#${domain}`, 'gsi2', true);
  listInFlightSince = (before: string, page: PageRequest) =>
    this.gsi3Page<AccessRequest>('INFLIGHT', page, {
      KeyConditionExpression: 'gsi3pk = :p AND gsi3sk < :before',
      ExpressionAttributeValues: { ':p': 'INFLIGHT', ':before': before },
    });

  listPendingDue = (at: string, page: PageRequest) =>
    listPendingDue(this.doc, this.tableName, at, page);
  listPendingByDomain = (domain: string) => this.byKey<AccessRequest>(`PENDING#${domain}`, 'gsi3');

  getGrant = (id: string) => this.get<Grant>(`GRANT#${id}`, 'META');
  listGrantsByDomain = (domain: string) => this.byKey<Grant>(`GRANTDOMAIN#${domain}`, 'gsi2', true);
  listGrantsByRequester = (user: string) => this.byKey<Grant>(`GRANTEE#${user}`, 'gsi1', true);

  listGrantsExpiringBy = (at: string) =>
    this.queryAll<Grant>({
      IndexName: 'gsi3',
      KeyConditionExpression: 'gsi3pk = :p AND gsi3sk <= :at',
      ExpressionAttributeValues: { ':p': 'ACTIVEGRANT', ':at': `${at}#\uffff` },
    });

  listGrantsEnding = (page: PageRequest) =>
    this.gsi3Page<Grant>('ENDINGGRANT', page, {
      KeyConditionExpression: 'gsi3pk = :p',
      ExpressionAttributeValues: { ':p': 'ENDINGGRANT' },
    });

  /**
   * One page of a gsi3 partition. The cursor is the key to start after, as `queryAudit` writes
   * it, and is read back with the same checks.
   */
  private async gsi3Page<T>(
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

  async countRefusal(
    user: string,
    action: string,
    at: { now: string; until: string },
    refusal: AuditEvent,
    summary: (count: number, window: { from: string; to: string }) => AuditEvent,
  ): Promise<boolean> {
    const Key = { pk: `${REFUSALS}${user}`, sk: action };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        // Within the open window: counted, and listed for the sweep (gsi3, keyed by the window's
        // end) until its count is in the trail; nothing else written.
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'ADD #n :one SET gsi3pk = :w, gsi3sk = #until',
            ConditionExpression: '#until > :now',
            ExpressionAttributeNames: { '#n': 'count', '#until': 'until' },
            ExpressionAttributeValues: { ':one': 1, ':now': at.now, ':w': REFUSAL_WINDOWS },
          }),
        );
        return false;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const ended = await this.get<RefusalWindow>(Key.pk, Key.sk);
      const unrecorded = ended ? ended.count - ended.recorded : 0;
      const events = [
        ...(ended && unrecorded > 0
          ? [summary(unrecorded, { from: ended.from, to: ended.until })]
          : []),
        refusal,
      ];
      try {
        // The new window, conditional on the ended one as read: its count cannot move, nor the
        // sweep sum it up, meanwhile without this write failing (and being tried again from a
        // fresh read). The new item is not listed for the sweep: all it counts is recorded.
        await this.writeAudited(
          [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...Key,
                  kind: 'refusalcount',
                  from: at.now,
                  until: at.until,
                  count: 1,
                  recorded: 1,
                },
                ...(ended
                  ? {
                      ConditionExpression: '#n = :n AND #r = :r AND #until = :until',
                      ExpressionAttributeNames: {
                        '#n': 'count',
                        '#r': 'recorded',
                        '#until': 'until',
                      },
                      ExpressionAttributeValues: {
                        ':n': ended.count,
                        ':r': ended.recorded,
                        ':until': ended.until,
                      },
                    }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
          ],
          events,
        );
        return true;
      } catch (err) {
        if (!(isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed'))
          throw err;
      }
    }
    throw unavailable('AUDIT_CHAIN_BUSY', `The refusal count of ${user} is busy; try again.`);
  }

  async flushRefusals(
    now: string,
    limit: number,
    summary: (
      user: string,
      action: string,
      count: number,
      window: { from: string; to: string },
    ) => AuditEvent,
  ): Promise<number> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :p AND gsi3sk <= :now',
        ExpressionAttributeValues: { ':p': REFUSAL_WINDOWS, ':now': now },
        Limit: limit,
      }),
    );
    let flushed = 0;
    for (const listed of out.Items ?? []) {
      const Key = { pk: listed.pk as string, sk: listed.sk as string };
      // The index is read eventually consistent: the window as it is now, from the table.
      const w = await this.get<RefusalWindow>(Key.pk, Key.sk);
      if (!w || w.until > now || w.count <= w.recorded) continue;
      try {
        await this.writeAudited(
          [
            {
              Update: {
                TableName: this.tableName,
                Key,
                UpdateExpression: 'SET #r = :n REMOVE gsi3pk, gsi3sk',
                ConditionExpression: '#n = :n AND #r = :r AND #until = :until',
                ExpressionAttributeNames: { '#n': 'count', '#r': 'recorded', '#until': 'until' },
                ExpressionAttributeValues: { ':n': w.count, ':r': w.recorded, ':until': w.until },
              },
            },
          ],
          [
            summary(Key.pk.slice(REFUSALS.length), Key.sk, w.count - w.recorded, {
              from: w.from,
              to: w.until,
            }),
          ],
        );
        flushed++;
      } catch (err) {
        // Counted again, or summed up by a new window or another sweep, since it was read: a
        // count still unrecorded is left for the next sweep.
        if (!(isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed'))
          throw err;
      }
    }
    return flushed;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.writeAudited([], [event]);
  }

  /** The events of one chain in seq order, from just after `afterSeq` (default: from the start). */
  listChain = (chain: string, afterSeq = 0) =>
    this.queryAll<AuditEvent>(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk > :after',
        ExpressionAttributeValues: { ':p': `CHAIN#${chain}`, ':after': seqKey(afterSeq) },
      },
      auditEventOf,
    );

  private async readHead(chain: string): Promise<ChainHead | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `CHAIN#${chain}`, sk: 'HEAD' },
        ConsistentRead: true,
      }),
    );
    return out.Item ? { seq: out.Item.seq as number, hash: out.Item.hash as string } : undefined;
  }

  /**
   * Writes `before`, the audit events sealed into their chains, `after` and the new chain heads in
   * one transaction. The heads are conditional on what was read; a transaction cancelled only by
   * a head (or by a transient transaction conflict) is retried from a fresh read of the heads.
   * Any other cancellation is thrown as it came, for the caller to map. On success the given
   * events carry their chain, seq, prevHash and hash.
   */
  private async writeAudited(
    before: TransactItem[],
    audit: AuditEvent[],
    after: TransactItem[] = [],
    chainOf: (e: AuditEvent) => string = (e) => e.domain,
  ): Promise<void> {
    const chains = [...new Set(audit.map(chainOf))];
    const total = before.length + audit.length + after.length + chains.length;
    if (total > MAX_TRANSACTION_ITEMS) {
      throw validation(
        'TOO_MANY_ITEMS',
        `One write may carry at most ${MAX_TRANSACTION_ITEMS} items with its audit events and chain heads; this one has ${total}.`,
      );
    }
    if (audit.length === 0) {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [...before, ...after] }));
      return;
    }
    await this.withChains(chains, () => this.writeSealed(before, audit, after, chainOf, chains));
  }

  /**
   * Runs `fn` once this instance's earlier writers of the same chains are done (locks taken in
   * sorted order, so no deadlock). Writers in one process then queue instead of racing for the
   * head and backing off; writers in different processes still race, and the conditional head
   * put keeps that safe.
   */
  private async withChains<T>(chains: string[], fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const c of [...chains].sort()) {
        const prev = this.chainTails.get(c) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((r) => (release = r));
        const tail = prev.then(() => mine);
        this.chainTails.set(c, tail);
        await prev;
        releases.push(() => {
          release();
          if (this.chainTails.get(c) === tail) this.chainTails.delete(c);
        });
      }
      return await fn();
    } finally {
      releases.forEach((r) => r());
    }
  }

  private async writeSealed(
    before: TransactItem[],
    audit: AuditEvent[],
    after: TransactItem[],
    chainOf: (e: AuditEvent) => string,
    chains: string[],
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const heads = await Promise.all(chains.map((c) => this.readHead(c)));
      const sealed = new Array<AuditEvent>(audit.length);
      const headPuts: TransactItem[] = chains.map((chain, ci) => {
        const idx = audit.map((e, i) => (chainOf(e) === chain ? i : -1)).filter((i) => i >= 0);
        const prev = heads[ci];
        const { events, head } = sealChain(
          prev,
          idx.map((i) => audit[i]!),
          chain,
        );
        idx.forEach((i, k) => (sealed[i] = events[k]!));
        return {
          Put: {
            TableName: this.tableName,
            Item: {
              pk: `CHAIN#${chain}`,
              sk: 'HEAD',
              kind: 'chainhead',
              chain,
              seq: head.seq,
              hash: head.hash,
            },
            ...(prev
              ? {
                  ConditionExpression: '#seq = :prevSeq',
                  ExpressionAttributeNames: { '#seq': 'seq' },
                  ExpressionAttributeValues: { ':prevSeq': prev.seq },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        };
      });
      const items: TransactItem[] = [
        ...before,
        ...sealed.map((e) => ({
          Put: {
            TableName: this.tableName,
            Item: auditItem(e),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
        ...after,
        ...headPuts,
      ];
      const firstHead = items.length - headPuts.length;
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        sealed.forEach((e, i) =>
          Object.assign(audit[i]!, {
            chain: e.chain,
            seq: e.seq,
            prevHash: e.prevHash,
            hash: e.hash,
          }),
        );
        return;
      } catch (err) {
        const reasons = reasonsOf(err);
        const lostHeadOnly =
          isConditionFailure(err) &&
          !!reasons &&
          reasons.some(
            (r, i) =>
              (i >= firstHead && r.Code === 'ConditionalCheckFailed') ||
              r.Code === 'TransactionConflict',
          ) &&
          reasons.every(
            (r, i) =>
              !r.Code ||
              r.Code === 'None' ||
              r.Code === 'TransactionConflict' ||
              (i >= firstHead && r.Code === 'ConditionalCheckFailed'),
          );
        if (!lostHeadOnly) throw err;
        if (attempt + 1 >= CHAIN_RETRY.attempts) {
          throw unavailable(
            'AUDIT_CHAIN_BUSY',
            `The audit chain of ${chains.join(', ')} is busy; try again.`,
          );
        }
        const ceiling = Math.min(CHAIN_RETRY.capMs, CHAIN_RETRY.baseMs * 2 ** attempt);
        await new Promise((r) => setTimeout(r, Math.random() * ceiling));
      }
    }
  }

  listRequestAudit = (requestId: string) =>
    this.queryAll<AuditEvent>(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ev)',
        ExpressionAttributeValues: { ':pk': `REQUEST#${requestId}`, ':ev': 'EVENT#' },
      },
      auditEventOf,
    );

  /**
   * Audit events in [from, to). With a domain, one index partition per domain; without, one
   * partition per day, walked in order. The cursor names the partition and the key to resume at.
   */
  async queryAudit(query: AuditQuery): Promise<Page<AuditEvent>> {
    // Sort keys hold full ISO times with milliseconds; compare like with like, so that
    // `2026-11-21T00:00:00Z` includes an event at `2026-11-21T00:00:00.500Z`.
    const q = {
      ...query,
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
    };
    const partitions = q.domain
      ? [`AUDIT#${q.domain}`]
      : days(q.from, q.to).map((d) => `AUDITDAY#${d}`);
    const index = q.domain ? 'gsi2' : 'gsi3';
    const start = q.cursor ? readCursor(q.cursor, index, partitions) : { i: 0 };
    const items: AuditEvent[] = [];
    for (let i = start.i; i < partitions.length; i++) {
      const p = partitions[i]!;
      let key: Record<string, unknown> | undefined = i === start.i ? start.key : undefined;
      do {
        const fromCursor = key !== undefined && key === start.key;
        const out = await this.doc
          .send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index,
              KeyConditionExpression: `${index}pk = :p AND ${index}sk BETWEEN :from AND :to`,
              FilterExpression: q.actor ? 'actor = :actor' : undefined,
              ExpressionAttributeValues: {
                ':p': p,
                ':from': q.from,
                ':to': `${q.to}`,
                ...(q.actor ? { ':actor': q.actor } : {}),
              },
              Limit: q.limit - items.length,
              ExclusiveStartKey: key,
            }),
          )
          .catch((err: unknown) => {
            // A key of the right shape that the index still refuses (one that no item could have).
            if (fromCursor && (err as { name?: string }).name === 'ValidationException')
              throw badCursor();
            throw err;
          });
        for (const it of out.Items ?? []) items.push(auditEventOf(it));
        key = out.LastEvaluatedKey;
        if (items.length >= q.limit) {
          const more = key !== undefined || i < partitions.length - 1;
          return {
            items,
            cursor:
              more && key
                ? encodeCursor({ p, k: key })
                : more
                  ? encodeCursor({ p: partitions[i + 1]! })
                  : undefined,
          };
        }
      } while (key);
    }
    return { items };
  }
}

/** The UTC days touched by [from, to], as yyyy-mm-dd. */
function days(from: string, to: string): string[] {
  const out: string[] = [];
  const end = new Date(to.slice(0, 10) + 'T00:00:00Z').getTime();
  for (let t = new Date(from.slice(0, 10) + 'T00:00:00Z').getTime(); t <= end; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}
