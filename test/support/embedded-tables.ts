import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import type { AccessRequest } from '../../functions/domain/model';

/**
 * An embedded DynamoDB-compatible server with `tables` created, for the tests of one file: started
 * before them, closed after. Its clients are there from the first beforeAll on.
 */
export function embeddedTables(...tables: string[]): {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
} {
  let dynamo: EmbeddedDynamo | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    for (const table of tables) await ensureTable(dynamo.client, table);
    doc = documentClient(dynamo.client);
  });
  afterAll(() => dynamo?.close());
  const started = <T>(v: T | undefined): T => {
    if (v === undefined)
      throw new Error('the embedded store starts in beforeAll: use it from a hook or a test');
    return v;
  };
  return {
    get client() {
      return started(dynamo).client;
    },
    get doc() {
      return started(doc);
    },
  };
}

/** A PENDING request of `domain`'s orders product awaiting one owner approval, as the store tests write it. */
export const pendingRequest = (
  domain: string,
  id: string,
  at: string,
  over: Partial<AccessRequest> = {},
): AccessRequest => ({
  id,
  requester: 'alice',
  principal: 'arn:aws:iam::555555555555:role/analyst',
  productId: `${domain}/orders`,
  domain,
  classification: 'confidential',
  scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
  duration: { value: 7, unit: 'days' },
  purpose: 'testing',
  status: 'PENDING',
  stages: [{ name: 'owner', required: 1, approvals: [], rule: null }],
  explanation: [],
  createdAt: at,
  updatedAt: at,
  version: 1,
  ...over,
});
