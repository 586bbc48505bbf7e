import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../ports/store';
import { DynamoAuditLog } from './dynamo/audit-log';
import { DynamoCatalogStore } from './dynamo/catalog-store';
import { DynamoMembershipStore } from './dynamo/membership-store';
import { DynamoRequestStore } from './dynamo/request-store';

export { TABLE_KEYS, auditEventOf, tableDefinition } from './dynamo/keys';
export { CHAIN_RETRY, documentClient } from './dynamo/table';

const defaultClient = new DynamoDBClient({});

/**
 * The store over the one table, as one object (`deps.store`): the aggregate adapters (catalog,
 * memberships, requests and grants, the audit log they all write their events through), each
 * method handed to the aggregate that owns it. Keys and item mapping are in dynamo/keys.ts.
 */
export class DynamoStore implements Store {
  readonly auditLog: DynamoAuditLog;
  readonly catalog: DynamoCatalogStore;
  readonly memberships: DynamoMembershipStore;
  readonly requests: DynamoRequestStore;

  /** `keepChainHeads`: see DynamoAuditLog (the embedded default keeps them). */
  constructor(
    tableName: string,
    client: DynamoDBClient = defaultClient,
    opts: { keepChainHeads?: boolean } = {},
  ) {
    this.auditLog = new DynamoAuditLog(tableName, client, { keepHeads: opts.keepChainHeads });
    this.catalog = new DynamoCatalogStore(tableName, client, this.auditLog);
    this.memberships = new DynamoMembershipStore(tableName, client, this.auditLog);
    this.requests = new DynamoRequestStore(tableName, client, this.auditLog);
  }

  // CatalogStore
  putDomain: Store['putDomain'] = (...a) => this.catalog.putDomain(...a);
  createDomain: Store['createDomain'] = (...a) => this.catalog.createDomain(...a);
  saveDomain: Store['saveDomain'] = (...a) => this.catalog.saveDomain(...a);
  getDomain: Store['getDomain'] = (...a) => this.catalog.getDomain(...a);
  listDomains: Store['listDomains'] = (...a) => this.catalog.listDomains(...a);
  createConsumerAccount: Store['createConsumerAccount'] = (...a) =>
    this.catalog.createConsumerAccount(...a);
  getConsumerAccount: Store['getConsumerAccount'] = (...a) => this.catalog.getConsumerAccount(...a);
  listConsumerAccounts: Store['listConsumerAccounts'] = (...a) =>
    this.catalog.listConsumerAccounts(...a);
  listConsumerAccountsPage: Store['listConsumerAccountsPage'] = (...a) =>
    this.catalog.listConsumerAccountsPage(...a);
  listDomainsPage: Store['listDomainsPage'] = (...a) => this.catalog.listDomainsPage(...a);
  putProduct: Store['putProduct'] = (...a) => this.catalog.putProduct(...a);
  saveProduct: Store['saveProduct'] = (...a) => this.catalog.saveProduct(...a);
  getProduct: Store['getProduct'] = (...a) => this.catalog.getProduct(...a);
  getProducts: Store['getProducts'] = (...a) => this.catalog.getProducts(...a);
  listProducts: Store['listProducts'] = (...a) => this.catalog.listProducts(...a);
  putUser: Store['putUser'] = (...a) => this.catalog.putUser(...a);
  getUser: Store['getUser'] = (...a) => this.catalog.getUser(...a);
  listUsers: Store['listUsers'] = (...a) => this.catalog.listUsers(...a);

  // MembershipStore
  putMembership: Store['putMembership'] = (...a) => this.memberships.putMembership(...a);
  deleteMembership: Store['deleteMembership'] = (...a) => this.memberships.deleteMembership(...a);
  listMemberships: Store['listMemberships'] = (...a) => this.memberships.listMemberships(...a);
  listMembers: Store['listMembers'] = (...a) => this.memberships.listMembers(...a);
  listMembershipsBetween: Store['listMembershipsBetween'] = (...a) =>
    this.memberships.listMembershipsBetween(...a);
  cursorKey: Store['cursorKey'] = (...a) => this.memberships.cursorKey(...a);
  readAuthzState: Store['readAuthzState'] = (...a) => this.memberships.readAuthzState(...a);
  claimPolicyVersion: Store['claimPolicyVersion'] = (...a) =>
    this.memberships.claimPolicyVersion(...a);
  readConfiguration: Store['readConfiguration'] = (...a) =>
    this.memberships.readConfiguration(...a);
  writeConfiguration: Store['writeConfiguration'] = (...a) =>
    this.memberships.writeConfiguration(...a);

  // RequestStore
  createRequest: Store['createRequest'] = (...a) => this.requests.createRequest(...a);
  countOpenRequests: Store['countOpenRequests'] = (...a) => this.requests.countOpenRequests(...a);
  getRequest: Store['getRequest'] = (...a) => this.requests.getRequest(...a);
  recordProgress: Store['recordProgress'] = (...a) => this.requests.recordProgress(...a);
  updateRequest: Store['updateRequest'] = (...a) => this.requests.updateRequest(...a);
  listRequests: Store['listRequests'] = (...a) => this.requests.listRequests(...a);
  listPending: Store['listPending'] = (...a) => this.requests.listPending(...a);
  listInFlightSince: Store['listInFlightSince'] = (...a) => this.requests.listInFlightSince(...a);
  listPendingDue: Store['listPendingDue'] = (...a) => this.requests.listPendingDue(...a);
  getGrant: Store['getGrant'] = (...a) => this.requests.getGrant(...a);
  listGrantsByDomain: Store['listGrantsByDomain'] = (...a) =>
    this.requests.listGrantsByDomain(...a);
  listActiveGrantsOf: Store['listActiveGrantsOf'] = (...a) =>
    this.requests.listActiveGrantsOf(...a);
  listGrants: Store['listGrants'] = (...a) => this.requests.listGrants(...a);
  grantsVersion: Store['grantsVersion'] = (...a) => this.requests.grantsVersion(...a);
  listGrantsExpiringBy: Store['listGrantsExpiringBy'] = (...a) =>
    this.requests.listGrantsExpiringBy(...a);
  listGrantsEnding: Store['listGrantsEnding'] = (...a) => this.requests.listGrantsEnding(...a);
  countRefusal: Store['countRefusal'] = (...a) => this.requests.countRefusal(...a);
  flushRefusals: Store['flushRefusals'] = (...a) => this.requests.flushRefusals(...a);

  // AuditLog
  appendAudit: Store['appendAudit'] = (...a) => this.auditLog.appendAudit(...a);
  listRequestAudit: Store['listRequestAudit'] = (...a) => this.auditLog.listRequestAudit(...a);
  queryAudit: Store['queryAudit'] = (...a) => this.auditLog.queryAudit(...a);
  listChain: Store['listChain'] = (...a) => this.auditLog.listChain(...a);
}
