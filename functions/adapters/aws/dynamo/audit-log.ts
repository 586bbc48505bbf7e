import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../../domain/model';
import { unavailable, validation } from '../../../domain/errors';
import { sealChain, type ChainHead } from '../../../domain/audit-chain';
import type { AuditQuery, KeyedPage, AuditLog as PortAuditLog } from '../../../ports/store';
import { AUDIT_LOG, auditEventOf, auditItem, chainHeadItem, seqKey } from './keys';
import {
  DynamoTable,
  type Source,
  type TransactItem,
  reasonsOf,
  CHAIN_RETRY,
  MAX_TRANSACTION_ITEMS,
  isConditionFailure,
} from './table';

/**
 * The audit trail. Every other aggregate writes its events through `writeAudited`, which seals
 * them into their hash chains in the transaction of the change.
 */
export class DynamoAuditLog extends DynamoTable implements PortAuditLog {
  /** Per chain, the tail of this instance's queue of writers (see withChains). */
  private readonly chainTails = new Map<string, Promise<void>>();
  /**
   * Per chain, the head this instance's last write of it put (with `keepHeads`). Writes of a
   * chain are queued in this instance (withChains), so a kept head is this instance's newest; a
   * write sealed on it is still conditional on it, so a head moved by another instance cancels
   * the write, which reads the head again and retries. Worth it where one process writes most of
   * the trail (the embedded default: one GetItem less per audited write); on AWS every Lambda
   * instance writes, a kept head would often be stale, and a cancelled transaction costs more
   * than the read it saves.
   */
  private readonly heads?: Map<string, ChainHead>;

  constructor(tableName: string, client: DynamoDBClient, opts: { keepHeads?: boolean } = {}) {
    super(tableName, client);
    if (opts.keepHeads) this.heads = new Map();
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.writeAudited([], [event]);
  }

