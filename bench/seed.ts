// `npm run seed`: fills an embedded store (the data folder `npm start` reads with
// MESHGATE_DATA_DIR) with a generated mesh: domains with their owners and stewards, products with
// columns, PII columns, tags and classifications, and access requests in every status with their
// grants and audit events. Seeded (`--seed N`): the same options and seed give the same mesh.
//
// Nothing here states a key. Every item is made by the store's own item mapping
// (functions/adapters/aws/dynamo-store.ts: domainItem, userItem, membershipItem, productItem,
// requestItem, grantItem, auditItem, chainHeadItem), and every request is walked to its status by
// the domain's own transitions (functions/domain/lifecycle.ts), which make its audit events; the
// events are sealed into their chains in time order (functions/domain/audit-chain.ts), so the
// start-up chain check and GET /v1/audit/verify pass. Items go straight into the embedded store's
// LevelDB, many thousands per batch (EmbeddedDynamo.bulkPut), before any server serves it.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeTime } from 'ulid';
import { marshall } from '@aws-sdk/util-dynamodb';
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../functions/adapters/aws/dynamo-store';
import { CATALOG_VERSION_KEY } from '../functions/adapters/aws/catalog-version';
import { DynamoSearchIndex } from '../functions/adapters/aws/dynamo-search-index';
import {
  auditItem,
  chainHeadItem,
  domainItem,
  grantItem,
  holderItem,
  membershipItem,
  productItem,
  requestItem,
  userItem,
} from '../functions/adapters/aws/dynamo/keys';
import { ensureTable, startEmbeddedDynamo } from '../functions/adapters/local/embedded-dynamo';
import { recordLayout } from '../functions/adapters/aws/dynamo/migration';
import { DEMO_USERS } from '../functions/adapters/local/demo-mesh';
import { GLOBAL_CHAIN, sealChain } from '../functions/domain/audit-chain';
import {
  activate,
  cancel,
  deny,
  end,
  expire,
  fail,
  orThrow,
  recordApproval,
  revoke,
  startGranting,
  submit,
  SYSTEM,
  type Change,
  type DurationLimit,
  type LifecycleEvent,
  type Outcome,
  type SubmitPolicy,
} from '../functions/domain/lifecycle';
import type {
  AccessRequest,
  AuditEvent,
  Classification,
  Column,
  DataProduct,
  Decision,
  Domain,
  Duration,
  Grant,
  Membership,
  RequestStatus,
  RuleRef,
  Scope,
  Stage,
  User,
} from '../functions/domain/model';
import { prng, type Rng } from './lib';

export interface SeedOptions {
  /** The data folder, as MESHGATE_DATA_DIR: the store goes in its `dynamodb` folder. */
  dataDir: string;
  domains: number;
  products: number;
  requests: number;
  seed: number;
  /** The time the mesh is seeded at: every event is before it, every ACTIVE grant ends after it. */
  now?: Date;
  /** How far back the requests go, in days. */
  days?: number;
  tableName?: string;
  /** Progress lines (every few seconds) and the summary. */
  log?: (line: string) => void;
}

export interface SeedReport {
  dataDir: string;
  seconds: number;
  /** CPU time of the seeding process (user + system, every thread: LevelDB compacts in its own). */
  cpuSeconds: number;
  items: number;
  itemsPerSecond: number;
  /** Items written, by the store's kind. */
  byKind: Record<string, number>;
  requestsByStatus: Partial<Record<RequestStatus, number>>;
  grantsByStatus: Partial<Record<Grant['status'], number>>;
  chains: number;
  /** The search index the seed published (as a sync that changed the catalog does). */
  searchIndex?: { version: number; products: number; bytes: number; seconds: number };
  /** Who and what to look at: the busiest requester, domain (and its owner), a product. */
  sample: {
    requester: string;
    requesterRequests: number;
    domain: string;
    domainOwner: string;
    domainRequests: number;
    product: string;
    compliance: string;
    auditor: string;
    admin: string;
    searchWord: string;
  };
}

export const SEED_HELP = `npm run seed -- --data-dir DIR [options]

Fills a new embedded store (the folder npm start reads with MESHGATE_DATA_DIR=DIR) with a
generated mesh: domains with owners and stewards, data products (columns, PII columns, tags,
classifications), access requests in every status with their grants and hash-chained audit
events. Items are made by the store's item mapping and the domain's transitions, and written
straight into the store's LevelDB in large batches. The counts, the time taken and who to sign
in as go to DIR/seed-report.json. About 7 items a request; 1,000 to 5,000 items/s on 2 cores
(10,000 requests: seconds to a minute; 1,000,000: tens of minutes; see docs/benchmarks.md).

Options:
  --data-dir DIR     the data folder (required; must not hold a store yet)
  --domains N        domains (default 20)
  --products N       data products, spread over the domains, some domains busier (default 1000)
  --requests N       access requests, spread over the products (default 10000)
  --seed N           seed of the generator: the same options and seed give the same mesh (default 1)
  --days N           how far back the requests go (default 365)
  --now ISO-TIME     the time the mesh is seeded at (default: now); ACTIVE grants end after it
  --help             this text

Example: npm run seed -- --data-dir /tmp/big --domains 1000 --products 100000 --requests 1000000
then:    MESHGATE_DATA_DIR=/tmp/big npm start   (sign in as alice, carol, dave or erin, or any
         seeded user: the summary names the busiest requester and domain owner)
`;

