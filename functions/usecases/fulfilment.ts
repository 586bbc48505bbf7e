import type { AccessRequest, Grant, Principal } from '../domain/model';
import { conflict, forbidden, MeshgateError, notFound } from '../domain/errors';
import { assertTransition } from '../domain/status';
import { durationHours, effectiveTerms } from '../domain/request';
import type { PermissionEntry, TablePermission } from '../ports/lakeformation';
import type { Job } from '../ports/queue';
import { aboutRequest, auditEvent, loadVisibleRequest, SYSTEM, type Deps, type WorkerDeps } from './deps';

const subjectOf = (r: AccessRequest) => ({ domain: r.domain, requestId: r.id, productId: r.productId });

async function tablePermission(deps: WorkerDeps, r: AccessRequest): Promise<TablePermission> {
  const product = await deps.store.getProduct(r.productId);
  if (!product) throw notFound('PRODUCT_NOT_FOUND', `Data product ${r.productId} no longer exists.`);
  const domain = await deps.store.getDomain(r.domain);
  if (!domain) throw notFound('DOMAIN_NOT_FOUND', `Domain ${r.domain} is not registered.`);
  const { scope } = effectiveTerms(r);
  return {
    grantId: r.id,
    accountId: product.location.catalogId || domain.accountId,
    region: domain.region,
    principal: r.principal,
    database: product.location.database,
    table: product.location.table,
    permissions: scope.permissions,
    columns: scope.columns,
    rowFilter: scope.rowFilter,
  };
}

/** The worker: carries out one job. Safe to run twice for the same job. */
export async function runJob(deps: WorkerDeps, job: Job): Promise<void> {
  if (job.kind === 'grant') await fulfil(deps, job.requestId);
  else await completeRevoke(deps, job.requestId);
}

/** APPROVED (or a retried GRANTING) -> GRANTING -> ACTIVE, or FAILED with the reason. */
export async function fulfil(deps: WorkerDeps, requestId: string): Promise<void> {
  let r = await deps.store.getRequest(requestId);
  if (!r) return;
  if (r.status === 'APPROVED') {
    const next: AccessRequest = { ...r, status: 'GRANTING', updatedAt: deps.clock.now().toISOString(), version: r.version + 1 };
    try {
      await deps.store.updateRequest(next, { status: r.status, version: r.version }, [
        auditEvent(deps, 'FULFILMENT_STARTED', SYSTEM, { ...subjectOf(r), fromStatus: 'APPROVED', toStatus: 'GRANTING' }),
      ]);
    } catch (err) {
      if (err instanceof MeshgateError && err.kind === 'conflict') return; // another worker has it
      throw err;
    }
    r = next;
  }
  if (r.status !== 'GRANTING') return; // already done, or not ours to do

  let entries: PermissionEntry[];
  let spec: TablePermission;
  try {
    spec = await tablePermission(deps, r);
    entries = await deps.lakeFormation.grant(spec);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const now = deps.clock.now().toISOString();
    const failed: AccessRequest = { ...r, status: 'FAILED', failure: { reason, at: now }, updatedAt: now, version: r.version + 1 };
    await deps.store.updateRequest(failed, { status: r.status, version: r.version }, [
      auditEvent(deps, 'FULFILMENT_FAILED', SYSTEM, { ...subjectOf(r), fromStatus: 'GRANTING', toStatus: 'FAILED' }, { reason }),
    ]).catch(ignoreConflict);
    return;
  }
  const now = deps.clock.now();
  const { scope, duration } = effectiveTerms(r);
  const grant: Grant = {
    id: r.grantId ?? deps.ids.next('grt'),
    requestId: r.id,
    requester: r.requester,
    principal: r.principal,
    productId: r.productId,
    domain: r.domain,
    classification: r.classification,
    accountId: spec.accountId,
    scope,
    grantedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + durationHours(duration) * 3_600_000).toISOString(),
    status: 'ACTIVE',
    entries,
  };
  const active: AccessRequest = { ...r, status: 'ACTIVE', grantId: grant.id, failure: undefined, updatedAt: grant.grantedAt, version: r.version + 1 };
  try {
    await deps.store.updateRequest(active, { status: r.status, version: r.version }, [
      auditEvent(deps, 'GRANT_ACTIVE', SYSTEM, { ...subjectOf(r), fromStatus: 'GRANTING', toStatus: 'ACTIVE' }, {
        grantId: grant.id,
        expiresAt: grant.expiresAt,
        entries,
      }),
    ], grant);
  } catch (err) {
    ignoreConflict(err);
    await removeIfStray(deps, r.id, spec);
  }
}

/**
 * A worker that lost the race may have granted after the request moved on (a late duplicate
 * delivery that stalled while another worker finished and someone revoked). Lake Formation
 * permissions are keyed by request, so while the request is GRANTING or ACTIVE the grant is the
 * legitimate one; in any other state it must not stay.
 */
