import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../aws/dynamo-store';

/**
 * The embedded stand-ins' ledger table (what Lake Formation and the consumer accounts' catalogs
 * would hold): idempotent puts and deletes that say whether they changed anything, as the AWS
 * calls they stand for answer "already exists" or "not found".
 */
export abstract class LedgerTable {
  protected readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    protected readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  /** Puts `item` unless an item with its key is there: 'already' then, and nothing changes. */
  protected async putOnce(item: Record<string, unknown>): Promise<'ok' | 'already'> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'ok';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'already';
      throw err;
    }
  }

  /** Deletes the item of that key: 'already' when there was none. */
  protected async remove(pk: string, sk: string): Promise<'ok' | 'already'> {
    const out = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk, sk }, ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes ? 'ok' : 'already';
  }
}
