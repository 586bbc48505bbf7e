import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from './dynamo-store';
import { DynamoSearchIndex } from './dynamo-search-index';
import { DynamoNotificationStore } from './dynamo-notifications';
import { EventBridgePublisher } from './eventbridge';
import { DynamoOperationStore } from './operation-store';
import type { EventPublisher } from '../../ports/events';

/**
 * The AWS side of the ports every Meshgate process uses (the table, the event bus), built once
 * per process (Lambda cold start or `npm start` against AWS). Lake Formation, Glue and STS are
 * not here: only the worker reaches domain accounts (broker-adapters.ts), so the API's bundle
 * holds none of their clients. Nor is the SES sender (ses-sender.ts): the functions that send e-mail
 * add it, and the API, which never does, carries no SES client. Clients follow the SDK's standard settings: region, credential
 * chain, AWS_ENDPOINT_URL and the per-service endpoint variables.
 */
export function awsAdapters(opts: {
  tableName: string;
  eventBusName?: string;
  fallbackEvents?: EventPublisher;
}) {
  // One DynamoDB client for every aggregate's adapter on the table.
  const dynamo = new DynamoDBClient({});
  const store = new DynamoStore(opts.tableName, dynamo);
  return {
    store,
    search: new DynamoSearchIndex(opts.tableName, dynamo, store),
    operations: new DynamoOperationStore(opts.tableName, dynamo, store.auditLog),
    notifications: new DynamoNotificationStore(opts.tableName, dynamo),
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
