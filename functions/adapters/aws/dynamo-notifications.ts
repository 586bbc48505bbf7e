import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Notification } from '../../domain/notifications';
import type {
  AddedMany,
  NotificationPage,
  NotificationSettings,
  NotificationStore,
} from '../../ports/notifications';
import { documentClient } from './dynamo-store';

/**
 * Notifications in the one Meshgate table.
 *
 *   item          pk                 sk
 *   notification  NOTIFY#<user>      N#<id>        (ids start with their time: a Query newest first)
 *   unread count  NOTIFY#<user>      COUNT         (unread: moved with ADD in the transaction of each write)
 *   settings      NOTIFY#<user>      SETTINGS      (email: boolean)
 *   catch-up mark NOTIFYMARK         <chain>       (seq: the last audit event of the chain notified)
 *
 * A notification is put with attribute_not_exists: its id is made from what it is about, so a
 * second delivery of the same event cancels the transaction and changes nothing.
 */
export class DynamoNotificationStore implements NotificationStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient | DynamoDBDocumentClient,
  ) {
    this.doc = client instanceof DynamoDBClient ? documentClient(client) : client;
  }

  private readonly key = (user: string, sk: string) => ({ pk: `NOTIFY#${user}`, sk });
  private readonly countUpdate = (user: string, by: number) => ({
    Update: {
      TableName: this.tableName,
      Key: this.key(user, 'COUNT'),
      UpdateExpression: 'SET #kind = :kind ADD #unread :by',
      ExpressionAttributeNames: { '#kind': 'kind', '#unread': 'unread' },
      ExpressionAttributeValues: { ':kind': 'notification-count', ':by': by },
    },
  });

  private readonly put = (n: Notification) => ({
    Put: {
      TableName: this.tableName,
      Item: { ...this.key(n.user, `N#${n.id}`), ...n, read: false },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });

  async add(n: Notification): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({ TransactItems: [this.put(n), this.countUpdate(n.user, 1)] }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err, 0)) return false;
      throw err;
    }
  }

  /**
   * One transaction for a group of notifications: their puts and one count update per recipient
   * (by how many are theirs; a transaction may not touch an item twice), within DynamoDB's 100
   * items. If one of them exists already (a redelivery, the catch-up after the fast path), the
   * transaction is cancelled and writes nothing: that group is added one by one instead, so that
   * each count moves only by what was new. The same id twice in `ns` is added once.
   */
  async addMany(ns: readonly Notification[]): Promise<AddedMany> {
    const out: boolean[] = ns.map(() => false);
    const failures: unknown[] = [];
    /** `add`, its failure kept: the notification is then not added (the catch-up adds it). */
    const addOne = async (i: number) => {
      try {
        out[i] = await this.add(ns[i]!);
      } catch (err) {
        failures.push(err);
      }
    };
    const seen = new Set<string>();
    let group: number[] = [];
    let users = new Set<string>();
    const flush = async () => {
      const members = group;
      group = [];
      users = new Set();
      if (members.length === 0) return;
      if (members.length === 1) return addOne(members[0]!);
      const counts = new Map<string, number>();
      for (const i of members) counts.set(ns[i]!.user, (counts.get(ns[i]!.user) ?? 0) + 1);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              ...members.map((i) => this.put(ns[i]!)),
              ...[...counts].map(([user, by]) => this.countUpdate(user, by)),
            ],
          }),
        );
        for (const i of members) out[i] = true;
      } catch (err) {
        // One exists already: one by one, each on its own. The group failed otherwise (its outcome
        // unknown: it may have been written): one by one too, and one found there already is
        // counted as failed, for it may be this group's, added now but never to be sent.
        const conflict = members.some((_, k) => conditionFailed(err, k));
        for (const i of members) {
          const failed = failures.length;
          await addOne(i);
          if (!conflict && !out[i] && failures.length === failed) failures.push(err);
        }
      }
    };
    for (let i = 0; i < ns.length; i++) {
      const n = ns[i]!;
      const id = `${n.user}\u0000${n.id}`;
      if (seen.has(id)) continue;
      seen.add(id);
      // Its put, and its recipient's count if that is not in the group yet.
      const items = group.length + users.size + 1 + (users.has(n.user) ? 0 : 1);
      if (items > MAX_TRANSACTION_ITEMS) await flush();
      group.push(i);
      users.add(n.user);
    }
    await flush();
    return { added: out, failures };
  }

  async list(
    user: string,
    q: { limit: number; after?: string; unread?: boolean },
  ): Promise<NotificationPage> {
    const items: Notification[] = [];
    let start: Record<string, unknown> | undefined = q.after
      ? this.key(user, `N#${q.after}`)
      : undefined;
    // With `unread` the filter applies after each read page: read on until the page is full.
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
          ExpressionAttributeValues: {
            ':pk': `NOTIFY#${user}`,
            ':n': 'N#',
            ...(q.unread ? { ':false': false } : {}),
          },
          ...(q.unread ? { FilterExpression: '#read = :false' } : {}),
          ...(q.unread ? { ExpressionAttributeNames: { '#read': 'read' } } : {}),
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: q.limit + 1 - items.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) items.push(notificationOf(item));
      start = out.LastEvaluatedKey;
    } while (start && items.length <= q.limit);
    const more = items.length > q.limit || (start !== undefined && items.length === q.limit);
    const page = items.slice(0, q.limit);
    return { items: page, after: more && page.length > 0 ? page[page.length - 1]!.id : undefined };
  }

  async get(user: string, id: string): Promise<Notification | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(user, `N#${id}`),
        ConsistentRead: true,
      }),
    );
    return out.Item ? notificationOf(out.Item) : undefined;
  }

  async markRead(user: string, id: string): Promise<'read' | 'already' | 'missing'> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: this.key(user, `N#${id}`),
                UpdateExpression: 'SET #read = :true',
                ConditionExpression: 'attribute_exists(pk) AND #read = :false',
                ExpressionAttributeNames: { '#read': 'read' },
                ExpressionAttributeValues: { ':true': true, ':false': false },
              },
            },
            this.countUpdate(user, -1),
          ],
        }),
      );
      return 'read';
    } catch (err) {
      if (!conditionFailed(err, 0)) throw err;
      return (await this.get(user, id)) ? 'already' : 'missing';
    }
  }

  async markAllRead(user: string): Promise<number> {
    let marked = 0;
    let after: string | undefined;
    do {
      const page = await this.list(user, { limit: 100, unread: true, after });
      for (const n of page.items) if ((await this.markRead(user, n.id)) === 'read') marked++;
      after = page.after;
    } while (after);
    return marked;
  }

  async unreadCount(user: string): Promise<number> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(user, 'COUNT'),
        ConsistentRead: true,
      }),
    );
    return Math.max(0, Number(out.Item?.unread ?? 0));
  }

  async getSettings(user: string): Promise<NotificationSettings> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(user, 'SETTINGS'),
        ConsistentRead: true,
      }),
    );
    return { email: out.Item?.email !== false };
  }

  async putSettings(user: string, s: NotificationSettings): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...this.key(user, 'SETTINGS'), kind: 'notification-settings', email: s.email },
      }),
    );
  }

  async readMark(chain: string): Promise<number> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: 'NOTIFYMARK', sk: chain },
        ConsistentRead: true,
      }),
    );
    return Number(out.Item?.seq ?? 0);
  }

  async moveMark(chain: string, from: number, to: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: 'NOTIFYMARK', sk: chain },
          UpdateExpression: 'SET #seq = :to, #kind = :kind',
          ConditionExpression:
            from === 0 ? 'attribute_not_exists(#seq) OR #seq = :from' : '#seq = :from',
          ExpressionAttributeNames: { '#seq': 'seq', '#kind': 'kind' },
          ExpressionAttributeValues: { ':to': to, ':from': from, ':kind': 'notification-mark' },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}

function notificationOf(item: Record<string, unknown>): Notification {
  // `kind` is the notification's own (APPROVAL_NEEDED...), not an item marker.
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as Notification;
}

/** DynamoDB's limit of items in one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

/** A transaction cancelled because the condition of its item `index` failed. */
function conditionFailed(err: unknown, index: number): boolean {
  if (!(err instanceof TransactionCanceledException)) {
    return (err as { name?: string }).name === 'TransactionCanceledException';
  }
  return err.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed';
}
