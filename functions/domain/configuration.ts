import { createHash } from 'node:crypto';
import { canonicalJson } from './lakeformation';
import {
  ALL_DOMAINS,
  type ConsumerAccount,
  type Domain,
  type Membership,
  type User,
} from './model';

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
  /** People's user records; consumers, who hold no role, can sign in only with one. */
  users?: ReadonlyArray<{ id: string; name: string; title?: string; email?: string }>;
  /** Accounts where consumers query from, with their broker role (domain/consumer.ts). */
  consumerAccounts?: ReadonlyArray<{
    id: string;
    name?: string;
    accountId: string;
    region: string;
    brokerRoleArn: string;
    externalId: string;
  }>;
}

/** The configured consumer accounts, as the store holds them. */
export function configuredConsumerAccounts(c: Configuration): ConsumerAccount[] {
  return (c.consumerAccounts ?? []).map((a) =>
    JSON.parse(
      JSON.stringify({
        id: a.id,
        name: a.name,
        accountId: a.accountId,
        region: a.region,
        broker: { roleArn: a.brokerRoleArn, externalId: a.externalId },
      }),
    ),
  );
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

const userOf = (u: NonNullable<Configuration['users']>[number]): User =>
  JSON.parse(JSON.stringify({ id: u.id, name: u.name, title: u.title, email: u.email }));

/**
 * The user records the configuration writes in a store holding `stored`: each configured user
 * whose record is missing or says otherwise (name, title, email), as configured; and a record
 * named after the id for anyone holding a configured role who has none. Others are left alone.
 */
export function configuredUsers(c: Configuration, stored: readonly User[]): User[] {
  const have = new Map(stored.map((u) => [u.id, u]));
  const out: User[] = [];
  for (const user of (c.users ?? []).map(userOf)) {
    const before = have.get(user.id);
    if (!before || canonicalJson(before) !== canonicalJson(user)) out.push(user);
    have.set(user.id, user);
  }
  for (const id of new Set(configuredMemberships(c).map((m) => m.user))) {
    if (have.has(id)) continue;
    have.set(id, { id, name: id });
    out.push({ id, name: id });
  }
  return out;
}

/**
 * The version of a configuration: the SHA-256 of what registration reads, in a canonical form
 * (the order of the domains and of the people aside). The rest of the file (stage, table, web
 * URLs) is not part of it; the users are, when there are any (a configuration without them keeps
 * the version it had before they could be configured).
 */
export function configurationVersion(c: Configuration): string {
  const domains = c.domains.map(domainOf).sort((a, b) => (a.id < b.id ? -1 : 1));
  const memberships = configuredMemberships(c).map(membershipKey);
  const users = (c.users ?? []).map(userOf).sort((a, b) => (a.id < b.id ? -1 : 1));
  // Only when there are some: a configuration without users or consumer accounts keeps the
  // version it had before they could be configured.
  const consumers = configuredConsumerAccounts(c).sort((a, b) =>
    a.accountId < b.accountId ? -1 : 1,
  );
  const read = {
    domains,
    memberships,
    ...(users.length ? { users } : {}),
    ...(consumers.length ? { consumerAccounts: consumers } : {}),
  };
  return createHash('sha256').update(canonicalJson(read)).digest('hex');
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
