import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import { tableDefinition } from '../aws/dynamo-store';
import { addTransactions, bulkPut } from './dynalite-transactions';
import { keepParsedExpressions } from './expression-memo';
import {
  cacheTableDescriptions,
  closeQueryIterators,
  InProcessDynamoHandler,
  keepItemReads,
  unsignedRequests,
} from './in-process-dynamo';

/**
 * LevelDB's memory in the server's process, bounded. dynalite opens its LevelDB (classic-level)
 * with LevelDB's defaults, among them 1,000 open table files: each is mapped into the process for
 * reading (64-bit LevelDB maps up to 1,000), and every page read from a mapped table stays in the
 * process's RSS until the table leaves the table cache. A store of 7 million items (23 GB, ~11,000
 * tables of 2 MB) held ~870 MB of mapped tables after a few hundred reads. The table cache holds
 * `maxOpenFiles` - 10 tables, so at most ~110 MB of maps here; the block cache (uncompressed
 * blocks, anonymous memory) is LevelDB's default, said explicitly. Both are documented open
 * options of classic-level (`db.open(options)`).
 */
export const LEVEL_OPEN_OPTIONS = { maxOpenFiles: 64, cacheSize: 8 * 1024 * 1024 } as const;

/**
 * Opens a just-made level database with `options`. A database opens itself a microtask after it is
 * made, with its constructor's options; `db.open(options)` called before that (synchronously, as
 * dynalite makes the database) is the one opening, with these options taking precedence
 * (abstract-level's `db.open`). An open that fails surfaces, as before, at the first read or write.
 */
export function openWith(db: { open(o: object): Promise<void> }, options: object): void {
  db.open(options).catch(() => {});
}

export interface EmbeddedDynamo {
  client: DynamoDBClient;
  endpoint: string;
  /**
   * Puts items (DynamoDB JSON) in one batch, straight into the store, skipping the server: for
   * `npm run seed` filling a new store before anything serves it (see bulkPut).
   */
  bulkPut(tableName: string, items: Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts dynalite (a DynamoDB-compatible server) in this process, on a free loopback port, with a
 * client that reaches it without the network.
 * With `path` the data lives in that folder and survives a restart; without it, in memory.
 */
export async function startEmbeddedDynamo(opts: { path?: string } = {}): Promise<EmbeddedDynamo> {
  // dynalite has no type declarations, and keeps its store to itself: catch it as it is made,
  // so that the transaction support can lock and write items through it.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const dynalite = require('dynalite') as (
    o: Record<string, unknown>,
  ) => import('node:http').Server;
  const dbModule = require('dynalite/db') as {
    create: (o: unknown) => unknown;
    queryTable: unknown;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  closeQueryIterators(dbModule);
  const create = dbModule.create;
  let store: unknown;
  dbModule.create = (o) => {
    store = create(o);
    // On disk, LevelDB's memory bounded (an in-memory store has no such options).
    if (opts.path)
      openWith((store as { db: Parameters<typeof openWith>[0] }).db, LEVEL_OPEN_OPTIONS);
    return store;
  };
  let server: import('node:http').Server;
  try {
    server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  } finally {
    dbModule.create = create;
  }
  addTransactions(server, store);
  cacheTableDescriptions(store);
  keepItemReads(store);
  keepParsedExpressions();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // The store's own client calls dynalite in this process (no HTTP, no signature: see
  // in-process-dynamo.ts); the server listens for the clients of tests and tools all the same.
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new InProcessDynamoHandler(store),
    signer: unsignedRequests,
  });
  return {
    client,
    endpoint,
    bulkPut: (tableName, items) => bulkPut(store, tableName, items),
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Creates the table if it does not exist yet; says whether it did. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  let created = true;
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (err) {
    if (
      !(err instanceof ResourceInUseException) &&
      (err as Error).name !== 'ResourceInUseException'
    )
      throw err;
    created = false;
  }
  for (let i = 0; i < 50; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return created;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
