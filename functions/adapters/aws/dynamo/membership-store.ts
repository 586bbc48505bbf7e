import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { AuditEvent, Membership } from '../../../domain/model';
import { notFound } from '../../../domain/errors';
import { GLOBAL_CHAIN } from '../../../domain/audit-chain';
import type {
  AuthzState,
  ConfigurationRecord,
  ConfigurationWrite,
  KeyPage,
  MembershipStore as PortMembershipStore,
} from '../../../ports/store';
import {
  AUTHZ_KEY,
  CONFIGURATION_KEY,
  CURSOR_KEY,
  MEMBERSHIPS,
  domainItem,
  membershipItem,
  membershipKey,
} from './keys';
import { DynamoTable, type TransactItem, reasonsOf, isConditionFailure } from './table';
import type { DynamoAuditLog } from './audit-log';

/** Memberships, the authorization state, the configuration record and the cursor key. */
export class DynamoMembershipStore extends DynamoTable implements PortMembershipStore {
  constructor(
    tableName: string,
    client: DynamoDBClient,
    private readonly audit: DynamoAuditLog,
  ) {
    super(tableName, client);
  }

  async readAuthzState(): Promise<AuthzState> {
    const item = await this.get<{
      generation?: number;
      version?: string;
      policySeq?: number;
      at?: string;
    }>(AUTHZ_KEY.pk, AUTHZ_KEY.sk);
    return {
      generation: item?.generation ?? 0,
      // An item recorded before policySeq existed holds its version with seq 0.
      policy: item?.version
        ? { version: item.version, seq: item.policySeq ?? 0, at: item.at ?? '' }
        : undefined,
    };
  }

  async claimPolicyVersion(
    policy: { version: string; at: string },
    expected: AuthzState['policy'],
    audit: AuditEvent,
  ): Promise<boolean> {
    const condition = !expected
      ? { ConditionExpression: 'attribute_not_exists(#version)' }
      : expected.seq === 0
        ? {
            ConditionExpression: '#version = :expectedVersion AND attribute_not_exists(#seq)',
            values: { ':expectedVersion': expected.version },
          }
        : { ConditionExpression: '#seq = :expectedSeq', values: { ':expectedSeq': expected.seq } };
    try {
      await this.audit.writeAudited(
        [
          {
            Update: {
              TableName: this.tableName,
              Key: AUTHZ_KEY,
              UpdateExpression: 'SET #kind = :kind, #version = :version, #seq = :seq, #at = :at',
              ConditionExpression: condition.ConditionExpression,
              ExpressionAttributeNames: {
                '#kind': 'kind',
                '#version': 'version',
                '#seq': 'policySeq',
                '#at': 'at',
              },
              ExpressionAttributeValues: {
                ':kind': 'authz',
                ':version': policy.version,
                ':seq': (expected?.seq ?? 0) + 1,
                ':at': policy.at,
                ...condition.values,
              },
            },
          },
        ],
        [audit],
        [],
        () => GLOBAL_CHAIN,
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed')
        return false;
      throw err;
    }
  }

  async readConfiguration(): Promise<ConfigurationRecord> {
    const item = await this.get<{ version?: string; seq?: number }>(
      CONFIGURATION_KEY.pk,
      CONFIGURATION_KEY.sk,
    );
    return { version: item?.version, seq: item?.seq ?? 0 };
  }

  async writeConfiguration(
    changes: ConfigurationWrite[],
    expected: ConfigurationRecord,
    done?: { version: string; audit: AuditEvent },
  ): Promise<boolean> {
    // First in the transaction, so that its cancellation reason is the first.
    const record: TransactItem = {
      Update: {
        TableName: this.tableName,
        Key: CONFIGURATION_KEY,
        UpdateExpression: `SET #kind = :kind, #seq = :next${done ? ', #version = :version, #at = :at' : ''}`,
        ConditionExpression: expected.seq === 0 ? 'attribute_not_exists(#seq)' : '#seq = :seq',
        ExpressionAttributeNames: {
          '#kind': 'kind',
          '#seq': 'seq',
          ...(done ? { '#version': 'version', '#at': 'at' } : {}),
        },
        ExpressionAttributeValues: {
          ':kind': 'configuration',
          ':next': expected.seq + 1,
          ...(expected.seq === 0 ? {} : { ':seq': expected.seq }),
          ...(done ? { ':version': done.version, ':at': done.audit.at } : {}),
        },
      },
    };
    const writes: TransactItem[] = changes.map((c) => ({
      Put: {
        TableName: this.tableName,
        Item: 'domain' in c ? domainItem(c.domain) : membershipItem(c.membership),
      },
    }));
    // Domain registrations and updates go to the global chain, as createDomain's and saveDomain's.
    const domainEvents = new Set(changes.filter((c) => 'domain' in c).map((c) => c.audit));
    try {
      await this.audit.writeAudited(
        [record, ...writes],
        [...changes.map((c) => c.audit), ...(done ? [done.audit] : [])],
        changes.length > 0 ? [this.bumpGeneration()] : [],
        (e) => (domainEvents.has(e) ? GLOBAL_CHAIN : e.domain),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err) && reasonsOf(err)?.[0]?.Code === 'ConditionalCheckFailed')
        return false;
      throw err;
    }
  }

