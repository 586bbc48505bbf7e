import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type {
  AccessRequest,
  AuditEvent,
  DataProduct,
  ConsumerAccount,
  Domain,
  Grant,
  Membership,
  User,
} from '../../../domain/model';
import { detailJson, eventWithDetailJson } from '../../../domain/detail-json';
import { isInFlight } from '../../../domain/status';
import { currentStage } from '../../../domain/request';
import { PENDING_DUE_KEYS, pendingDueKeys } from '../pending-due';

/**
 * One table, overloaded keys: every key and every item's mapping lives here, so that the
 * aggregate adapters (catalog, memberships, requests and grants, the audit log) and the bulk
 * loader write items exactly alike. Every listing the API serves is a Query on a key or an index,
 * bounded by the page asked for; nothing on a request path scans.
 *
 *   item        pk                  sk                     gsi1 (pk / sk)                gsi2 (pk / sk)             gsi3 (pk / sk)                                     gsi4 (pk / sk)
 *   domain      DOMAIN              <id>
 *   user        USER                <id>
 *   membership  MEMBERSHIP          <domain>#<user>#<role>
 *   product     PRODUCT#<id>        META                   PRODUCTS#<domain> / <id>
 *   request     REQUEST#<id>        META                   REQUESTER#<user> / <at>#<id>  REQDOMAIN#<d> / <at>#<id> PENDING#<d>#<stage> / <at>#<id> (while pending),   PENDINGSTAGE#<stage> / <at>#<id> (while pending),
 *                                                                                                                    INFLIGHT / <updatedAt>#<id> (while APPROVED|GRANTING) REQUESTS / <at>#<id> (otherwise)
 *   grant       GRANT#<id>          META                   GRANTEE#<user> / <at>#<id>    GRANTDOMAIN#<d> / <at>#<id> ACTIVEGRANT|ENDINGGRANT / <expiresAt>#<id>        GRANTS / <grantedAt>#<id>
 *                                                                                                                    (while ACTIVE|REVOKING)
 *   audit       REQUEST#<id>|AUDIT  EVENT#<at>#<id>        CHAIN#<chain> / <seq, 12 dig> AUDIT#<d> / <at>#<id>  AUDITLOG / <at>#<id>                               ACTOR#<actor> / <at>#<id>
 *   holder      HOLDER#<d>#<principal> <grant id>      ACTIVEGRANTEE#<user> / <grantedAt>#<id>   (a copy of each ACTIVE grant: a principal's active grants in a domain; a user's)
 *   chain head  CHAIN#<chain>       HEAD                                                 CHAINHEADS / <chain>
 *   authz state POLICY              CURRENT                (generation; version, policySeq, at of the policy in force)
 *   config      CONFIGURATION       APPLIED                (version and at of the configuration applied; seq)
 *   cursor key  CURSORKEY           CURRENT                (key: 32 random bytes, base64; put once, conditionally)
 *   refusals    REFUSALS#<user>     <action>                                                                         REFUSALWINDOW / <until> (while count > recorded)
 *
 * Access patterns (each one Query, bounded by the page; `<at>#<id>` sort keys are unique, so a
 * page resumes after the last key it handed out):
 * - a requester's requests and grants: gsi1; a domain's requests and grants: gsi2; every request
 *   or grant (callers whose role holds in every domain): the pending stages' gsi4 partitions and
 *   REQUESTS, or GRANTS. A caller who reads k domains costs 1 + k queries merged by sort key
 *   with one cursor; a status filter is a FilterExpression within the page (a page may come back
 *   short, with a cursor: a filtered source reads at most twice, table.ts FILTERED_READS), except
 *   PENDING, served by the pending partitions, and a user's ACTIVE grants (the holder items in
 *   gsi1 ACTIVEGRANTEE#<user>).
 * - an approver's inbox: one gsi3 partition per (domain, stage) they decide, one gsi4 partition
 *   per stage for roles held in every domain (compliance): an owner of one domain costs 1 query.
 * - a domain's members: pk MEMBERSHIP, sk begins with `<domain>#`; a page of domains with their
 *   owners and stewards: one Query of the domains and one of the memberships between the page's
 *   first and last domain. A caller's own memberships come with the authorization state, which
 *   every process holds in memory for the current generation: no read.
 * - grants by expiry: gsi3 ACTIVEGRANT, keyed by expiry, a page at a time.
 * - the audit trail by time: one gsi3 partition AUDITLOG. A single partition takes about 1,000
 *   writes a second (DynamoDB's per-partition limit, which adaptive capacity does not raise for
 *   one key): an audit trail written at a governance portal's rate (a few events per decision)
 *   is far below it, and any window, even 399 days with no event in it, is one Query. By domain:
 *   gsi2; by actor: gsi4. An actor filter within a domain is a FilterExpression within the page.
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
export const TABLE_KEYS = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  'gsi4pk',
  'gsi4sk',
  ...PENDING_DUE_KEYS,
] as const;

export type IndexName = 'gsi1' | 'gsi2' | 'gsi3' | 'gsi4' | 'gsi5';
export const INDEXES: readonly IndexName[] = ['gsi1', 'gsi2', 'gsi3', 'gsi4', 'gsi5'];

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
    GlobalSecondaryIndexes: [gsi(1), gsi(2), gsi(3), gsi(4), gsi(5)],
  };
}

export type Item = Record<string, unknown>;

/** The item without its keys and kind: the record it holds. */
export const strip = <T>(item: Item | undefined): T | undefined => {
  if (!item) return undefined;
  const copy = { ...item };
  for (const k of TABLE_KEYS) delete copy[k];
  delete copy.kind;
  return copy as T;
};

