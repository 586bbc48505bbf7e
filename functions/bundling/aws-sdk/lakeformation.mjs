// The Lake Formation client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-lakeformation` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { LakeFormationClient } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/LakeFormationClient.js';
export { BatchGrantPermissionsCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/BatchGrantPermissionsCommand.js';
export { BatchRevokePermissionsCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/BatchRevokePermissionsCommand.js';
export { CreateDataCellsFilterCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/CreateDataCellsFilterCommand.js';
export { DeleteDataCellsFilterCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/DeleteDataCellsFilterCommand.js';
export { GrantPermissionsCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/GrantPermissionsCommand.js';
export { ListPermissionsCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/ListPermissionsCommand.js';
export { RevokePermissionsCommand } from '../../../node_modules/@aws-sdk/client-lakeformation/dist-es/commands/RevokePermissionsCommand.js';
