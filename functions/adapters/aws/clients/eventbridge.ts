// What the EventBridge adapter takes from the client package, loaded at the first event published
// (see clients/sqs.ts for why it is a module of its own).
export { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
