import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { GlueClient } from '@aws-sdk/client-glue';
import {
  GrantPermissionsCommand,
  LakeFormationClient,
  RevokePermissionsCommand,
} from '@aws-sdk/client-lakeformation';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { DynamoNotificationStore } from '../../functions/adapters/aws/dynamo-notifications';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import type { AccessRequest, Grant } from '../../functions/domain/model';
import type { StatusChanged } from '../../functions/ports/events';
import { parseConfig } from '../../config/schema';
import { apiEvent } from '../support/lambda-event';
import { marketingDomain, webTrafficProduct } from '../support/web-traffic';
import { offlineAwsEnv } from '../support/offline-aws';

// The three Lambda entry points, built from their environment exactly as on AWS. DynamoDB is an
// embedded dynalite reached through AWS_ENDPOINT_URL_DYNAMODB (dynamo-store's module-scope default
// client resolves its endpoint at its first call, after the variables below are set); SQS, Lake
// Formation, STS, Glue and EventBridge are stubbed for every instance, and AWS_ENDPOINT_URL sends
// anything that slipped past the stubs to a closed loopback port rather than to AWS.

const TABLE = 'meshgate-test';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs';
const ENV = {
  MESHGATE_TABLE_NAME: TABLE,
  MESHGATE_QUEUE_URL: QUEUE_URL,
  MESHGATE_EVENT_BUS_NAME: 'bus',
  MESHGATE_POLICY_DIR: join(__dirname, '../../policies'),
};
const ACCOUNT = '222222222222';
const ANALYST = 'arn:aws:iam::555555555555:role/analyst';
/** The swept grant's principal: no other grant holds its permission, so the revoke really goes out. */
const SHORT_LOOK = 'arn:aws:iam::555555555555:role/short-look';
const TRAFFIC = {
  Table: { CatalogId: ACCOUNT, DatabaseName: 'marketing_gold', Name: 'web_traffic' },
};

const sqs = mockClient(SQSClient);
const lf = mockClient(LakeFormationClient);
const sts = mockClient(STSClient);
const glue = mockClient(GlueClient);
const eb = mockClient(EventBridgeClient);

const product = webTrafficProduct(ACCOUNT);

let dynamo: EmbeddedDynamo;
let store: DynamoStore;
let lambda: typeof import('../../functions/wiring/lambda');
let api: Awaited<ReturnType<typeof import('../../functions/wiring/lambda').createLambdaHandler>>;
let workerWiring: typeof import('../../functions/wiring/lambda-worker');
let worker: Awaited<
  ReturnType<typeof import('../../functions/wiring/lambda-worker').createWorkerHandler>
>;
let errors: jest.SpyInstance;
let stderr: jest.SpyInstance;

let restoreEnv: () => void = () => {};
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.client, TABLE);
  restoreEnv = offlineAwsEnv(dynamo.endpoint);

  sqs.on(SendMessageCommand).resolves({ MessageId: 'msg-1' });
  lf.onAnyCommand().resolves({});
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIABROKER',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
  glue.onAnyCommand().resolves({});
  eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_e, i) => ({ EventId: `evt-${i}` })),
  }));

  // Seeded through an explicit client on the same endpoint: the handlers must find it there.
  store = new DynamoStore(TABLE, dynamo.client);
  await store.putDomain(marketingDomain(ACCOUNT));
  await store.putProduct(product);
  await store.putUser({ id: 'alice', name: 'Alice Martin' });

  lambda = await import('../../functions/wiring/lambda');
  api = await lambda.createLambdaHandler(ENV);
  workerWiring = await import('../../functions/wiring/lambda-worker');
  worker = await workerWiring.createWorkerHandler(ENV);
});

beforeEach(() => {
  errors = jest.spyOn(console, 'error').mockImplementation(() => {});
  // Powertools Logger writes JSON lines to stderr (ERROR level) through its own console.
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  errors.mockRestore();
  stderr.mockRestore();
});

afterAll(async () => {
  sqs.restore();
  lf.restore();
  sts.restore();
  glue.restore();
  eb.restore();
  restoreEnv();
  await dynamo?.close();
});

const ALICE = { 'cognito:username': 'alice', name: 'Alice Martin' };

