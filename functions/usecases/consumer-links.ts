import {
  LINK_GRACE_MS,
  accountOfPrincipal,
  describeKey,
  leftoverLinks,
  linkDatabase,
  linkTableName,
  type ConsumerLink,
  type LinksInUse,
} from '../domain/consumer';
import type { AccessRequest, DataProduct, Domain, Grant } from '../domain/model';
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
  return unlinkUnneeded(deps, grant, recordedSpec({ ...grant, consumerLink: link }, consumer));
}

/**
 * When a fulfilment attempt fails after it may have made links (the consumer account failed part
 * way): the links this attempt made (`made`: its `create-link` entries that came back `ok`) are
 * removed, and DESCRIBE revoked where its `grant-describe` came back `ok`, as `removeLinks` removes
 * a grant's (what another ACTIVE grant needs stays). Never a link that was there before the
 * attempt, nor one whose name is taken by a link to another table (no entry: LINK_NAME_TAKEN is
 * thrown first). Nothing when the principal's account is not registered.
 */
export async function removeAttemptLinks(
  deps: Pick<WorkerDeps, 'store' | 'consumerLinks'>,
  holder: Pick<Grant, 'id' | 'domain' | 'principal'>,
  spec: TableGrant,
  made: readonly LinkEntry[],
): Promise<LinkEntry[]> {
  const linkSpec = await linkSpecFor(deps, holder.domain, holder.principal, spec);
  if (!linkSpec) return [];
  const ok = (action: LinkEntry['action'], nameOf: (sent: Record<string, unknown>) => unknown) =>
    new Set(
      made.filter((e) => e.action === action && e.result === 'ok').map((e) => nameOf(e.sent)),
    );
  const created = ok('create-link', (s) => (s.TableInput as { Name?: string } | undefined)?.Name);
  const described = ok(
    'grant-describe',
    (s) => (s.Resource as { Table?: { Name?: string } } | undefined)?.Table?.Name,
  );
  const links = linkSpec.links.filter((l) => created.has(l.name) || described.has(l.name));
  if (!links.length) return [];
  return unlinkUnneeded(
    deps,
    holder,
    { ...linkSpec, links: links.filter((l) => described.has(l.name)) },
    links.filter((l) => created.has(l.name)).map((l) => l.name),
  );
}

