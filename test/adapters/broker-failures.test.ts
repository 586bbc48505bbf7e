import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  AccessDeniedException as GlueAccessDenied,
  GetDatabasesCommand,
  GetTablesCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  AccessDeniedException as LfAccessDenied,
  GrantPermissionsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
} from '@aws-sdk/client-lakeformation';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig, type MeshgateConfig } from '../../config/schema';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import type { AuditEvent } from '../../functions/domain/model';
import { viaWorker } from '../support/operations';
import { offlineAwsEnv } from '../support/offline-aws';

// A broken broker role (missing, a wrong ExternalId, no Lake Formation admin setting, no Glue
// rights) through the real AWS adapters, the SDK mocked at the client: sync and reconcile operations end
// 502 BROKER_UNAVAILABLE naming the domain, the role and the AWS code, the trail has one
// BROKER_FAILED event, the ExternalId is nowhere, and the scheduled run carries on with the others.

const TABLE = 'meshgate-broker-test';
const REPO = join(__dirname, '../..');
const POLICY_DIR = join(REPO, 'policies');
const EXAMPLE = join(REPO, 'config/example.json');
const SALES_ROLE = 'arn:aws:iam::111111111111:role/meshgate-broker';
const SALES_EXTERNAL_ID = 'meshgate-sandbox-sales-7f3c2a';
const FINANCE_EXTERNAL_ID = 'meshgate-sandbox-finance-91be40';
const ANALYST = 'arn:aws:iam::555555555555:role/analyst';

const lf = mockClient(LakeFormationClient);
const sts = mockClient(STSClient);
const glue = mockClient(GlueClient);
const eb = mockClient(EventBridgeClient);

/** What the SDK does before signing a call: asks the client's credential provider (the broker's). */
async function resolveCredentials(getClient: () => unknown) {
  const config = (getClient() as { config: { credentials: () => Promise<unknown> } }).config;
  return config.credentials();
}

