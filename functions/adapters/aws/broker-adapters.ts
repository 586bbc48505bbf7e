import { GlueCatalog } from './glue-catalog';
import { AwsLakeFormation } from './lakeformation';
import { AwsConsumerLinks } from './consumer-links';

/**
 * How the worker reaches the domain accounts: Lake Formation and Glue through each domain's broker
 * role (STS AssumeRole). Only the worker builds these (the API never reaches a domain account).
 */
export function awsBrokerAdapters() {
  const lakeFormation = new AwsLakeFormation();
  return {
    lakeFormation,
    // Glue reads go through the same broker credentials as Lake Formation: one AssumeRole per role.
    catalog: new GlueCatalog({
      credentials: (access) => lakeFormation.credentials.provider(access),
    }),
    // Resource links in consumer accounts, through their broker roles: the same credentials cache.
    consumerLinks: new AwsConsumerLinks({
      credentials: (access) => lakeFormation.credentials.provider(access),
    }),
  };
}
