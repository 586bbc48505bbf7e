import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  AccessRequest,
  AuditEvent,
  FulfilmentProgress,
  Grant,
  RequestStatus,
} from '../../../domain/model';
import { conflict, unavailable } from '../../../domain/errors';
import type {
  Expected,
  ExtensionLock,
  OpenCount,
  InboxSource,
  KeyedPage,
  KeyPage,
  ListingSource,
  PageRequest,
  RequestStore as PortRequestStore,
} from '../../../ports/store';
import {
  REFUSAL_WINDOWS,
  REFUSALS,
  extensionLockKey,
  grantItem,
  activeGrantsOf,
  holderItem,
  holderKey,
  openCountKey,
  requestItem,
  ALL_GRANTS,
  ALL_REQUESTS,
  pendingPartition,
  pendingStagePartition,
  type RefusalWindow,
} from './keys';
import {
  DynamoTable,
  STAGES,
  filterOf,
  type Source,
  type TransactItem,
  reasonsOf,
  isConditionFailure,
  extensionOpen,
  openRequestLimit,
} from './table';
import type { DynamoAuditLog } from './audit-log';
import { listPendingDue } from '../pending-due';

const grantsVersionKey = (user: string) => ({ pk: `GRANTS#${user}`, sk: 'VERSION' });

/** Requests and grants, extension locks, open-request counters and refusal windows. */
export class DynamoRequestStore extends DynamoTable implements PortRequestStore {
  constructor(
    tableName: string,
    client: DynamoDBClient,
    private readonly audit: DynamoAuditLog,
  ) {
    super(tableName, client);
  }

