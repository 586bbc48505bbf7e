import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { GetDatabasesCommand, GetTablesCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  GrantPermissionsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
  RevokePermissionsCommand,
  type PrincipalResourcePermissions,
} from '@aws-sdk/client-lakeformation';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parseConfig, type MeshgateConfig } from '../../config/schema';
import { readConfigFile } from '../../functions/adapters/aws/configuration';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { permissionKey } from '../../functions/domain/lakeformation';
import type { StatusChanged } from '../../functions/ports/events';
import { offlineAwsEnv } from '../support/offline-aws';
import { viaWorker } from '../support/operations';

// `MESHGATE_BACKEND=aws npm start` end to end, with nothing leaving the process: DynamoDB is an
// embedded dynalite reached through the SDK's standard AWS_ENDPOINT_URL_DYNAMODB (the module-scope
// default client of dynamo-store resolves its endpoint lazily, at its first call, which happens after
// the variables are set below); Lake Formation, STS, Glue and EventBridge are stubbed for every
// instance. AWS_ENDPOINT_URL points everything else at a closed loopback port, so a call that slipped
// past the stubs fails here instead of reaching AWS.

const TABLE = 'meshgate-test';
const REPO = join(__dirname, '../..');
const POLICY_DIR = join(REPO, 'policies');
const EXAMPLE = join(REPO, 'config/example.json');
const SALES_ACCOUNT = '111111111111';
const BROKER_ROLE = 'arn:aws:iam::111111111111:role/meshgate-broker';
const SALES_EXTERNAL_ID = 'meshgate-sandbox-sales-7f3c2a';
const ANALYST = 'arn:aws:iam::555555555555:role/analyst';
const ORDERS = { Table: { CatalogId: SALES_ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' } };

const lf = mockClient(LakeFormationClient);
const sts = mockClient(STSClient);
const glue = mockClient(GlueClient);
const eb = mockClient(EventBridgeClient);

/** What the SDK does before signing a call: asks the client's credential provider (the broker's). */
async function resolveCredentials(getClient: () => unknown) {
  const config = (
    getClient() as { config: { credentials: () => Promise<{ accessKeyId: string }> } }
  ).config;
  return config.credentials();
}

/** A tiny Lake Formation: GrantPermissions adds, RevokePermissions removes, ListPermissions lists. */
let held: PrincipalResourcePermissions[] = [];
type PermInput = {
  Principal?: { DataLakePrincipalIdentifier?: string };
  Resource?: object;
  Permissions?: string[];
};
const keyOf = (p: PermInput) =>
  permissionKey(
    p.Principal?.DataLakePrincipalIdentifier ?? '',
    (p.Resource ?? {}) as Record<string, unknown>,
  );
const brokerKeys: string[] = [];

function installStubs() {
  held = [];
  brokerKeys.length = 0;
  sts.on(AssumeRoleCommand).callsFake(() => ({
    Credentials: {
      AccessKeyId: 'ASIABROKER',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
  glue.on(GetDatabasesCommand).callsFake(async (_input, getClient) => {
    brokerKeys.push((await resolveCredentials(getClient)).accessKeyId);
    return { DatabaseList: [{ Name: 'sales_gold' }] };
  });
  glue.on(GetTablesCommand).resolves({
    TableList: [
      {
        Name: 'orders',
        Description: 'One row per order',
        Parameters: {
          'meshgate:product': 'true',
          'meshgate:owner': 'bob',
          'meshgate:tags': 'orders,finance',
        },
        StorageDescriptor: {
          Columns: [
            { Name: 'order_id', Type: 'string' },
            { Name: 'amount', Type: 'decimal(12,2)' },
          ],
        },
      },
      { Name: 'staging_orders', Parameters: {} },
    ],
  });
  lf.onAnyCommand().resolves({});
  lf.on(GrantPermissionsCommand).callsFake(async (input: PermInput, getClient) => {
    brokerKeys.push((await resolveCredentials(getClient)).accessKeyId);
    if (!held.some((p) => keyOf(p) === keyOf(input)))
      held.push({
        Principal: input.Principal,
        Resource: input.Resource,
        Permissions: input.Permissions,
      } as PrincipalResourcePermissions);
    return {};
  });
  lf.on(RevokePermissionsCommand).callsFake(async (input: PermInput) => {
    held = held.filter((p) => keyOf(p) !== keyOf(input));
    return {};
  });
  lf.on(ListPermissionsCommand).callsFake(() => ({ PrincipalResourcePermissions: held }));
  eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_e, i) => ({ EventId: `evt-${i}` })),
  }));
}

let dynamo: EmbeddedDynamo;
let config: MeshgateConfig;
let aws: typeof import('../../functions/wiring/local');
let serveLocal: typeof import('../../functions/wiring/local-server').serveLocal;

let restoreEnv: () => void = () => {};
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.client, TABLE);
  restoreEnv = offlineAwsEnv(dynamo.endpoint);
  aws = await import('../../functions/wiring/local');
  ({ serveLocal } = await import('../../functions/wiring/local-server'));
  config = parseConfig({ ...JSON.parse(readFileSync(EXAMPLE, 'utf8')), tableName: TABLE }, EXAMPLE);
  installStubs();
});

