// The SQS client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-sqs` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { SQSClient } from '../../../node_modules/@aws-sdk/client-sqs/dist-es/SQSClient.js';
export { SendMessageCommand } from '../../../node_modules/@aws-sdk/client-sqs/dist-es/commands/SendMessageCommand.js';
