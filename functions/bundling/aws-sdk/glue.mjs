// The Glue client as the Lambda bundles carry it: the client and the commands Meshgate sends,
// from the package's ES-module build (BUNDLING aliases `@aws-sdk/client-glue` here; see LAZY_CLIENTS in
// infra/constructs/meshgate-function.ts for why).
export { GlueClient } from '../../../node_modules/@aws-sdk/client-glue/dist-es/GlueClient.js';
export { CreateDatabaseCommand } from '../../../node_modules/@aws-sdk/client-glue/dist-es/commands/CreateDatabaseCommand.js';
export { CreateTableCommand } from '../../../node_modules/@aws-sdk/client-glue/dist-es/commands/CreateTableCommand.js';
export { DeleteTableCommand } from '../../../node_modules/@aws-sdk/client-glue/dist-es/commands/DeleteTableCommand.js';
export { GetDatabasesCommand } from '../../../node_modules/@aws-sdk/client-glue/dist-es/commands/GetDatabasesCommand.js';
export { GetTableCommand } from '../../../node_modules/@aws-sdk/client-glue/dist-es/commands/GetTableCommand.js';
export { GetTablesCommand } from '../../../node_modules/@aws-sdk/client-glue/dist-es/commands/GetTablesCommand.js';
