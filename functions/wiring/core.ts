import { createApp, type AppDeps } from '../http/app';
import { policyFolder } from '../policy/files';
import type { CatalogSource } from '../ports/catalog';
import type { EventPublisher } from '../ports/events';
import type { LakeFormationPort } from '../ports/lakeformation';
import type { OperationStore } from '../ports/operations';
import type { ConsumerLinkPort } from '../ports/consumer-links';
import type { Job, JobQueue } from '../ports/queue';
import type { Clock, IdGenerator } from '../ports/runtime';
import type { SearchIndex } from '../ports/search';
import type { Store } from '../ports/store';
import { applyConfiguration, type Configuration } from '../usecases/configuration';
import type { Deps } from '../usecases/deps';
import { expireDue, resumeInFlight, runJob } from '../usecases/fulfilment';
import { flushRefusals } from '../usecases/governance';
import {
  resumeOperations,
  runForEveryDomain,
  runOperation,
  sweepOperations,
} from '../usecases/operation-runs';
import { catchUpSearch } from '../usecases/operations';
import { StorePolicy } from '../usecases/policy-in-force';
import { sweepWaiting } from '../usecases/waiting';
import { systemClock, ulidIds } from '../adapters/runtime';
import type { NotificationSender, NotificationStore } from '../ports/notifications';
import {
  notifyCommitted,
  notifyEvents,
  notifyLifecycleEvent,
  notifySweep,
  type NotificationDeps,
  type NotifierDeps,
} from '../usecases/notifications';

/**
 * What a runtime brings: its adapters, where its policy files are, and its configuration. No
 * Lake Formation or catalog here: only the worker reaches domain accounts (BrokerAdapters), so
 * the API's composition never loads their clients.
 */
export interface CoreAdapters {
  store: Store;
  operations: OperationStore;
  queue: JobQueue;
  events: EventPublisher;
  /** The catalog's search index (built where the catalog changes, loaded by the API). */
  search: SearchIndex;
  /** The system clock when absent. */
  clock?: Clock;
  /** ULIDs when absent. */
  ids?: IdGenerator;
  log?: (msg: string, err?: unknown) => void;
  /**
   * The policy folder. `watch`: files on disk, loaded again when they change (the local
   * processes) rather than bundled. `record`: the process decides, so it records its policy as
   * the one in force and checks that it still is before every call (the API, the local
   * processes); the worker and the schedules on Lambda carry out decisions and make none.
   */
  policy: { dir: string; watch: boolean; record: boolean };
  /** The deployment configuration, applied to the store (once per version) before the policy loads. */
  configuration?: Configuration;
  /**
   * How long a request in flight may go untouched before the sweeper hands it to the worker
   * again; DEFAULT_STALLED_AFTER_MS (usecases/fulfilment.ts) when absent.
   */
  stalledAfterMs?: number;
  /** When a RUNNING sync or reconcile counts as stalled; DEFAULT_OPERATION_STALLED_AFTER_MS when absent. */
  operationStalledAfterMs?: number;
  /** The notification centre (the one table, through its own adapter). */
  notifications: NotificationStore;
  /** E-mail and chat (SES and webhooks on AWS, the log locally); the centre only when absent. */
  sender?: NotificationSender;
  /** Chat webhook URL per domain, from the deployment configuration. */
  webhooks?: Record<string, string>;
  /** The web UI's address, for links in e-mails and chat. */
  webUrl?: string;
  /**
   * Notify right after each commit, in this process (the local processes). On AWS the bus feeds
   * the notifier Lambda instead; the sweep's catch-up covers both.
   */
  notifyInProcess?: boolean;
  /**
   * Hands each committed change to this instead of notifying it in the call (the local processes'
   * queue, drained by `notifyCommitted` after the response); `notifyInProcess` is then ignored.
   */
  afterCommit?: Deps['afterCommit'];
}

/** What the worker alone brings: how it reaches the domain accounts (their broker roles). */
export interface BrokerAdapters {
  lakeFormation: LakeFormationPort;
  catalog: CatalogSource;
  /** Resource links in the consumer accounts (through their broker roles). */
  consumerLinks: ConsumerLinkPort;
}

/** What the HTTP runtime adds to the core to serve the API: how callers sign in, static files. */
export type HttpAdapters = Pick<AppDeps, 'authenticate' | 'devLogin' | 'mountStatic'>;

