import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { DataProduct } from '../../domain/model';
import {
  BUILD_REQUEST_EVERY_MS,
  type CatalogIndex,
  type IndexReport,
  type SearchIndex,
} from '../../ports/search';
import type { Store } from '../../ports/store';
import { unavailable } from '../../domain/errors';
import { INDEX_FORMAT, MiniSearchCatalog } from '../search/minisearch-catalog';
import { CATALOG_VERSION_KEY } from './catalog-version';
import { documentClient } from './dynamo-store';
import { reasonsOf } from './dynamo/table';

/** A published index, as the catalog version item names it. */
interface Published {
  id: string;
  version: number;
  chunks: number;
  bytes: number;
  products: number;
  at: string;
  /** The serialised form (INDEX_FORMAT); absent on indexes of the first, MiniSearch JSON, form. */
  format?: number;
}

interface CatalogState {
  version: number;
  /** The index in force, when it is of this code's format. */
  index?: Published;
  /** One of an older format: rebuilt as if there were none, its chunks deleted after. */
  outdated?: Published;
}

/**
 * A gzip member unzipped into one buffer of its recorded size (the member's last 4 bytes, its
 * size modulo 2^32). zlib otherwise writes its output in 16 KB pieces and joins them: unzipping
 * the index of 100,000 products (~110 MB) made thousands of small allocations, and the C heap
 * kept their ~100 MB in the process after they were freed. One allocation that size is mapped on
 * its own and handed back to the system when freed.
 */
export function gunzipWhole(blob: Buffer): Buffer {
  const size = blob.length >= 18 ? blob.readUInt32LE(blob.length - 4) : 0;
  return gunzipSync(blob, { chunkSize: Math.max(64 * 1024, size + 1) });
}

/** How often a publish is tried while product writes' transactions hold the version item. */
export const PUBLISH_ATTEMPTS = 8;
/** Items stay under DynamoDB's 400 KB with room for the keys. */
export const CHUNK_BYTES = 350_000;
/** How long a process answers from the index it holds before it reads the catalog version again. */
export const VERSION_MAX_AGE_MS = 2_000;

/**
 * How long after its start a build that is not the one named counts as left behind (by a process
 * that stopped before naming it, or after naming it and before deleting the one it replaced): well
 * past the longest a build can take from writing its first chunk to naming itself (a Lambda
 * function runs 15 minutes at most; writing the chunks of 100,000 products takes seconds).
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
/** Builds looked at per refresh (one Query): more are collected by the next ones. */
const BUILDS_PER_COLLECT = 25;

/** Why a transaction is cancelled that says "not now" (the other reasons say "never"). */
const NOT_NOW = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

const chunkKey = (id: string) => `SEARCHINDEX#${id}`;
const seqKey = (n: number) => String(n).padStart(6, '0');
/** The partition of the builds' markers, one per build (`BUILD#<build id>`). */
const BUILDS_PK = 'SEARCHINDEX';
const buildKey = (id: string) => ({ pk: BUILDS_PK, sk: `BUILD#${id}` });
/** When a build was last asked of the worker (`claimBuildRequest`). */
const REQUESTED_KEY = { pk: BUILDS_PK, sk: 'REQUESTED' };

