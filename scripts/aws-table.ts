/**
 * Creates the DynamoDB table (and its indexes) of a local run against AWS:
 * `npm run aws:table -- --table NAME [--region R]`, or `--config FILE` to take the configuration's
 * tableName. Idempotent: an existing table is reported and waited for. Exit 0: the table is
 * ACTIVE. Exit 1: AWS refused or the table is unusable. Exit 2: usage, no region, no credentials.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureMeshgateTable, type TableSetupOptions } from '../functions/adapters/aws/table-setup';
import { runAsMain, runTableCommand, type TableCommandIo as BaseIo } from './lib/table-command';

const USAGE = `Usage: npm run aws:table -- --table NAME [--region REGION]
       npm run aws:table -- --config meshgate.json [--region REGION]

Creates Meshgate's DynamoDB table with its key schema and indexes (the definition the embedded
store uses), for MESHGATE_BACKEND=aws npm start; waits until it is ACTIVE. A table that exists is
left as it is. The SDK's standard settings apply: AWS_PROFILE or other credentials, AWS_REGION
(or --region), AWS_ENDPOINT_URL_DYNAMODB. A deployed Meshgate gets its table from the Data stack.

  --table NAME     the table name (the configuration's tableName)
  --config FILE    read the table name from this configuration file (default: MESHGATE_CONFIG)
  --region REGION  the AWS region (default: AWS_REGION or the profile's region)
  --help           this text`;

export interface TableCommandIo extends BaseIo {
  setup?: TableSetupOptions;
}

/** The command; returns its exit code. */
export function tableCommand(argv: string[], io: TableCommandIo): Promise<number> {
  return runTableCommand(
    argv,
    io,
    { name: 'aws:table', usage: USAGE },
    async ({ client, table, region }) => {
      const result = await ensureMeshgateTable(client, table, {
        log: (line) => io.out(line),
        ...io.setup,
      });
      io.out(
        `Table ${result.tableName} is ACTIVE in ${region} (${result.created ? 'created' : 'already there'}; indexes ${result.indexes.join(', ')}).`,
      );
      return 0;
    },
  );
}

if (require.main === module)
  runAsMain(tableCommand, (region) => new DynamoDBClient(region ? { region } : {}));
