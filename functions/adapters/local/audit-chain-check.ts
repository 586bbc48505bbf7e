import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { auditEventOf, documentClient } from '../aws/dynamo-store';
import { CHAIN_HEADS, chainHeadItem } from '../aws/dynamo/keys';
import { GLOBAL_CHAIN, verifyChain, type ChainHead } from '../../domain/audit-chain';

/**
 * The start check of the embedded store's audit chains.
 *
 * Every audited write puts its events and the new chain head (`CHAIN#<chain>` / `HEAD`: seq and
 * hash of the last event) in one transaction, and the embedded transactions are atomic on disk,
 * so the head always names the last event of its chain (gsi1 `CHAIN#<chain>` / 12-digit seq).
 * Data written by an older version, whose transactions were written one item at a time, may
 * have been cut between the events and the head by a kill: the head then lags its events (or is
 * missing), and the next write would seal after the stale head and reuse a sequence number — a
 * fork of the chain. This check runs before anything writes:
 *
 * - head and last event agree: nothing to do (the whole chain is not re-verified here; that is
 *   what `GET /v1/audit/verify` and `npm run audit:verify` are for);
 * - otherwise the chain's events are verified from genesis. They are the truth: if they verify and
 *   the head is missing, or names an earlier event of them exactly (the state a kill leaves), the
 *   head is set to the last event;
 * - anything else refuses to start, naming the chain: events that do not verify, or a head that
 *   is ahead of the events or disagrees with them (events deleted or edited). Repairing those would
 *   rewrite the evidence, so that is left to a person.
 */

export interface ChainRepair {
  chain: string;
  /** The head found (undefined: there was none). */
  from?: ChainHead;
  /** The head written: the last event's seq and hash. */
  to: ChainHead;
}

export interface ChainCheckResult {
  /** Every chain found, in name order. */
  chains: string[];
  /** The heads repaired, to be logged. */
  repaired: ChainRepair[];
}

/** A chain that cannot be trusted: the store must not start on it. */
export class AuditChainBroken extends Error {
  override name = 'AuditChainBroken';
  constructor(
    readonly chain: string,
    problem: string,
  ) {
    super(
      `Audit chain "${chain}" of the embedded store is broken: ${problem}. Meshgate does not start ` +
        `on a broken audit chain, and does not repair it, because that would rewrite the evidence. ` +
        `Restore the data folder (MESHGATE_DATA_DIR) from a copy, or move it aside to start with an ` +
        `empty store; an export of its events can be checked with \`npm run audit:verify -- <file>\`, ` +
        `which names the first bad event.`,
    );
  }
}

const HEAD = 'HEAD';
const PREFIX = 'CHAIN#';

async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput) {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/**
 * The chains that may exist: every head (gsi2 partition `CHAINHEADS`), and every domain's chain
 * and the global one (a chain cut before its first head was ever written, or whose head was
 * written by a version that did not index heads, is found that way: chains are per domain). A
 * few Queries, bounded by the number of chains and domains, never by the number of events.
 */
async function candidateChains(doc: DynamoDBDocumentClient, tableName: string): Promise<string[]> {
  const names = new Set<string>([GLOBAL_CHAIN]);
  const heads = await queryAll(doc, {
    TableName: tableName,
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': CHAIN_HEADS },
    ProjectionExpression: 'chain',
  });
  for (const h of heads) names.add(String(h.chain));
  const domains = await queryAll(doc, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': 'DOMAIN' },
    ProjectionExpression: 'sk',
  });
  for (const d of domains) names.add(String(d.sk));
  return [...names].sort();
}

/**
 * Checks every audit chain head of `tableName` against its chain's events, repairs a head that a
 * kill left behind its events, and throws AuditChainBroken for a chain that cannot be trusted.
 * Call it once at start, after the table exists and before anything writes.
 */
export async function checkAuditChains(
  client: DynamoDBClient,
  tableName: string,
): Promise<ChainCheckResult> {
  const doc = documentClient(client);
  const chains: string[] = [];
  const repaired: ChainRepair[] = [];
  for (const chain of await candidateChains(doc, tableName)) {
    const headItem = (
      await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: PREFIX + chain, sk: HEAD },
          ConsistentRead: true,
        }),
      )
    ).Item;
    const head = headItem
      ? { seq: headItem.seq as number, hash: headItem.hash as string }
      : undefined;
    const eventsOf = { TableName: tableName, IndexName: 'gsi1' };
    // The last event: one page of one item, newest seq first.
    const last = (
      await doc.send(
        new QueryCommand({
          ...eventsOf,
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': PREFIX + chain },
          ScanIndexForward: false,
          Limit: 1,
        }),
      )
    ).Items?.[0];
    // A domain whose chain has neither head nor event yet: no chain.
    if (!head && !last) continue;
    chains.push(chain);
    if (head && last && last.seq === head.seq && last.hash === head.hash) continue;

    // In seq order (gsi1's sort key is the zero-padded seq), from the first.
    const events = (
      await queryAll(doc, {
        ...eventsOf,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': PREFIX + chain },
      })
    ).map(auditEventOf);
    const verdict = verifyChain(events);
    if (!verdict.ok) {
      throw new AuditChainBroken(
        chain,
        `its event ${verdict.eventId} (seq ${verdict.seq ?? '?'}) fails verification: ${verdict.problem}`,
      );
    }
    const found = head ? `its head (seq ${head.seq})` : 'its head';
    if (!verdict.head) throw new AuditChainBroken(chain, `${found} has no events`);
    if (head && !(head.seq < verdict.head.seq && events[head.seq - 1]?.hash === head.hash)) {
      throw new AuditChainBroken(
        chain,
        head.seq > verdict.head.seq
          ? `${found} is ahead of its last event (seq ${verdict.head.seq}): events are missing`
          : `${found} disagrees with its event of that seq`,
      );
    }
    // A head cut off by a kill: the events verify and the head is one of them, or none yet.
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: chainHeadItem(chain, verdict.head),
        // Only over the head just read: should anything write meanwhile, this fails, not forks.
        ...(head
          ? {
              ConditionExpression: '#seq = :seq AND #hash = :hash',
              ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' },
              ExpressionAttributeValues: { ':seq': head.seq, ':hash': head.hash },
            }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
    repaired.push({ chain, from: head, to: verdict.head });
  }
  return { chains, repaired };
}