/**
 * The search index of the catalog, stored in the table. The index (MiniSearchCatalog, serialised
 * and gzipped) is one blob cut into items of `CHUNK_BYTES` under `SEARCHINDEX#<build id>`, and the
 * catalog version item (`CATALOG` / `VERSION`) names the build published last, with the catalog
 * version it covers. The same code runs against DynamoDB and the embedded store, so a search
 * answers the same locally and on AWS.
 *
 * - `current()`: the index this process holds, after one strongly consistent GetItem of the
 *   version item (at most every `maxAgeMs`); it loads the chunks again only when a newer build was
 *   published. No read per domain or product. It never builds: with no index of this code's
 *   format published, a search is refused (503 SEARCH_INDEX_BUILDING) and asks the worker for a
 *   build (`claimBuildRequest`: once a minute at most across every process) until one is named.
 * - `refresh()`: run at the end of every sync, by every sweep, and at start locally (when the
 *   index is current: one GetItem, one more of its last chunk in a process that holds no index,
 *   which loads nothing, and the Query of the builds' markers, below). When the build published
 *   is older than the catalog version (or there is none), reads every product, builds, writes
 *   its marker and the chunks, then names them in the version
 *   item, conditional on the build it read being still the one named: of two builds that raced,
 *   the loser deletes its own chunks (and builds again if the winner's is behind the catalog), and
 *   the winner deletes the build it replaced. Before its chunks, a build writes its marker
 *   (`SEARCHINDEX` / `BUILD#<build id>`: its chunk count and when it was written), deleted after
 *   its chunks: a process that stops between writing chunks and naming them, or between naming a
 *   build and deleting the one it replaced, leaves a marker that lists what it left. Every
 *   refresh then collects (one Query of the markers, at most `BUILDS_PER_COLLECT`) the builds not
 *   named whose marker is older than `ORPHAN_GRACE_MS` (a build under way, younger, is left
 *   alone). The clocks decide only that: a build is claimed (`claim`) in one transaction with a
 *   check that it is not named, and named (`publish`) in one with a check that its marker is
 *   there unclaimed, so no build is ever both. Builds left by a version of Meshgate that wrote no
 *   marker are not found.
 */
