import { retire } from '../domain/catalog';
import type { SearchIndex } from '../ports/search';
import type { AuditEvent, Domain, Grant } from '../domain/model';
import { fail, MeshgateError } from '../domain/errors';
import {
  canonicalJson,
  holderKey,
  mergeHeld,
  permissionAtoms,
  plannedEntries,
} from '../domain/lakeformation';
import type { CatalogSource } from '../ports/catalog';
import {
  brokerFailureOf,
  type DomainAccount,
  type LfPermission,
  type PermissionEntry,
  type TableGrant,
} from '../ports/lakeformation';
import { auditEvent, type Deps, type WorkerDeps } from './deps';
import { tableGrantFor } from './fulfilment';
import { removeLeftoverLinks, repairLinks } from './consumer-links';

export interface OperationsDeps extends WorkerDeps {
  catalog: CatalogSource;
  /** Brought up to the catalog's version after every sync (see ports/search.ts). */
  search?: Pick<SearchIndex, 'refresh'>;
}

/**
 * The search index catches up with the catalog: after every sync, changed or not, and in every
 * sweep (a GetItem or two when it is current; nothing loaded in a process that holds no index). A sync that crashed between its last product write and
 * this, or a build that failed, leaves the index behind the catalog only until the next sweep or
 * sync, not until a sync happens to change a product again. A failure is logged, not thrown: the
 * sync's changes stand, and the next sweep tries again.
 */
export async function catchUpSearch(deps: {
  search?: Pick<SearchIndex, 'refresh'>;
  log?: Deps['log'];
}): Promise<{ rebuilt: boolean; version: number } | { failed: string } | undefined> {
  if (!deps.search) return undefined;
  try {
    const { rebuilt, version } = await deps.search.refresh();
    return { rebuilt, version };
  } catch (err) {
    (deps.log ?? console.error)('search index not rebuilt', err);
    return { failed: err instanceof Error ? err.message : String(err) };
  }
}

const accountOf = (d: Domain): DomainAccount => ({
  accountId: d.accountId,
  region: d.region,
  broker: d.broker,
});

/** Hears how far a run has got: `done` of `total` products read or grants checked. */
export type RunProgress = (done: number, total: number) => Promise<void> | void;

/**
 * A failure of the domain's broker role (AssumeRole refused, Lake Formation or Glue refusing the
 * role) is thrown as BROKER_UNAVAILABLE (502) naming the domain, the role and the AWS error code;
 * the adapters never put the ExternalId in it. The worker records it as BROKER_FAILED
 * (brokerFailedEvent) in the transaction that fails the operation, so a run taken over after a
 * crash, or a late worker that lost the operation, records no second one. Other errors go on.
 */
function brokerFailed(domain: Domain, task: 'sync' | 'reconcile', err: unknown): never {
  const failure = brokerFailureOf(err);
  if (!failure) throw err;
  const details = {
    domain: domain.id,
    roleArn: failure.roleArn ?? null,
    accountId: failure.accountId,
    service: failure.service,
    awsCode: failure.awsCode,
    operation: task,
  };
  const message = err instanceof Error ? err.message : String(err);
  throw fail(
    'BROKER_UNAVAILABLE',
    `The ${task} of domain ${domain.id} failed: ${failure.service} answered ${failure.awsCode} for the broker role ${failure.roleArn ?? '(none)'}. ${message}`,
    { cause: err, details },
  );
}

/**
 * The BROKER_FAILED event of operation `op`'s run that failed with BROKER_UNAVAILABLE
 * (brokerFailed): the role, the AWS error code and message, the operation; none for another error.
 */
export function brokerFailedEvent(
  deps: Pick<Deps, 'clock' | 'ids'>,
  op: { id: string; requestedBy: string },
  err: unknown,
): AuditEvent | undefined {
  if (!(err instanceof MeshgateError) || err.code !== 'BROKER_UNAVAILABLE' || !err.details)
    return undefined;
  const cause = err.cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return auditEvent(
    deps,
    'BROKER_FAILED',
    op.requestedBy,
    { domain: String(err.details.domain) },
    { ...err.details, message, operationId: op.id },
  );
}

/**
 * Reads the domain's catalog and brings the products up to date, each change written with its
 * audit event, and returns the summary. A product that has vanished
 * from the catalog is marked RETIRED (no new requests), never deleted: its grants and their
 * history stay. The worker runs it (usecases/operation-runs.ts), for `actor`, who was allowed to
 * start it, and records the summary (DOMAIN_SYNCED) in the transaction that finishes the
 * operation, so a run taken over after a crash leaves it in the trail once.
 */
