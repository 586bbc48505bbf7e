import type { DataProduct } from '../../domain/model';
import type { CatalogSource } from '../../ports/catalog';
import { DEMO_PRODUCTS } from './demo-mesh';

/**
 * The embedded default's catalog: the demo mesh's products, as a Glue catalog would declare them.
 * Products can be added or removed (to try a sync that retires one) through `set`.
 */
export class DemoCatalog implements CatalogSource {
  private products: DataProduct[] = DEMO_PRODUCTS.map((p) => structuredClone(p));

  async listProducts(domainId: string): Promise<DataProduct[]> {
    return this.products.filter((p) => p.domain === domainId).map((p) => structuredClone(p));
  }

  set(products: DataProduct[]): void {
    this.products = products.map((p) => structuredClone(p));
  }
}
