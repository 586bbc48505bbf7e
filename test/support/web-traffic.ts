import type { DataProduct, Domain } from '../../functions/domain/model';

/**
 * A public product of the marketing domain, in `account`'s catalog: what the Lambda handler tests
 * request and grant (its owner is mia; public, so a request is approved at once).
 */
export const webTrafficProduct = (account: string): DataProduct => ({
  id: 'marketing/web_traffic',
  domain: 'marketing',
  name: 'web_traffic',
  title: 'Web traffic',
  description: 'Sessions per page and day',
  owner: 'mia',
  classification: 'public',
  tags: ['web'],
  location: { catalogId: account, database: 'marketing_gold', table: 'web_traffic' },
  columns: [
    { name: 'day', type: 'date', pii: false },
    { name: 'sessions', type: 'bigint', pii: false },
  ],
  freshness: 'Daily',
  status: 'ACTIVE',
});

/** The marketing domain of that product, in `account`, with its broker role. */
export const marketingDomain = (account: string): Domain => ({
  id: 'marketing',
  name: 'Marketing',
  accountId: account,
  region: 'eu-west-1',
  broker: { roleArn: `arn:aws:iam::${account}:role/meshgate-broker`, externalId: 'ext-marketing' },
});
