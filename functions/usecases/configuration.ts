import {
  configurationChanges,
  configurationVersion,
  configuredUsers,
  configuredConsumerAccounts,
  redactedDomain,
  type Configuration,
  type ConfigurationChange,
} from '../domain/configuration';
import { ALL_DOMAINS, type AuditEvent } from '../domain/model';
import {
  CONFIGURATION_WRITES_PER_CALL,
  type ConfigurationRecord,
  type ConfigurationWrite,
} from '../ports/store';
import { auditEvent, SYSTEM, type Deps } from './deps';
import { redactedConsumerAccount } from './consumer-accounts';
import { MeshgateError } from '../domain/errors';

export type { Configuration } from '../domain/configuration';

/** How many times a process starts over when another one wrote a configuration meanwhile. */
const ATTEMPTS = 3;

export interface ConfigurationOutcome {
  version: string;
  /**
   * `current`: already applied (by another process, maybe meanwhile); `applied`: recorded by this
   * process, with `changes` changes; `busy`: other processes kept writing, this one gave way.
   */
  status: 'current' | 'applied' | 'busy';
  changes: number;
}

/**
 * Brings the store to the deployment configuration, once per configuration version. Every process
 * calls it at start: when the version is the one recorded, that one read is all it costs.
 * Otherwise the configured domains (with their brokers) and roles that the store does not hold
 * are written, each with its audit event (`from: 'configuration'`, Meshgate as the actor), in
 * writes that are each conditional on the record as read and move it; the last one records the
 * version (CONFIG_APPLIED). A process that started at the same time therefore cannot write the
 * same change twice: its next write is refused, and it starts over from what is then stored.
 * A process that stops half-way leaves its version unrecorded, and the next start writes the rest.
 * The configured users' records are written when missing or different, and people holding a
 * configured role get one if they have none; CONFIG_APPLIED names the users it wrote. Nothing is
 * ever removed.
 */
export async function applyConfiguration(
  deps: Pick<Deps, 'store' | 'clock' | 'ids'>,
  config: Configuration,
): Promise<ConfigurationOutcome> {
  const version = configurationVersion(config);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const record = await deps.store.readConfiguration();
    if (record.version === version) return { version, status: 'current', changes: 0 };
    // Read after the record: they hold every change written before it was.
    const changes = configurationChanges(config, {
      domains: await deps.store.listDomains(),
      memberships: await deps.store.listMemberships(),
    }).map((c) => toWrite(deps, c));
    await registerConsumerAccounts(deps, config);
    // Before the version is recorded, so a process stopping here leaves it to the next start.
    const users = configuredUsers(config, await deps.store.listUsers());
    for (const user of users) await deps.store.putUser(user);
    const applied = auditEvent(
      deps,
      'CONFIG_APPLIED',
      SYSTEM,
      { domain: ALL_DOMAINS },
      {
        version,
        replaced: record.version ?? null,
        changes: changes.length,
        users: users.map((u) => u.id),
        from: 'configuration',
      },
    );
    if (await writeInTurn(deps, changes, record, { version, audit: applied }))
      return { version, status: 'applied', changes: changes.length };
  }
  return { version, status: 'busy', changes: 0 };
}

/**
 * Writes the changes, as many per call as the store takes, each call conditional on the record
 * left by the one before; the last also records the version. False once a write is refused.
 */
async function writeInTurn(
  deps: Pick<Deps, 'store'>,
  changes: ConfigurationWrite[],
  record: ConfigurationRecord,
  done: { version: string; audit: AuditEvent },
): Promise<boolean> {
  const n = CONFIGURATION_WRITES_PER_CALL;
  for (let i = 0, seq = record.seq; ; i += n, seq++) {
    const last = i + n >= changes.length;
    const batch = changes.slice(i, i + n);
    if (!(await deps.store.writeConfiguration(batch, { ...record, seq }, last ? done : undefined)))
      return false;
    if (last) return true;
  }
}

/**
 * The configured consumer accounts the store does not hold, each registered with its audit event.
 * Each write is conditional on the account being new, so two processes starting at once register
 * it once; one registered earlier (through the API) is left as it is.
 */
async function registerConsumerAccounts(
  deps: Pick<Deps, 'store' | 'clock' | 'ids'>,
  config: Configuration,
): Promise<void> {
  for (const c of configuredConsumerAccounts(config)) {
    if (await deps.store.getConsumerAccount(c.accountId)) continue;
    await deps.store
      .createConsumerAccount(
        c,
        auditEvent(
          deps,
          'CONSUMER_ACCOUNT_REGISTERED',
          SYSTEM,
          { domain: ALL_DOMAINS },
          { ...redactedConsumerAccount(c), from: 'configuration' },
        ),
      )
      .catch((err: unknown) => {
        if (err instanceof MeshgateError && err.code === 'CONSUMER_ACCOUNT_EXISTS') return;
        throw err;
      });
  }
}

function toWrite(deps: Pick<Deps, 'clock' | 'ids'>, c: ConfigurationChange): ConfigurationWrite {
  const from = 'configuration';
  switch (c.kind) {
    case 'DOMAIN_REGISTERED':
      return {
        domain: c.domain,
        audit: auditEvent(
          deps,
          c.kind,
          SYSTEM,
          { domain: c.domain.id },
          { ...redactedDomain(c.domain), from },
        ),
      };
    case 'DOMAIN_UPDATED':
      return {
        domain: c.domain,
        audit: auditEvent(
          deps,
          c.kind,
          SYSTEM,
          { domain: c.domain.id },
          { before: redactedDomain(c.before), after: redactedDomain(c.domain), from },
        ),
      };
    case 'MEMBERSHIP_ADDED':
      return {
        membership: c.membership,
        audit: auditEvent(
          deps,
          c.kind,
          SYSTEM,
          { domain: c.membership.domain },
          { ...c.membership, from },
        ),
      };
  }
}
