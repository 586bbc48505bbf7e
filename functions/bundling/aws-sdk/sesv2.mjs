// The SES v2 client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-sesv2` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { SESv2Client } from '../../../node_modules/@aws-sdk/client-sesv2/dist-es/SESv2Client.js';
export { SendEmailCommand } from '../../../node_modules/@aws-sdk/client-sesv2/dist-es/commands/SendEmailCommand.js';
