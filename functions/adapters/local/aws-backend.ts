import type { MeshgateConfig } from '../../../config/schema';
import { createApp } from '../../http/app';
import { loadPolicyInForce } from '../policy-loader';
import { runJob } from '../../usecases/fulfilment';
import type { OperationsDeps } from '../../usecases/operations';
import { awsAdapters } from '../aws/adapters';
import { registerFromConfig } from '../aws/configuration';
export { readConfigFile } from '../aws/configuration';
import { systemClock, ulidIds } from '../runtime';
import { devAuth } from './dev-auth';
import { InProcessEventBus } from './event-bus';
import { InProcessQueue } from './job-queue';
import { startSchedules, type ScheduleOptions } from './schedules';
import { mountWeb } from './web';

/**
 * `MESHGATE_BACKEND=aws npm start`: the same process and API, with DynamoDB, Lake Formation,
 * Glue and (if configured) EventBridge in AWS, reached through the standard SDK settings. The
 * worker and the schedules run in this process; sign-in stays local (bound to loopback).
 */
export async function createAwsBackedPortal(opts: {
  config: MeshgateConfig;
  policyDir: string;
  webDir?: string;
  schedules?: ScheduleOptions;
  eventLog?: (line: string) => void;
}) {
  const clock = systemClock;
  const aws = awsAdapters({
    tableName: opts.config.tableName,
    eventBusName: opts.config.eventBusName,
    fallbackEvents: new InProcessEventBus(opts.eventLog),
  });
  await registerFromConfig(aws.store, opts.config, () => clock.now());
  const policy = await loadPolicyInForce(
    opts.policyDir,
    { store: aws.store, clock, ids: ulidIds() },
    { watch: true, record: true },
  );
  const queue = new InProcessQueue();
  const deps: OperationsDeps = { ...aws, policy, queue, clock, ids: ulidIds() };
  queue.consume((job) => runJob(deps, job));
  const stop = opts.schedules
    ? startSchedules(deps, opts.schedules, (m, e) => console.error(m, e))
    : () => {};
  const auth = devAuth(aws.store, () => clock.now());
  const app = createApp({
    ...deps,
    authenticate: auth.authenticate,
    devLogin: auth.login,
    mountStatic: opts.webDir ? mountWeb(opts.webDir) : undefined,
  });
  return { app, deps, close: async () => (stop(), queue.onIdle()) };
}
