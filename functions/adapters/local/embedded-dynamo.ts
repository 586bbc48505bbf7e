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
  InProcessDynamoHandler,
  keepItemReads,
  unsignedRequests,
} from './in-process-dynamo';

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
  const dbModule = require('dynalite/db') as { create: (o: unknown) => unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const create = dbModule.create;
  let store: unknown;
  dbModule.create = (o) => (store = create(o));
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

/** Creates the table if it does not exist yet. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (err) {
    if (
      !(err instanceof ResourceInUseException) &&
      (err as Error).name !== 'ResourceInUseException'
    )
      throw err;
  }
  for (let i = 0; i < 50; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
