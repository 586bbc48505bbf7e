import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { archiveKey } from '../../functions/adapters/aws/archiver';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import {
  ensureTable,
  startEmbeddedDynamo,
  type EmbeddedDynamo,
} from '../../functions/adapters/local/embedded-dynamo';
import { lambdaBuildOptions } from '../../bench/bundles';
import { parseConfig } from '../../config/schema';
import { BUNDLING, functionEntry } from '../../infra/constructs/meshgate-function';
import { apiEvent } from '../support/lambda-event';
import { marketingDomain, webTrafficProduct } from '../support/web-traffic';

// The five functions as the stacks deploy them (API, worker, notifier, schedules, archiver):
// bundled with BUNDLING's esbuild options (the packages' ES-module builds, so the AWS SDK clients
// carry only the operations Meshgate sends; the aliases), loaded by a fresh `node` as Lambda loads
// index.js, and driven with API Gateway, SQS, EventBridge, schedule and DynamoDB stream events.
// Their DynamoDB calls reach an embedded dynalite over HTTP; SQS, EventBridge, STS, Lake Formation,
// SES and S3 calls reach a local server that answers in each service's protocol and records what
// it got. Nothing is mocked inside the bundles: an operation, shape or protocol the bundling left
// out fails here.

const TABLE = 'meshgate-bundled';
const ACCOUNT = '222222222222';
const ANALYST = 'arn:aws:iam::555555555555:role/analyst';
const ALICE = { 'cognito:username': 'alice', name: 'Alice Martin' };

const product = webTrafficProduct(ACCOUNT);
const marketing = marketingDomain(ACCOUNT);
const FUNCTIONS = ['api', 'worker', 'notifier', 'scheduled', 'archiver'] as const;
const CONFIG = {
  stage: 'bundled',
  governance: { account: '123456789012', region: 'eu-west-1' },
  tableName: TABLE,
  domains: [
    {
      id: marketing.id,
      name: marketing.name,
      accountId: ACCOUNT,
      region: marketing.region,
      brokerRoleArn: marketing.broker!.roleArn,
      externalId: marketing.broker!.externalId,
      owners: ['bob'],
    },
  ],
  users: [{ id: 'alice', name: 'Alice Martin', email: 'alice@example.com' }],
  notifications: { emailFrom: 'meshgate@example.com' },
};

/** Runs the bundle's handler over the events in turn; `{id}` in a path is the last answer's id. */
const DRIVER = `
const events = JSON.parse(process.argv[3]);
const { handler } = require(process.argv[2]);
(async () => {
  const answers = [];
  let last;
  for (const e of events) {
    if (!e.rawPath) { const res = await handler(e, {}); answers.push(res); continue; }
    const path = e.rawPath.replace('{id}', last && last.id);
    const event = { ...e, rawPath: path, requestContext: { ...e.requestContext, http: { ...e.requestContext.http, path } } };
    const res = await handler(event, { awsRequestId: 'bundled-' + answers.length });
    if (typeof res.body !== 'string') { answers.push(res); continue; }
    const body = JSON.parse(res.body);
    answers.push({ status: res.statusCode, body });
    last = body;
  }
  process.stdout.write(JSON.stringify(answers));
  process.exit(0);
})().catch((e) => { process.stdout.write(JSON.stringify({ crashed: String(e && e.stack || e) })); process.exit(1); });
`;

interface Received {
  target: string;
  body: Record<string, unknown>;
}

const STS_ANSWER = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIABROKERTEST</AccessKeyId>
      <SecretAccessKey>broker-test-only</SecretAccessKey>
      <SessionToken>broker-token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROATEST:meshgate</AssumedRoleId>
      <Arn>arn:aws:sts::${ACCOUNT}:assumed-role/meshgate-broker/meshgate</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;

/**
 * What the functions send besides DynamoDB, answered in each service's own protocol: SQS
 * SendMessage and EventBridge PutEvents (AWS JSON), STS AssumeRole (AWS query, XML), Lake
 * Formation and SES v2 SendEmail (REST JSON), and S3 PutObject (REST, path-style). Anything else
 * is a 400 the test sees.
 */