afterAll(async () => {
  lf.restore();
  sts.restore();
  glue.restore();
  eb.restore();
  restoreEnv();
  await dynamo?.close();
});

type Portal = Awaited<
  ReturnType<typeof import('../../functions/wiring/local').createAwsBackedPortal>
>;

function caller(portal: Portal) {
  const tokens = new Map<string, string>();
  const login = (user: string) =>
    portal.app.request('/auth/dev-login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, code: portal.signInCode }),
    });
  async function call(user: string, method: string, path: string, body?: unknown) {
    let token = tokens.get(user);
    if (!token) {
      const res = await login(user);
      if (res.status !== 200)
        throw new Error(`dev-login ${user}: ${res.status} ${await res.text()}`);
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
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  return { login, call };
}

/** Polls until `check` returns a value, for at most `ms`. */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const published = (): StatusChanged[] =>
  eb
    .commandCalls(PutEventsCommand)
    .flatMap((c) =>
      (c.args[0].input.Entries ?? [])
        .filter((e) => e.DetailType === 'Meshgate Access Request Status Changed')
        .map((e) => JSON.parse(e.Detail!) as StatusChanged),
    );
const publishedEntries = (): PutEventsRequestEntry[] =>
  eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);

describe('readConfigFile', () => {
  test('reads and validates the example configuration', () => {
    const c = readConfigFile(EXAMPLE);
    expect(c).toMatchObject({
      stage: 'sandbox',
      tableName: 'meshgate-sandbox',
      eventBusName: 'meshgate-sandbox',
      admins: ['erin'],
    });
    expect(c.domains.map((d) => d.id)).toEqual(['sales', 'finance']);
  });

  test('no path, an unreadable file and an invalid file are named errors', () => {
    expect(() => readConfigFile(undefined)).toThrow(/MESHGATE_CONFIG/);
    expect(() => readConfigFile(join(REPO, 'config/does-not-exist.json'))).toThrow(
      /Cannot read .*does-not-exist\.json/,
    );
    expect(() => readConfigFile(join(REPO, 'package.json'))).toThrow(
      /Invalid .*package\.json[\s\S]*stage/,
    );
  });
});

