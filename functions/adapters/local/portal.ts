import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApp } from '../../http/app';
import { loadPolicyInForce } from '../policy-loader';
import { runJob } from '../../usecases/fulfilment';
import type { Clock } from '../../ports/runtime';
import { DynamoStore } from '../aws/dynamo-store';
import { devAuth } from './dev-auth';
import { ensureTable, startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamo';
import { InProcessQueue } from './job-queue';
import { LocalLakeFormationLedger } from './lf-ledger';
import { systemClock, ulidIds } from '../runtime';
import { seedDemoMesh } from './seed';
import { DemoCatalog } from './demo-catalog';
import { mountWeb } from './web';
import { InProcessEventBus } from './event-bus';
import { startSchedules, type ScheduleOptions } from './schedules';
import type { OperationsDeps } from '../../usecases/operations';

export interface EmbeddedOptions {
  /** Folder for the embedded store; in memory when absent. */
  dataDir?: string;
  policyDir?: string;
  /** Folder of the built web UI, served at `/` (see web/build.ts). */
  webDir?: string;
  seed?: boolean;
  clock?: Clock;
  tableName?: string;
  /** Timers for the sweeper, sync and reconciler; off when absent (tests drive them by hand). */
  schedules?: ScheduleOptions;
  /** One line per lifecycle event (the local event bus); silent when absent. */
  eventLog?: (line: string) => void;
  /**
   * An embedded store another portal started: this one uses its tables (as a second Lambda
   * instance uses the same DynamoDB table) instead of starting its own, and leaves it running on close.
   */
  sharedStore?: EmbeddedDynamo;
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
  await ensureTable(dynamo.client, tableName);
  await ensureTable(dynamo.client, `${tableName}-lf-ledger`);
  const clock = opts.clock ?? systemClock;
  const store = new DynamoStore(tableName, dynamo.client);
  const seeded = opts.seed === false ? false : await seedDemoMesh(store, () => clock.now());
  const ids = ulidIds();
  // The policy files are watched: a change on disk takes effect (and is recorded) on the next call.
  const policy = await loadPolicyInForce(
    opts.policyDir ?? join(process.cwd(), 'policies'),
    { store, clock, ids },
    { watch: true, record: true },
  );
  const queue = new InProcessQueue();
  const ledger = new LocalLakeFormationLedger(dynamo.client, `${tableName}-lf-ledger`, () =>
    clock.now(),
  );
  const events = new InProcessEventBus(opts.eventLog);
  const catalog = new DemoCatalog();
  const deps: OperationsDeps = {
    store,
    policy,
    queue,
    events,
    lakeFormation: ledger,
    catalog,
    clock,
    ids,
  };
  queue.consume((job) => runJob(deps, job));
  const stopSchedules = opts.schedules
    ? startSchedules(deps, opts.schedules, (m, e) => console.error(m, e))
    : () => {};
  const auth = devAuth(store, () => clock.now());
  const app = createApp({
    ...deps,
    authenticate: auth.authenticate,
    devLogin: auth.login,
    mountStatic: opts.webDir ? mountWeb(opts.webDir) : undefined,
  });
  return {
    app,
    deps,
    store,
    policy,
    queue,
    ledger,
    events,
    catalog,
    seeded,
    dynamo,
    endpoint: dynamo.endpoint,
    /** The embedded store's DynamoDB client (the store and the ledger share it), for tests and tools. */
    client: dynamo.client,
    close: async () => {
      stopSchedules();
      await queue.onIdle();
      if (!opts.sharedStore) await dynamo.close();
    },
  };
}

export type EmbeddedPortal = Awaited<ReturnType<typeof createEmbeddedPortal>>;
