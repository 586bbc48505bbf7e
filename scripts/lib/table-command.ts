import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readConfigFile } from '../../functions/adapters/aws/configuration';

/**
 * What the commands on Meshgate's DynamoDB table share (`npm run aws:table`, `npm run
 * table:migrate`): their arguments (`--table NAME` or `--config FILE`, `--region`, `--help`, and
 * the command's own flags), the table name from the configuration, and the checks for a region
 * and credentials before anything is sent. Exit codes: 0 done, 1 AWS refused, 2 usage or set-up.
 */
export interface TableCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  client: (region: string | undefined) => DynamoDBClient;
}

export interface TableArgs {
  table?: string;
  config?: string;
  region?: string;
  help?: boolean;
  /** The command's own flags: boolean ones (`--dry-run`) and those with a value (`--resume X`). */
  flags: Record<string, string | true>;
}

export interface TableCommandSpec {
  /** The command's name in messages (`aws:table`). */
  name: string;
  usage: string;
  /** Its own flags without a value. */
  switches?: readonly string[];
  /** Its own flags with a value. */
  options?: readonly string[];
}

function parseArgs(argv: string[], spec: TableCommandSpec): TableArgs | string {
  const args: TableArgs = { flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') args.help = true;
    else if (spec.switches?.includes(a)) args.flags[a.slice(2)] = true;
    else if (['--table', '--config', '--region', ...(spec.options ?? [])].includes(a)) {
      const v = argv[++i];
      if (!v || v.startsWith('--')) return `${a} needs a value`;
      if (a === '--table' || a === '--config' || a === '--region') args[a.slice(2) as 'table'] = v;
      else args.flags[a.slice(2)] = v;
    } else return `unknown argument ${a}`;
  }
  return args;
}

/**
 * Runs `body` with a client that has a region and credentials, for the table the arguments name;
 * answers usage errors and missing settings itself. Returns the exit code.
 */
export async function runTableCommand(
  argv: string[],
  io: TableCommandIo,
  spec: TableCommandSpec,
  body: (c: {
    client: DynamoDBClient;
    table: string;
    region: string;
    flags: TableArgs['flags'];
  }) => Promise<number>,
): Promise<number> {
  const args = parseArgs(argv, spec);
  if (typeof args === 'string') {
    io.err(`${spec.name}: ${args}\n\n${spec.usage}`);
    return 2;
  }
  if (args.help) {
    io.out(spec.usage);
    return 0;
  }
  let table = args.table;
  const configFile = args.config ?? (table ? undefined : io.env.MESHGATE_CONFIG);
  if (!table && configFile) {
    try {
      table = readConfigFile(configFile).tableName;
    } catch (err) {
      io.err(`${spec.name}: ${(err as Error).message}`);
      return 2;
    }
  }
  if (!table) {
    io.err(`${spec.name}: name the table: --table NAME, or --config FILE\n\n${spec.usage}`);
    return 2;
  }
  const client = io.client(args.region);
  try {
    let region: string;
    try {
      region = await client.config.region();
    } catch {
      io.err(`${spec.name}: no AWS region: pass --region or set AWS_REGION.`);
      return 2;
    }
    try {
      await client.config.credentials();
    } catch {
      io.err(
        `${spec.name}: no AWS credentials: set AWS_PROFILE (after \`aws sso login\` or \`aws configure\`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
      );
      return 2;
    }
    return await body({ client, table, region, flags: args.flags });
  } catch (err) {
    const e = err as Error;
    io.err(`${spec.name}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`);
    return 1;
  } finally {
    client.destroy();
  }
}

/** The command's `main`: real clients, console lines, the exit code as the process's. */
export function runAsMain(
  command: (argv: string[], io: TableCommandIo) => Promise<number>,
  makeClient: TableCommandIo['client'],
) {
  void command(process.argv.slice(2), {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    env: process.env,
    client: makeClient,
  }).then((code) => process.exit(code));
}