  async createRequest(
    request: AccessRequest,
    audit: AuditEvent[],
    lock?: ExtensionLock,
    open?: OpenCount,
  ): Promise<void> {
    const lockItems = this.lockItems(lock);
    try {
      await this.audit.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: requestItem(request),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...lockItems,
          ...this.openCountItems(open),
        ],
        audit,
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        if (lock && reasonsOf(err)?.[1]?.Code === 'ConditionalCheckFailed')
          throw extensionOpen(lock);
        if (open && reasonsOf(err)?.[1 + lockItems.length]?.Code === 'ConditionalCheckFailed')
          throw openRequestLimit(open);
        throw conflict('REQUEST_EXISTS', `Request ${request.id} already exists.`, err);
      }
      throw err;
    }
  }

  /**
   * The grant's extension lock, one item per grant: claimed with a put conditional on its absence
   * (so two extensions racing for one grant cannot both be opened), released by its holder only.
   */
  private lockItems(lock: ExtensionLock | undefined): TransactItem[] {
    if (!lock) return [];
    const Key = extensionLockKey(lock.grantId);
    if (lock.op === 'claim') {
      return [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...Key, kind: 'extensionlock', requestId: lock.requestId },
            ConditionExpression: 'attribute_not_exists(pk) OR requestId = :holder',
            ExpressionAttributeValues: { ':holder': lock.requestId },
          },
        },
      ];
    }
    return [
      {
        Delete: {
          TableName: this.tableName,
          Key,
          ConditionExpression: 'attribute_not_exists(pk) OR requestId = :holder',
          ExpressionAttributeValues: { ':holder': lock.requestId },
        },
      },
    ];
  }

  /**
   * The requester's count of open requests (item `OPENREQUESTS#<user>` / `COUNT`): a claim adds
   * one, conditional on the count being below the limit, so of simultaneous submissions only as
   * many as there are places left go through; a release takes one away. Both in the transaction
   * of the request's write.
   */
  private openCountItems(open: OpenCount | undefined): TransactItem[] {
    if (!open) return [];
    const claim = open.op === 'claim';
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: openCountKey(open.user),
          UpdateExpression: 'SET #kind = :kind ADD #open :delta',
          ...(claim
            ? {
                ConditionExpression: 'attribute_not_exists(#open) OR #open < :max',
                ExpressionAttributeValues: { ':kind': 'opencount', ':delta': 1, ':max': open.max },
              }
            : { ExpressionAttributeValues: { ':kind': 'opencount', ':delta': -1 } }),
          ExpressionAttributeNames: { '#kind': 'kind', '#open': 'open' },
        },
      },
    ];
  }

  async countOpenRequests(user: string): Promise<number> {
    const item = await this.get<{ open?: number }>(openCountKey(user).pk, openCountKey(user).sk);
    return Math.max(0, item?.open ?? 0);
  }

  getRequest = (id: string) => this.get<AccessRequest>(`REQUEST#${id}`, 'META');

  async recordProgress(id: string, progress: FulfilmentProgress): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `REQUEST#${id}`, sk: 'META' },
          UpdateExpression: 'SET #progress = :progress',
          ConditionExpression: '#status = :granting',
          ExpressionAttributeNames: { '#progress': 'progress', '#status': 'status' },
          ExpressionAttributeValues: { ':progress': progress, ':granting': 'GRANTING' },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // moved on (ACTIVE, FAILED...): nothing to note
    }
  }

  async updateRequest(
    next: AccessRequest,
    expected: Expected,
    audit: AuditEvent[],
    grant?: Grant,
    lock?: ExtensionLock,
    open?: OpenCount,
  ): Promise<void> {
    if (next.version !== expected.version + 1)
      throw new Error('updateRequest: next.version must be expected.version + 1');
    try {
      await this.audit.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: requestItem(next),
              ConditionExpression: '#status = :status AND #version = :version',
              ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
              ExpressionAttributeValues: {
                ':status': expected.status,
                ':version': expected.version,
              },
            },
          },
          ...this.lockItems(lock),
          ...this.openCountItems(open),
        ],
        audit,
        grant
          ? [
              { Put: { TableName: this.tableName, Item: grantItem(grant) } },
              grant.status === 'ACTIVE'
                ? { Put: { TableName: this.tableName, Item: holderItem(grant) } }
                : { Delete: { TableName: this.tableName, Key: holderKey(grant) } },
              this.grantsVersionBump(grant.requester, next.updatedAt),
            ]
          : [],
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        if (lock && reasonsOf(err)?.[1]?.Code === 'ConditionalCheckFailed')
          throw extensionOpen(lock);
        throw conflict(
          'STALE_REQUEST',
          `Request ${next.id} changed since it was read (expected ${expected.status} v${expected.version}); reload it and try again.`,
          err,
        );
      }
      throw err;
    }
  }

  listRequests(
    sources: ListingSource[],
    q: KeyPage & { status?: RequestStatus; domain?: string },
  ): Promise<KeyedPage<AccessRequest>> {
    const partitions = sources.flatMap((s): Source[] =>
      'requester' in s
        ? [{ index: 'gsi1', pk: `REQUESTER#${s.requester}` }]
        : 'domain' in s
          ? [{ index: 'gsi2', pk: `REQDOMAIN#${s.domain}` }]
          : [
              ...(q.status === undefined || q.status !== 'PENDING'
                ? [{ index: 'gsi4' as const, pk: ALL_REQUESTS }]
                : []),
              ...(q.status === undefined || q.status === 'PENDING'
                ? STAGES.map((st) => ({ index: 'gsi4' as const, pk: pendingStagePartition(st) }))
                : []),
            ],
    );
    return this.mergedPage<AccessRequest>(partitions, q, {
      descending: true,
      filter: filterOf(q),
    });
  }

  listPending = (sources: InboxSource[], page: KeyPage) =>
    this.mergedPage<AccessRequest>(
      sources.map((s) =>
        'domain' in s
          ? { index: 'gsi3', pk: pendingPartition(s.domain, s.stage) }
          : { index: 'gsi4', pk: pendingStagePartition(s.stage) },
      ),
      page,
      { descending: false },
    );

  listGrants = (
    sources: ListingSource[],
    q: KeyPage & { status?: Grant['status']; domain?: string },
  ) =>
    this.mergedPage<Grant>(
      sources.map((s) =>
        'requester' in s
          ? // A user's ACTIVE grants have their own partition (their holder items): no filter.
            q.status === 'ACTIVE'
            ? { index: 'gsi1', pk: activeGrantsOf(s.requester) }
            : { index: 'gsi1', pk: `GRANTEE#${s.requester}` }
          : 'domain' in s
            ? { index: 'gsi2', pk: `GRANTDOMAIN#${s.domain}` }
            : { index: 'gsi4', pk: ALL_GRANTS },
      ),
      q,
      { descending: true, filter: filterOf(q) },
    );

  /** Pending requests whose next deadline (escalation or timeout) is at or before `at` (pending-due.ts). */
  listPendingDue = (at: string, page: PageRequest) =>
    listPendingDue(this.doc, this.tableName, at, page);
  listInFlightSince = (before: string, page: PageRequest) =>
    this.gsi3Page<AccessRequest>('INFLIGHT', page, {
      KeyConditionExpression: 'gsi3pk = :p AND gsi3sk < :before',
      ExpressionAttributeValues: { ':p': 'INFLIGHT', ':before': before },
    });

  getGrant = (id: string) => this.get<Grant>(`GRANT#${id}`, 'META');

  /**
   * The grantee's grants version moves with every write of one of their grants (here, the only
   * place grants are written): per user, so grant writes of different people never touch one item.
   */
  private grantsVersionBump(user: string, at: string): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: grantsVersionKey(user),
        UpdateExpression: 'SET #kind = :kind, #movedAt = :at ADD #version :one',
        ExpressionAttributeNames: { '#kind': 'kind', '#version': 'version', '#movedAt': 'movedAt' },
        ExpressionAttributeValues: { ':kind': 'grantsversion', ':one': 1, ':at': at },
      },
    };
  }

  async grantsVersion(user: string): Promise<{ version: number; movedAt?: string }> {
    const key = grantsVersionKey(user);
    const item = await this.get<{ version?: number; movedAt?: string }>(key.pk, key.sk);
    return { version: item?.version ?? 0, ...(item?.movedAt ? { movedAt: item.movedAt } : {}) };
  }
  listActiveGrantsOf = (domain: string, principal: string) =>
    this.byKey<Grant>(holderKey({ id: '', domain, principal }).pk, undefined, false, true);

  listGrantsByDomain = (domain: string) => this.byKey<Grant>(`GRANTDOMAIN#${domain}`, 'gsi2', true);

  listGrantsExpiringBy = (at: string, page: PageRequest) =>
    this.gsi3Page<Grant>('ACTIVEGRANT', page, {
      KeyConditionExpression: 'gsi3pk = :p AND gsi3sk <= :at',
      ExpressionAttributeValues: { ':p': 'ACTIVEGRANT', ':at': `${at}#\uffff` },
    });

  listGrantsEnding = (page: PageRequest) =>
    this.gsi3Page<Grant>('ENDINGGRANT', page, {
      KeyConditionExpression: 'gsi3pk = :p',
      ExpressionAttributeValues: { ':p': 'ENDINGGRANT' },
    });

  async countRefusal(
    user: string,
    action: string,
    at: { now: string; until: string },
    refusal: AuditEvent,
    summary: (count: number, window: { from: string; to: string }) => AuditEvent,
  ): Promise<boolean> {
    const Key = { pk: `${REFUSALS}${user}`, sk: action };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        // Within the open window: counted, and listed for the sweep (gsi3, keyed by the window's
        // end) until its count is in the trail; nothing else written.
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'ADD #n :one SET gsi3pk = :w, gsi3sk = #until',
            ConditionExpression: '#until > :now',
            ExpressionAttributeNames: { '#n': 'count', '#until': 'until' },
            ExpressionAttributeValues: { ':one': 1, ':now': at.now, ':w': REFUSAL_WINDOWS },
          }),
        );
        return false;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const ended = await this.get<RefusalWindow>(Key.pk, Key.sk);
      const unrecorded = ended ? ended.count - ended.recorded : 0;
      const events = [
        ...(ended && unrecorded > 0
          ? [summary(unrecorded, { from: ended.from, to: ended.until })]
          : []),
        refusal,
      ];
      try {
        // The new window, conditional on the ended one as read: its count cannot move, nor the
        // sweep sum it up, meanwhile without this write failing (and being tried again from a
        // fresh read). The new item is not listed for the sweep: all it counts is recorded.
        await this.audit.writeAudited(
          [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...Key,
                  kind: 'refusalcount',
                  from: at.now,
                  until: at.until,
                  count: 1,
                  recorded: 1,
                },
                ...(ended
                  ? {
                      ConditionExpression: '#n = :n AND #r = :r AND #until = :until',
                      ExpressionAttributeNames: {
                        '#n': 'count',
                        '#r': 'recorded',
                        '#until': 'until',
                      },
                      ExpressionAttributeValues: {
                        ':n': ended.count,
                        ':r': ended.recorded,
                        ':until': ended.until,
                      },
                    }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
          ],
          events,
        );
        return true;
      } catch (err) {
        if (!(isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed'))
          throw err;
      }
    }
    throw unavailable('AUDIT_CHAIN_BUSY', `The refusal count of ${user} is busy; try again.`);
  }

  async flushRefusals(
    now: string,
    limit: number,
    summary: (
      user: string,
      action: string,
      count: number,
      window: { from: string; to: string },
    ) => AuditEvent,
  ): Promise<number> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :p AND gsi3sk <= :now',
        ExpressionAttributeValues: { ':p': REFUSAL_WINDOWS, ':now': now },
        Limit: limit,
      }),
    );
    let flushed = 0;
    for (const listed of out.Items ?? []) {
      const Key = { pk: listed.pk as string, sk: listed.sk as string };
      // The index is read eventually consistent: the window as it is now, from the table.
      const w = await this.get<RefusalWindow>(Key.pk, Key.sk);
      if (!w || w.until > now || w.count <= w.recorded) continue;
      try {
        await this.audit.writeAudited(
          [
            {
              Update: {
                TableName: this.tableName,
                Key,
                UpdateExpression: 'SET #r = :n REMOVE gsi3pk, gsi3sk',
                ConditionExpression: '#n = :n AND #r = :r AND #until = :until',
                ExpressionAttributeNames: { '#n': 'count', '#r': 'recorded', '#until': 'until' },
                ExpressionAttributeValues: { ':n': w.count, ':r': w.recorded, ':until': w.until },
              },
            },
          ],
          [
            summary(Key.pk.slice(REFUSALS.length), Key.sk, w.count - w.recorded, {
              from: w.from,
              to: w.until,
            }),
          ],
        );
        flushed++;
      } catch (err) {
        // Counted again, or summed up by a new window or another sweep, since it was read: a
        // count still unrecorded is left for the next sweep.
        if (!(isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed'))
          throw err;
      }
    }
    return flushed;
  }
}
