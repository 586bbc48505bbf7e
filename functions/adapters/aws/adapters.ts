import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from './dynamo-store';
import { DynamoSearchIndex } from './dynamo-search-index';
import { EventBridgePublisher } from './eventbridge';
import { GlueCatalog } from './glue-catalog';
import { AwsLakeFormation } from './lakeformation';
import type { EventPublisher } from '../../ports/events';

/**
 * The AWS side of every port that talks to AWS, built once per process (Lambda cold start or
 * `npm start` against AWS). Clients follow the SDK's standard settings: region, credential chain,
 * AWS_ENDPOINT_URL and the per-service endpoint variables.
 */
export function awsAdapters(opts: {
  tableName: string;
  eventBusName?: string;
  fallbackEvents?: EventPublisher;
}) {
  const lakeFormation = new AwsLakeFormation();
  const store = new DynamoStore(opts.tableName);
  return {
    store,
    search: new DynamoSearchIndex(opts.tableName, new DynamoDBClient({}), store),
    lakeFormation,
    // Glue reads go through the same broker credentials as Lake Formation: one AssumeRole per role.
    catalog: new GlueCatalog({
      credentials: (access) => lakeFormation.credentials.provider(access),
    }),
    events: eventsFor(opts),
  };
}

function eventsFor(opts: {
  eventBusName?: string;
  fallbackEvents?: EventPublisher;
}): EventPublisher {
  if (opts.eventBusName) return new EventBridgePublisher(opts.eventBusName);
  if (opts.fallbackEvents) return opts.fallbackEvents;
  throw new Error('No event bus configured: set an EventBridge bus name.');
}