/** The sort key of requests and grants in their listings: time, then id (unique). */
export const timeKey = (at: string, id: string) => `${at}#${id}`;

/** The gsi3 partition of a domain's pending requests at one stage (an approver's inbox). */
export const pendingPartition = (domain: string, stage: string) => `PENDING#${domain}#${stage}`;
/** The gsi4 partition of every domain's pending requests at one stage (roles held everywhere). */
export const pendingStagePartition = (stage: string) => `PENDINGSTAGE#${stage}`;
/** The gsi4 partition of every request not pending. */
export const ALL_REQUESTS = 'REQUESTS';
/** The gsi4 partition of every grant. */
export const ALL_GRANTS = 'GRANTS';
/** The gsi3 partition of the whole audit trail, by time. */
export const AUDIT_LOG = 'AUDITLOG';

export const requestItem = (r: AccessRequest): Item => {
  const stage = r.status === 'PENDING' ? (currentStage(r)?.name ?? 'none') : undefined;
  const at = timeKey(r.createdAt, r.id);
  return {
    ...r,
    kind: 'request',
    pk: `REQUEST#${r.id}`,
    sk: 'META',
    gsi1pk: `REQUESTER#${r.requester}`,
    gsi1sk: at,
    gsi2pk: `REQDOMAIN#${r.domain}`,
    gsi2sk: at,
    ...(stage !== undefined
      ? {
          gsi3pk: pendingPartition(r.domain, stage),
          gsi3sk: at,
          gsi4pk: pendingStagePartition(stage),
          gsi4sk: at,
        }
      : { gsi4pk: ALL_REQUESTS, gsi4sk: at }),
    ...(isInFlight(r.status) ? { gsi3pk: 'INFLIGHT', gsi3sk: timeKey(r.updatedAt, r.id) } : {}),
    ...pendingDueKeys(r),
  };
};

export const productItem = (p: DataProduct): Item => ({
  ...p,
  kind: 'product',
  pk: `PRODUCT#${p.id}`,
  sk: 'META',
  gsi1pk: `PRODUCTS#${p.domain}`,
  gsi1sk: p.id,
});

export const productKey = (id: string) => ({ pk: `PRODUCT#${id}`, sk: 'META' });

export const userItem = (u: User): Item => ({ ...u, kind: 'user', pk: 'USER', sk: u.id });

export const seqKey = (seq: number) => String(seq).padStart(12, '0');

/** The partition of gsi2 that lists every chain head (the start check reads the chains from it). */
export const CHAIN_HEADS = 'CHAINHEADS';

/** The head of one audit hash chain: the seq and hash of its last event (domain/audit-chain.ts). */
export const chainHeadItem = (chain: string, head: { seq: number; hash: string }): Item => ({
  pk: `CHAIN#${chain}`,
  sk: 'HEAD',
  kind: 'chainhead',
  chain,
  seq: head.seq,
  hash: head.hash,
  gsi2pk: CHAIN_HEADS,
  gsi2sk: chain,
});

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

/** The item of a sealed audit event (it carries its chain and seq once sealed). */
export const auditItem = (e: AuditEvent): Item => ({
  ...auditFields(e),
  kind: 'audit',
  ...(e.chain !== undefined && e.seq !== undefined
    ? { gsi1pk: `CHAIN#${e.chain}`, gsi1sk: seqKey(e.seq) }
    : {}),
  pk: e.requestId ? `REQUEST#${e.requestId}` : `AUDIT#${e.id}`,
  sk: `EVENT#${e.at}#${e.id}`,
  gsi2pk: `AUDIT#${e.domain}`,
  gsi2sk: timeKey(e.at, e.id),
  gsi3pk: AUDIT_LOG,
  gsi3sk: timeKey(e.at, e.id),
  gsi4pk: `ACTOR#${e.actor}`,
  gsi4sk: timeKey(e.at, e.id),
});

