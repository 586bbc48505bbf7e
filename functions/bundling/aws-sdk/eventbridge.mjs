// The EventBridge client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-eventbridge` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { EventBridgeClient } from '../../../node_modules/@aws-sdk/client-eventbridge/dist-es/EventBridgeClient.js';
export { PutEventsCommand } from '../../../node_modules/@aws-sdk/client-eventbridge/dist-es/commands/PutEventsCommand.js';