export async function syncDomain(
  deps: OperationsDeps,
  actor: string,
  domain: Domain,
  progress: RunProgress = () => {},
) {
  const found = await deps.catalog
    .listProducts(domain.id, accountOf(domain))
    .catch((err) => brokerFailed(domain, 'sync', err));
  const existing = new Map((await deps.store.listProducts(domain.id)).map((p) => [p.id, p]));
  const report = {
    domain: domain.id,
    added: [] as string[],
    updated: [] as string[],
    retired: [] as string[],
    unchanged: 0,
  };
  let done = 0;
  for (const p of found) {
    await progress(done++, found.length);
    const before = existing.get(p.id);
    existing.delete(p.id);
    if (before && canonicalJson(before) === canonicalJson(p)) {
      report.unchanged++;
      continue;
    }
    await deps.store.saveProduct(
      p,
      auditEvent(
        deps,
        before ? 'PRODUCT_UPDATED' : 'PRODUCT_ADDED',
        actor,
        { domain: domain.id, productId: p.id },
        { classification: p.classification, status: p.status },
      ),
    );
    (before ? report.updated : report.added).push(p.id);
  }
  for (const gone of existing.values()) {
    if (gone.status === 'RETIRED') continue;
    // Noted before each retirement: a worker whose operation was taken over stops here.
    await progress(found.length, found.length);
    await deps.store.saveProduct(
      retire(gone),
      auditEvent(
        deps,
        'PRODUCT_RETIRED',
        actor,
        { domain: domain.id, productId: gone.id },
        { reason: 'no longer in the catalog' },
      ),
    );
    report.retired.push(gone.id);
  }
  await progress(found.length, found.length);
  await catchUpSearch(deps);
  return report;
}

interface Finding {
  kind: 'missing' | 'stray' | 'foreign';
  principal: string;
  resource: Record<string, unknown>;
  /** Of a foreign permission: the names no grant of Meshgate accounts for (`<name> WITH GRANT OPTION` for a grant option). */
  permissions?: string[];
  grantId?: string;
  requestId?: string;
  table?: string;
  action: 'granted again' | 'revoked' | 'reported only';
  result?: PermissionEntry['result'];
  error?: string;
}

/**
 * Compares what Lake Formation holds in the domain's account with Meshgate's grants:
 * - missing: an ACTIVE grant's permission is not there; it is granted again;
 * - stray: a permission Meshgate made for a grant that has ended is still there; it is revoked;
 * - foreign: a permission Meshgate did not make; it is reported and never touched.
 * Grants that are being revoked (REVOKING) are left to the worker. Returns the report, which the
 * worker records (DOMAIN_RECONCILED) in the transaction that finishes the operation.
 */
