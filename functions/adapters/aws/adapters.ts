import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from './dynamo-store';
import { DynamoNotificationStore } from './dynamo-notifications';
import { SesNotificationSender } from './ses-sender';
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
  /** The SES identity notification e-mail is sent from; none is sent without it. */
  emailFrom?: string;
}) {
  const lakeFormation = new AwsLakeFormation();
  const dynamo = new DynamoDBClient({});
  return {
    store: new DynamoStore(opts.tableName, dynamo),
    notifications: new DynamoNotificationStore(opts.tableName, dynamo),
    sender: new SesNotificationSender(opts.emailFrom),
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