  async putMembership(m: Membership, audit: AuditEvent): Promise<void> {
    await this.audit.writeAudited(
      [
        {
          Put: {
            TableName: this.tableName,
            Item: membershipItem(m),
          },
        },
      ],
      [audit],
      [this.bumpGeneration()],
    );
  }

  async deleteMembership(m: Membership, audit: AuditEvent): Promise<void> {
    try {
      await this.audit.writeAudited(
        [
          {
            Delete: {
              TableName: this.tableName,
              Key: membershipKey(m),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
        [audit],
        [this.bumpGeneration()],
      );
    } catch (err) {
      const reasons = reasonsOf(err);
      if (isConditionFailure(err) && reasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw notFound('MEMBERSHIP_NOT_FOUND', `${m.user} is not ${m.role} of ${m.domain}.`);
      }
      throw err;
    }
  }

  listMemberships = () => this.byKey<Membership>(MEMBERSHIPS, undefined, false, true);

  listMembers = (domain: string, page: KeyPage) =>
    this.mergedPage<Membership>(
      [{ pk: MEMBERSHIPS, lo: `${domain}#`, hi: `${domain}#\uffff` }],
      page,
      { descending: false, consistent: true },
    );

  listMembershipsBetween = (first: string, last: string, roles: string[]) =>
    this.queryAll<Membership>({
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      FilterExpression: `#role IN (${roles.map((_, i) => `:r${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#role': 'role' },
      ExpressionAttributeValues: {
        ':pk': MEMBERSHIPS,
        ':lo': `${first}#`,
        ':hi': `${last}#\uffff`,
        ...Object.fromEntries(roles.map((r, i) => [`:r${i}`, r])),
      },
    });

  private cursorKeyRead?: Promise<Uint8Array>;
  /** Read once per process (and created once per deployment), then cached. */
  cursorKey(): Promise<Uint8Array> {
    this.cursorKeyRead ??= this.readOrCreateCursorKey().catch((err: unknown) => {
      this.cursorKeyRead = undefined;
      throw err;
    });
    return this.cursorKeyRead;
  }

  private async readOrCreateCursorKey(): Promise<Uint8Array> {
    const existing = await this.get<{ key?: string }>(CURSOR_KEY.pk, CURSOR_KEY.sk);
    if (existing?.key) return Buffer.from(existing.key, 'base64');
    const key = randomBytes(32).toString('base64');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...CURSOR_KEY, kind: 'cursorkey', key },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return Buffer.from(key, 'base64');
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Another process created it first: theirs is the deployment's.
      const theirs = await this.get<{ key: string }>(CURSOR_KEY.pk, CURSOR_KEY.sk);
      return Buffer.from(theirs!.key, 'base64');
    }
  }
}
