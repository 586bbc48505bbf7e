import type { DataProduct } from './model';

/** A product gone from its domain's catalog: kept, so grants and the trail still name it, but no longer requestable. */
export const retire = (p: DataProduct): DataProduct => ({ ...p, status: 'RETIRED' });
