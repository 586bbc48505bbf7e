import { sqsJobHandler } from '../adapters/aws/lambda';
import type { CatalogSource } from '../ports/catalog';
import type { BrokerAdapters } from './core';
import { lambdaCore, type Env } from './lambda-core';

/**
 * The broker adapters, imported when the first job needs them (not at cold start), and the Glue
 * client only when a sync first reads a catalog: most jobs are grants and revokes.
 */
async function loadBroker(): Promise<BrokerAdapters> {
  const { AwsLakeFormation } = await import('../adapters/aws/lakeformation');
  const lakeFormation = new AwsLakeFormation();
  let glue: Promise<CatalogSource> | undefined;
  const catalog: CatalogSource = {
    listProducts: async (domainId, account) =>
      (
        await (glue ??= import('../adapters/aws/glue-catalog').then(
          ({ GlueCatalog }) =>
            // Glue reads go through the same broker credentials as Lake Formation.
            new GlueCatalog({ credentials: (a) => lakeFormation.credentials.provider(a) }),
        ))
      ).listProducts(domainId, account),
  };
  // Resource links in consumer accounts (Glue, Lake Formation and RAM there), through their broker roles.
  const { AwsConsumerLinks } = await import('../adapters/aws/consumer-links');
  const consumerLinks = new AwsConsumerLinks({
    credentials: (a) => lakeFormation.credentials.provider(a),
  });
  return { lakeFormation, catalog, consumerLinks };
}

/** The worker on SQS: grants, revokes, and the domain operations (sync, reconcile). */
export async function createWorkerHandler(env: Env) {
  return sqsJobHandler((await lambdaCore(env, false)).worker(loadBroker));
}