export const grantItem = (g: Grant): Item => ({
  ...g,
  kind: 'grant',
  pk: `GRANT#${g.id}`,
  sk: 'META',
  gsi1pk: `GRANTEE#${g.requester}`,
  gsi1sk: timeKey(g.grantedAt, g.id),
  gsi2pk: `GRANTDOMAIN#${g.domain}`,
  gsi2sk: timeKey(g.grantedAt, g.id),
  ...(g.status === 'ACTIVE' ? { gsi3pk: 'ACTIVEGRANT', gsi3sk: timeKey(g.expiresAt, g.id) } : {}),
  ...(g.status === 'REVOKING' ? { gsi3pk: 'ENDINGGRANT', gsi3sk: timeKey(g.expiresAt, g.id) } : {}),
  gsi4pk: ALL_GRANTS,
  gsi4sk: timeKey(g.grantedAt, g.id),
});

/**
 * Who holds a permission in a domain's account: one item per ACTIVE grant under
 * `HOLDER#<domain>#<principal>`, written (or removed) in the transaction of every grant write, so
 * that revoking one grant reads the principal's other active grants there, not the domain's.
 * In gsi1 it is also a user's ACTIVE grants, newest first (`ACTIVEGRANTEE#<user>`): "My access"
 * and the search's "I already have access" facet read them with no filter, however many of the
 * user's grants have ended (a status filter within GRANTEE#<user> is applied after Limit).
 */
export const holderKey = (g: Pick<Grant, 'id' | 'domain' | 'principal'>) => ({
  pk: `HOLDER#${g.domain}#${g.principal}`,
  sk: g.id,
});
/** The gsi1 partition of a user's ACTIVE grants (their holder items). */
export const activeGrantsOf = (user: string) => `ACTIVEGRANTEE#${user}`;
export const holderItem = (g: Grant): Item => ({
  ...g,
  kind: 'holder',
  ...holderKey(g),
  gsi1pk: activeGrantsOf(g.requester),
  gsi1sk: timeKey(g.grantedAt, g.id),
});

export const MEMBERSHIPS = 'MEMBERSHIP';
export const membershipKey = (m: Membership) => ({
  pk: MEMBERSHIPS,
  sk: `${m.domain}#${m.user}#${m.role}`,
});
export const membershipItem = (m: Membership): Item => ({
  ...m,
  kind: 'membership',
  ...membershipKey(m),
});
export const AUTHZ_KEY = { pk: 'POLICY', sk: 'CURRENT' } as const;
export const CONFIGURATION_KEY = { pk: 'CONFIGURATION', sk: 'APPLIED' } as const;
export const CURSOR_KEY = { pk: 'CURSORKEY', sk: 'CURRENT' } as const;
/** Which layout of the table's items the table holds (migration.ts, LAYOUT_VERSION). */
export const LAYOUT_KEY = { pk: 'TABLELAYOUT', sk: 'CURRENT' } as const;
export const DOMAINS = 'DOMAIN';
export const domainItem = (d: Domain): Item => ({ ...d, kind: 'domain', pk: DOMAINS, sk: d.id });
export const CONSUMER_ACCOUNTS = 'CONSUMERACCOUNT';
export const consumerAccountItem = (c: ConsumerAccount): Item => ({
  ...c,
  kind: 'consumer-account',
  pk: CONSUMER_ACCOUNTS,
  sk: c.accountId,
});

/** The refusal counts: one item per caller and action, `REFUSALS#<user>` / `<action>`. */
export const REFUSALS = 'REFUSALS#';
/** The gsi3 partition of the refusal windows whose count is not all in the trail yet. */
export const REFUSAL_WINDOWS = 'REFUSALWINDOW';
/** A refusal count item: the window (from, until), refusals counted, and how many are in the trail. */
export interface RefusalWindow {
  from: string;
  until: string;
  count: number;
  recorded: number;
}

export const openCountKey = (user: string) => ({ pk: `OPENREQUESTS#${user}`, sk: 'COUNT' });
export const extensionLockKey = (grantId: string) => ({ pk: `GRANT#${grantId}`, sk: 'EXTENSION' });
