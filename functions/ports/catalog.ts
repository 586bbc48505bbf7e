import type { DataProduct } from '../domain/model';
import type { DomainAccount } from './lakeformation';

/** The data products a domain's catalog declares, read from the domain account. */
export interface CatalogSource {
  /** Every product the catalog of `account` declares for `domainId` (all pages read). */
  listProducts(domainId: string, account: DomainAccount): Promise<DataProduct[]>;
}
