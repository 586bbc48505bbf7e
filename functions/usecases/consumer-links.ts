import {
  accountOfPrincipal,
  linkDatabase,
  linkTableName,
  type ConsumerLink,
} from '../domain/consumer';
import type { Grant } from '../domain/model';
import type { LinkEntry, LinkSpec } from '../ports/consumer-links';
import type { TableGrant } from '../ports/lakeformation';
import type { WorkerDeps } from './deps';

/**
 * The links a grant needs in its principal's consumer account, when that account is registered
 * and is not the producing account itself (a principal there sees the table as it is).
 */
export async function linkSpecFor(
  deps: Pick<WorkerDeps, 'store'>,
  domain: string,
  principal: string,
  spec: Pick<TableGrant, 'accountId' | 'region' | 'database' | 'tables'>,
): Promise<LinkSpec | undefined> {
  const account = accountOfPrincipal(principal);
  if (!account || account === spec.accountId) return undefined;
  const consumer = await deps.store.getConsumerAccount(account);
  if (!consumer) return undefined;
  return {
    consumer,
    producer: { accountId: spec.accountId, region: spec.region },
    database: linkDatabase(domain),
    links: spec.tables.map((t) => ({
      name: linkTableName(spec.database, t),
      targetDatabase: spec.database,
      targetTable: t,
    })),
    principal,
  };
}

/**
 * After the Lake Formation grant: the RAM invitation accepted, the links made and DESCRIBE on
 * them granted in the principal's consumer account; undefined when the account is not registered
 * (the access block then tells its administrator what to run). Safe to repeat.
 */
export async function makeLinks(
  deps: Pick<WorkerDeps, 'store' | 'consumerLinks' | 'clock'>,
  domain: string,
  principal: string,
  spec: TableGrant,
): Promise<{ link: ConsumerLink; entries: LinkEntry[] } | undefined> {
  const linkSpec = await linkSpecFor(deps, domain, principal, spec);
  if (!linkSpec) return undefined;
  const out = await deps.consumerLinks.link(linkSpec);
  return {
    link: {
      account: linkSpec.consumer.accountId,
      region: linkSpec.consumer.region,
      database: linkSpec.database,
      table: linkSpec.links[0]!.name,
      tables: linkSpec.links.map((l) => ({
        name: l.name,
        target: `${l.targetDatabase}.${l.targetTable}`,
      })),
      describeGranted: out.entries.some((e) => e.action === 'grant-describe'),
      invitationAccepted: out.invitationAccepted,
      at: deps.clock.now().toISOString(),
    },
    entries: out.entries,
  };
}

/** The LinkSpec of a grant's recorded links. */
function recordedSpec(
  grant: Pick<Grant, 'accountId' | 'principal'> & { consumerLink: ConsumerLink },
  consumer: LinkSpec['consumer'],
  producerRegion = consumer.region,
): LinkSpec {
  const l = grant.consumerLink;
  return {
    consumer,
    producer: { accountId: grant.accountId, region: producerRegion },
    database: l.database,
    links: l.tables.map((t) => {
      const [targetDatabase, ...rest] = t.target.split('.');
      return { name: t.name, targetDatabase: targetDatabase!, targetTable: rest.join('.') };
    }),
    principal: grant.principal,
  };
}

/**
 * When a grant ends: DESCRIBE revoked on its links, and the links deleted, except what another
 * ACTIVE grant still needs (an extension that replaced it, another principal of the same account
 * on the same table, another product over the same table). The database stays.
 */
export async function removeLinks(
  deps: Pick<WorkerDeps, 'store' | 'consumerLinks'>,
  grant: Pick<Grant, 'id' | 'domain' | 'principal' | 'accountId' | 'consumerLink'>,
): Promise<LinkEntry[]> {
  const link = grant.consumerLink;
  if (!link) return [];
  const consumer = (await deps.store.getConsumerAccount(link.account)) ?? {
    accountId: link.account,
    region: link.region,
  };
  const others = (await deps.store.listGrantsByDomain(grant.domain)).filter(
    (g) =>
      g.id !== grant.id &&
      g.status === 'ACTIVE' &&
      g.consumerLink?.account === link.account &&
      g.consumerLink.database === link.database,
  );
  const usedBy = (g: Grant) => new Set(g.consumerLink!.tables.map((t) => t.name));
  const samePrincipal = new Set(
    others.filter((g) => g.principal === grant.principal).flatMap((g) => [...usedBy(g)]),
  );
  const anyone = new Set(others.flatMap((g) => [...usedBy(g)]));
  const spec = recordedSpec({ ...grant, consumerLink: link }, consumer);
  return deps.consumerLinks.unlink(
    { ...spec, links: spec.links.filter((l) => !samePrincipal.has(l.name)) },
    spec.links.map((l) => l.name).filter((n) => !anyone.has(n)),
  );
}

export interface LinkFinding {
  grantId: string;
  account: string;
  /** What had to be made again: links, DESCRIBE permissions, an invitation accepted. */
  repaired: LinkEntry[];
  result: 'ok' | 'failed';
  error?: string;
}

/**
 * Reconciliation of the consumer side: the links of every ACTIVE grant made again where they are
 * missing (linking is idempotent, so what is there is left alone). Only what was made is reported.
 */
export async function repairLinks(
  deps: Pick<WorkerDeps, 'store' | 'consumerLinks'>,
  grants: Grant[],
): Promise<LinkFinding[]> {
  const findings: LinkFinding[] = [];
  for (const grant of grants) {
    const link = grant.consumerLink;
    if (grant.status !== 'ACTIVE' || !link) continue;
    try {
      const consumer = await deps.store.getConsumerAccount(link.account);
      if (!consumer) continue;
      const domain = await deps.store.getDomain(grant.domain);
      const out = await deps.consumerLinks.link(
        recordedSpec({ ...grant, consumerLink: link }, consumer, domain?.region),
      );
      // Lake Formation answers a grant of what is held as done: DESCRIBE is granted again
      // harmlessly, and only what was really missing is reported.
      const repaired = out.entries.filter(
        (e) =>
          e.result === 'ok' && (e.action === 'create-link' || e.action === 'accept-invitation'),
      );
      if (repaired.length)
        findings.push({ grantId: grant.id, account: link.account, repaired, result: 'ok' });
    } catch (err) {
      findings.push({
        grantId: grant.id,
        account: link.account,
        repaired: [],
        result: 'failed',
        error: (err as Error).message,
      });
    }
  }
  return findings;
}