/** The command line's options; throws with a message for a bad one. */
export function parseSeedArgs(args: readonly string[]): SeedOptions | 'help' {
  if (args.includes('--help') || args.includes('-h')) return 'help';
  const value = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  const known = [
    '--data-dir',
    '--domains',
    '--products',
    '--requests',
    '--seed',
    '--days',
    '--now',
  ];
  for (const a of args)
    if (a.startsWith('--') && !known.includes(a)) throw new Error(`unknown option ${a}`);
  const count = (name: string, fallback: number, min: number) => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
    return n;
  };
  const dataDir = value('--data-dir');
  if (!dataDir) throw new Error('--data-dir is required');
  const now = value('--now');
  if (now !== undefined && Number.isNaN(new Date(now).getTime()))
    throw new Error('--now must be an ISO time');
  const opts: SeedOptions = {
    dataDir,
    domains: count('--domains', 20, 1),
    products: count('--products', 1000, 1),
    requests: count('--requests', 10_000, 0),
    seed: count('--seed', 1, 0),
    days: count('--days', 365, 1),
    now: now === undefined ? undefined : new Date(now),
  };
  if (opts.products < opts.domains)
    throw new Error('--products must be at least --domains (every domain has a product)');
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

const AREAS = [
  'sales',
  'marketing',
  'finance',
  'hr',
  'logistics',
  'supply',
  'risk',
  'claims',
  'retail',
  'web',
  'mobile',
  'iot',
  'legal',
  'procurement',
  'support',
  'billing',
  'fraud',
  'treasury',
  'pricing',
  'research',
] as const;
const SUBJECTS = [
  'orders',
  'customers',
  'shipments',
  'invoices',
  'payments',
  'sessions',
  'campaigns',
  'tickets',
  'claims',
  'policies',
  'devices',
  'readings',
  'inventory',
  'suppliers',
  'contracts',
  'employees',
  'payroll',
  'leads',
  'subscriptions',
  'refunds',
  'returns',
  'clicks',
  'impressions',
  'transactions',
  'accounts',
  'loans',
  'trades',
  'positions',
  'prices',
  'forecasts',
] as const;
const QUALIFIERS = [
  'daily',
  'hourly',
  'monthly',
  'raw',
  'curated',
  'enriched',
  'aggregated',
  'regional',
  'global',
  'historical',
  'streaming',
  'weekly',
] as const;
const TAGS = [
  'gold',
  'silver',
  'bronze',
  'pii',
  'gdpr',
  'finance',
  'kpi',
  'reference',
  'ml-feature',
  'realtime',
  'batch',
  'certified',
  'deprecated-soon',
  'external',
  'audit',
] as const;
/** Columns a product may have: name, type, comment, PII. */
const COLUMNS: ReadonlyArray<Column> = [
  { name: 'id', type: 'string', comment: 'Primary key', pii: false },
  { name: 'created_at', type: 'timestamp', comment: 'When the row was created', pii: false },
  { name: 'updated_at', type: 'timestamp', comment: 'When the row last changed', pii: false },
  { name: 'customer_id', type: 'string', comment: 'Pseudonymous customer key', pii: false },
  { name: 'email', type: 'string', comment: 'Contact e-mail address', pii: true },
  { name: 'phone', type: 'string', comment: 'Contact phone number', pii: true },
  { name: 'full_name', type: 'string', comment: 'Name of the person', pii: true },
  { name: 'birth_date', type: 'date', comment: 'Date of birth', pii: true },
  { name: 'iban', type: 'string', comment: 'Bank account number', pii: true },
  { name: 'street_address', type: 'string', comment: 'Postal address', pii: true },
  { name: 'ip_address', type: 'string', comment: 'Client IP address', pii: true },
  { name: 'region', type: 'string', comment: 'Region code (EMEA, NA, APAC)', pii: false },
  { name: 'country', type: 'string', comment: 'ISO 3166 country code', pii: false },
  { name: 'currency', type: 'string', comment: 'ISO 4217 currency', pii: false },
  { name: 'amount', type: 'decimal(12,2)', comment: 'Amount in the row currency', pii: false },
  { name: 'amount_eur', type: 'decimal(12,2)', comment: 'Amount converted to EUR', pii: false },
  { name: 'quantity', type: 'int', comment: 'Units', pii: false },
  { name: 'status', type: 'string', comment: 'Lifecycle status of the row', pii: false },
  { name: 'channel', type: 'string', comment: 'web, partner or direct', pii: false },
  { name: 'product_code', type: 'string', comment: 'Catalogue product code', pii: false },
  { name: 'score', type: 'double', comment: 'Model score between 0 and 1', pii: false },
  { name: 'event_date', type: 'date', comment: 'Partition date', pii: false },
  { name: 'source_system', type: 'string', comment: 'System the row came from', pii: false },
  { name: 'is_deleted', type: 'boolean', comment: 'Soft delete marker', pii: false },
];
const FIRST = ['Ada', 'Ben', 'Chloe', 'Dmitri', 'Elif', 'Femi', 'Greta', 'Hugo', 'Ines', 'Jon'];
const LAST = ['Keller', 'Lopez', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quinn', 'Rossi'];
const CLASS_WEIGHTS: Record<Classification, number> = {
  public: 10,
  internal: 40,
  confidential: 35,
  restricted: 15,
};

/**
 * The status each request is walked to. The in-flight ones (APPROVED, GRANTING, REVOKING) are
 * rare, as in a running mesh, and kept so: a server started on the store hands each to its worker.
 */
const STATUS_WEIGHTS: Record<RequestStatus, number> = {
  PENDING: 10,
  ACTIVE: 25,
  REVOKED: 14,
  EXPIRED: 24,
  DENIED: 10,
  CANCELLED: 8,
  FAILED: 4,
  APPROVED: 0.02,
  GRANTING: 0.02,
  REVOKING: 0.02,
};

const GLOBAL = 'policies/global.csv';
const rule = (line: string): RuleRef => ({ source: GLOBAL, line });
const allow = (line: string, why: string): Decision => ({
  allowed: true,
  reason: `${why} (${GLOBAL}: ${line})`,
  rules: [rule(line)],
});
const RULES = {
  request: allow('p, *, *, *, request, allow', 'Anyone signed in may request'),
  auto: allow(
    'p, *, *, class:public, auto-approve, allow',
    'Public data is approved automatically',
  ),
  noAuto: {
    allowed: false,
    reason: 'No policy line approves this request automatically',
    rules: [],
  } as Decision,
  owner: allow('p, role:owner, *, *, approve:owner, allow', 'Owners decide the owner stage'),
  steward: allow('p, role:steward, *, *, approve:owner, allow', 'Stewards decide the owner stage'),
  compliance: allow(
    'p, role:compliance, *, *, approve:compliance, allow',
    'Compliance decides the compliance stage',
  ),
  cancel: allow('p, rel:requester, *, *, cancel, allow', 'The requester may cancel'),
  revokeRequester: allow('p, rel:requester, *, *, revoke, allow', 'The requester gives it up'),
  revokeOwner: allow('p, role:owner, *, *, revoke, allow', 'Owners revoke grants'),
  ownerStage: rule('p, *, *, *, stage:owner, allow'),
  complianceStage: rule('p, *, *, class:restricted, stage:compliance, allow'),
};
const LIMIT: DurationLimit = { hours: 2160, rule: rule('p2, *, max-duration-hours, 2160') };
const DURATIONS: Duration[] = [
  { value: 7, unit: 'days' },
  { value: 14, unit: 'days' },
  { value: 30, unit: 'days' },
  { value: 60, unit: 'days' },
  { value: 90, unit: 'days' },
];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const durationMs = (d: Duration) => d.value * (d.unit === 'days' ? DAY : HOUR);

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
/** An id as the API makes them (`<prefix>_<ulid>`, lower case), at `ms`, random part from `rng`. */
function idAt(prefix: string, ms: number, rng: Rng): string {
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[rng.int(32)];
  return `${prefix}_${encodeTime(ms, 10).toLowerCase()}${rand}`;
}

// ---------------------------------------------------------------------------------------------
// The mesh
// ---------------------------------------------------------------------------------------------

interface SeedDomain {
  domain: Domain;
  owner: string;
  stewards: string[];
  products: DataProduct[];
  requests: number;
}

function makeUsers(opts: SeedOptions, rng: Rng) {
  const demo = (id: string) => DEMO_USERS.find((u) => u.id === id)!;
  const staff = opts.domains * 2;
  const consumers = Math.max(20, Math.min(50_000, Math.round(opts.requests / 20)));
  const users: User[] = [demo('alice'), demo('carol'), demo('dave'), demo('erin')];
  const name = () => `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
  const width = String(staff + consumers).length;
  const id = (n: number) => `u${String(n).padStart(Math.max(5, width), '0')}`;
  for (let i = 0; i < staff; i++)
    users.push({
      id: id(i),
      name: name(),
      title: i % 2 ? 'Data steward' : 'Data product owner',
    });
  const consumerIds = ['alice'];
  for (let i = staff; i < staff + consumers; i++) {
    users.push({ id: id(i), name: name(), title: 'Analyst' });
    consumerIds.push(id(i));
  }
  return { users, staffId: id, consumerIds };
}

function makeProduct(d: Domain, owner: string, k: number, rng: Rng): DataProduct {
  const subject = rng.pick(SUBJECTS);
  const qualifier = rng.pick(QUALIFIERS);
  const name = `${qualifier}_${subject}_${k}`;
  const classification = rng.weighted(CLASS_WEIGHTS);
  const n = 5 + rng.int(20);
  const columns: Column[] = [];
  const seen = new Set<string>();
  // Restricted and confidential data hold PII more often.
  const piiChance =
    classification === 'restricted' ? 0.5 : classification === 'confidential' ? 0.2 : 0.02;
  while (columns.length < n) {
    const c = rng.pick(COLUMNS);
    if (seen.has(c.name) || (c.pii && !rng.chance(piiChance))) {
      if (seen.size >= COLUMNS.length - 1) break;
      if (!seen.has(c.name)) continue;
      const extra = `${c.name}_${columns.length}`;
      columns.push({ ...c, name: extra, pii: false });
      seen.add(extra);
      continue;
    }
    columns.push({ ...c });
    seen.add(c.name);
  }
  const tags = [...new Set([rng.pick(TAGS), rng.pick(TAGS), subject])].slice(0, 1 + rng.int(3));
  if (columns.some((c) => c.pii) && !tags.includes('pii')) tags.push('pii');
  return {
    id: `${d.id}/${name}`,
    domain: d.id,
    name,
    title: `${qualifier[0]!.toUpperCase()}${qualifier.slice(1)} ${subject} of ${d.name}`,
    description: `${qualifier[0]!.toUpperCase()}${qualifier.slice(1)} ${subject} from the ${d.name} systems, one row per ${subject.replace(/s$/, '')} and change. Refreshed ${rng.pick(['daily', 'hourly', 'weekly'])}; ${columns.length} columns.`,
    owner,
    classification,
    tags,
    location: {
      catalogId: d.accountId,
      database: `${d.id.replace(/-/g, '_')}_${rng.pick(['gold', 'silver', 'curated'])}`,
      table: name,
      ...(rng.chance(0.05) ? { tables: [name, `${name}_history`] } : {}),
    },
    columns,
    freshness: rng.pick(['Daily by 06:00 UTC', 'Hourly', 'Weekly on Mondays', 'Streaming']),
    status: 'ACTIVE',
  };
}

/** One request walked through the domain's transitions to `target`, with its events in order. */
interface Walked {
  request: AccessRequest;
  grant?: Grant;
  events: Array<LifecycleEvent & { id: string }>;
}

function walkRequest(
  sd: SeedDomain,
  product: DataProduct,
  requester: string,
  target: RequestStatus,
  compliance: string,
  now: number,
  spanMs: number,
  rng: Rng,
): Walked {
  const duration = rng.pick(DURATIONS);
  const restricted = product.classification === 'restricted';
  const auto = product.classification === 'public';
  // Public products are approved at once: never waiting, cancelled or denied.
  if (auto && (target === 'PENDING' || target === 'CANCELLED' || target === 'DENIED'))
    target = rng.chance(0.5) ? 'ACTIVE' : 'EXPIRED';
  // Offsets from creation, in ms: the decisions, the grant, its end.
  const decideAfter = auto ? 0 : HOUR / 4 + rng.next() * 72 * HOUR;
  const complianceAfter = restricted ? decideAfter + HOUR / 4 + rng.next() * 48 * HOUR : 0;
  const approvedAt = Math.max(decideAfter, complianceAfter);
  const grantAfter = approvedAt + 1000 + rng.next() * 5 * 60_000;
  const dur = durationMs(duration);
  const revokeAfter = grantAfter + rng.next() * dur * 0.9;
  const endAfter = (t: number) => t + 1000 + rng.next() * 60_000;
  const last: Partial<Record<RequestStatus, number>> = {
    PENDING: restricted ? decideAfter : 0,
    CANCELLED: HOUR + rng.next() * 48 * HOUR,
    DENIED: decideAfter,
    APPROVED: approvedAt,
    GRANTING: approvedAt + 1000,
    FAILED: grantAfter,
    ACTIVE: grantAfter,
    REVOKING: revokeAfter,
    REVOKED: endAfter(revokeAfter),
    EXPIRED: endAfter(grantAfter + dur),
  };
  const lastAfter = last[target]!;
  // When it was made: its last event before now, an ACTIVE grant not yet ended; requests still
  // waiting or in flight are recent.
  const recent = ['PENDING', 'APPROVED', 'GRANTING', 'REVOKING'].includes(target);
  const window = recent ? Math.min(spanMs, (target === 'PENDING' ? 30 : 1) * DAY) : spanMs;
  let created: number;
  if (target === 'ACTIVE') {
    created = now - grantAfter - 60_000 - rng.next() * (dur - grantAfter - HOUR) * 0.95;
  } else if (target === 'REVOKING') {
    created = now - revokeAfter - 60_000 - rng.next() * HOUR;
  } else {
    created = now - lastAfter - 60_000 - rng.next() * Math.max(0, window - lastAfter);
  }
  created = Math.floor(created);
  const at = (offset: number) => new Date(created + Math.floor(offset));
  const events: Walked['events'] = [];
  let request!: AccessRequest;
  let grant: Grant | undefined;
  const apply = (outcome: Outcome, when: Date) => {
    const c: Change = orThrow(outcome);
    request = c.request;
    grant = c.grant ?? grant;
    for (const e of c.events) events.push({ id: idAt('evt', when.getTime(), rng), ...e });
  };

  const pii = product.columns.filter((c) => c.pii).map((c) => c.name);
  const scope: Scope =
    pii.length > 0 && rng.chance(0.4)
      ? { permissions: ['SELECT'], columns: { mode: 'exclude', columns: pii } }
      : { permissions: ['SELECT'], columns: { mode: 'all' } };
  const stages: Stage[] = auto
    ? []
    : [
        { name: 'owner', required: 1, approvals: [], rule: RULES.ownerStage },
        ...(restricted
          ? [
              {
                name: 'compliance' as const,
                required: 1,
                approvals: [],
                rule: RULES.complianceStage,
              },
            ]
          : []),
      ];
  const t0 = at(0);
  const policy: SubmitPolicy = {
    allowed: RULES.request,
    auto: auto ? RULES.auto : RULES.noAuto,
    stages,
    explanation: [RULES.request, auto ? RULES.auto : RULES.noAuto],
    limit: LIMIT,
    openRequests: {
      open: 0,
      max: Number.MAX_SAFE_INTEGER,
      rule: rule('p2, *, max-open-requests, 50'),
    },
  };
  const team = rng.pick(AREAS);
  apply(
    submit(
      {
        id: idAt('req', created, rng),
        principal: `arn:aws:iam::${String(900000000000 + rng.int(1000))}:role/${team}-analytics`,
        product,
        scope,
        duration,
        purpose: `${rng.pick(['Quarterly', 'Weekly', 'Ad hoc', 'Monthly'])} ${rng.pick(['reporting', 'forecasting', 'model training', 'reconciliation', 'analysis'])} of ${product.title.toLowerCase()}`,
        piiColumns: pii,
      },
      policy,
      { actor: requester, now: t0 },
    ),
    t0,
  );
  const decider = rng.chance(0.7) || sd.stewards.length === 0 ? sd.owner : rng.pick(sd.stewards);
  const ownerDecision = decider === sd.owner ? RULES.owner : RULES.steward;
  if (target === 'PENDING') {
    // A restricted request may wait on compliance, its owner stage approved.
    if (restricted && rng.chance(0.5)) {
      const when = at(decideAfter);
      apply(
        recordApproval(
          request,
          { comment: 'Fine by the domain' },
          { deciders: { owner: ownerDecision }, limit: LIMIT, product },
          { actor: decider, now: when },
        ),
        when,
      );
    }
    return { request, grant, events };
  }
  if (target === 'CANCELLED') {
    const when = at(last.CANCELLED!);
    apply(cancel(request, { cancel: RULES.cancel }, { actor: requester, now: when }), when);
    return { request, grant, events };
  }
  if (target === 'DENIED') {
    const when = at(decideAfter);
    const denier = restricted && rng.chance(0.3) ? compliance : decider;
    if (denier === compliance) {
      const first = at(decideAfter / 2);
      apply(
        recordApproval(
          request,
          { comment: 'Fine by the domain' },
          { deciders: { owner: ownerDecision }, limit: LIMIT, product },
          { actor: decider, now: first },
        ),
        first,
      );
    }
    apply(
      deny(
        request,
        rng.pick(['No business need stated', 'Use the aggregated product instead', 'Too broad']),
        {
          deciders:
            denier === compliance ? { compliance: RULES.compliance } : { owner: ownerDecision },
        },
        { actor: denier, now: when },
      ),
      when,
    );
    return { request, grant, events };
  }
  if (!auto) {
    const when = at(decideAfter);
    apply(
      recordApproval(
        request,
        { comment: rng.pick(['Approved', 'OK for the stated purpose', 'Approved, as discussed']) },
        { deciders: { owner: ownerDecision }, limit: LIMIT, product },
        { actor: decider, now: when },
      ),
      when,
    );
    if (restricted) {
      const c = at(complianceAfter);
      apply(
        recordApproval(
          request,
          { comment: 'PII handling confirmed' },
          { deciders: { compliance: RULES.compliance }, limit: LIMIT, product },
          { actor: compliance, now: c },
        ),
        c,
      );
    }
  }
  if (target === 'APPROVED') return { request, grant, events };
  const started = at(approvedAt + 500);
  apply(startGranting(request, { actor: SYSTEM, now: started }), started);
  if (target === 'GRANTING') return { request, grant, events };
  const tables = product.location.tables ?? [product.location.table];
  const entries = tables.map((t) => ({
    Principal: { DataLakePrincipalIdentifier: request.principal },
    Resource: {
      Table: {
        CatalogId: product.location.catalogId,
        DatabaseName: product.location.database,
        Name: t,
      },
    },
    Permissions: ['SELECT'],
  }));
  const granted = at(grantAfter);
  if (target === 'FAILED') {
    apply(
      fail(
        request,
        {
          reason: 'Lake Formation refused the grant: insufficient permissions on the table',
          code: 'AccessDeniedException',
          failedTables: tables,
        },
        entries,
        { revoked: [] },
        { actor: SYSTEM, now: granted },
      ),
      granted,
    );
    return { request, grant, events };
  }
  apply(
    activate(
      request,
      {
        grantId: idAt('grt', granted.getTime(), rng),
        accountId: product.location.catalogId,
        scope: request.scope,
        entries,
        earlierEntries: [],
      },
      { actor: SYSTEM, now: granted },
    ),
    granted,
  );
  if (target === 'ACTIVE') return { request, grant, events };
  if (target === 'EXPIRED') {
    const due = new Date(grant!.expiresAt);
    apply(expire(request, grant!, { actor: SYSTEM, now: due }), due);
    const gone = at(last.EXPIRED!);
    apply(end(request, grant!, entries, { actor: SYSTEM, now: gone }), gone);
    return { request, grant, events };
  }
  const byOwner = rng.chance(0.4);
  const asked = at(revokeAfter);
  apply(
    revoke(
      request,
      grant!,
      byOwner ? 'Access review: no longer needed' : 'Project finished',
      { revoke: byOwner ? RULES.revokeOwner : RULES.revokeRequester },
      { actor: byOwner ? sd.owner : requester, now: asked },
    ),
    asked,
  );
  if (target === 'REVOKING') return { request, grant, events };
  const gone = at(last.REVOKED!);
  apply(end(request, grant!, entries, { actor: SYSTEM, now: gone }), gone);
  return { request, grant, events };
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/**
 * Events in time order, one request's events keeping their order within one instant. A loop, not
 * a spread: a busy domain's chain holds 100,000s of events, more arguments than a call takes.
 */
export function inTimeOrder<E extends { at: string }>(events: readonly E[]): E[] {
  const order = events.map((_, i) => i);
  order.sort((a, b) =>
    events[a]!.at < events[b]!.at ? -1 : events[a]!.at > events[b]!.at ? 1 : a - b,
  );
  const out: E[] = new Array<E>(order.length);
  for (let i = 0; i < order.length; i++) out[i] = events[order[i]!]!;
  return out;
}

/**
 * What the API leaves after writing the catalog, for a store seeded without it: the catalog
 * version moved once per product written (the API moves it in each product write's transaction),
 * and the search index of that version built and published by the search index adapter, as a
 * sync that changed the catalog does (functions/adapters/aws/dynamo-search-index.ts). A server
 * started on the store then loads the index instead of building it at its first start.
 */
export async function publishCatalog(
  client: DynamoDBClient,
  tableName: string,
  productWrites: number,
): Promise<NonNullable<SeedReport['searchIndex']>> {
  const t0 = process.hrtime.bigint();
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: marshall({ ...CATALOG_VERSION_KEY, kind: 'catalogversion', version: productWrites }),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  const store = new DynamoStore(tableName, client);
  const built = await new DynamoSearchIndex(tableName, client, store).refresh();
  if (!built.rebuilt || built.version !== productWrites)
    throw new Error(`the search index was not built for catalog version ${productWrites}`);
  return {
    version: built.version,
    products: built.products,
    bytes: built.bytes,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  };
}

/** Items gathered into batches of about this many (each with its index entries) per LevelDB write. */
const BATCH_ITEMS = 2000;

export async function seedMesh(opts: SeedOptions): Promise<SeedReport> {
  const log = opts.log ?? (() => {});
  const tableName = opts.tableName ?? 'meshgate';
  const now = (opts.now ?? new Date()).getTime();
  const spanMs = (opts.days ?? 365) * DAY;
  const rng = prng(opts.seed);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  let done = 0;
  let lastLog = Date.now();
  const progress = () => {
    if (Date.now() - lastLog < 5000) return;
    lastLog = Date.now();
    const s = seconds();
    log(
      `seed: ${done.toLocaleString('en-US')}/${opts.requests.toLocaleString('en-US')} requests, ${items.toLocaleString('en-US')} items in ${s.toFixed(0)} s (${Math.round(items / s).toLocaleString('en-US')} items/s)`,
    );
  };

  const dir = resolve(opts.dataDir, 'dynamodb');
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0)
    throw new Error(
      `${dir} already holds a store: seed a new data folder (the seed writes without reading what is there).`,
    );
  const dynamo = await startEmbeddedDynamo({ path: dir });
  const byKind: Record<string, number> = {};
  const requestsByStatus: SeedReport['requestsByStatus'] = {};
  const grantsByStatus: SeedReport['grantsByStatus'] = {};
  let items = 0;
  let buffer: Record<string, unknown>[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async () => {
    const batch = buffer;
    buffer = [];
    // One batch written while the next is made; never two at once.
    await inFlight;
    inFlight = dynamo.bulkPut(tableName, batch);
  };
  const put = async (item: Record<string, unknown>) => {
    byKind[String(item.kind)] = (byKind[String(item.kind)] ?? 0) + 1;
    items++;
    buffer.push(marshall(item, { removeUndefinedValues: true }));
    if (buffer.length >= BATCH_ITEMS) {
      await flush();
      progress();
    }
  };

  try {
    await ensureTable(dynamo.client, tableName);
    await ensureTable(dynamo.client, `${tableName}-lf-ledger`);
    // Written by today's item builders: today's layout (a portal started on it migrates nothing).
    await recordLayout(dynamo.client, tableName, new Date());

    const { users, staffId, consumerIds } = makeUsers(opts, rng);
    for (const u of users) await put(userItem(u));

    // Domains, each with an owner and a steward; products spread over them, the first busiest.
    const domains: SeedDomain[] = [];
    for (let i = 0; i < opts.domains; i++) {
      const area = AREAS[i % AREAS.length]!;
      const id = `${area}-${String(i).padStart(String(opts.domains).length, '0')}`;
      domains.push({
        domain: {
          id,
          name: `${area[0]!.toUpperCase()}${area.slice(1)} ${i}`,
          accountId: String(100000000000 + i),
          region: rng.pick(['eu-west-1', 'eu-central-1', 'us-east-1']),
          description: `${area[0]!.toUpperCase()}${area.slice(1)} data of business unit ${i}.`,
        },
        owner: staffId(2 * i),
        stewards: [staffId(2 * i + 1)],
        products: [],
        requests: 0,
      });
    }
    const domainOf = () => Math.floor(opts.domains * rng.next() ** 2);
    for (let k = 0; k < opts.products; k++) {
      // Every domain has at least one product; the rest lean to the first domains.
      const sd = domains[k < opts.domains ? k : domainOf()]!;
      const p = makeProduct(sd.domain, rng.chance(0.8) ? sd.owner : sd.stewards[0]!, k, rng);
      sd.products.push(p);
      await put(productItem(p));
    }
    // Requests per domain in proportion to its products.
    const productDomain: number[] = [];
    domains.forEach((sd, i) => sd.products.forEach(() => productDomain.push(i)));
    for (let r = 0; r < opts.requests; r++)
      domains[productDomain[rng.int(opts.products)]!]!.requests++;

    const compliance = 'carol';
    const globalMemberships: Membership[] = [
      { user: 'carol', domain: '*', role: 'compliance' },
      { user: 'dave', domain: '*', role: 'auditor' },
      { user: 'erin', domain: '*', role: 'admin' },
    ];
    const setUp = now - spanMs - 2 * DAY;
    const membershipEvent = (m: Membership, ms: number): AuditEvent => ({
      id: idAt('evt', ms, rng),
      at: new Date(ms).toISOString(),
      type: 'MEMBERSHIP_ADDED',
      actor: SYSTEM,
      domain: m.domain,
      detail: { ...m, seeded: true },
    });

    // The global chain: domain registrations, then the global roles.
    const globalEvents: AuditEvent[] = [];
    for (const [i, sd] of domains.entries()) {
      await put(domainItem(sd.domain));
      globalEvents.push({
        id: idAt('evt', setUp + i, rng),
        at: new Date(setUp + i).toISOString(),
        type: 'DOMAIN_REGISTERED',
        actor: SYSTEM,
        domain: sd.domain.id,
        detail: { domain: sd.domain, seeded: true },
      });
    }
    for (const m of globalMemberships) {
      await put(membershipItem(m));
      globalEvents.push(membershipEvent(m, setUp + DAY));
    }
    const sealedGlobal = sealChain(undefined, globalEvents, GLOBAL_CHAIN);
    for (const e of sealedGlobal.events) await put(auditItem(e));
    await put(chainHeadItem(GLOBAL_CHAIN, sealedGlobal.head));

    // Per domain: its memberships, then its requests walked to their status; its chain sealed in
    // time order. Requesters: alice makes 1% of all requests, the others share the rest.
    const requesterCount = new Map<string, number>();
    for (const sd of domains) {
      const memberships: Membership[] = [
        { user: sd.owner, domain: sd.domain.id, role: 'owner' },
        ...sd.stewards.map((u) => ({ user: u, domain: sd.domain.id, role: 'steward' as const })),
      ];
      const chain: AuditEvent[] = [];
      for (const m of memberships) {
        await put(membershipItem(m));
        chain.push(membershipEvent(m, setUp + 2 * HOUR));
      }
      const walked: Walked[] = [];
      for (let n = 0; n < sd.requests; n++) {
        const product = rng.pick(sd.products);
        let requester = rng.chance(0.01) ? 'alice' : rng.pick(consumerIds);
        if (requester === sd.owner || sd.stewards.includes(requester)) requester = 'alice';
        requesterCount.set(requester, (requesterCount.get(requester) ?? 0) + 1);
        const target = rng.weighted(STATUS_WEIGHTS);
        walked.push(walkRequest(sd, product, requester, target, compliance, now, spanMs, rng));
      }
      const events = walked.flatMap((w) => w.events);
      for (const e of inTimeOrder(events as AuditEvent[])) chain.push(e);
      const sealed = sealChain(undefined, chain, sd.domain.id);
      for (const w of walked) {
        await put(requestItem(w.request));
        requestsByStatus[w.request.status] = (requestsByStatus[w.request.status] ?? 0) + 1;
        if (w.grant) {
          await put(grantItem(w.grant));
          if (w.grant.status === 'ACTIVE') await put(holderItem(w.grant));
          grantsByStatus[w.grant.status] = (grantsByStatus[w.grant.status] ?? 0) + 1;
        }
      }
      for (const e of sealed.events) await put(auditItem(e));
      await put(chainHeadItem(sd.domain.id, sealed.head));
      done += sd.requests;
    }
    await flush();
    await inFlight;

    // What to look at: the busiest requester and domain.
    const [requester, requesterRequests] = [...requesterCount].reduce(
      (a, b) => (b[1] > a[1] ? b : a),
      ['alice', 0] as [string, number],
    );
    const busiest = domains.reduce((a, b) => (b.requests > a.requests ? b : a));
    // Reads the store once through its own queries: the domains are there.
    const found = (await new DynamoStore(tableName, dynamo.client).listDomains()).length;
    if (found !== opts.domains)
      throw new Error(`seeded ${opts.domains} domains but the store lists ${found}`);
    const searchIndex = await publishCatalog(dynamo.client, tableName, opts.products);
    log(
      `seed: search index of ${searchIndex.products.toLocaleString('en-US')} products published (${(searchIndex.bytes / 1048576).toFixed(1)} MB gzipped) in ${searchIndex.seconds.toFixed(1)} s`,
    );
    const s = seconds();
    const cpu = process.cpuUsage(cpu0);
    const report: SeedReport = {
      dataDir: opts.dataDir,
      seconds: s,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      items,
      itemsPerSecond: items / s,
      byKind,
      requestsByStatus,
      grantsByStatus,
      chains: domains.length + 1,
      searchIndex,
      sample: {
        requester,
        requesterRequests,
        domain: busiest.domain.id,
        domainOwner: busiest.owner,
        domainRequests: busiest.requests,
        product: busiest.products[0]!.id,
        compliance,
        auditor: 'dave',
        admin: 'erin',
        searchWord: busiest.products[0]!.name.split('_')[1]!,
      },
    };
    log(
      `seed: ${items.toLocaleString('en-US')} items in ${s.toFixed(1)} s (${Math.round(report.itemsPerSecond).toLocaleString('en-US')} items/s, ${report.cpuSeconds.toFixed(1)} s of CPU) into ${opts.dataDir}`,
    );
    writeFileSync(
      resolve(opts.dataDir, 'seed-report.json'),
      JSON.stringify(report, null, 2) + '\n',
    );
    return report;
  } finally {
    await inFlight.catch(() => {});
    await dynamo.close();
  }
}

async function main(args: string[]): Promise<number> {
  let opts: SeedOptions | 'help';
  try {
    opts = parseSeedArgs(args);
  } catch (err) {
    console.error(`npm run seed: ${(err as Error).message}\n\n${SEED_HELP}`);
    return 2;
  }
  if (opts === 'help') {
    console.log(SEED_HELP);
    return 0;
  }
  const report = await seedMesh({ ...opts, log: (l) => console.error(l) });
  console.log(JSON.stringify(report, null, 2));
  console.log(
    `\nStart it: MESHGATE_DATA_DIR=${opts.dataDir} npm start  (busiest requester ${report.sample.requester}, busiest domain ${report.sample.domain} owned by ${report.sample.domainOwner}; compliance carol, auditor dave, admin erin)`,
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
