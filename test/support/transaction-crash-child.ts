/**
 * The process the crash test kills: `node --import tsx transaction-crash-child.ts <data folder>`.
 *
 * It opens the embedded store on the folder and runs WRITERS loops of transactions until it is
 * killed, each loop continuing its own numbered series from where the folder left it. Transaction
 * n of writer w writes, like an audited state change of Meshgate's store:
 *   - ITEMS events `W<w>#T<n>` / `E<i>`, each with a gsi1 entry (`TX#<w>#<n>` / i) and a gsi2
 *     entry (`LOG#<w>` / n#i);
 *   - the writer's state item `W<w>` / `STATE`, updated to n, whose gsi3 entry (`STATE` / w#n)
 *     moves, so the old entry must go as the new one comes;
 *   - the writer's head `W<w>` / `HEAD` with seq n, conditional on seq n-1, written last.
 * Prints `ready` once every loop has committed a transaction. See crashLayout in dynalite-crash.test.ts for the checks.
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo-store';
import { ensureTable, startEmbeddedDynamo } from '../../functions/adapters/local/embedded-dynamo';

export const CRASH_TABLE = 'crash';
export const WRITERS = 4;
export const ITEMS = 6;
export const pad = (n: number) => String(n).padStart(8, '0');

async function main(path: string) {
  const dynamo = await startEmbeddedDynamo({ path });
  await ensureTable(dynamo.client, CRASH_TABLE);
  const doc = documentClient(dynamo.client);

  const firsts: Array<Promise<void>> = [];
  const writer = async (w: number, first: () => void) => {
    const head = await doc.send(
      new GetCommand({ TableName: CRASH_TABLE, Key: { pk: `W${w}`, sk: 'HEAD' } }),
    );
    for (let n = ((head.Item?.seq as number | undefined) ?? 0) + 1; ; n++) {
      const prev = n === 1 ? 'attribute_not_exists(pk)' : '#seq = :prev';
      const values = n === 1 ? {} : { ':prev': n - 1 };
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            ...Array.from({ length: ITEMS }, (_, i) => ({
              Put: {
                TableName: CRASH_TABLE,
                Item: {
                  pk: `W${w}#T${n}`,
                  sk: `E${i}`,
                  gsi1pk: `TX#${w}#${n}`,
                  gsi1sk: String(i),
                  gsi2pk: `LOG#${w}`,
                  gsi2sk: `${pad(n)}#${i}`,
                  body: 'x'.repeat(200),
                },
              },
            })),
            {
              Update: {
                TableName: CRASH_TABLE,
                Key: { pk: `W${w}`, sk: 'STATE' },
                UpdateExpression: 'SET #seq = :n, gsi3pk = :state, gsi3sk = :at',
                ConditionExpression: prev,
                ExpressionAttributeNames: { '#seq': 'seq' },
                ExpressionAttributeValues: {
                  ':n': n,
                  ':state': 'STATE',
                  ':at': `${w}#${pad(n)}`,
                  ...values,
                },
              },
            },
            {
              Put: {
                TableName: CRASH_TABLE,
                Item: { pk: `W${w}`, sk: 'HEAD', seq: n },
                ConditionExpression: prev,
                ExpressionAttributeNames: n === 1 ? undefined : { '#seq': 'seq' },
                ExpressionAttributeValues: n === 1 ? undefined : values,
              },
            },
          ],
        }),
      );
      first();
    }
  };
  const loops = Array.from({ length: WRITERS }, (_, w) => {
    let first!: () => void;
    firsts.push(new Promise<void>((r) => (first = r)));
    return writer(w, first);
  });
  // Ready once every writer has committed in this run: a kill after that comes after progress.
  await Promise.race([Promise.all(firsts), Promise.all(loops)]);
  process.stdout.write('ready\n');
  await Promise.all(loops);
}

if (require.main === module) {
  main(process.argv[2]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