/**
 * The one startup sequence of every Meshgate process: the configuration applied, the policy in
 * force loaded, the use cases' dependencies, and what each runtime serves from them.
 */
export async function buildCore(a: CoreAdapters) {
  const clock = a.clock ?? systemClock;
  const ids = a.ids ?? ulidIds();
  if (a.configuration) {
    const applied = await applyConfiguration({ store: a.store, clock, ids }, a.configuration);
    // Others are writing theirs (a deploy under way): this process starts, the last start wins.
    if (applied.status === 'busy')
      (a.log ?? console.error)(`configuration ${applied.version.slice(0, 12)} not applied yet`);
  }
  const policy = await StorePolicy.start(
    { store: a.store, clock, ids },
    policyFolder(a.policy.dir, { watch: a.policy.watch }),
    { record: a.policy.record },
  );
  const notifier: NotifierDeps = {
    store: a.store,
    policy,
    clock,
    log: a.log,
    notifications: a.notifications,
    sender: a.sender,
    webhooks: a.webhooks,
    webUrl: a.webUrl,
  };
  const deps: Deps & NotificationDeps & { search: SearchIndex } = {
    store: a.store,
    operations: a.operations,
    policy,
    queue: a.queue,
    events: a.events,
    search: a.search,
    clock,
    ids,
    log: a.log,
    notifications: a.notifications,
    ...(a.afterCommit
      ? { afterCommit: a.afterCommit }
      : a.notifyInProcess
        ? { afterCommit: (r, audit) => notifyEvents(notifier, r, audit) }
        : {}),
  };
  const ops = { stalledAfterMs: a.operationStalledAfterMs };
  return {
    deps,
    /** The policy in force, with what it holds (`state`) for tests and tools. */
    policy,
    /** The API, served by whichever HTTP runtime. */
    app: (http: HttpAdapters) => createApp({ ...deps, ...http }),
    /**
     * The worker's step (one job off the queue), once it has the broker adapters: `broker` is
     * called when the first job needs them (the worker on Lambda imports their clients then).
     */
    worker: (broker: () => Promise<BrokerAdapters>) => {
      let loaded: Promise<BrokerAdapters> | undefined;
      const workerDeps = async () => ({ ...deps, ...(await (loaded ??= broker())) });
      return async (job: Job) =>
        job.kind === 'searchindex'
          ? // Asked by the API when it found no index: built as the sweep would (no broker needed).
            void (await catchUpSearch(deps))
          : job.kind === 'operation'
            ? runOperation(await workerDeps(), job.operationId, ops)
            : runJob(await workerDeps(), job);
    },
    /** Sends a job for every request and operation in flight, for a process whose queue died with it. */
    resumeInFlight: async () => ({
      ...(await resumeInFlight(deps)),
      operations: await resumeOperations(deps),
    }),
    /** The local notifier's fast path after the response: committed changes, in a batch. */
    notifyCommitted: (changes: Parameters<typeof notifyCommitted>[1]) =>
      notifyCommitted(notifier, changes),
    /** The notifier's fast path on AWS: one lifecycle event from the bus (its detail). */
    notify: (changed: { requestId: string }) => notifyLifecycleEvent(notifier, changed),
    /** The scheduled tasks (EventBridge Scheduler on AWS, timers locally). */
    schedules: {
      sweep: async () => ({
        /**
         * The search index brought up to the catalog's version (a GetItem or two when it is): what a
         * crashed or failed build after a sync left behind, and the first index of a deployment.
         * First, and it never throws: a failing step below does not keep search down.
         */
        search: await catchUpSearch(deps),
        expired: await expireDue(deps, { stalledAfterMs: a.stalledAfterMs }),
        /** Pending requests escalated to backup approvers, or timed out. */
        waiting: await sweepWaiting(deps),
        /** Refusal windows whose count the sweep wrote to the trail. */
        refusalWindows: await flushRefusals(deps),
        /** Stalled syncs and reconciliations handed to the worker again. */
        operations: await sweepOperations(deps, ops),
        /** What the catch-up notified that the fast path had not, and the expiry warnings. */
        notified: await notifySweep(notifier),
      }),
      sync: () => runForEveryDomain(deps, 'sync'),
      reconcile: () => runForEveryDomain(deps, 'reconcile'),
    },
  };
}

export type Core = Awaited<ReturnType<typeof buildCore>>;
export type ScheduledTask = keyof Core['schedules'];
