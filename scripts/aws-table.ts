/**
 * Creates the DynamoDB table (and its indexes) of a local run against AWS:
 * `npm run aws:table -- --table NAME [--region R]`, or `--config FILE` to take the configuration's
 * tableName. Idempotent: an existing table is reported and waited for. Exit 0: the table is
 * ACTIVE. Exit 1: AWS refused or the table is unusable. Exit 2: usage, no region, no credentials.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readConfigFile } from '../functions/adapters/aws/configuration';
import { ensureMeshgateTable, type TableSetupOptions } from '../functions/adapters/aws/table-setup';

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

export interface TableCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  client: (region: string | undefined) => DynamoDBClient;
  setup?: TableSetupOptions;
}

type Args = { table?: string; config?: string; region?: string; help?: boolean };

function parseArgs(argv: string[]): Args | string {
  const args: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--table' || a === '--config' || a === '--region') {
      const v = argv[++i];
      if (!v || v.startsWith('--')) return `${a} needs a value`;
      args[a.slice(2) as 'table' | 'config' | 'region'] = v;
    } else return `unknown argument ${a}`;
  }
  return args;
}

/** The command; returns its exit code. */
export async function tableCommand(argv: string[], io: TableCommandIo): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.err(`aws:table: ${args}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  let table = args.table;
  const configFile = args.config ?? (table ? undefined : io.env.MESHGATE_CONFIG);
  if (!table && configFile) {
    try {
      table = readConfigFile(configFile).tableName;
    } catch (err) {
      io.err(`aws:table: ${(err as Error).message}`);
      return 2;
    }
  }
  if (!table) {
    io.err(`aws:table: name the table: --table NAME, or --config FILE\n\n${USAGE}`);
    return 2;
  }
  const client = io.client(args.region);
  try {
    try {
      await client.config.region();
    } catch {
      io.err('aws:table: no AWS region: pass --region or set AWS_REGION.');
      return 2;
    }
    try {
      await client.config.credentials();
    } catch {
      io.err(
        'aws:table: no AWS credentials: set AWS_PROFILE (after `aws sso login` or `aws configure`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      );
      return 2;
    }
    const region = await client.config.region();
    const result = await ensureMeshgateTable(client, table, {
      log: (line) => io.out(line),
      ...io.setup,
    });
    io.out(
      `Table ${result.tableName} is ACTIVE in ${region} (${result.created ? 'created' : 'already there'}; indexes ${result.indexes.join(', ')}).`,
    );
    return 0;
  } catch (err) {
    const e = err as Error;
    io.err(`aws:table: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`);
    return 1;
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  void tableCommand(process.argv.slice(2), {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    env: process.env,
    client: (region) => new DynamoDBClient(region ? { region } : {}),
  }).then((code) => process.exit(code));
}
