import { createHash } from 'node:crypto';
import { canonicalJson } from './lakeformation';
import { ALL_DOMAINS, type Domain, type Membership } from './model';

/**
 * What Meshgate registers from the deployment configuration (config/schema.ts, which fits this
 * shape): the domains with their broker and owners, and the roles in every domain.
 */
export interface Configuration {
  admins: readonly string[];
  compliance: readonly string[];
  auditors: readonly string[];
  domains: ReadonlyArray<{
    id: string;
    name: string;
    accountId: string;
    region: string;
    brokerRoleArn: string;
    externalId: string;
    owners: readonly string[];
    /** Backup approvers: they may decide a stage of the domain's requests once it is escalated. */
    backups?: readonly string[];
    description?: string;
  }>;
}

/** One change the configuration makes to the store. Nothing is ever removed by it. */
export type ConfigurationChange =
  | { kind: 'DOMAIN_REGISTERED'; domain: Domain }
  | { kind: 'DOMAIN_UPDATED'; domain: Domain; before: Domain }
  | { kind: 'MEMBERSHIP_ADDED'; membership: Membership };

const domainOf = (d: Configuration['domains'][number]): Domain =>
  JSON.parse(
    JSON.stringify({
      id: d.id,
      name: d.name,
      accountId: d.accountId,
      region: d.region,
      description: d.description,
      broker: { roleArn: d.brokerRoleArn, externalId: d.externalId },
    }),
  );

/**
 * A domain as an audit event, a log line or an answer may show it: the broker's ExternalId is a
 * shared secret of the broker role's trust policy, and the trail is archived where nothing can be
 * deleted, so it is never written out. What stands in its place says that it is set and gives a
 * fingerprint (the first 8 hex digits of its SHA-256), enough to tell that it changed and to
 * check it against the one configured, not to recover it.
 */
export function redactedDomain(d: Domain): Omit<Domain, 'broker'> & {
  broker?: { roleArn: string; externalId: { set: boolean; sha256Prefix?: string } };
} {
  const { broker, ...rest } = d;
  if (!broker) return rest;
  return {
    ...rest,
    broker: { roleArn: broker.roleArn, externalId: externalIdFingerprint(broker.externalId) },
  };
}

/** That an ExternalId is set, and the first 8 hex digits of its SHA-256. */
export function externalIdFingerprint(externalId: string | undefined) {
  if (!externalId) return { set: false };
  return {
    set: true,
    sha256Prefix: createHash('sha256').update(externalId).digest('hex').slice(0, 8),
  };
}

const membershipKey = (m: Membership) => `${m.domain}|${m.user}|${m.role}`;

/** The roles the configuration gives: admins, compliance and auditors everywhere, owners and backup approvers of their domain. */
export function configuredMemberships(c: Configuration): Membership[] {
  return [
    ...c.admins.map((user) => ({ user, domain: ALL_DOMAINS, role: 'admin' as const })),
    ...c.compliance.map((user) => ({ user, domain: ALL_DOMAINS, role: 'compliance' as const })),
    ...c.auditors.map((user) => ({ user, domain: ALL_DOMAINS, role: 'auditor' as const })),
    ...c.domains.flatMap((d) =>
      d.owners.map((user) => ({ user, domain: d.id, role: 'owner' as const })),
    ),
    ...c.domains.flatMap((d) =>
      (d.backups ?? []).map((user) => ({ user, domain: d.id, role: 'backup' as const })),
    ),
  ];
}

/**
 * The version of a configuration: the SHA-256 of what registration reads, in a canonical form
 * (the order of the domains and of the people aside). The rest of the file (stage, table, web
 * URLs) is not part of it.
 */
export function configurationVersion(c: Configuration): string {
  const domains = c.domains.map(domainOf).sort((a, b) => (a.id < b.id ? -1 : 1));
  const memberships = configuredMemberships(c).map(membershipKey);
  return createHash('sha256').update(canonicalJson({ domains, memberships })).digest('hex');
}

/**
 * What the configuration changes in a store holding `stored`: the domains it does not hold or
 * holds otherwise (account, region, broker, name...), then the roles it does not hold.
 */
export function configurationChanges(
  c: Configuration,
  stored: { domains: Domain[]; memberships: Membership[] },
): ConfigurationChange[] {
  const domains = new Map(stored.domains.map((d) => [d.id, d]));
  const have = new Set(stored.memberships.map(membershipKey));
  const changes: ConfigurationChange[] = [];
  for (const domain of c.domains.map(domainOf)) {
    const before = domains.get(domain.id);
    if (!before) changes.push({ kind: 'DOMAIN_REGISTERED', domain });
    else if (canonicalJson(before) !== canonicalJson(domain))
      changes.push({ kind: 'DOMAIN_UPDATED', domain, before });
  }
  for (const membership of configuredMemberships(c)) {
    if (have.has(membershipKey(membership))) continue;
    have.add(membershipKey(membership));
    changes.push({ kind: 'MEMBERSHIP_ADDED', membership });
  }
  return changes;
}