function startAwsStub(received: Received[]): Promise<Server> {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    // A PutObject's body is the object (path-style: /bucket/key), its checksum in a header.
    const s3Put = (url: string, headers: IncomingHttpHeaders, object: string) => ({
      path: decodeURIComponent(url.split('?')[0]!),
      object,
      checksum: headers['x-amz-checksum-sha256'],
      contentType: headers['content-type'],
    });
    req.on('end', () => {
      const form = String(req.headers['content-type']).startsWith(
        'application/x-www-form-urlencoded',
      );
      const body = (
        form ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text || '{}')
      ) as Record<string, unknown>;
      const target = form
        ? `STS.${String(body.Action)}`
        : req.url === '/v2/email/outbound-emails'
          ? 'SES.SendEmail'
          : req.method === 'PUT'
            ? 'S3.PutObject'
            : String(req.headers['x-amz-target'] ?? `LakeFormation${req.url}`);
      received.push(
        target === 'S3.PutObject'
          ? { target, body: s3Put(req.url!, req.headers, text) }
          : { target, body },
      );
      const answer = (type: string, value: unknown) => {
        res.writeHead(200, { 'content-type': type });
        res.end(typeof value === 'string' ? value : JSON.stringify(value));
      };
      if (target === 'AmazonSQS.SendMessage')
        answer('application/x-amz-json-1.0', {
          MessageId: `m-${received.length}`,
          MD5OfMessageBody: createHash('md5').update(String(body.MessageBody)).digest('hex'),
        });
      else if (target === 'AWSEvents.PutEvents')
        answer('application/x-amz-json-1.1', {
          FailedEntryCount: 0,
          Entries: (body.Entries as unknown[]).map((_e, i) => ({ EventId: `e-${i}` })),
        });
      else if (target === 'STS.AssumeRole') answer('text/xml', STS_ANSWER);
      else if (target === 'LakeFormation/GrantPermissions') answer('application/json', {});
      else if (target === 'SES.SendEmail') answer('application/json', { MessageId: 'ses-1' });
      else if (target === 'S3.PutObject') {
        res.writeHead(200, { etag: '"etag-1"' });
        res.end();
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let dir: string;
let dynamo: EmbeddedDynamo;
let stub: Server;
let store: DynamoStore;
const received: Received[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshgate-bundled-api-'));
  for (const name of FUNCTIONS)
    await build({
      ...lambdaBuildOptions(BUNDLING),
      sourcemap: false,
      entryPoints: [functionEntry(name)],
      outfile: join(dir, name, 'index.js'),
    });
  writeFileSync(join(dir, 'driver.js'), DRIVER);
  // The configuration as the CDK app bundles it beside the functions (parsed at synth).
  writeFileSync(join(dir, 'meshgate.json'), JSON.stringify(parseConfig(CONFIG)));
  dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.client, TABLE);
  store = new DynamoStore(TABLE, dynamo.client);
  await store.putDomain(marketing);
  await store.putProduct(product);
  await store.putUser({ id: 'alice', name: 'Alice Martin', email: 'alice@example.com' });
  stub = await startAwsStub(received);
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => stub?.close(resolve));
  await dynamo?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Answer = { status: number; body: Record<string, unknown> };

/** Runs a bundle's handler over the events in a fresh `node`, with the functions' settings. */
async function run(name: (typeof FUNCTIONS)[number], events: unknown[]): Promise<unknown[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(dir, 'driver.js'), join(dir, name, 'index.js'), JSON.stringify(events)],
    {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIATESTONLY',
        AWS_SECRET_ACCESS_KEY: 'test-only',
        AWS_EC2_METADATA_DISABLED: 'true',
        // No profile of this machine may redirect the endpoints below; one try per call.
        AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
        AWS_MAX_ATTEMPTS: '1',
        // Anything not pointed at a local server below fails on a closed port, never reaches AWS.
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_SQS: aws(),
        AWS_ENDPOINT_URL_EVENTBRIDGE: aws(),
        AWS_ENDPOINT_URL_STS: aws(),
        AWS_ENDPOINT_URL_LAKEFORMATION: aws(),
        AWS_ENDPOINT_URL_SESV2: aws(),
        AWS_ENDPOINT_URL_S3: aws(),
        MESHGATE_TABLE_NAME: TABLE,
        MESHGATE_QUEUE_URL: `${aws()}/123456789012/jobs`,
        MESHGATE_EVENT_BUS_NAME: 'bus',
        MESHGATE_POLICY_DIR: join(__dirname, '../../policies'),
        MESHGATE_AUDIT_BUCKET: 'meshgate-audit',
        // The notifier and the schedules read the bundled configuration (its e-mail identity).
        ...(name === 'notifier' || name === 'scheduled'
          ? { MESHGATE_CONFIG: join(dir, 'meshgate.json') }
          : {}),
      },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout) as unknown[];
}

