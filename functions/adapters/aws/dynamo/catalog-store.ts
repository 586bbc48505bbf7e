import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent, ConsumerAccount, DataProduct, Domain, User } from '../../../domain/model';
import { conflict } from '../../../domain/errors';
import { GLOBAL_CHAIN } from '../../../domain/audit-chain';
import type { KeyPage, CatalogStore as PortCatalogStore } from '../../../ports/store';
import {
  CONSUMER_ACCOUNTS,
  consumerAccountItem,
  DOMAINS,
  domainItem,
  productItem,
  strip,
  userItem,
  productKey as productKeyOf,
} from './keys';
import { DynamoTable, isConditionFailure } from './table';
import { catalogVersionBump } from '../catalog-version';
import type { DynamoAuditLog } from './audit-log';

/** Domains, products and users. */
export class DynamoCatalogStore extends DynamoTable implements PortCatalogStore {
  constructor(
    tableName: string,
    client: DynamoDBClient,
    private readonly audit: DynamoAuditLog,
  ) {
    super(tableName, client);
  }

  putDomain = (d: Domain) => this.put(domainItem(d));
  async createDomain(d: Domain, audit: AuditEvent): Promise<void> {
    try {
      await this.audit.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: domainItem(d),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
        [audit],
        [this.bumpGeneration()],
        () => GLOBAL_CHAIN,
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw conflict('DOMAIN_EXISTS', `Domain ${d.id} is already registered.`, err);
      throw err;
    }
  }

  async saveDomain(d: Domain, audit: AuditEvent): Promise<void> {
    await this.audit.writeAudited(
      [{ Put: { TableName: this.tableName, Item: domainItem(d) } }],
      [audit],
      [this.bumpGeneration()],
      () => GLOBAL_CHAIN,
    );
  }

  getDomain = (id: string) => this.get<Domain>(DOMAINS, id);

  async createConsumerAccount(c: ConsumerAccount, audit: AuditEvent): Promise<void> {
    try {
      await this.audit.writeAudited(
        [
          {
            Put: {
              TableName: this.tableName,
              Item: consumerAccountItem(c),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
        [audit],
        [],
        () => GLOBAL_CHAIN,
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw conflict(
          'CONSUMER_ACCOUNT_EXISTS',
          `Account ${c.accountId} is already registered as a consumer account.`,
          err,
        );
      throw err;
    }
  }
  getConsumerAccount = (accountId: string) =>
    this.get<ConsumerAccount>(CONSUMER_ACCOUNTS, accountId);
  listConsumerAccounts = () =>
    this.byKey<ConsumerAccount>(CONSUMER_ACCOUNTS, undefined, false, true);
  listConsumerAccountsPage = (page: KeyPage) =>
    this.mergedPage<ConsumerAccount>([{ pk: CONSUMER_ACCOUNTS }], page, {
      descending: false,
      consistent: true,
    });
  listDomains = () => this.byKey<Domain>(DOMAINS, undefined, false, true);
  listDomainsPage = (page: KeyPage) =>
    this.mergedPage<Domain>([{ pk: DOMAINS }], page, { descending: false, consistent: true });

  /** Every product write moves the catalog version in its transaction (catalog-version.ts). */
  async putProduct(p: DataProduct): Promise<void> {
    await this.audit.writeAudited(
      [{ Put: { TableName: this.tableName, Item: productItem(p) } }],
      [],
      [catalogVersionBump(this.tableName)],
    );
  }

  async saveProduct(p: DataProduct, audit: AuditEvent): Promise<void> {
    await this.audit.writeAudited(
      [{ Put: { TableName: this.tableName, Item: productItem(p) } }],
      [audit],
      [catalogVersionBump(this.tableName)],
    );
  }
  getProduct = (id: string) => this.get<DataProduct>(`PRODUCT#${id}`, 'META');

  async getProducts(ids: string[]): Promise<DataProduct[]> {
    const unique = [...new Set(ids)];
    const found: DataProduct[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(i, i + 100)
        .map((id) => productKeyOf(id));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)));
        const out: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? [])
          found.push(strip<DataProduct>(item)!);
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }
  listProducts = (domain: string) => this.byKey<DataProduct>(`PRODUCTS#${domain}`, 'gsi1');

  putUser = (u: User) => this.put(userItem(u));
  getUser = (id: string) => this.get<User>('USER', id);
  listUsers = () => this.byKey<User>('USER');
}
