// The RAM client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-ram` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { RAMClient } from '../../../node_modules/@aws-sdk/client-ram/dist-es/RAMClient.js';
export { AcceptResourceShareInvitationCommand } from '../../../node_modules/@aws-sdk/client-ram/dist-es/commands/AcceptResourceShareInvitationCommand.js';
export { GetResourceShareInvitationsCommand } from '../../../node_modules/@aws-sdk/client-ram/dist-es/commands/GetResourceShareInvitationsCommand.js';