const aws = () => `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
const sent = (target: string) => received.filter((r) => r.target === target).map((r) => r.body);
const published = () =>
  sent('AWSEvents.PutEvents').flatMap(
    (b) => b.Entries as Array<{ DetailType: string; Detail: string }>,
  );

test('the bundled API serves reads and a request through DynamoDB, sends the grant job to SQS and the status change to EventBridge; the bundled worker grants it in Lake Formation', async () => {
  const [me, page, created, read] = (await run('api', [
    apiEvent('GET', '/v1/me', ALICE),
    apiEvent('GET', `/v1/products/${product.id}`, ALICE),
    apiEvent('POST', '/v1/requests', ALICE, {
      productId: product.id,
      principal: ANALYST,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 7, unit: 'days' },
      purpose: 'Traffic dashboard',
    }),
    apiEvent('GET', '/v1/requests/{id}', ALICE),
  ])) as Answer[];
  expect(me).toEqual({ status: 200, body: { id: 'alice', name: 'Alice Martin', memberships: [] } });
  expect(page).toMatchObject({ status: 200, body: { id: product.id, title: 'Web traffic' } });
  expect(created!.status).toBe(201);
  const id = created!.body.id as string;
  expect(read).toMatchObject({ status: 200, body: { id, requester: 'alice', status: 'APPROVED' } });
  expect((await store.getRequest(id))!.status).toBe('APPROVED');

  const job = JSON.stringify({ kind: 'grant', requestId: id });
  expect(sent('AmazonSQS.SendMessage')).toEqual([
    expect.objectContaining({ QueueUrl: `${aws()}/123456789012/jobs`, MessageBody: job }),
  ]);
  expect(published().map((e) => [e.DetailType, JSON.parse(e.Detail).toStatus])).toContainEqual([
    'Meshgate Access Request Status Changed',
    'APPROVED',
  ]);

  const [batch] = await run('worker', [{ Records: [{ messageId: 'm-1', body: job }] }]);
  expect(batch).toEqual({ batchItemFailures: [] });
  const request = (await store.getRequest(id))!;
  expect(request.status).toBe('ACTIVE');
  expect(await store.getGrant(request.grantId!)).toMatchObject({
    status: 'ACTIVE',
    principal: ANALYST,
  });
  expect(sent('STS.AssumeRole')).toEqual([
    expect.objectContaining({
      RoleArn: marketing.broker!.roleArn,
      ExternalId: marketing.broker!.externalId,
    }),
  ]);
  expect(sent('LakeFormation/GrantPermissions')).toEqual([
    {
      CatalogId: ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: ANALYST },
      Resource: {
        Table: { CatalogId: ACCOUNT, DatabaseName: 'marketing_gold', Name: 'web_traffic' },
      },
      Permissions: ['SELECT'],
    },
  ]);
  expect(published().map((e) => JSON.parse(e.Detail).toStatus)).toEqual(
    expect.arrayContaining(['GRANTING', 'ACTIVE']),
  );
  // Nothing was sent that the stub did not know.
  expect(received.map((r) => r.target).filter((t) => !KNOWN.has(t))).toEqual([]);
}, 120_000);

const KNOWN = new Set([
  'AmazonSQS.SendMessage',
  'AWSEvents.PutEvents',
  'STS.AssumeRole',
  'LakeFormation/GrantPermissions',
  'SES.SendEmail',
  'S3.PutObject',
]);

test('the bundled notifier e-mails the requester through SES, the archiver writes the trail to S3 with its checksum, the schedules build the search index the API then searches, and queue a sync', async () => {
  const [created] = (await run('api', [
    apiEvent('POST', '/v1/requests', ALICE, {
      productId: product.id,
      principal: `${ANALYST}-notified`,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
      duration: { value: 7, unit: 'days' },
      purpose: 'Traffic dashboard, notified',
    }),
  ])) as Answer[];
  const id = created!.body.id as string;
  await run('worker', [
    { Records: [{ messageId: 'm-2', body: JSON.stringify({ kind: 'grant', requestId: id }) }] },
  ]);
  expect((await store.getRequest(id))!.status).toBe('ACTIVE');
  const active = published().find(
    (e) => JSON.parse(e.Detail).requestId === id && JSON.parse(e.Detail).toStatus === 'ACTIVE',
  )!;

  const [notified] = await run('notifier', [
    { id: 'ev-1', 'detail-type': active.DetailType, detail: JSON.parse(active.Detail) },
  ]);
  expect(notified).toEqual({ notified: expect.any(Number) });
  const mail = sent('SES.SendEmail').at(-1) as {
    FromEmailAddress: string;
    Destination: { ToAddresses: string[] };
    Content: { Simple: { Subject: { Data: string } } };
  };
  expect(mail.FromEmailAddress).toBe('meshgate@example.com');
  expect(mail.Destination.ToAddresses).toEqual(['alice@example.com']);
  expect(mail.Content.Simple.Subject.Data).toBe(`[Meshgate] Access ready: ${product.id}`);

  // The audit events of the request as the table's stream hands them to the archiver.
  const trail = await store.listRequestAudit(id);
  const images = (
    await dynamo.client.send(
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: '#k = :audit AND #r = :id',
        ExpressionAttributeNames: { '#k': 'kind', '#r': 'requestId' },
        ExpressionAttributeValues: { ':audit': { S: 'audit' }, ':id': { S: id } },
      }),
    )
  ).Items!;
  expect(images).toHaveLength(trail.length);
  const [archived] = await run('archiver', [
    {
      Records: images.map((NewImage, i) => ({
        eventID: `s-${i}`,
        eventName: 'INSERT',
        dynamodb: { NewImage },
      })),
    },
  ]);
  expect(archived).toEqual({ archived: trail.length });
  const objects = sent('S3.PutObject') as unknown as Array<{
    path: string;
    object: string;
    checksum: string;
    contentType: string;
  }>;
  expect(objects.map((o) => o.path).sort()).toEqual(
    trail.map((e) => `/meshgate-audit/${archiveKey(e)}`).sort(),
  );
  for (const o of objects) {
    expect(o.checksum).toBe(createHash('sha256').update(o.object).digest('base64'));
    expect(o.contentType).toBe('application/json');
  }
  expect(objects.map((o) => JSON.parse(o.object).id).sort()).toEqual(trail.map((e) => e.id).sort());

  const queued = sent('AmazonSQS.SendMessage').length;
  const [swept, synced] = (await run('scheduled', [{ task: 'sweep' }, { task: 'sync' }])) as Array<
    Record<string, unknown>
  >;
  // The first sweep of a deployment builds the search index; nothing has expired.
  expect(swept).toMatchObject({ search: { rebuilt: true }, expired: [] });
  // The sync is queued for the worker: one operation for the configured domain.
  expect(synced).toEqual({
    queued: [{ domain: 'marketing', operationId: expect.any(String) }],
    skipped: [],
    failures: [],
  });
  const operationId = (synced as { queued: Array<{ operationId: string }> }).queued[0]!.operationId;
  expect(
    sent('AmazonSQS.SendMessage')
      .slice(queued)
      .map((m) => JSON.parse(String(m.MessageBody))),
  ).toEqual([expect.objectContaining({ kind: 'operation', operationId })]);

  // The bundled API searches the index the bundled schedules built.
  const [found] = (await run('api', [
    { ...apiEvent('GET', '/v1/products', ALICE), rawQueryString: 'q=traffic' },
  ])) as Answer[];
  expect(found).toMatchObject({ status: 200, body: { total: 1, items: [{ id: product.id }] } });
  expect(received.map((r) => r.target).filter((t) => !KNOWN.has(t))).toEqual([]);
}, 120_000);
