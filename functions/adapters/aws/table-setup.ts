import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from './dynamo-store';

// The table of a local run against AWS (`npm run aws:table`): the same definition as the embedded
// store's (`tableDefinition`), which the Data stack's is checked against (test/infra). Deployed
// with the CDK, the Data stack creates it instead (with point-in-time recovery and protection).

export interface TableSetupOptions {
  /** How long to wait for the table and its indexes to be ACTIVE. @default 300000 (5 min) */
  timeoutMs?: number;
  /** How often to ask. @default 2000 */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** One line per step, for the console. */
  log?: (line: string) => void;
}

export interface TableSetupResult {
  tableName: string;
  /** False when the table was there already. */
  created: boolean;
  indexes: string[];
}

const isResourceInUse = (err: unknown) =>
  (err as Error | undefined)?.name === 'ResourceInUseException';

/**
 * Creates Meshgate's table with its key schema and indexes, or finds it, then waits until it and
 * every index are ACTIVE. An existing table without one of the indexes Meshgate queries is an
 * error naming them: Meshgate would fail on its first query of that index.
 */
export async function ensureMeshgateTable(
  client: DynamoDBClient,
  tableName: string,
  opts: TableSetupOptions = {},
): Promise<TableSetupResult> {
  const log = opts.log ?? (() => {});
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const definition = tableDefinition(tableName);
  const wanted = (definition.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName!);
  let created = true;
  try {
    await client.send(new CreateTableCommand(definition));
    log(`Creating table ${tableName} with indexes ${wanted.join(', ')}...`);
  } catch (err) {
    if (!isResourceInUse(err)) throw err;
    created = false;
    log(`Table ${tableName} already exists.`);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  for (;;) {
    const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    const missing = missingIndexes(table, wanted);
    if (missing.length > 0)
      throw new Error(
        `Table ${tableName} exists without the index(es) ${missing.join(', ')} that Meshgate queries; delete it or pick another name.`,
      );
    if (isActive(table)) return { tableName, created, indexes: wanted };
    if (Date.now() >= deadline)
      throw new Error(
        `Table ${tableName} is not ACTIVE yet (status ${table?.TableStatus ?? 'unknown'}); run the command again to keep waiting.`,
      );
    await sleep(opts.pollMs ?? 2000);
  }
}

function missingIndexes(table: TableDescription | undefined, wanted: string[]): string[] {
  const have = new Set((table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  return wanted.filter((name) => !have.has(name));
}

const isActive = (table: TableDescription | undefined) =>
  table?.TableStatus === 'ACTIVE' &&
  (table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
