import type { ConsumerAccount } from '../domain/model';
import type { ListedLinks } from '../domain/consumer';
import { LakeFormationError } from './lakeformation';

/**
 * The tables a grant links into a consumer account: each resource link's name and the producing
 * table it points to, in `database` (one per producing domain, see domain/consumer.ts).
 */
export interface LinkSpec {
  consumer: Pick<ConsumerAccount, 'accountId' | 'region' | 'broker'>;
  producer: { accountId: string; region: string };
  database: string;
  links: { name: string; targetDatabase: string; targetTable: string }[];
  principal: string;
}

/**
 * The Glue CreateTable input of one resource link of `spec` in the consumer's catalog, as both
 * adapters record it: the link's name and the producing table it points to (and the producing
 * region, only when it is another one: a resource link names it then).
 */
export const resourceLinkInput = (spec: LinkSpec, l: LinkSpec['links'][number]) => ({
  CatalogId: spec.consumer.accountId,
  DatabaseName: spec.database,
  TableInput: {
    Name: l.name,
    TargetTable: {
      CatalogId: spec.producer.accountId,
      DatabaseName: l.targetDatabase,
      Name: l.targetTable,
      ...(spec.producer.region !== spec.consumer.region ? { Region: spec.producer.region } : {}),
    },
  },
});

/** One call made in the consumer account, kept for audit (as Lake Formation's entries are). */
export interface LinkEntry {
  action:
    | 'accept-invitation'
    | 'create-database'
    | 'create-link'
    | 'grant-describe'
    | 'revoke-describe'
    | 'delete-link';
  /** The exact input sent. */
  sent: Record<string, unknown>;
  result: 'ok' | 'already';
}

export type { ListedLinks } from '../domain/consumer';

/**
 * A `link` call that failed part way carries the entries of what it did before (`linkEntries`):
 * the undo of the attempt removes only the links it made (`create-link` came back `ok`), never a
 * table of that name that was there before.
 */
export function withLinkEntries(err: unknown, entries: readonly LinkEntry[]): unknown {
  if (typeof err === 'object' && err !== null && !Object.isFrozen(err))
    Object.assign(err, { linkEntries: [...entries] });
  return err;
}

/** The entries a failed `link` call made before it failed; undefined when it did not say. */
export function linkEntriesOf(err: unknown): LinkEntry[] | undefined {
  const entries =
    typeof err === 'object' && err !== null
      ? (err as { linkEntries?: unknown }).linkEntries
      : undefined;
  return Array.isArray(entries) ? (entries as LinkEntry[]) : undefined;
}

/**
 * A resource link's name is taken in the consumer's link database by a table that is not a link
 * to the table this grant links (link names fold punctuation and case: `sales.gold__orders` and
 * `sales_gold.orders` are both `sales_gold__orders`). Permanent: it stays taken until someone
 * renames or removes one of them. `link` is the name; neither it nor DESCRIBE on it is the grant's.
 */
export class LinkNameTakenError extends LakeFormationError {
  constructor(
    readonly link: string,
    message: string,
  ) {
    super('LINK_NAME_TAKEN', message, true);
    this.name = 'LinkNameTakenError';
  }
}

export interface LinkOutcome {
  /** A pending RAM invitation of the producing account was accepted on this call. */
  invitationAccepted: boolean;
  entries: LinkEntry[];
}

/**
 * Resource links in consumer accounts, reached through each account's broker role. Every step is
 * safe to repeat (what exists is left as it is), so a worker that crashed half-way runs it again.
 * A failure is thrown (a LakeFormationError, with the broker failure when it is one).
 */
export interface ConsumerLinkPort {
  /** Accepts the producing account's pending RAM invitations, creates the database and links, grants DESCRIBE on them. */
  link(spec: LinkSpec): Promise<LinkOutcome>;
  /**
   * Revokes the principal's DESCRIBE on the links, and deletes the links named in `deleteLinks`
   * (those no other active grant needs). The database stays.
   */
  unlink(spec: LinkSpec, deleteLinks: string[]): Promise<LinkEntry[]>;
  /**
   * The tables of `database` in the consumer account and the DESCRIBE permissions on them, every
   * page read; nothing when the database is not there.
   */
  listLinks(consumer: LinkSpec['consumer'], database: string): Promise<ListedLinks>;
}