export class DynamoSearchIndex implements SearchIndex {
  private readonly doc: DynamoDBDocumentClient;
  private held?: { index: MiniSearchCatalog; id: string };
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking?: Promise<CatalogIndex>;
  private refreshing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient,
    private readonly catalog: Pick<Store, 'listDomains' | 'listProducts'>,
    private readonly opts: {
      maxAgeMs?: number;
      /** CHUNK_BYTES when absent (tests use small chunks). */
      chunkBytes?: number;
      now?: () => number;
      log?: (msg: string, err?: unknown) => void;
      /**
       * Reads a published index (gzipped, serialised, in its stored chunks) into an index; in this
       * process when absent. The embedded portal reads it in a worker
       * (adapters/local/search-index-worker.ts), which takes the chunks' buffers over.
       */
      unzip?: (chunks: Uint8Array[]) => Promise<MiniSearchCatalog>;
    } = {},
  ) {
    this.doc = documentClient(client);
  }

  private now = () => (this.opts.now ?? Date.now)();

  current(): Promise<CatalogIndex> {
    const maxAge = this.opts.maxAgeMs ?? VERSION_MAX_AGE_MS;
    if (this.held && this.now() - this.checkedAt < maxAge) return Promise.resolve(this.held.index);
    // Concurrent calls share one check (and one load).
    this.checking ??= this.check().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async check(): Promise<CatalogIndex> {
    const started = this.now();
    const state = await this.readState();
    if (!state.index) {
      // Nothing of this code's format published yet (a new deployment before its first sync or
      // sweep, or the first start of a new format): building here would read every product inside
      // an API call (26 s at 100,000 products, against the API's 29 s). The search asks the worker
      // to build it (usecases/queries.ts searchProducts), as the sweep and every sync do
      // (usecases/operations.ts catchUpSearch); until then a search says so.
      if (!this.held)
        throw unavailable(
          'SEARCH_INDEX_BUILDING',
          'The catalog search index is being built; search again in a minute.',
        );
    } else if (!this.held || this.held.id !== state.index.id) {
      if (!this.held || state.index.version >= this.held.index.version)
        await this.load(state.index);
    }
    this.checkedAt = started;
    return this.held?.index ?? MiniSearchCatalog.build(state.version, []);
  }

  private claimTriedAt = Number.NEGATIVE_INFINITY;

  async claimBuildRequest(): Promise<boolean> {
    const now = this.now();
    if (now - this.claimTriedAt < BUILD_REQUEST_EVERY_MS) return false;
    this.claimTriedAt = now;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: REQUESTED_KEY,
          UpdateExpression: 'SET #at = :now, #kind = :kind',
          ConditionExpression: 'attribute_not_exists(#at) OR #at <= :before',
          ExpressionAttributeNames: { '#at': 'at', '#kind': 'kind' },
          ExpressionAttributeValues: {
            ':now': now,
            ':before': now - BUILD_REQUEST_EVERY_MS,
            ':kind': 'searchbuildrequest',
          },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  refresh(force = false): Promise<IndexReport> {
    // One build at a time in this process; each looks at the version again when its turn comes.
    const run = this.refreshing.then(async () => {
      // A build that lost the race to another process's build of an older version leaves the
      // index behind the catalog: it looks again (once), and builds again if still behind.
      const first = await this.refreshNow(force);
      const done = first.lost ? await this.refreshNow(false) : first;
      await this.collect(done.named).catch((err) =>
        (this.opts.log ?? console.error)('search index: builds left behind not collected', err),
      );
      return done;
    });
    this.refreshing = run.catch(() => undefined);
    return run.then(({ lost: _lost, named: _named, ...report }) => report);
  }

  /**
   * Deletes the builds left behind: those with a marker older than `ORPHAN_GRACE_MS` that are not
   * `named` (the build the version item named when this refresh read it, of whichever format).
   * One Query when there is none.
   */
  private async collect(named: string | undefined): Promise<void> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :build)',
        ExpressionAttributeValues: { ':pk': BUILDS_PK, ':build': 'BUILD#' },
        Limit: BUILDS_PER_COLLECT,
      }),
    );
    const before = this.now() - ORPHAN_GRACE_MS;
    for (const marker of out.Items ?? []) {
      const id = String(marker.sk).slice('BUILD#'.length);
      if (id === named || !(Date.parse(String(marker.at)) < before)) continue;
      if ((await this.claim(id)) === 'claimed') await this.deleteBuild(id, Number(marker.chunks));
    }
  }

  /**
   * Marks build `id` as being collected, in one transaction with a check that the version item
   * does not name it: a build is then either named (and never collected) or claimed (and never
   * named: `publish` checks its marker is unclaimed), whatever the clocks say. A claim left by a
   * process that stopped is taken again by the next collection (the marker stays until the
   * chunks are gone). `gone`: its marker is not there, so it is not named and never will be
   * (`publish` needs it); `named`; `busy`: a write raced it, or throttling.
   */
  private async claim(id: string): Promise<'claimed' | 'gone' | 'named' | 'busy'> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: buildKey(id),
                UpdateExpression: 'SET #collecting = :now',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#collecting': 'collecting' },
                ExpressionAttributeValues: { ':now': new Date(this.now()).toISOString() },
              },
            },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: CATALOG_VERSION_KEY,
                ConditionExpression: 'attribute_not_exists(#index) OR #index.#id <> :id',
                ExpressionAttributeNames: { '#index': 'index', '#id': 'id' },
                ExpressionAttributeValues: { ':id': id },
              },
            },
          ],
        }),
      );
      return 'claimed';
    } catch (err) {
      const reasons = reasonsOf(err);
      if (reasons === undefined) throw err;
      // In the order of the items: the marker's update, then the version item's check.
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'gone';
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'named';
      // Raced (a conflict, throttling): the next collection tries again. Any other reason is
      // logged: it would skip the build at every collection.
      if (reasons.some((r) => !r.Code || !NOT_NOW.has(r.Code)))
        (this.opts.log ?? console.error)(`search index: build ${id} not claimed`, err);
      return 'busy';
    }
  }

  /**
   * This process's own build, not named: its chunks and marker deleted, once it is sure never to
   * be named (claimed, or its marker gone: a collection took it, and chunks written since are
   * deleted here). A publish still under way on the service (the SDK gave up waiting) may name it
   * after the state was read, which the claim's check sees.
   */
  private async dropOwn(p: Published): Promise<void> {
    const claimed = await this.claim(p.id);
    if (claimed === 'claimed' || claimed === 'gone') await this.deleteBuild(p.id, p.chunks);
  }

  private async refreshNow(
    force: boolean,
  ): Promise<IndexReport & { lost?: boolean; named?: string }> {
    const state = await this.readState();
    if (!force && state.index && state.index.version >= state.version) {
      // Current. A process that holds an index is brought to the one named; one that holds none
      // (a worker after a sync, the sweep) loads nothing, `current()` does at its first search,
      // and only checks that the build's last chunk is there (a build whose chunks were lost is
      // built again rather than left to fail every load).
      if (this.held) {
        if (this.held.id !== state.index.id) await this.load(state.index);
      } else if (!(await this.hasLastChunk(state.index))) {
        // Gone because another build replaced it since (and deleted it): look again. Gone while
        // still named: built again.
        const again = await this.readState();
        return this.refreshNow(again.index?.id === state.index.id);
      }
      return {
        rebuilt: false,
        version: state.index.version,
        products: state.index.products,
        bytes: state.index.bytes,
        named: state.index.id,
      };
    }
    // Read after the version: the products are at least that version (a write meanwhile moves the
    // version again, and the next refresh builds again).
    const index = MiniSearchCatalog.build(state.version, await this.readCatalog());
    const blob = gzipSync(index.serialise());
    const size = this.opts.chunkBytes ?? CHUNK_BYTES;
    const published: Published = {
      format: INDEX_FORMAT,
      id: `${state.version}-${randomUUID()}`,
      version: state.version,
      chunks: Math.max(1, Math.ceil(blob.length / size)),
      bytes: blob.length,
      products: index.size,
      at: new Date(this.now()).toISOString(),
    };
    const chunks = Array.from({ length: published.chunks }, (_, i) =>
      blob.subarray(i * size, (i + 1) * size),
    );
    // The marker first: whatever this process leaves of the build can be found (`collect`).
    // Written once: a write the SDK sends again (its answer lost) never clears a claim made
    // meanwhile, which would let this build be named while a collection deletes its chunks.
    await this.doc
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...buildKey(published.id),
            kind: 'searchbuild',
            chunks: published.chunks,
            at: published.at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((err: unknown) => {
        if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      });
    await this.batch(
      chunks.map((data, i) => ({
        PutRequest: {
          Item: { pk: chunkKey(published.id), sk: seqKey(i), kind: 'searchindex', data },
        },
      })),
    );
    // Published only in place of the build read above: of two builds that read the same one, the
    // second to publish loses and deletes its own chunks, and the first's, named, stay.
    const replaced = state.index ?? state.outdated;
    let won: boolean;
    try {
      won = await this.publish(published, replaced?.id);
    } catch (err) {
      // The answer was lost, not necessarily the write: this build's chunks go only if it is not
      // the one named.
      // If the state cannot be read either, they stay: at worst a build left unnamed.
      const now = await this.readState().catch(() => undefined);
      if (now && now.index?.id !== published.id && now.outdated?.id !== published.id)
        await this.dropOwn(published);
      throw err;
    }
    if (!won) {
      await this.dropOwn(published);
      const latest = await this.readState();
      if (latest.index) await this.load(latest.index);
      return {
        rebuilt: false,
        version: latest.index?.version ?? 0,
        products: 0,
        bytes: 0,
        lost: !latest.index || latest.index.version < latest.version,
        named: (latest.index ?? latest.outdated)?.id,
      };
    }
    // A newer index loaded meanwhile (published by another process) stays.
    if (!this.held || this.held.index.version <= index.version)
      this.held = { index, id: published.id };
    if (replaced) await this.deleteBuild(replaced.id, replaced.chunks);
    return {
      rebuilt: true,
      version: published.version,
      products: index.size,
      bytes: blob.length,
      named: published.id,
    };
  }

  private async readCatalog(): Promise<DataProduct[]> {
    const domains = await this.catalog.listDomains();
    const products: DataProduct[] = [];
    for (let i = 0; i < domains.length; i += 8) {
      const lists = await Promise.all(
        domains.slice(i, i + 8).map((d) => this.catalog.listProducts(d.id)),
      );
      for (const l of lists) products.push(...l);
    }
    return products;
  }

  private async readState(): Promise<CatalogState> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: CATALOG_VERSION_KEY, ConsistentRead: true }),
    );
    const index = out.Item?.index as Published | undefined;
    return {
      version: (out.Item?.version as number | undefined) ?? 0,
      ...(index && (index.format === INDEX_FORMAT ? { index } : { outdated: index })),
    };
  }

  /**
   * Names `p` as the index in force in place of build `replaces` (none: no index named), and
   * returns false when another build was named meanwhile. The version item is also written by
   * every product write's transaction: an UpdateItem while one of them is under way fails with
   * TransactionConflictException, which the SDK does not retry; it is retried here.
   */
  private async publish(p: Published, replaces: string | undefined): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                // Its marker, not claimed by a collection (`collect`): a build collected while it
                // was being written (its marker older than ORPHAN_GRACE_MS by the collector's
                // clock) is never named with chunks missing.
                ConditionCheck: {
                  TableName: this.tableName,
                  Key: buildKey(p.id),
                  ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#collecting)',
                  ExpressionAttributeNames: { '#collecting': 'collecting' },
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: CATALOG_VERSION_KEY,
                  UpdateExpression: 'SET #index = :p, #kind = :kind',
                  // Or this build named already: the SDK sends a write again when its answer was
                  // lost (a timeout, a 500), and that write must not count as lost to another
                  // build (whose loser deletes its chunks: here, those of the build just named).
                  ConditionExpression:
                    (replaces === undefined
                      ? 'attribute_not_exists(#index)'
                      : '#index.#id = :replaces') + ' OR #index.#id = :mine',
                  ExpressionAttributeNames: { '#index': 'index', '#kind': 'kind', '#id': 'id' },
                  ExpressionAttributeValues: {
                    ':p': p,
                    ':kind': 'catalogversion',
                    ':mine': p.id,
                    ...(replaces === undefined ? {} : { ':replaces': replaces }),
                  },
                },
              },
            ],
          }),
        );
        return true;
      } catch (err) {
        const reasons = reasonsOf(err);
        // Another build named meanwhile, or this one collected: lost.
        if (reasons?.some((r) => r.Code === 'ConditionalCheckFailed')) return false;
        // A conflict with a product write's transaction, or throttling (a cancelled transaction
        // is not retried by the SDK): tried again.
        const again =
          (err as { name?: string }).name === 'TransactionConflictException' ||
          (reasons?.some((r) => r.Code && r.Code !== 'None' && NOT_NOW.has(r.Code)) ?? false);
        if (!again || attempt >= PUBLISH_ATTEMPTS - 1) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  /** Loads a published build; if its chunks are gone (a newer build replaced it), the newest. */
  private async load(p: Published, attempt = 0): Promise<void> {
    const parts: Uint8Array[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': chunkKey(p.id) },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of out.Items ?? []) parts.push(item.data as Uint8Array);
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    if (parts.length !== p.chunks) {
      const latest = await this.readState();
      if (attempt < 3 && latest.index) return this.load(latest.index, attempt + 1);
      throw new Error(`search index ${p.id}: ${parts.length} of ${p.chunks} chunks found`);
    }
    const index = this.opts.unzip
      ? await this.opts.unzip(parts)
      : MiniSearchCatalog.load(gunzipWhole(Buffer.concat(parts)));
    // A newer index held meanwhile (a refresh built one while this loaded) stays.
    if (this.held && this.held.index.version > index.version) return;
    this.held = { index, id: p.id };
  }

  /** Whether a published build's last chunk is stored (one GetItem, its key only). */
  private async hasLastChunk(p: Published): Promise<boolean> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: chunkKey(p.id), sk: seqKey(p.chunks - 1) },
        ProjectionExpression: 'pk',
        ConsistentRead: true,
      }),
    );
    return out.Item !== undefined;
  }

  /** A build's chunks, then its marker (none for a build an older version wrote: no matter). */
  private async deleteBuild(id: string, chunks: number) {
    await this.batch(
      Array.from({ length: chunks }, (_, i) => ({
        DeleteRequest: { Key: { pk: chunkKey(id), sk: seqKey(i) } },
      })),
    );
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: buildKey(id) }));
  }

  /** BatchWriteItem in groups the service takes (25 items), until nothing is left unprocessed. */
  private async batch(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Record<string, unknown>[] = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = (out.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
        if (attempt > 8 && pending.length > 0)
          throw new Error(`search index: ${pending.length} writes left unprocessed`);
      }
    }
  }
}

export const defaultSearchClient = () => new DynamoDBClient({});