  /** The events of one chain in seq order, from just after `afterSeq` (default: from the start). */
  listChain = (chain: string, afterSeq = 0) =>
    this.queryAll<AuditEvent>(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk > :after',
        ExpressionAttributeValues: { ':p': `CHAIN#${chain}`, ':after': seqKey(afterSeq) },
      },
      auditEventOf,
    );

  private async readHead(chain: string): Promise<ChainHead | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `CHAIN#${chain}`, sk: 'HEAD' },
        ConsistentRead: true,
      }),
    );
    return out.Item ? { seq: out.Item.seq as number, hash: out.Item.hash as string } : undefined;
  }

  /**
   * Writes `before`, the audit events sealed into their chains, `after` and the new chain heads in
   * one transaction. The heads are conditional on what was read; a transaction cancelled only by
   * a head (or by a transient transaction conflict) is retried from a fresh read of the heads.
   * Any other cancellation is thrown as it came, for the caller to map. On success the given
   * events carry their chain, seq, prevHash and hash.
   */
  async writeAudited(
    before: TransactItem[],
    audit: AuditEvent[],
    after: TransactItem[] = [],
    chainOf: (e: AuditEvent) => string = (e) => e.domain,
  ): Promise<void> {
    const chains = [...new Set(audit.map(chainOf))];
    const total = before.length + audit.length + after.length + chains.length;
    if (total > MAX_TRANSACTION_ITEMS) {
      throw validation(
        'TOO_MANY_ITEMS',
        `One write may carry at most ${MAX_TRANSACTION_ITEMS} items with its audit events and chain heads; this one has ${total}.`,
      );
    }
    if (audit.length === 0) {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [...before, ...after] }));
      return;
    }
    await this.withChains(chains, () => this.writeSealed(before, audit, after, chainOf, chains));
  }

  /**
   * Runs `fn` once this instance's earlier writers of the same chains are done (locks taken in
   * sorted order, so no deadlock). Writers in one process then queue instead of racing for the
   * head and backing off; writers in different processes still race, and the conditional head
   * put keeps that safe.
   */
  private async withChains<T>(chains: string[], fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const c of [...chains].sort()) {
        const prev = this.chainTails.get(c) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((r) => (release = r));
        const tail = prev.then(() => mine);
        this.chainTails.set(c, tail);
        await prev;
        releases.push(() => {
          release();
          if (this.chainTails.get(c) === tail) this.chainTails.delete(c);
        });
      }
      return await fn();
    } finally {
      releases.forEach((r) => r());
    }
  }

  private async writeSealed(
    before: TransactItem[],
    audit: AuditEvent[],
    after: TransactItem[],
    chainOf: (e: AuditEvent) => string,
    chains: string[],
  ): Promise<void> {
    for (let attempt = 0, kept = true; ; attempt++) {
      // A kept head is used by a first attempt only; a write it failed reads the head again.
      const heads = await Promise.all(
        chains.map((c) => (kept && this.heads?.get(c)) || this.readHead(c)),
      );
      const sealed = new Array<AuditEvent>(audit.length);
      const newHeads = new Array<ChainHead>(chains.length);
      const headPuts: TransactItem[] = chains.map((chain, ci) => {
        const idx = audit.map((e, i) => (chainOf(e) === chain ? i : -1)).filter((i) => i >= 0);
        const prev = heads[ci];
        const { events, head } = sealChain(
          prev,
          idx.map((i) => audit[i]!),
          chain,
        );
        idx.forEach((i, k) => (sealed[i] = events[k]!));
        newHeads[ci] = head;
        return {
          Put: {
            TableName: this.tableName,
            Item: chainHeadItem(chain, head),
            ...(prev
              ? {
                  ConditionExpression: '#seq = :prevSeq',
                  ExpressionAttributeNames: { '#seq': 'seq' },
                  ExpressionAttributeValues: { ':prevSeq': prev.seq },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        };
      });
      const items: TransactItem[] = [
        ...before,
        ...sealed.map((e) => ({
          Put: {
            TableName: this.tableName,
            Item: auditItem(e),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
        ...after,
        ...headPuts,
      ];
      const firstHead = items.length - headPuts.length;
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        chains.forEach((c, ci) => this.heads?.set(c, newHeads[ci]!));
        sealed.forEach((e, i) =>
          Object.assign(audit[i]!, {
            chain: e.chain,
            seq: e.seq,
            prevHash: e.prevHash,
            hash: e.hash,
          }),
        );
        return;
      } catch (err) {
        const reasons = reasonsOf(err);
        const lostHeadOnly =
          isConditionFailure(err) &&
          !!reasons &&
          reasons.some(
            (r, i) =>
              (i >= firstHead && r.Code === 'ConditionalCheckFailed') ||
              r.Code === 'TransactionConflict',
          ) &&
          reasons.every(
            (r, i) =>
              !r.Code ||
              r.Code === 'None' ||
              r.Code === 'TransactionConflict' ||
              (i >= firstHead && r.Code === 'ConditionalCheckFailed'),
          );
        if (!lostHeadOnly) throw err;
        const usedKept = kept && chains.some((c) => this.heads?.has(c));
        kept = false;
        chains.forEach((c) => this.heads?.delete(c));
        // Sealed on a kept head that another instance moved: read it and try again at once.
        if (usedKept) {
          attempt--;
          continue;
        }
        if (attempt + 1 >= CHAIN_RETRY.attempts) {
          throw unavailable(
            'AUDIT_CHAIN_BUSY',
            `The audit chain of ${chains.join(', ')} is busy; try again.`,
          );
        }
        const ceiling = Math.min(CHAIN_RETRY.capMs, CHAIN_RETRY.baseMs * 2 ** attempt);
        await new Promise((r) => setTimeout(r, Math.random() * ceiling));
      }
    }
  }

  listRequestAudit = (requestId: string) =>
    this.queryAll<AuditEvent>(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ev)',
        ExpressionAttributeValues: { ':pk': `REQUEST#${requestId}`, ':ev': 'EVENT#' },
      },
      auditEventOf,
    );

  /**
   * Audit events in [from, to], oldest first: one Query of one partition whatever the window
   * (by domain gsi2, by actor gsi4, else the time partition AUDITLOG in gsi3; an actor within a
   * domain is filtered within the page).
   */
  async queryAudit(query: AuditQuery): Promise<KeyedPage<AuditEvent>> {
    // Sort keys hold full ISO times with milliseconds; compare like with like, so that
    // `2026-11-21T00:00:00Z` includes an event at `2026-11-21T00:00:00.500Z`.
    const from = new Date(query.from).toISOString();
    const to = new Date(query.to).toISOString();
    const source: Source = query.domain
      ? { index: 'gsi2', pk: `AUDIT#${query.domain}` }
      : query.actor
        ? { index: 'gsi4', pk: `ACTOR#${query.actor}` }
        : { index: 'gsi3', pk: AUDIT_LOG };
    return this.mergedPage<AuditEvent>([{ ...source, lo: from, hi: to }], query, {
      descending: false,
      ...(query.domain && query.actor ? { filter: { actor: query.actor } } : {}),
      of: auditEventOf,
    });
  }
}