async function removeIfStray(deps: WorkerDeps, requestId: string, spec: TablePermission): Promise<void> {
  const now = await deps.store.getRequest(requestId);
  if (!now || now.status === 'GRANTING' || now.status === 'ACTIVE') return;
  const entries = await deps.lakeFormation.revoke(spec);
  await deps.store.updateRequest({ ...now, updatedAt: deps.clock.now().toISOString(), version: now.version + 1 }, { status: now.status, version: now.version }, [
    auditEvent(deps, 'STRAY_GRANT_REMOVED', SYSTEM, subjectOf(now), { entries, reason: `a late fulfilment granted after the request became ${now.status}` }),
  ]).catch(ignoreConflict);
}

/** FAILED -> GRANTING again, by someone allowed to retry (owners, admins). */
export async function retryRequest(deps: Deps, who: Principal, id: string): Promise<AccessRequest> {
  const r = await loadVisibleRequest(deps, who, id);
  const decision = deps.policy.decide(aboutRequest(who.userId, r, 'retry'));
  if (!decision.allowed) throw forbidden('NOT_ALLOWED', decision.reason);
  if (r.status !== 'FAILED') throw conflict('NOT_FAILED', `Only a failed request can be retried; this one is ${r.status}.`);
  const next: AccessRequest = { ...r, status: 'GRANTING', updatedAt: deps.clock.now().toISOString(), version: r.version + 1 };
  await deps.store.updateRequest(next, { status: r.status, version: r.version }, [
    auditEvent(deps, 'FULFILMENT_RETRIED', who.userId, { ...subjectOf(r), fromStatus: 'FAILED', toStatus: 'GRANTING' }, { decision }),
  ]);
  await deps.queue.send({ kind: 'grant', requestId: r.id });
  return next;
}

/** ACTIVE -> REVOKING; the worker then removes the permission. */
export async function revokeGrant(deps: Deps, who: Principal, grantId: string, reason: string) {
  const grant = await deps.store.getGrant(grantId);
  const r = grant && (await deps.store.getRequest(grant.requestId));
  if (!grant || !r || !deps.policy.decide(aboutRequest(who.userId, r, 'read')).allowed) {
    throw notFound('GRANT_NOT_FOUND', `No grant ${grantId} that you can see.`);
  }
  const decision = deps.policy.decide(aboutRequest(who.userId, r, 'revoke'));
  if (!decision.allowed) throw forbidden('NOT_ALLOWED', decision.reason);
  if (r.status !== 'ACTIVE') throw conflict('NOT_ACTIVE', `Only an active grant can be revoked; this one is ${r.status}.`);
  assertTransition(r.status, 'REVOKING');
  const now = deps.clock.now().toISOString();
  const next: AccessRequest = { ...r, status: 'REVOKING', updatedAt: now, version: r.version + 1 };
  const nextGrant: Grant = { ...grant, status: 'REVOKING', endReason: reason };
  await deps.store.updateRequest(next, { status: r.status, version: r.version }, [
    auditEvent(deps, 'REVOKE_REQUESTED', who.userId, { ...subjectOf(r), fromStatus: 'ACTIVE', toStatus: 'REVOKING' }, { grantId, reason, decision }),
  ], nextGrant);
  await deps.queue.send({ kind: 'revoke', requestId: r.id });
  return nextGrant;
}

/** REVOKING -> REVOKED once the permission is gone. A failure leaves it REVOKING, recorded, for a retry. */
export async function completeRevoke(deps: WorkerDeps, requestId: string): Promise<void> {
  const r = await deps.store.getRequest(requestId);
  if (!r || r.status !== 'REVOKING' || !r.grantId) return;
  const grant = await deps.store.getGrant(r.grantId);
  if (!grant) return;
  const now = deps.clock.now().toISOString();
  let entries: PermissionEntry[];
  try {
    entries = await deps.lakeFormation.revoke(await tablePermission(deps, r));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    await deps.store.updateRequest({ ...r, updatedAt: now, version: r.version + 1 }, { status: r.status, version: r.version }, [
      auditEvent(deps, 'REVOKE_FAILED', SYSTEM, subjectOf(r), { grantId: grant.id, reason }),
    ]).catch(ignoreConflict);
    throw err;
  }
  const next: AccessRequest = { ...r, status: 'REVOKED', updatedAt: now, version: r.version + 1 };
  await deps.store.updateRequest(next, { status: r.status, version: r.version }, [
    auditEvent(deps, 'GRANT_REVOKED', SYSTEM, { ...subjectOf(r), fromStatus: 'REVOKING', toStatus: 'REVOKED' }, { grantId: grant.id, entries, reason: grant.endReason }),
  ], { ...grant, status: 'REVOKED', endedAt: now, entries: [...grant.entries, ...entries] }).catch(ignoreConflict);
}

/** A lost race means another worker recorded the outcome; nothing to add. */
function ignoreConflict(err: unknown): void {
  if (err instanceof MeshgateError && err.kind === 'conflict') return;
  throw err;
}