export async function reconcileDomain(
  deps: WorkerDeps,
  actor: string,
  domain: Domain,
  progress: RunProgress = () => {},
) {
  const actual = await deps.lakeFormation
    .listPermissions(accountOf(domain))
    .catch((err) => brokerFailed(domain, 'reconcile', err));
  const grants = await deps.store.listGrantsByDomain(domain.id);

  // Compared per holder (principal and resource, whichever shape Lake Formation lists it in) and
  // per permission name: a whole-table SELECT comes back under TableWithColumns with an empty
  // ColumnWildcard, its DESCRIBE under Table (see resourceKey).
  type Made = { grant: Grant; spec: TableGrant; table: string; atoms: string[] };
  const active = new Map<string, Made[]>();
  const ended = new Map<string, Made>();
  const inFlight = new Map<string, Set<string>>();
  const unresolved: Array<{ grantId: string; error: string }> = [];
  let checked = 0;
  /**
   * A progress note before each change the reconciliation makes (a repair, the consumer links):
   * a worker whose operation was taken over by another stops there (operation-runs.ts).
   */
  const stillOurs = () => progress(grants.length, grants.length);
  for (const grant of grants) {
    await progress(checked++, grants.length);
    let spec: TableGrant;
    try {
      spec = await tableGrantFor(deps, {
        id: grant.requestId,
        productId: grant.productId,
        domain: grant.domain,
        principal: grant.principal,
        scope: grant.scope,
      });
    } catch (err) {
      unresolved.push({ grantId: grant.id, error: (err as Error).message });
      continue;
    }
    for (const e of plannedEntries(spec)) {
      const key = holderKey(e.Principal.DataLakePrincipalIdentifier, e.Resource);
      const made = {
        grant,
        spec,
        table: e.table,
        atoms: permissionAtoms({ permissions: e.Permissions }),
      };
      if (grant.status === 'ACTIVE') active.set(key, [...(active.get(key) ?? []), made]);
      else if (grant.status === 'REVOKING')
        inFlight.set(key, new Set([...(inFlight.get(key) ?? []), ...made.atoms]));
      else if (!ended.has(key)) ended.set(key, made);
    }
  }

  const findings: Finding[] = [];
  const held = mergeHeld(
    actual.map((p: LfPermission) => ({
      principal: p.principal,
      resource: p.resource,
      permissions: p.permissions,
      permissionsWithGrantOption: p.permissionsWithGrantOption,
    })),
  );
  /** What Meshgate's grants account for, by holder: those of ACTIVE grants and those being revoked. */
  const covered = new Map<string, Set<string>>();
  for (const [key, atoms] of inFlight) covered.set(key, new Set(atoms));
  for (const [key, made] of active) {
    const atoms = covered.get(key) ?? new Set<string>();
    for (const m of made) for (const a of m.atoms) atoms.add(a);
    covered.set(key, atoms);
  }
  for (const [key, made] of active) {
    const present = new Set(held.get(key) ?? []);
    for (const m of made) {
      if (m.atoms.every((a) => present.has(a))) continue;
      // Granted again as fulfilment grants: the row filter parsed against the product's columns as
      // they are now (a filter a catalog change broke fails the repair, and never reaches Lake Formation).
      const { grant } = m;
      await stillOurs();
      findings.push(
        await repair(deps, 'missing', m, async () => {
          const checked = await tableGrantFor(
            deps,
            {
              id: grant.requestId,
              productId: grant.productId,
              domain: grant.domain,
              principal: grant.principal,
              scope: grant.scope,
            },
            { checkRowFilter: true },
          );
          return deps.lakeFormation.grant({ ...checked, onlyTables: [m.table] });
        }),
      );
      // Another grant of the same holder with the same permissions needs no second repair.
      for (const a of m.atoms) present.add(a);
    }
  }
  /** Per holder, what is held that no ACTIVE or REVOKING grant accounts for. */
  const leftover = new Map<string, Set<string>>();
  for (const [key, atoms] of held) {
    const own = covered.get(key);
    const left = new Set([...atoms].filter((a) => !own?.has(a)));
    if (left.size) leftover.set(key, left);
  }
  for (const [key, left] of leftover) {
    const m = ended.get(key);
    if (!m) continue;
    const revoke = m.spec.permissions.filter((n) => left.has(n));
    if (!revoke.length) continue;
    // Only what no live grant holds: a permission shared with an ACTIVE grant stays.
    await stillOurs();
    findings.push(
      await repair(deps, 'stray', m, () =>
        deps.lakeFormation.revoke({ ...m.spec, permissions: revoke, onlyTables: [m.table] }),
      ),
    );
    for (const n of revoke) left.delete(n);
  }
  for (const p of actual) {
    const left = leftover.get(holderKey(p.principal, p.resource));
    const foreign = permissionAtoms(p).filter((a) => left?.has(a));
    if (!foreign.length) continue;
    findings.push({
      kind: 'foreign',
      principal: p.principal,
      resource: p.resource,
      permissions: foreign,
      action: 'reported only',
    });
  }
  // The consumer side: what is left over removed, then the missing links of ACTIVE grants made
  // again, from the grants read afresh (one made ACTIVE meanwhile, whose links the removal may
  // have been unable to tell from leftovers, gets them back).
  await stillOurs();
  const consumerSide = await removeLeftoverLinks(deps, domain);
  await stillOurs();
  const links = await repairLinks(deps, await deps.store.listGrantsByDomain(domain.id));
  const report = {
    domain: domain.id,
    at: deps.clock.now().toISOString(),
    checked: { permissions: actual.length, grants: grants.length },
    missing: findings.filter((f) => f.kind === 'missing'),
    stray: findings.filter((f) => f.kind === 'stray'),
    foreign: findings.filter((f) => f.kind === 'foreign'),
    unresolved,
    /** Resource links of ACTIVE grants that were missing in consumer accounts, made again. */
    links,
    /**
     * DESCRIBE permissions and resource links in the domain's link database of each registered
     * consumer account that no grant in use accounts for: removed.
     */
    leftoverLinks: consumerSide.leftovers,
    /** Consumer accounts whose link database could not be read. */
    ...(consumerSide.failures.length ? { linkFailures: consumerSide.failures } : {}),
  };
  await progress(grants.length, grants.length);
  return report;
}

async function repair(
  deps: WorkerDeps,
  kind: 'missing' | 'stray',
  m: { grant: Grant; spec: TableGrant; table: string },
  call: () => Promise<PermissionEntry[]>,
): Promise<Finding> {
  const planned = plannedEntries({ ...m.spec, onlyTables: [m.table] })[0]!;
  const base = {
    kind,
    principal: m.grant.principal,
    resource: planned.Resource,
    grantId: m.grant.id,
    requestId: m.grant.requestId,
    table: m.table,
    action: kind === 'missing' ? ('granted again' as const) : ('revoked' as const),
  };
  try {
    const entries = await call();
    const failed = entries.find((e) => e.result === 'failed');
    return { ...base, result: failed ? 'failed' : 'ok', error: failed?.error?.message };
  } catch (err) {
    return { ...base, result: 'failed', error: (err as Error).message };
  }
}
