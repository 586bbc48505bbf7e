/**
 * The catalog version: one item (`CATALOG` / `VERSION`) whose `version` grows by one in the same
 * transaction as every product write (dynamo-store.ts), so "has the catalog changed since the
 * search index was built" is one GetItem. The same item names the search index published last
 * (`index`, see dynamo-search-index.ts).
 */
export const CATALOG_VERSION_KEY = { pk: 'CATALOG', sk: 'VERSION' } as const;

/** The transaction item that moves the catalog version; part of every product write. */
export const catalogVersionBump = (TableName: string) => ({
  Update: {
    TableName,
    Key: CATALOG_VERSION_KEY,
    UpdateExpression: 'SET #kind = :kind ADD #version :one',
    ExpressionAttributeNames: { '#kind': 'kind', '#version': 'version' },
    ExpressionAttributeValues: { ':kind': 'catalogversion', ':one': 1 },
  },
});