async function invoke(method: string, path: string, body?: unknown) {
  const res = await api(apiEvent(method, path, ALICE, body));
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** Alice asks for the public product through the API Lambda; it is approved at once. */
async function submit(): Promise<string> {
  const res = await invoke('POST', '/v1/requests', {
    productId: product.id,
    principal: ANALYST,
    scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
    duration: { value: 7, unit: 'days' },
    purpose: 'Traffic dashboard',
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const jobsSent = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
const published = (): StatusChanged[] =>
  eb
    .commandCalls(PutEventsCommand)
    .flatMap((c) =>
      (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.Detail!) as StatusChanged),
    );

describe('createLambdaHandler', () => {
  test('a caller named by the JWT claims creates a request; the approved one goes to SQS as a grant job', async () => {
    const me = await invoke('GET', '/v1/me');
    expect(me).toEqual({
      status: 200,
      body: { id: 'alice', name: 'Alice Martin', memberships: [] },
    });

    const before = jobsSent().length;
    const id = await submit();
    const r = await invoke('GET', `/v1/requests/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id,
      requester: 'alice',
      principal: ANALYST,
      status: 'APPROVED',
      stages: [],
    });
    expect((await store.getRequest(id))!.status).toBe('APPROVED');

    expect(jobsSent().slice(before)).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: JSON.stringify({ kind: 'grant', requestId: id }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'grant' } },
      },
    ]);
    expect(JSON.parse(jobsSent().at(-1)!.MessageBody!)).toEqual({ kind: 'grant', requestId: id });
    // The API never talks to Lake Formation itself.
    expect(lf).not.toHaveReceivedCommand(GrantPermissionsCommand);
    // Status changes go to the configured bus.
    expect(eb).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: expect.arrayContaining([
        expect.objectContaining({
          EventBusName: 'bus',
          Source: 'meshgate',
          DetailType: 'Meshgate Access Request Status Changed',
        }),
      ]),
    });
    expect(
      published()
        .filter((e) => e.requestId === id)
        .map((e) => e.toStatus),
    ).toEqual(['PENDING', 'APPROVED']);
  });

  test('without authorizer claims the API is 401, and there is no dev-login', async () => {
    const anonymous = await api(apiEvent('GET', '/v1/requests'));
    expect(anonymous.statusCode).toBe(401);
    const login = await api(apiEvent('POST', '/auth/dev-login', undefined, { user: 'alice' }));
    expect(login.statusCode).toBe(403);
    expect(JSON.parse(login.body).error.code).toBe('DEV_LOGIN_DISABLED');
  });
});

describe('the search index of a new deployment', () => {
  test('the first search answers 503 SEARCH_INDEX_BUILDING and asks the worker for a build, once for a burst on every instance; the worker builds it and the next search answers', async () => {
    // No sweep or sync has run on this table yet: no index is published.
    const searchJobs = () =>
      jobsSent().filter((j) => JSON.parse(j.MessageBody!).kind === 'searchindex');
    const before = searchJobs().length;
    const first = await invoke('GET', '/v1/products?q=traffic');
    expect(first.status).toBe(503);
    expect(first.body.error.code).toBe('SEARCH_INDEX_BUILDING');
    expect(searchJobs().slice(before)).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: JSON.stringify({ kind: 'searchindex' }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'searchindex' } },
      },
    ]);
    // More searches, on this instance and on another one (a cold start): no second job.
    const other = await lambda.createLambdaHandler(ENV);
    for (const handler of [api, other, api]) {
      const res = await handler(apiEvent('GET', '/v1/products', ALICE));
      expect(res.statusCode).toBe(503);
    }
    expect(searchJobs()).toHaveLength(before + 1);

    // The worker function runs the job: the index is built, and the API answers from it.
    const out = await worker({
      Records: [{ messageId: 'm-search', body: searchJobs().at(-1)!.MessageBody! }],
    });
    expect(out).toEqual({ batchItemFailures: [] });
    const found = await invoke('GET', '/v1/products?q=traffic');
    expect(found.status).toBe(200);
    expect(found.body.items.map((i: { id: string }) => i.id)).toEqual([product.id]);
  });
});

describe('createWorkerHandler', () => {
  test('a batch with a good job and an unparsable one: only the bad message is a batch item failure', async () => {
    const id = await submit();
    const body = jobsSent().at(-1)!.MessageBody!;
    expect(JSON.parse(body)).toEqual({ kind: 'grant', requestId: id });
    lf.resetHistory();

    const out = await worker({
      Records: [
        { messageId: 'm-good', body },
        { messageId: 'm-bad', body: '{"kind": "grant", "requestId": ' },
        { messageId: 'm-bogus', body: '{"kind": "bogus", "requestId": "req_x"}' },
        { messageId: 'm-no-id', body: '{"kind": "grant"}' },
      ],
    });
    // Not a job: each fails, so SQS retries it and then moves it to the dead-letter queue.
    expect(out).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'm-bad' },
        { itemIdentifier: 'm-bogus' },
        { itemIdentifier: 'm-no-id' },
      ],
    });

    const r = (await store.getRequest(id))!;
    expect(r.status).toBe('ACTIVE');
    const grant = (await store.getGrant(r.grantId!))!;
    expect(grant).toMatchObject({
      requestId: id,
      status: 'ACTIVE',
      accountId: ACCOUNT,
      principal: ANALYST,
    });
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 1);
    expect(lf).toHaveReceivedCommandWith(GrantPermissionsCommand, {
      CatalogId: ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: ANALYST },
      Resource: TRAFFIC,
      Permissions: ['SELECT'],
    });
    expect(
      published()
        .filter((e) => e.requestId === id)
        .map((e) => e.toStatus),
    ).toEqual(['PENDING', 'APPROVED', 'GRANTING', 'ACTIVE']);
    // The failure is logged as structured JSON with its message id as correlation id.
    const logged = stderr.mock.calls
      .map((c) => String(c[0]))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'ERROR',
          message: 'job failed',
          correlationId: 'm-bad',
          messageId: 'm-bad',
          service: 'meshgate',
        }),
      ]),
    );

    // A redelivery of the good job changes nothing: the worker is idempotent.
    expect(await worker({ Records: [{ messageId: 'm-good-again', body }] })).toEqual({
      batchItemFailures: [],
    });
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 1);
    expect((await store.getRequest(id))!.version).toBe(r.version);
  });
});

describe('domain operations on Lambda', () => {
  test('the API queues a reconcile as an SQS job and answers 202; the worker function runs it; the API reads it back', async () => {
    await store.putMembership(
      { user: 'alice', domain: 'marketing', role: 'owner' },
      {
        id: `evt_owner${Date.now()}`,
        at: new Date().toISOString(),
        type: 'MEMBERSHIP_ADDED',
        actor: 'test',
        domain: 'marketing',
        detail: {},
      },
    );
    const before = jobsSent().length;
    const started = await invoke('POST', '/v1/domains/marketing/reconcile');
    expect(started.status).toBe(202);
    const op = started.body.operation;
    expect(op).toMatchObject({ kind: 'reconcile', domain: 'marketing', status: 'QUEUED' });
    expect(jobsSent().slice(before)).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: JSON.stringify({ kind: 'operation', operationId: op.id }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'operation' } },
      },
    ]);

    expect(
      await worker({ Records: [{ messageId: 'm-op', body: jobsSent().at(-1)!.MessageBody! }] }),
    ).toEqual({ batchItemFailures: [] });
    const read = await invoke('GET', `/v1/operations/${op.id}`);
    expect(read.status).toBe(200);
    expect(read.body.operation).toMatchObject({
      status: 'SUCCEEDED',
      report: expect.objectContaining({ domain: 'marketing' }),
    });
    // An operation job with no id is not a job.
    expect(
      await worker({ Records: [{ messageId: 'm-op-bad', body: '{"kind":"operation"}' }] }),
    ).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-op-bad' }] });
    await store.deleteMembership(
      { user: 'alice', domain: 'marketing', role: 'owner' },
      {
        id: `evt_owner_gone${Date.now()}`,
        at: new Date().toISOString(),
        type: 'MEMBERSHIP_REMOVED',
        actor: 'test',
        domain: 'marketing',
        detail: {},
      },
    );
  });
});

describe('createScheduledHandler', () => {
  test('sweep: an ACTIVE grant past its expiry starts ending and a revoke job goes to SQS', async () => {
    const past = (ms: number) => new Date(Date.now() - ms).toISOString();
    const id = `req_sweep${Date.now()}`;
    const grantId = `grt_sweep${Date.now()}`;
    const request: AccessRequest = {
      id,
      requester: 'alice',
      principal: SHORT_LOOK,
      productId: product.id,
      domain: 'marketing',
      classification: 'public',
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 1, unit: 'hours' },
      purpose: 'A short look',
      status: 'ACTIVE',
      stages: [],
      explanation: [],
      grantId,
      createdAt: past(3 * 3_600_000),
      updatedAt: past(2 * 3_600_000),
      version: 1,
    };
    const grant: Grant = {
      id: grantId,
      requestId: id,
      requester: 'alice',
      principal: SHORT_LOOK,
      productId: product.id,
      domain: 'marketing',
      classification: 'public',
      accountId: ACCOUNT,
      scope: request.scope,
      grantedAt: past(2 * 3_600_000),
      expiresAt: past(3_600_000),
      status: 'ACTIVE',
      entries: [],
    };
    await store.createRequest(request, []);
    await store.updateRequest(
      { ...request, version: 2 },
      { status: 'ACTIVE', version: 1 },
      [],
      grant,
    );

    const scheduled = await lambda.createScheduledHandler(ENV);
    const before = jobsSent().length;
    expect(await scheduled({ task: 'sweep' })).toEqual({
      expired: [grantId],
      waiting: { escalated: [], timedOut: [], more: false },
      refusalWindows: 0,
      operations: [],
      notified: expect.objectContaining({ expiring: 0 }),
      // The search index is current: the worker built it when the first search asked (above).
      search: { rebuilt: false, version: expect.any(Number) },
    });
    expect(jobsSent().slice(before)).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: JSON.stringify({ kind: 'revoke', requestId: id }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'revoke' } },
      },
    ]);
    expect((await store.getRequest(id))!.status).toBe('REVOKING');
    expect((await store.getGrant(grantId))!).toMatchObject({
      status: 'REVOKING',
      ending: 'EXPIRED',
    });

    // A second sweep finds nothing more to do.
    expect(await scheduled({ task: 'sweep' })).toEqual({
      expired: [],
      waiting: { escalated: [], timedOut: [], more: false },
      refusalWindows: 0,
      operations: [],
      notified: { caughtUp: 0, expiring: 0 },
      search: { rebuilt: false, version: expect.any(Number) },
    });
    // A task the function does not know is an error, not some other task.
    await expect(scheduled({ task: 'bogus' as 'sweep' })).rejects.toThrow(
      /No scheduled task bogus/,
    );

    // The worker carries the revoke job out: the permission goes, the request ends EXPIRED.
    lf.resetHistory();
    expect(
      await worker({ Records: [{ messageId: 'm-revoke', body: jobsSent().at(-1)!.MessageBody! }] }),
    ).toEqual({ batchItemFailures: [] });
    expect(lf).toHaveReceivedCommandWith(RevokePermissionsCommand, {
      CatalogId: ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: SHORT_LOOK },
      Resource: TRAFFIC,
      Permissions: ['SELECT'],
    });
    expect((await store.getRequest(id))!.status).toBe('EXPIRED');
    expect((await store.getGrant(grantId))!.status).toBe('EXPIRED');
  });
});

describe('createNotifierHandler', () => {
  test('a status change from the bus notifies the requester, once however often it comes', async () => {
    const notifier = await lambda.createNotifierHandler(ENV);
    eb.resetHistory();
    const id = await submit();
    const approved = published().find((e) => e.requestId === id && e.toStatus === 'APPROVED')!;
    const event = {
      id: 'eb-1',
      source: 'meshgate',
      'detail-type': 'Meshgate Access Request Status Changed',
      detail: approved,
    };
    const centre = new DynamoNotificationStore(TABLE, dynamo.client);
    const before = await centre.unreadCount('alice');
    expect(await notifier(event)).toEqual({ notified: 1 });
    expect(await notifier(event)).toEqual({ notified: 0 });
    expect(await centre.unreadCount('alice')).toBe(before + 1);
    const [n] = (await centre.list('alice', { limit: 1 })).items;
    expect(n).toMatchObject({ kind: 'REQUEST_APPROVED', requestId: id, link: `#/requests/${id}` });
    // Not a status change: refused (EventBridge retries, then gives up), nothing written.
    await expect(notifier({ id: 'eb-2', detail: { nope: true } })).rejects.toThrow();
  });
});

describe('configuration from the environment', () => {
  test.each([
    [
      'createLambdaHandler',
      (env: Record<string, string | undefined>) => lambda.createLambdaHandler(env),
    ],
    [
      'createWorkerHandler',
      (env: Record<string, string | undefined>) => workerWiring.createWorkerHandler(env),
    ],
    [
      'createScheduledHandler',
      (env: Record<string, string | undefined>) => lambda.createScheduledHandler(env),
    ],
  ])(
    '%s without MESHGATE_QUEUE_URL is an Invalid configuration naming the variable',
    async (_name, create) => {
      const { MESHGATE_QUEUE_URL: _omitted, ...rest } = ENV;
      await expect(create(rest)).rejects.toThrow(/^Invalid configuration: .*MESHGATE_QUEUE_URL/);
    },
  );

  /** The example configuration as the stacks bundle it (infra/stacks/api-stack.ts): as synth parsed it. */
  function bundledConfig() {
    const example = readFileSync(join(__dirname, '../../config/example.json'), 'utf8');
    const file = join(mkdtempSync(join(tmpdir(), 'meshgate-bundled-')), 'meshgate.json');
    writeFileSync(file, JSON.stringify(parseConfig(JSON.parse(example))));
    return file;
  }

  test('with the bundled configuration, the domains (with their brokers), owners and global roles are registered at cold start', async () => {
    const MESHGATE_CONFIG = bundledConfig();
    await lambda.createScheduledHandler({ ...ENV, MESHGATE_CONFIG });
    expect(await store.getDomain('finance')).toMatchObject({
      accountId: '333333333333',
      broker: {
        roleArn: 'arn:aws:iam::333333333333:role/meshgate-broker',
        externalId: 'meshgate-sandbox-finance-91be40',
      },
    });
    const memberships = await store.listMemberships();
    expect(memberships).toEqual(
      expect.arrayContaining([
        { user: 'fiona', domain: 'finance', role: 'owner' },
        { user: 'erin', domain: '*', role: 'admin' },
      ]),
    );
    // A second cold start registers nothing twice.
    await lambda.createScheduledHandler({ ...ENV, MESHGATE_CONFIG });
    expect(await store.listMemberships()).toHaveLength(memberships.length);
  });

  test('a queue URL that is not a URL is refused too', async () => {
    await expect(
      lambda.createLambdaHandler({ ...ENV, MESHGATE_QUEUE_URL: 'jobs' }),
    ).rejects.toThrow(/Invalid configuration: .*MESHGATE_QUEUE_URL/);
  });
});

describe('warm API instances and the authorization state in the table', () => {
  test("a membership written by another instance is honoured on this instance's next call", async () => {
    expect((await invoke('GET', '/v1/domains/marketing/members')).status).toBe(403);
    await store.putMembership(
      { user: 'alice', domain: 'marketing', role: 'owner' },
      {
        id: 'evt_lambda_membership_000000000',
        at: new Date().toISOString(),
        type: 'MEMBERSHIP_ADDED',
        actor: 'erin',
        domain: 'marketing',
        detail: {},
      },
    );
    expect((await invoke('GET', '/v1/domains/marketing/members')).status).toBe(200);
    await store.deleteMembership(
      { user: 'alice', domain: 'marketing', role: 'owner' },
      {
        id: 'evt_lambda_membership_000000001',
        at: new Date().toISOString(),
        type: 'MEMBERSHIP_REMOVED',
        actor: 'erin',
        domain: 'marketing',
        detail: {},
      },
    );
    expect((await invoke('GET', '/v1/domains/marketing/members')).status).toBe(403);
  });

  test('once a newer deploy records its policy, a warm instance answers 503 POLICY_SUPERSEDED; the worker carries on; a rollback brings it back', async () => {
    const bundled = (await store.readAuthzState()).policy!;
    const newer = 'f'.repeat(64);
    const recorded = await store.claimPolicyVersion(
      { version: newer, at: new Date().toISOString() },
      bundled,
      {
        id: 'evt_lambda_newer_policy_0000000',
        at: new Date().toISOString(),
        type: 'POLICY_CHANGED',
        actor: 'meshgate',
        domain: '*',
        detail: { version: newer },
      },
    );
    expect(recorded).toBe(true);
    for (const path of ['/v1/me', '/v1/requests', '/v1/products']) {
      const res = await invoke('GET', path);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({
        code: 'POLICY_SUPERSEDED',
        message: expect.stringMatching(/has been in force since/),
      });
    }
    // The worker decides nothing: a job still runs.
    expect(
      await worker({
        Records: [
          {
            messageId: 'm-after-deploy',
            body: JSON.stringify({ kind: 'grant', requestId: 'req_none' }),
          },
        ],
      }),
    ).toEqual({ batchItemFailures: [] });

    // An instance of this bundle starts again (a rollback): it records its version, and the warm one answers again.
    const restarted = await lambda.createLambdaHandler(ENV);
    expect((await restarted(apiEvent('GET', '/v1/me', ALICE))).statusCode).toBe(200);
    expect((await invoke('GET', '/v1/me')).status).toBe(200);
    expect(await store.readAuthzState()).toMatchObject({
      policy: { version: bundled.version, seq: bundled.seq + 2 },
    });
  });
});
