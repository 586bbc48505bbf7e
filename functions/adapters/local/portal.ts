import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { createApp } from '../../http/app';
import { loadPolicyInForce } from '../policy-loader';
import { runJob } from '../../usecases/fulfilment';
import type { Clock } from '../../ports/runtime';
import { DynamoStore } from '../aws/dynamo-store';
import { devAuth } from './dev-auth';
import { ensureTable, startEmbeddedDynamo } from './embedded-dynamo';
import { InProcessQueue } from './job-queue';
import { LocalLakeFormationLedger } from './lf-ledger';
import { systemClock, ulidIds } from '../runtime';
import { seedDemoMesh } from './seed';
import { DemoCatalog } from './demo-catalog';
import { InProcessEventBus } from './event-bus';
import { startSchedules, type ScheduleOptions } from './schedules';
import type { OperationsDeps } from '../../usecases/operations';

export interface EmbeddedOptions {
  /** Folder for the embedded store; in memory when absent. */
  dataDir?: string;
  policyDir?: string;
  /** Folder of built web files served at `/`. */
  webDir?: string;
  seed?: boolean;
  clock?: Clock;
  tableName?: string;
  /** Timers for the sweeper, sync and reconciler; off when absent (tests drive them by hand). */
  schedules?: ScheduleOptions;
  /** One line per lifecycle event (the local event bus); silent when absent. */
  eventLog?: (line: string) => void;
}

/**
 * The whole portal in one process: embedded DynamoDB-compatible store, local Lake Formation
 * ledger, in-process fulfilment queue and worker, local sign-in, seeded demo mesh.
 */
export async function createEmbeddedPortal(opts: EmbeddedOptions = {}) {
  const tableName = opts.tableName ?? 'meshgate';
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const dynamo = await startEmbeddedDynamo({ path: opts.dataDir ? resolve(opts.dataDir, 'dynamodb') : undefined });
  await ensureTable(dynamo.client, tableName);
  await ensureTable(dynamo.client, `${tableName}-lf-ledger`);
  const clock = opts.clock ?? systemClock;
  const store = new DynamoStore(tableName, dynamo.client);
  const seeded = opts.seed === false ? false : await seedDemoMesh(store, () => clock.now());
  const ids = ulidIds();
  const policy = await loadPolicyInForce(opts.policyDir ?? join(process.cwd(), 'policies'), { store, clock, ids });
  const queue = new InProcessQueue();
  const ledger = new LocalLakeFormationLedger(dynamo.client, `${tableName}-lf-ledger`, () => clock.now());
  const events = new InProcessEventBus(opts.eventLog);
  const catalog = new DemoCatalog();
  const deps: OperationsDeps = { store, policy, queue, events, lakeFormation: ledger, catalog, clock, ids };
  queue.consume((job) => runJob(deps, job));
  const stopSchedules = opts.schedules ? startSchedules(deps, opts.schedules, (m, e) => console.error(m, e)) : () => {};
  const auth = devAuth(store, () => clock.now());
  const app = createApp({
    ...deps,
    authenticate: auth.authenticate,
    devLogin: auth.login,
    mountStatic: opts.webDir ? (a) => a.use('/*', serveStatic({ root: opts.webDir })) : undefined,
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
    endpoint: dynamo.endpoint,
    /** The embedded store's DynamoDB client (the store and the ledger share it), for tests and tools. */
    client: dynamo.client,
    close: async () => {
      stopSchedules();
      await queue.onIdle();
      await dynamo.close();
    },
  };
}

export type EmbeddedPortal = Awaited<ReturnType<typeof createEmbeddedPortal>>;