/** Unlinks `spec`'s links of `holder`, but what another ACTIVE grant in that link database needs. */
async function unlinkUnneeded(
  deps: Pick<WorkerDeps, 'store' | 'consumerLinks'>,
  holder: Pick<Grant, 'id' | 'domain' | 'principal'>,
  spec: LinkSpec,
  /** The links that may be deleted (default: every link of `spec`). */
  deletable: readonly string[] = spec.links.map((l) => l.name),
): Promise<LinkEntry[]> {
  const account = spec.consumer.accountId;
  const others = (await deps.store.listGrantsByDomain(holder.domain)).filter(
    (g) =>
      g.id !== holder.id &&
      g.status === 'ACTIVE' &&
      g.consumerLink?.account === account &&
      g.consumerLink.database === spec.database,
  );
  const usedBy = (g: Grant) => new Set(g.consumerLink!.tables.map((t) => t.name));
  const samePrincipal = new Set(
    others.filter((g) => g.principal === holder.principal).flatMap((g) => [...usedBy(g)]),
  );
  const anyone = new Set(others.flatMap((g) => [...usedBy(g)]));
  return deps.consumerLinks.unlink(
    { ...spec, links: spec.links.filter((l) => !samePrincipal.has(l.name)) },
    deletable.filter((n) => !anyone.has(n)),
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

/** Something in a consumer account's link database that no grant in use accounts for. */
export interface LinkLeftover {
  kind: 'leftover';
  account: string;
  database: string;
  /** DESCRIBE of `principal` on the link `table`, or the resource link `table` itself (to `target`). */
  what: 'describe' | 'link';
  table: string;
  principal?: string;
  target?: string;
  /** The ended grant that made it, when its record names it. */
  grantId?: string;
  action: 'removed';
  result: 'ok' | 'failed';
  error?: string;
}

/** A consumer account whose link database could not be read (its broker role refused, say). */
export interface LinkListingFailure {
  account: string;
  database: string;
  error: string;
}

/** Every registered consumer account, a page at a time. */
async function* consumerAccounts(deps: Pick<WorkerDeps, 'store'>) {
  let after: string | undefined;
  do {
    const page = await deps.store.listConsumerAccountsPage({ limit: 100, after });
    yield* page.items;
    after = page.next;
  } while (after);
}

/**
 * Requests of these domains on their way to a grant (APPROVED, GRANTING): a worker may be linking
 * them now.
 */
async function inFlight(deps: Pick<WorkerDeps, 'store' | 'clock'>, domains: Set<string>) {
  const before = new Date(deps.clock.now().getTime() + 1).toISOString();
  const found: AccessRequest[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listInFlightSince(before, { limit: 100, cursor });
    found.push(...page.items.filter((r) => domains.has(r.domain)));
    cursor = page.cursor;
  } while (cursor);
  return found;
}

/**
 * What the grants in use need in `account`'s link database: the links and DESCRIBE recorded on
 * ACTIVE and REVOKING grants (a revoke in flight removes its own); for such a grant with no
 * recorded link whose principal is of this account (made before the account was registered, its
 * access block told the account's administrator to make the links by hand), the links of its
 * product's tables; and those of requests a worker is granting now (their links may be made
 * before the grant is recorded).
 */
async function linksInUse(
  deps: Pick<WorkerDeps, 'store'>,
  account: string,
  database: string,
  grants: Grant[],
  granting: AccessRequest[],
): Promise<LinksInUse> {
  const inUse: LinksInUse = { tables: new Set(), describe: new Set() };
  const use = (table: string, principal: string) => {
    inUse.tables.add(table);
    inUse.describe.add(describeKey(table, principal));
  };
  const products = new Map<string, Promise<DataProduct | undefined>>();
  const useProduct = async (productId: string, principal: string) => {
    if (!products.has(productId)) products.set(productId, deps.store.getProduct(productId));
    const product = await products.get(productId)!;
    if (!product) return;
    for (const t of product.location.tables ?? [product.location.table])
      use(linkTableName(product.location.database, t), principal);
  };
  for (const g of grants) {
    if (g.status !== 'ACTIVE' && g.status !== 'REVOKING') continue;
    const l = g.consumerLink;
    if (!l) {
      if (accountOfPrincipal(g.principal) === account && linkDatabase(g.domain) === database)
        await useProduct(g.productId, g.principal);
      continue;
    }
    if (l.account !== account || l.database !== database) continue;
    for (const t of l.tables) use(t.name, g.principal);
  }
  for (const r of granting) {
    if (accountOfPrincipal(r.principal) !== account) continue;
    await useProduct(r.productId, r.principal);
  }
  return inUse;
}

/**
 * The domains whose links share the link database of `domain`: linkDatabase folds `-` and `_`
 * (and case) together, so `sales-eu` and `sales_eu` both keep theirs in `meshgate_sales_eu`. What
 * any of them uses there is in use.
 */
async function sharingDatabase(
  deps: Pick<WorkerDeps, 'store'>,
  domain: Pick<Domain, 'id'>,
  database: string,
): Promise<Set<string>> {
  const ids = new Set([domain.id]);
  for (const d of await deps.store.listDomains())
    if (linkDatabase(d.id) === database) ids.add(d.id);
  return ids;
}

/**
 * Reconciliation of the consumer side, the other way: in every registered consumer account, the
 * domain's link database (named predictably, linkDatabase) is listed, and the DESCRIBE
 * permissions and resource links no grant in use accounts for (those of ended grants, of a late
 * worker that stopped before removing its stray links) are removed, DESCRIBE first. The database
 * stays. A second run right after finds nothing.
 *
 * What is in use is what the grants and requests in flight of every domain sharing the database
 * use, read after each listing, the requests in flight before the grants. Those reads come from
 * secondary indexes that lag behind on DynamoDB: a grant made ACTIVE a moment ago, or a request
 * that links between the reads and the removal, may be missing from them. So nothing made or
 * changed in the last LINK_GRACE_MS (by Glue's and Lake Formation's own times) is removed; a later
 * run removes it if it is still left over then.
 */
export async function removeLeftoverLinks(
  deps: Pick<WorkerDeps, 'store' | 'consumerLinks' | 'clock'>,
  domain: Pick<Domain, 'id' | 'accountId' | 'region'>,
): Promise<{ leftovers: LinkLeftover[]; failures: LinkListingFailure[] }> {
  const database = linkDatabase(domain.id);
  const leftovers: LinkLeftover[] = [];
  const failures: LinkListingFailure[] = [];
  let domains: Set<string> | undefined;
  for await (const consumer of consumerAccounts(deps)) {
    if (consumer.accountId === domain.accountId) continue;
    let found: ReturnType<typeof leftoverLinks>;
    let grants: Grant[];
    try {
      const listed = await deps.consumerLinks.listLinks(consumer, database);
      if (listed.tables.length === 0 && listed.describe.length === 0) continue;
      const settledBefore = new Date(deps.clock.now().getTime() - LINK_GRACE_MS).toISOString();
      domains ??= await sharingDatabase(deps, domain, database);
      const granting = await inFlight(deps, domains);
      grants = [];
      for (const id of domains) grants.push(...(await deps.store.listGrantsByDomain(id)));
      const inUse = await linksInUse(deps, consumer.accountId, database, grants, granting);
      found = leftoverLinks(listed, inUse, consumer.broker?.roleArn, settledBefore);
    } catch (err) {
      failures.push({ account: consumer.accountId, database, error: (err as Error).message });
      continue;
    }
    const madeBy = (table: string, principal?: string) =>
      grants.find(
        (g) =>
          g.consumerLink?.account === consumer.accountId &&
          g.consumerLink.database === database &&
          g.consumerLink.tables.some((t) => t.name === table) &&
          (principal === undefined || g.principal === principal),
      )?.id;
    const spec = (links: string[], principal: string): LinkSpec => ({
      consumer,
      producer: { accountId: domain.accountId, region: domain.region },
      database,
      links: links.map((name) => ({ name, targetDatabase: '', targetTable: '' })),
      principal,
    });
    for (const d of found.describe)
      leftovers.push(
        await removal(
          { account: consumer.accountId, database, what: 'describe', table: d.table },
          { principal: d.principal, grantId: madeBy(d.table, d.principal) },
          () => deps.consumerLinks.unlink(spec([d.table], d.principal), []),
        ),
      );
    for (const l of found.links)
      leftovers.push(
        await removal(
          { account: consumer.accountId, database, what: 'link', table: l.name },
          { target: l.target, grantId: madeBy(l.name) },
          () => deps.consumerLinks.unlink(spec([], ''), [l.name]),
        ),
      );
  }
  return { leftovers, failures };
}

async function removal(
  at: Pick<LinkLeftover, 'account' | 'database' | 'what' | 'table'>,
  about: Pick<LinkLeftover, 'principal' | 'target' | 'grantId'>,
  call: () => Promise<LinkEntry[]>,
): Promise<LinkLeftover> {
  const base = {
    kind: 'leftover' as const,
    ...at,
    ...Object.fromEntries(Object.entries(about).filter(([, v]) => v !== undefined)),
    action: 'removed' as const,
  };
  try {
    await call();
    return { ...base, result: 'ok' };
  } catch (err) {
    return { ...base, result: 'failed', error: (err as Error).message };
  }
}
