import { mkdirSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { join, resolve } from 'node:path';
import { webhooksOf, type MeshgateConfig } from '../../config/schema';
import { DynamoNotificationStore } from '../adapters/aws/dynamo-notifications';
import { LogNotificationSender } from '../adapters/local/log-sender';
import { awsAdapters } from '../adapters/aws/adapters';
import { awsBrokerAdapters } from '../adapters/aws/broker-adapters';
import { SesNotificationSender } from '../adapters/aws/ses-sender';
import { DynamoStore } from '../adapters/aws/dynamo-store';
import { DynamoOperationStore } from '../adapters/aws/operation-store';
import { DynamoSearchIndex } from '../adapters/aws/dynamo-search-index';
import {
  LAYOUT_VERSION,
  layoutOf,
  migrateTable,
  recordLayout,
} from '../adapters/aws/dynamo/migration';
import { indexWorkerAvailable, loadIndexInWorker } from '../adapters/local/search-index-worker';
import { DemoCatalog } from '../adapters/local/demo-catalog';
import { devAuth, newSignInCode } from '../adapters/local/dev-auth';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../adapters/local/embedded-dynamo';
import { InProcessEventBus } from '../adapters/local/event-bus';
import { InProcessQueue } from '../adapters/local/job-queue';
import { LocalLakeFormationLedger } from '../adapters/local/lf-ledger';
import { LocalConsumerLinks } from '../adapters/local/consumer-links';
import { startSchedules, type ScheduleOptions } from '../adapters/local/schedules';
import { seedDemoMesh } from '../adapters/local/seed';
import { checkAuditChains } from '../adapters/local/audit-chain-check';
import { mountWeb } from '../adapters/local/web';
import { systemClock } from '../adapters/runtime';
import type { Clock } from '../ports/runtime';
import { buildCore, type BrokerAdapters, type Core, type CoreAdapters } from './core';
import { InProcessBatchQueue } from '../adapters/local/batch-queue';
import type { AccessRequest, AuditEvent } from '../domain/model';

/** What both local processes share: files on disk, timers for the schedules, the web UI. */
interface LocalOptions {
  policyDir: string;
  /** Folder of the built web UI, served at `/` (see web/build.ts). */
  webDir?: string;
  /** Timers for the sweeper, sync and reconciler; off when absent (tests drive them by hand). */
  schedules?: ScheduleOptions;
  /** The sweeper's stall threshold (MESHGATE_STALLED_AFTER_SECONDS); the core's default when absent. */
  stalledAfterSeconds?: number;
  /** When a RUNNING sync or reconcile counts as stalled (ms); the core's default when absent. */
  operationStalledAfterMs?: number;
  /** Sign-in takes this code besides the name (against AWS); the name alone when absent. */
  signInCode?: string;
  /**
   * Notify right after each commit, in this process (default). False: only the sweep's catch-up
   * notifies, as on AWS where the notifier Lambda, not the API call, does the fast path.
   */
  notifyInProcess?: boolean;
  /**
   * With `notifyInProcess`: notify after the response, from an in-process queue drained in
   * batches (as the bus feeds the notifier on AWS), rather than within the call. `npm start` does.
   */
  notifyAfterResponse?: boolean;
}

/**
 * A local process around the core: the in-process queue feeds the worker, timers run the
 * schedules, people sign in locally (no password: the server binds to loopback against AWS).
 * The queue lives in memory, so a process that stopped (or was killed) lost the jobs it held:
 * every request in flight is handed to the worker again before this one serves.
 */
async function localProcess(
  adapters: Omit<CoreAdapters, 'queue' | 'policy'> & BrokerAdapters & { clock: Clock },
  opts: LocalOptions,
) {
  const queue = new InProcessQueue();
  const notifyInProcess = opts.notifyInProcess ?? true;
  // Changes committed by calls, notified after their responses (the sweep's catch-up covers what a
  // process that died still held). The drain is set once the core is built, before anything runs.
  const drain: { notify?: Core['notifyCommitted'] } = {};
  const notifyQueue = new InProcessBatchQueue<{ request: AccessRequest; events: AuditEvent[] }>(
    (changes) => drain.notify!(changes),
  );
  // The policy files are watched: a change on disk takes effect (and is recorded) on the next call.
  const core = await buildCore({
    ...adapters,
    queue,
    // Notified in this process right after each commit; the sweep's catch-up covers a crash.
    notifyInProcess,
    ...(notifyInProcess && opts.notifyAfterResponse
      ? {
          afterCommit: async (request: AccessRequest, events: AuditEvent[]) =>
            notifyQueue.push({ request, events }),
        }
      : {}),
    policy: { dir: opts.policyDir, watch: true, record: true },
    stalledAfterMs:
      opts.stalledAfterSeconds === undefined ? undefined : opts.stalledAfterSeconds * 1000,
    operationStalledAfterMs: opts.operationStalledAfterMs,
  });
  // The same process runs the worker: API and worker share the queue, as on AWS through SQS. Each
  // job reads the adapters from `broker` (tests swap one for a wrapper that watches it).
  const broker: BrokerAdapters = {
    lakeFormation: adapters.lakeFormation,
    catalog: adapters.catalog,
    consumerLinks: adapters.consumerLinks,
  };
  drain.notify = core.notifyCommitted;
  const runJob = core.worker(async () => broker);
  queue.consume(runJob);
  // Locally the process that serves also builds the search index, here when the catalog moved
  // while it was stopped (and after every sync that changes it, as on AWS).
  await adapters.search.refresh();
  // Loaded now, not at the first search: this process serves it (seconds at 100,000 products).
  await adapters.search.current();
  try {
    const resumed = await core.resumeInFlight();
    if (resumed.grants + resumed.revokes + resumed.operations > 0)
      console.error(
        `resumed ${resumed.grants} grant(s), ${resumed.revokes} revoke(s) and ${resumed.operations} operation(s) left in flight by an earlier process`,
      );
  } catch (err) {
    // Not a reason to refuse to serve: the sweeper hands them over once they count as stalled.
    console.error('could not resume the requests in flight; the sweeper will', err);
  }
  const stopSchedules = opts.schedules
    ? startSchedules(core.schedules, opts.schedules, (m, e) => console.error(m, e))
    : () => {};
  const auth = devAuth(adapters.store, () => adapters.clock.now(), opts);
  const app = core.app({
    authenticate: auth.authenticate,
    devLogin: auth.login,
    mountStatic: opts.webDir
      ? mountWeb(opts.webDir, opts.signInCode ? 'dev-code' : 'dev')
      : undefined,
  });
  return {
    app,
    deps: core.deps,
    /** The worker's Lake Formation and catalog adapters, read by each job. */
    broker,
    runJob,
    policy: core.policy,
    queue,
    /** The scheduled tasks with this process's settings, as its timers run them. */
    schedules: core.schedules,
    /** The notifier's fast path, as the notifier Lambda runs it for one event of the bus. */
    notify: core.notify,
    /** The notifications queued after responses (with `notifyAfterResponse`). */
    notifyQueue,
    stop: async () => {
      stopSchedules();
      await queue.onIdle();
      await notifyQueue.onIdle();
    },
  };
}

export interface EmbeddedOptions extends Partial<LocalOptions> {
  /** Folder for the embedded store; in memory when absent. */
  dataDir?: string;
  seed?: boolean;
  clock?: Clock;
  tableName?: string;
  /** One line per lifecycle event (the local event bus); silent when absent. */
  eventLog?: (line: string) => void;
  /**
   * An embedded store another portal started: this one uses its tables (as a second Lambda
   * instance uses the same DynamoDB table) instead of starting its own, and leaves it running on close.
   */
  sharedStore?: EmbeddedDynamo;
}

/**
 * A store made now records today's layout; one an earlier version wrote is migrated first, once
 * (the same migration as `npm run table:migrate` on AWS, with its progress on stderr). A store a
 * newer version wrote is refused: this code would misread it.
 */
async function layoutUpToDate(client: DynamoDBClient, table: string, created: boolean) {
  if (created) return recordLayout(client, table, new Date());
  const held = await layoutOf(client, table);
  if (held === LAYOUT_VERSION) return;
  if (held > LAYOUT_VERSION)
    throw new Error(
      `The data folder's store has layout ${held}, written by a newer Meshgate; this one reads layout ${LAYOUT_VERSION}. Start the newer version, or another data folder.`,
    );
  console.error(
    `The data folder's store has layout ${held}: migrating it to layout ${LAYOUT_VERSION} (once; a large store takes minutes)...`,
  );
  let said = Date.now();
  const done = await migrateTable(client, table, {
    onPage: (p) => {
      if (Date.now() - said < 5000) return;
      said = Date.now();
      console.error(
        `  ${p.scanned.toLocaleString('en-US')} items read, ${p.rewritten.toLocaleString('en-US')} rewritten`,
      );
    },
  });
  console.error(
    `Migrated: ${done.scanned.toLocaleString('en-US')} items read, ${done.rewritten.toLocaleString('en-US')} rewritten, ${done.holders.toLocaleString('en-US')} holder items added.`,
  );
}

/**
 * The whole portal in one process: embedded DynamoDB-compatible store, local Lake Formation
 * ledger, in-process fulfilment queue and worker, local sign-in, seeded demo mesh.
 */
export async function createEmbeddedPortal(opts: EmbeddedOptions = {}) {
  const tableName = opts.tableName ?? 'meshgate';
  if (opts.dataDir && !opts.sharedStore) mkdirSync(opts.dataDir, { recursive: true });
  const dynamo =
    opts.sharedStore ??
    (await startEmbeddedDynamo({
      path: opts.dataDir ? resolve(opts.dataDir, 'dynamodb') : undefined,
    }));
  const created = await ensureTable(dynamo.client, tableName);
  await ensureTable(dynamo.client, `${tableName}-lf-ledger`);
  if (!opts.sharedStore) {
    try {
      await layoutUpToDate(dynamo.client, tableName, created);
    } catch (err) {
      await dynamo.close();
      throw err;
    }
    // Before anything writes: a chain head left behind its events would fork the chain.
    try {
      const { repaired } = await checkAuditChains(dynamo.client, tableName);
      for (const r of repaired)
        console.error(
          `audit chain ${r.chain}: head moved from seq ${r.from?.seq ?? 'none'} to ${r.to.seq}, the last event of the chain`,
        );
    } catch (err) {
      await dynamo.close();
      throw err;
    }
  }
  const clock = opts.clock ?? systemClock;
  // The embedded store is written by this process (or a few sharing it, in tests): each keeps the
  // chain heads it wrote last rather than reading them before every audited write.
  const store = new DynamoStore(tableName, dynamo.client, { keepChainHeads: true });
  const operations = new DynamoOperationStore(tableName, dynamo.client, store.auditLog);
  const seeded = opts.seed === false ? false : await seedDemoMesh(store, () => clock.now());
  const ledger = new LocalLakeFormationLedger(dynamo.client, `${tableName}-lf-ledger`, () =>
    clock.now(),
  );
  const consumerLinks = new LocalConsumerLinks(dynamo.client, `${tableName}-lf-ledger`, () =>
    clock.now(),
  );
  const events = new InProcessEventBus(opts.eventLog);
  const catalog = new DemoCatalog();
  // The index is read in a worker: its transient buffers stay out of the server's heap.
  const search = new DynamoSearchIndex(tableName, dynamo.client, store, {
    unzip: indexWorkerAvailable() ? loadIndexInWorker : undefined,
  });
  const notifications = new DynamoNotificationStore(tableName, dynamo.client);
  const local = await localProcess(
    {
      store,
      operations,
      events,
      lakeFormation: ledger,
      consumerLinks,
      catalog,
      clock,
      search,
      notifications,
      sender: new LogNotificationSender(opts.eventLog ?? (() => {})),
    },
    { ...opts, policyDir: opts.policyDir ?? join(process.cwd(), 'policies') },
  );
  return {
    app: local.app,
    deps: local.deps,
    broker: local.broker,
    store,
    operations,
    notifications,
    policy: local.policy,
    queue: local.queue,
    schedules: local.schedules,
    notify: local.notify,
    notifyQueue: local.notifyQueue,
    ledger,
    consumerLinks,
    events,
    catalog,
    seeded,
    dynamo,
    endpoint: dynamo.endpoint,
    /** The embedded store's DynamoDB client (the store and the ledger share it), for tests and tools. */
    client: dynamo.client,
    close: async () => {
      await local.stop();
      if (!opts.sharedStore) await dynamo.close();
    },
  };
}

export type EmbeddedPortal = Awaited<ReturnType<typeof createEmbeddedPortal>>;

/**
 * `MESHGATE_BACKEND=aws npm start`: the same process and API, with DynamoDB, Lake Formation,
 * Glue and (if configured) EventBridge in AWS, reached through the standard SDK settings. The
 * worker and the schedules run in this process; sign-in stays local (bound to loopback).
 */
export async function createAwsBackedPortal(
  opts: LocalOptions & { config: MeshgateConfig; eventLog?: (line: string) => void },
) {
  const aws = awsAdapters({
    tableName: opts.config.tableName,
    eventBusName: opts.config.eventBusName,
    fallbackEvents: new InProcessEventBus(opts.eventLog),
  });
  // Sign-in grants act with the developer's AWS credentials: it takes a code printed at start.
  const signInCode = opts.signInCode ?? newSignInCode();
  const local = await localProcess(
    {
      ...aws,
      sender: new SesNotificationSender(opts.config.notifications?.emailFrom),
      ...awsBrokerAdapters(),
      clock: systemClock,
      configuration: opts.config,
      webhooks: webhooksOf(opts.config),
      webUrl: opts.config.web.urls[0],
    },
    { ...opts, signInCode },
  );
  return {
    app: local.app,
    deps: local.deps,
    queue: local.queue,
    schedules: local.schedules,
    close: local.stop,
    signInCode,
  };
}
