import { readFileSync } from 'node:fs';
import { parseConfig, type MeshgateConfig } from '../../../config/schema';
import type { AuditEventType } from '../../domain/audit-events';
import { ALL_DOMAINS, type AuditEvent, type Domain, type Membership } from '../../domain/model';
import { MeshgateError } from '../../domain/errors';
import type { Store } from '../../ports/store';
import { canonicalJson } from '../../domain/lakeformation';
import { SYSTEM } from '../../usecases/deps';
import { ulidIds } from '../runtime';

// The deployment configuration at run time: the file the CDK app deployed from (bundled with the
// functions) or the one `MESHGATE_BACKEND=aws npm start` was given.

export function readConfigFile(path: string | undefined): MeshgateConfig {
  if (!path)
    throw new Error(
      'MESHGATE_BACKEND=aws needs MESHGATE_CONFIG, the path of the configuration file (see config/example.json).',
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(json, path);
}

/**
 * Registers the configured domains, their owners and the global roles (idempotent). Each change is
 * audited and bumps the authorization generation: a new domain is DOMAIN_REGISTERED, a domain whose
 * configuration changed (its account, region or broker) DOMAIN_UPDATED with before and after, a new
 * role MEMBERSHIP_ADDED; each with `from: 'configuration'` and Meshgate as the actor.
 */
export async function registerFromConfig(store: Store, config: MeshgateConfig, now: () => Date) {
  const have = new Set(
    (await store.listMemberships()).map((m) => `${m.domain}|${m.user}|${m.role}`),
  );
  const wanted: Membership[] = [
    ...config.admins.map((user) => ({ user, domain: ALL_DOMAINS, role: 'admin' as const })),
    ...config.compliance.map((user) => ({
      user,
      domain: ALL_DOMAINS,
      role: 'compliance' as const,
    })),
    ...config.auditors.map((user) => ({ user, domain: ALL_DOMAINS, role: 'auditor' as const })),
    ...config.domains.flatMap((d) =>
      d.owners.map((user) => ({ user, domain: d.id, role: 'owner' as const })),
    ),
  ];
  const ids = ulidIds();
  const event = (
    type: AuditEventType,
    domain: string,
    detail: Record<string, unknown>,
  ): AuditEvent => ({
    id: ids.next('evt'),
    at: now().toISOString(),
    type,
    actor: SYSTEM,
    domain,
    detail: { ...detail, from: 'configuration' },
  });
  // Cold starts run this: write only what differs from the store.
  const stored = new Map((await store.listDomains()).map((d) => [d.id, d]));
  for (const d of config.domains) {
    const domain: Domain = JSON.parse(
      JSON.stringify({
        id: d.id,
        name: d.name,
        accountId: d.accountId,
        region: d.region,
        description: d.description,
        broker: { roleArn: d.brokerRoleArn, externalId: d.externalId },
      }),
    );
    const before = stored.get(d.id);
    if (!before) {
      // Another instance starting at the same time may register it first: that is the same registration.
      await store
        .createDomain(domain, event('DOMAIN_REGISTERED', d.id, { ...domain }))
        .catch((err) => {
          if (!(err instanceof MeshgateError && err.code === 'DOMAIN_EXISTS')) throw err;
        });
    } else if (canonicalJson(before) !== canonicalJson(domain)) {
      await store.saveDomain(domain, event('DOMAIN_UPDATED', d.id, { before, after: domain }));
    }
  }
  for (const m of wanted) {
    if (!(await store.getUser(m.user))) await store.putUser({ id: m.user, name: m.user });
    if (have.has(`${m.domain}|${m.user}|${m.role}`)) continue;
    await store.putMembership(m, event('MEMBERSHIP_ADDED', m.domain, { ...m }));
  }
}