/** STS's answer to AssumeRole for a missing role or a wrong ExternalId, shaped as the SDK's. */
const assumeRoleDenied = (roleArn: string) =>
  new STSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: `User: arn:aws:sts::999999999999:assumed-role/meshgate-api/session is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
  });

/** STS answers for every role but those in `denied`. */
function stubSts(denied: string[] = []) {
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
    if (denied.includes(input.RoleArn)) throw assumeRoleDenied(input.RoleArn);
    return {
      Credentials: {
        AccessKeyId: 'ASIABROKER',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3_600_000),
      },
    };
  });
}

function stubGlue() {
  glue.reset();
  glue.on(GetDatabasesCommand).callsFake(async (_input, getClient) => {
    await resolveCredentials(getClient);
    return { DatabaseList: [{ Name: 'gold' }] };
  });
  glue.on(GetTablesCommand).resolves({
    TableList: [
      {
        Name: 'orders',
        Parameters: { 'meshgate:product': 'true' },
        StorageDescriptor: { Columns: [{ Name: 'order_id', Type: 'string' }] },
      },
    ],
  });
}

function stubLakeFormation() {
  lf.reset();
  lf.onAnyCommand().resolves({});
  lf.on(ListPermissionsCommand).callsFake(async (_input, getClient) => {
    await resolveCredentials(getClient);
    return { PrincipalResourcePermissions: [] };
  });
  lf.on(GrantPermissionsCommand).callsFake(async (_input, getClient) => {
    await resolveCredentials(getClient);
    return {};
  });
}

let dynamo: EmbeddedDynamo;
let config: MeshgateConfig;
let aws: typeof import('../../functions/wiring/local');
let restoreEnv: () => void = () => {};

type Portal = Awaited<
  ReturnType<typeof import('../../functions/wiring/local').createAwsBackedPortal>
>;
const portals: Portal[] = [];

/** A fresh portal (fresh adapters, so no broker credentials cached from an earlier test). */
async function newPortal(): Promise<Portal> {
  const portal = await aws.createAwsBackedPortal({ config, policyDir: POLICY_DIR });
  portals.push(portal);
  return portal;
}

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.client, TABLE);
  restoreEnv = offlineAwsEnv(dynamo.endpoint);
  aws = await import('../../functions/wiring/local');
  config = parseConfig({ ...JSON.parse(readFileSync(EXAMPLE, 'utf8')), tableName: TABLE }, EXAMPLE);
  eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_e, i) => ({ EventId: `evt-${i}` })),
  }));
});

beforeEach(() => {
  stubSts();
  stubGlue();
  stubLakeFormation();
});

afterAll(async () => {
  for (const p of portals) await p.close();
  lf.restore();
  sts.restore();
  glue.restore();
  eb.restore();
  restoreEnv();
  await dynamo?.close();
});

function caller(portal: Portal) {
  const tokens = new Map<string, string>();
  return async function call(user: string, method: string, path: string, body?: unknown) {
    let token = tokens.get(user);
    if (!token) {
      const res = await portal.app.request('/auth/dev-login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, code: portal.signInCode }),
      });
      if (res.status !== 200) throw new Error(`dev-login ${user}: ${res.status}`);
      token = ((await res.json()) as { token: string }).token;
      tokens.set(user, token);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await portal.app.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

async function brokerEvents(portal: Portal, domain: string): Promise<AuditEvent[]> {
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const page = await portal.deps.store.queryAudit({ from, to, limit: 1000 });
  return page.items.filter((e) => e.type === 'BROKER_FAILED' && e.domain === domain);
}

/** Polls until `check` returns a value, for at most `ms`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const noSecret = (text: string) => {
  expect(text).not.toContain(SALES_EXTERNAL_ID);
  expect(text).not.toContain(FINANCE_EXTERNAL_ID);
};

/** Starts a sync or reconcile through the API and reads the operation once the worker is done. */
const run = (portal: Portal, user: string, path: string) =>
  viaWorker({ call: caller(portal) }, () => portal.queue.onIdle(), user, path);

/** Calls `operation` on sales as bob: a 502 naming the domain, role, service and code, and one more BROKER_FAILED event. */
async function expectBrokerRefusal(
  operation: 'sync' | 'reconcile',
  service: string,
  awsCode: string,
) {
  const portal = await newPortal();
  const before = (await brokerEvents(portal, 'sales')).length;
  const res = await run(portal, 'bob', `/v1/domains/sales/${operation}`);
  expect(res.status).toBe(502);
  expect(res.body.error).toMatchObject({
    code: 'BROKER_UNAVAILABLE',
    details: { domain: 'sales', roleArn: SALES_ROLE, awsCode, service },
  });
  expect(res.operation).toMatchObject({ kind: operation, domain: 'sales', status: 'FAILED' });
  noSecret(JSON.stringify(res));
  const events = await brokerEvents(portal, 'sales');
  expect(events).toHaveLength(before + 1);
  expect(events.at(-1)!.detail).toMatchObject({ operation, awsCode, service });
  return res;
}

describe('a broken broker role is named', () => {
  test('AssumeRole refused (missing role, wrong ExternalId): the sync operation fails BROKER_UNAVAILABLE (502) naming domain, role and code, one BROKER_FAILED event', async () => {
    stubSts([SALES_ROLE]);
    const portal = await newPortal();
    const before = (await brokerEvents(portal, 'sales')).length;

    const res = await run(portal, 'bob', '/v1/domains/sales/sync');
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({
      code: 'BROKER_UNAVAILABLE',
      details: { domain: 'sales', roleArn: SALES_ROLE, awsCode: 'AccessDenied', service: 'STS' },
    });
    expect(res.body.error.message).toContain('sales');
    expect(res.body.error.message).toContain(SALES_ROLE);
    expect(res.body.error.message).toContain('AccessDenied');
    noSecret(JSON.stringify(res));
    // AssumeRole was sent with the ExternalId; it just never comes back out.
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.ExternalId).toBe(
      SALES_EXTERNAL_ID,
    );

    const events = await brokerEvents(portal, 'sales');
    expect(events).toHaveLength(before + 1);
    const event = events.at(-1)!;
    expect(event.actor).toBe('bob');
    expect(event.detail).toMatchObject({
      domain: 'sales',
      roleArn: SALES_ROLE,
      awsCode: 'AccessDenied',
      service: 'STS',
      operation: 'sync',
    });
    noSecret(JSON.stringify(event));
    // The operation's end is in the trail too, with the named error.
    const page = await portal.deps.store.queryAudit({
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
      limit: 1000,
    });
    const ended = page.items.filter(
      (e) => e.type === 'OPERATION_FAILED' && e.detail.operationId === res.operation!.id,
    );
    expect(ended).toHaveLength(1);
    expect(ended[0]!.detail).toMatchObject({ error: { code: 'BROKER_UNAVAILABLE' } });
  });

  test('AssumeRole refused: the reconcile operation fails BROKER_UNAVAILABLE too', async () => {
    stubSts([SALES_ROLE]);
    await expectBrokerRefusal('reconcile', 'STS', 'AccessDenied');
  });

  test('Lake Formation refuses the role (no admin setting): the reconcile operation fails with AccessDeniedException', async () => {
    lf.on(ListPermissionsCommand).rejects(
      new LfAccessDenied({
        message: 'Insufficient Lake Formation permission(s): Required Describe on Catalog',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expectBrokerRefusal('reconcile', 'Lake Formation', 'AccessDeniedException');
  });

  test('Glue refuses the role: the sync operation fails with AccessDeniedException', async () => {
    glue.on(GetDatabasesCommand).rejects(
      new GlueAccessDenied({
        message: 'User is not authorized to perform: glue:GetDatabases',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expectBrokerRefusal('sync', 'Glue', 'AccessDeniedException');
  });

  test('the scheduled sync over two domains, one broken: an operation per domain, the broken one FAILED and named, the other synced', async () => {
    stubSts([SALES_ROLE]);
    const portal = await newPortal();
    const salesBefore = (await brokerEvents(portal, 'sales')).length;
    const financeBefore = (await brokerEvents(portal, 'finance')).length;

    const out = await portal.schedules.sync();
    expect(out.failures).toEqual([]);
    expect(out.queued.map((q) => q.domain).sort()).toEqual(['finance', 'sales']);
    await portal.queue.onIdle();
    const ops = Object.fromEntries(
      await Promise.all(
        out.queued.map(
          async (q) => [q.domain, await portal.deps.operations.get(q.operationId)] as const,
        ),
      ),
    );
    expect(ops.sales).toMatchObject({
      status: 'FAILED',
      requestedBy: 'meshgate',
      error: {
        code: 'BROKER_UNAVAILABLE',
        details: { domain: 'sales', roleArn: SALES_ROLE, awsCode: 'AccessDenied' },
      },
    });
    expect(ops.finance).toMatchObject({
      status: 'SUCCEEDED',
      report: expect.objectContaining({ domain: 'finance' }),
    });
    expect(await portal.deps.store.getProduct('finance/orders')).toMatchObject({
      domain: 'finance',
      status: 'ACTIVE',
    });
    expect(await brokerEvents(portal, 'sales')).toHaveLength(salesBefore + 1);
    expect((await brokerEvents(portal, 'sales')).at(-1)!.actor).toBe('meshgate');
    expect(await brokerEvents(portal, 'finance')).toHaveLength(financeBefore);
    noSecret(JSON.stringify(ops));
  });

  test('fulfilment: AssumeRole refused on grant fails the request with a reason naming role and code, not the ExternalId', async () => {
    // The product is synced with a working role, then the role breaks (a fresh portal: no cache).
    const ok = await newPortal();
    expect((await run(ok, 'bob', '/v1/domains/sales/sync')).status).toBe(200);
    stubSts([SALES_ROLE]);
    const portal = await newPortal();
    await portal.deps.store.putUser({ id: 'alice', name: 'Alice Martin' });
    const call = caller(portal);
    const created = await call('alice', 'POST', '/v1/requests', {
      productId: 'sales/orders',
      principal: ANALYST,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 7, unit: 'days' },
      purpose: 'Order volume dashboard',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call('bob', 'POST', `/v1/requests/${id}/approve`, {})).status).toBe(200);
    const failed = await waitFor('FAILED', async () => {
      const r = await call('alice', 'GET', `/v1/requests/${id}`);
      return r.body.status === 'FAILED' ? r : undefined;
    });
    const reason = failed.body.failure.reason as string;
    expect(reason).toContain(SALES_ROLE);
    expect(reason).toContain('AccessDenied');
    expect(failed.body.failure.code).toBe('AccessDenied');
    noSecret(failed.text);
    const history = await portal.deps.store.listRequestAudit(id);
    noSecret(JSON.stringify(history));
  });
});
