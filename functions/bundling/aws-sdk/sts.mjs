// The STS client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-sts` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { STSClient } from '../../../node_modules/@aws-sdk/client-sts/dist-es/STSClient.js';
export { AssumeRoleCommand } from '../../../node_modules/@aws-sdk/client-sts/dist-es/commands/AssumeRoleCommand.js';
