import { readFileSync } from 'node:fs';
import { parseConfig, type MeshgateConfig } from '../../../config/schema';
import { ALL_DOMAINS, type Membership } from '../../domain/model';
import { createApp } from '../../http/app';
import { loadPolicyEngine } from '../../policy/files';
import { runJob } from '../../usecases/fulfilment';
import { SYSTEM } from '../../usecases/deps';
import type { OperationsDeps } from '../../usecases/operations';
import type { Store } from '../../ports/store';
import { awsAdapters } from '../aws/adapters';
import { systemClock, ulidIds } from '../runtime';
import { devAuth } from './dev-auth';
import { InProcessEventBus } from './event-bus';
import { InProcessQueue } from './job-queue';
import { startSchedules, type ScheduleOptions } from './schedules';

export function readConfigFile(path: string | undefined): MeshgateConfig {
  if (!path) throw new Error('MESHGATE_BACKEND=aws needs MESHGATE_CONFIG, the path of the configuration file (see config/example.json).');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(json, path);
}

/** Registers the configured domains, their owners and the global roles (idempotent). */
async function registerFromConfig(store: Store, config: MeshgateConfig, now: () => Date) {
  const have = new Set((await store.listMemberships()).map((m) => `${m.domain}|${m.user}|${m.role}`));
  const wanted: Membership[] = [
    ...config.admins.map((user) => ({ user, domain: ALL_DOMAINS, role: 'admin' as const })),
    ...config.compliance.map((user) => ({ user, domain: ALL_DOMAINS, role: 'compliance' as const })),
    ...config.auditors.map((user) => ({ user, domain: ALL_DOMAINS, role: 'auditor' as const })),
    ...config.domains.flatMap((d) => d.owners.map((user) => ({ user, domain: d.id, role: 'owner' as const }))),
  ];
  for (const d of config.domains) {
    await store.putDomain({ id: d.id, name: d.name, accountId: d.accountId, region: d.region, description: d.description, broker: { roleArn: d.brokerRoleArn, externalId: d.externalId } });
  }
  const ids = ulidIds();
  for (const m of wanted) {
    if (!(await store.getUser(m.user))) await store.putUser({ id: m.user, name: m.user });
    if (have.has(`${m.domain}|${m.user}|${m.role}`)) continue;
    await store.putMembership(m, { id: ids.next('evt'), at: now().toISOString(), type: 'MEMBERSHIP_ADDED', actor: SYSTEM, domain: m.domain, detail: { ...m, from: 'configuration' } });
  }
}

/**
 * `MESHGATE_BACKEND=aws npm start`: the same process and API, with DynamoDB, Lake Formation,
 * Glue and (if configured) EventBridge in AWS, reached through the standard SDK settings. The
 * worker and the schedules run in this process; sign-in stays local (bound to loopback).
 */
export async function createAwsBackedPortal(opts: { config: MeshgateConfig; policyDir: string; schedules?: ScheduleOptions; eventLog?: (line: string) => void }) {
  const clock = systemClock;
  const aws = awsAdapters({ tableName: opts.config.tableName, eventBusName: opts.config.eventBusName, fallbackEvents: new InProcessEventBus(opts.eventLog) });
  await registerFromConfig(aws.store, opts.config, () => clock.now());
  const policy = await loadPolicyEngine(opts.policyDir, await aws.store.listMemberships());
  const queue = new InProcessQueue();
  const deps: OperationsDeps = { ...aws, policy, queue, clock, ids: ulidIds() };
  queue.consume((job) => runJob(deps, job));
  const stop = opts.schedules ? startSchedules(deps, opts.schedules, (m, e) => console.error(m, e)) : () => {};
  const auth = devAuth(aws.store, () => clock.now());
  const app = createApp({ ...deps, authenticate: auth.authenticate, devLogin: auth.login });
  return { app, deps, close: async () => (stop(), queue.onIdle()) };
}