describe('createAwsBackedPortal against stubbed AWS', () => {
  let portal: Portal;
  let second: Portal | undefined;
  afterAll(async () => {
    await second?.close();
    await portal?.close();
  });

  test('registers the configured domains and roles in DynamoDB, through the default client', async () => {
    portal = await aws.createAwsBackedPortal({ config, policyDir: POLICY_DIR });
    // Read back through an explicit client on the dynalite endpoint: the portal's writes landed there.
    const direct = new DynamoStore(TABLE, dynamo.client);
    expect((await direct.listDomains()).map((d) => d.id).sort()).toEqual(['finance', 'sales']);
    expect(await direct.getDomain('sales')).toEqual({
      id: 'sales',
      name: 'Sales',
      accountId: SALES_ACCOUNT,
      region: 'eu-west-1',
      broker: { roleArn: BROKER_ROLE, externalId: SALES_EXTERNAL_ID },
    });
    const memberships = (await direct.listMemberships())
      .map((m) => `${m.domain}|${m.user}|${m.role}`)
      .sort();
    expect(memberships).toEqual([
      '*|carol|compliance',
      '*|dave|auditor',
      '*|erin|admin',
      'finance|fiona|owner',
      'sales|bob|owner',
    ]);
    expect((await portal.deps.store.listUsers()).map((u) => u.id).sort()).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'fiona',
    ]);
  });

  test('dev-login: configured people and configured consumers sign in, unknown users are 404 USER_NOT_FOUND', async () => {
    const { login, call } = caller(portal);
    expect((await login('bob')).status).toBe(200);
    const mallory = await login('mallory');
    expect(mallory.status).toBe(404);
    expect(((await mallory.json()) as { error: unknown }).error).toMatchObject({
      code: 'USER_NOT_FOUND',
      message:
        "No user mallory: name them in the configuration's users (or roles) and start again.",
    });
    const me = await call('bob', 'GET', '/v1/me');
    expect(me.body).toMatchObject({
      id: 'bob',
      memberships: [{ user: 'bob', domain: 'sales', role: 'owner' }],
    });
    // alice holds no role: she is in the configuration's users, and that is her record.
    expect((await login('alice')).status).toBe(200);
    expect((await call('alice', 'GET', '/v1/me')).body).toEqual({
      id: 'alice',
      name: 'Alice Martin',
      title: 'Marketing analyst',
      memberships: [],
    });
  });

  test('sign-in takes the code printed at start: without it, or with another, 401 and no token', async () => {
    // Through the real local server, as `MESHGATE_BACKEND=aws npm start` serves it.
    const local = await serveLocal(portal.app, { port: 0, hostname: '127.0.0.1' });
    try {
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        fetch(`http://127.0.0.1:${local.port}/auth/dev-login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      expect(portal.signInCode).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      const wrong = portal.signInCode.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'));
      for (const body of [
        { user: 'erin' },
        { user: 'erin', code: '' },
        { user: 'erin', code: wrong },
        { user: 'erin', code: 'alice' },
        // Not a user either: the code is checked first, so nothing is said about who exists.
        { user: 'mallory' },
        // A configured consumer: refused without the code like everyone else.
        { user: 'alice' },
        { user: 'alice', code: wrong },
      ]) {
        const res = await post(body);
        const json = (await res.json()) as { token?: string; error: { code: string } };
        expect({ body, status: res.status, code: json.error?.code, token: json.token }).toEqual({
          body,
          status: 401,
          code: 'SIGN_IN_CODE_INVALID',
          token: undefined,
        });
      }
      // The code as printed, or as typed (lower case, no dashes), signs in.
      for (const code of [portal.signInCode, portal.signInCode.toLowerCase().replaceAll('-', '')]) {
        for (const user of ['erin', 'alice']) {
          const ok = await post({ user, code });
          expect(ok.status).toBe(200);
          expect(await ok.json()).toMatchObject({ token: expect.any(String) });
        }
      }
      // The web UI is told to ask for it.
      const web = await aws.createAwsBackedPortal({
        config,
        policyDir: POLICY_DIR,
        webDir: join(REPO, 'web/public'),
      });
      try {
        const res = await web.app.request('/config.json');
        expect(await res.json()).toEqual({ apiUrl: '', auth: 'dev-code' });
      } finally {
        await web.close();
      }
    } finally {
      await local.close();
    }
  });

  test('sync, request, approve, grant, reconcile, revoke: every AWS call as expected', async () => {
    const { call, login } = caller(portal);
    expect((await login('alice')).status).toBe(200);

    // Sync reads the sales account's Glue catalog as the broker role.
    const sync = await viaWorker(
      { call },
      () => portal.queue.onIdle(),
      'bob',
      '/v1/domains/sales/sync',
    );
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({
      domain: 'sales',
      added: ['sales/orders'],
      updated: [],
      retired: [],
      unchanged: 0,
    });
    expect(glue).toHaveReceivedCommandWith(GetDatabasesCommand, { CatalogId: SALES_ACCOUNT });
    expect(glue).toHaveReceivedCommandWith(GetTablesCommand, {
      CatalogId: SALES_ACCOUNT,
      DatabaseName: 'sales_gold',
    });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: BROKER_ROLE,
      RoleSessionName: `meshgate-${SALES_ACCOUNT}`,
      ExternalId: SALES_EXTERNAL_ID,
      DurationSeconds: 3600,
    });
    expect(brokerKeys).toEqual(['ASIABROKER']);

    const product = await call('alice', 'GET', '/v1/products/sales/orders');
    expect(product.status).toBe(200);
    expect(product.body).toMatchObject({
      id: 'sales/orders',
      classification: 'internal',
      owner: 'bob',
      tags: ['orders', 'finance'],
      location: { catalogId: SALES_ACCOUNT, database: 'sales_gold', table: 'orders' },
      columns: [
        { name: 'order_id', type: 'string', pii: false },
        { name: 'amount', type: 'decimal(12,2)', pii: false },
      ],
    });

    // Alice asks, Bob (the sales owner) approves; the in-process worker grants in Lake Formation.
    const created = await call('alice', 'POST', '/v1/requests', {
      productId: 'sales/orders',
      principal: ANALYST,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 7, unit: 'days' },
      purpose: 'Order volume dashboard',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'PENDING', stages: [{ name: 'owner' }] });
    const id = created.body.id as string;
    const approved = await call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('APPROVED');

    const active = await waitFor('ACTIVE', async () => {
      const r = await call('alice', 'GET', `/v1/requests/${id}`);
      return r.body.status === 'ACTIVE' ? r.body : undefined;
    });
    const granted = {
      CatalogId: SALES_ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: ANALYST },
      Resource: ORDERS,
      Permissions: ['SELECT'],
    };
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 1);
    expect(lf.commandCalls(GrantPermissionsCommand)[0]!.args[0].input).toEqual(granted);
    // Glue and Lake Formation share the broker credentials: still one AssumeRole.
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(brokerKeys).toEqual(['ASIABROKER', 'ASIABROKER']);

    // Every status change reached the configured EventBridge bus, in order; so did the stage
    // the request awaited on submission.
    await waitFor('the ACTIVE event', () =>
      published().some((e) => e.requestId === id && e.toStatus === 'ACTIVE') ? true : undefined,
    );
    for (const entry of publishedEntries())
      expect(entry).toMatchObject({ Source: 'meshgate', EventBusName: 'meshgate-sandbox' });
    expect(
      publishedEntries()
        .filter((e) => JSON.parse(e.Detail!).requestId === id)
        .map((e) => [e.DetailType, JSON.parse(e.Detail!).stage]),
    ).toEqual([
      ['Meshgate Access Request Status Changed', undefined],
      ['Meshgate Access Request Awaiting Approval', 'owner'],
      ['Meshgate Access Request Status Changed', undefined],
      ['Meshgate Access Request Status Changed', undefined],
      ['Meshgate Access Request Status Changed', undefined],
    ]);
    const mine = published().filter((e) => e.requestId === id);
    expect(mine.map((e) => [e.fromStatus, e.toStatus])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'APPROVED'],
      ['APPROVED', 'GRANTING'],
      ['GRANTING', 'ACTIVE'],
    ]);
    expect(
      mine.every(
        (e) =>
          e.productId === 'sales/orders' &&
          e.domain === 'sales' &&
          e.requester === 'alice' &&
          e.principal === ANALYST,
      ),
    ).toBe(true);
    expect(mine.map((e) => e.actor)).toEqual(['alice', 'bob', 'meshgate', 'meshgate']);
    expect(mine[3]!.grantId).toBe(active.grantId);

    // While ACTIVE, Lake Formation holds exactly the granted permission: nothing to report.
    const whileActive = await viaWorker(
      { call },
      () => portal.queue.onIdle(),
      'bob',
      '/v1/domains/sales/reconcile',
    );
    expect(whileActive.status).toBe(200);
    expect(whileActive.body).toMatchObject({
      domain: 'sales',
      checked: { permissions: 1, grants: 1 },
      missing: [],
      stray: [],
      foreign: [],
      unresolved: [],
    });
    expect(lf).toHaveReceivedCommandWith(ListPermissionsCommand, { CatalogId: SALES_ACCOUNT });

    // Bob revokes: the very same resource is revoked.
    const revoke = await call('bob', 'POST', `/v1/grants/${active.grantId}/revoke`, {
      reason: 'dashboard retired',
    });
    expect(revoke.status).toBe(202);
    await waitFor('REVOKED', async () =>
      (await call('alice', 'GET', `/v1/requests/${id}`)).body.status === 'REVOKED'
        ? true
        : undefined,
    );
    expect(lf).toHaveReceivedCommandTimes(RevokePermissionsCommand, 1);
    expect(lf.commandCalls(RevokePermissionsCommand)[0]!.args[0].input).toEqual(granted);
    await waitFor('the REVOKED event', () =>
      published().some((e) => e.requestId === id && e.toStatus === 'REVOKED') ? true : undefined,
    );
    expect(
      published()
        .filter((e) => e.requestId === id)
        .map((e) => e.toStatus),
    ).toEqual(['PENDING', 'APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING', 'REVOKED']);

    const afterRevoke = await viaWorker(
      { call },
      () => portal.queue.onIdle(),
      'bob',
      '/v1/domains/sales/reconcile',
    );
    expect(afterRevoke.status).toBe(200);
    expect(afterRevoke.body).toMatchObject({
      checked: { permissions: 0, grants: 1 },
      missing: [],
      stray: [],
      foreign: [],
      unresolved: [],
    });
    // Reconciliation repaired nothing: still the one grant and the one revoke.
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 1);
    expect(lf).toHaveReceivedCommandTimes(RevokePermissionsCommand, 1);
  });

  test('a second portal on the same table does not register the memberships again', async () => {
    const before = await portal.deps.store.listMemberships();
    second = await aws.createAwsBackedPortal({ config, policyDir: POLICY_DIR });
    const after = await second.deps.store.listMemberships();
    expect(after).toHaveLength(before.length);
    expect(after.map((m) => `${m.domain}|${m.user}|${m.role}`).sort()).toEqual(
      before.map((m) => `${m.domain}|${m.user}|${m.role}`).sort(),
    );
    // Nor their audit events: MEMBERSHIP_ADDED was recorded once per membership.
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const added = await portal.deps.store.queryAudit({ from, to, limit: 1000 });
    expect(added.items.filter((e) => e.type === 'MEMBERSHIP_ADDED')).toHaveLength(before.length);
    // The user added by hand (alice) stays; the configured ones are not duplicated.
    expect((await second.deps.store.listUsers()).map((u) => u.id).sort()).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'fiona',
    ]);
  });
});

describe('the walk-through of docs/deployment.md, from config/local-aws.json', () => {
  // "From an empty account to an ACTIVE grant", with the AWS side stubbed as above: the
  // configuration as its sed makes it, `npm run aws:table -- --config meshgate.json` against the
  // endpoint the SDK settings name, the portal, then the calls of step 5 over HTTP.
  const ACCOUNT = '123456789012';
  const ANALYST_ROLE = `arn:aws:iam::${ACCOUNT}:role/meshgate-dev-analyst`;
  let portal: Portal | undefined;
  let local: { port: number; close: () => Promise<void> } | undefined;
  afterAll(async () => {
    await local?.close();
    await portal?.close();
  });

  test('aws:table, start, alice and bob sign in with the code, sync, ask, approve: ACTIVE in Lake Formation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-walkthrough-'));
    const file = join(dir, 'meshgate.json');
    writeFileSync(
      file,
      readFileSync(join(REPO, 'config/local-aws.json'), 'utf8')
        .replaceAll('000000000000', ACCOUNT)
        .replace('CHANGE-ME', '0a1b2c3d4e5f6a7b'),
    );
    const { tableCommand } = await import('../../scripts/aws-table');
    const out: string[] = [];
    const code = await tableCommand(['--config', file], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: process.env,
      client: (region) => new DynamoDBClient(region ? { region } : {}),
      setup: { pollMs: 10 },
    });
    expect({ code, last: out.at(-1) }).toEqual({
      code: 0,
      last: expect.stringMatching(/^Table meshgate-dev is ACTIVE in eu-west-1 \(created; indexes /),
    });

    portal = await aws.createAwsBackedPortal({
      config: readConfigFile(file),
      policyDir: POLICY_DIR,
    });
    local = await serveLocal(portal.app, { port: 0, hostname: '127.0.0.1' });
    const base = `http://localhost:${local.port}`;
    const send = async (method: string, path: string, token?: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const login = async (user: string) => {
      const r = await send('POST', '/auth/dev-login', undefined, {
        user,
        code: portal!.signInCode,
      });
      expect({ user, status: r.status }).toEqual({ user, status: 200 });
      return r.body.token as string;
    };
    const ALICE = await login('alice');
    const BOB = await login('bob');
    const sync = await send('POST', '/v1/domains/sales/sync', BOB);
    expect(sync.status).toBe(202);
    await waitFor('the sync', async () => {
      const op = await send('GET', `/v1/operations/${sync.body.operation.id}`, BOB);
      return op.body.operation.status === 'SUCCEEDED' ? true : undefined;
    });
    const created = await send('POST', '/v1/requests', ALICE, {
      productId: 'sales/orders',
      principal: ANALYST_ROLE,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 1, unit: 'days' },
      purpose: 'Trying Meshgate',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await send('POST', `/v1/requests/${id}/approve`, BOB, {})).status).toBe(200);
    await waitFor('ACTIVE', async () =>
      (await send('GET', `/v1/requests/${id}`, ALICE)).body.status === 'ACTIVE' ? true : undefined,
    );
    // Through the broker role of the configuration, with its ExternalId.
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/meshgate-dev-sales-broker`,
      ExternalId: 'meshgate-dev-sales-0a1b2c3d4e5f6a7b',
    });
    expect(
      held.filter((p) => p.Principal?.DataLakePrincipalIdentifier === ANALYST_ROLE),
    ).not.toEqual([]);
  });
});
