import {
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  GrantPermissionsCommand,
  LakeFormationClient,
  RevokePermissionsCommand,
} from '@aws-sdk/client-lakeformation';
import { GetResourceShareInvitationsCommand, RAMClient } from '@aws-sdk/client-ram';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsConsumerLinks } from '../../functions/adapters/aws/consumer-links';
import type { AuditEvent } from '../../functions/domain/model';
import { lateWorker } from '../support/late-worker';
import { newRequest, startPortal, type TestPortal } from '../support/portal';

// A late duplicate worker, through the AWS consumer-links adapter (its RAM, Glue and Lake
// Formation clients mocked): it grants after the request was granted by another worker and then
// revoked, makes the resource link and DESCRIBE in the consumer account, finds the request ended,
// and removes all it made: the Lake Formation grant, DESCRIBE on the link, and the link itself.

const ram = mockClient(RAMClient);
const glue = mockClient(GlueClient);
const lf = mockClient(LakeFormationClient);

const PRODUCER = '111111111111';
const CONSUMER = '777777777777'; // the demo's registered analytics account
const PRINCIPAL = `arn:aws:iam::${CONSUMER}:role/stray-links`;
const LINK = { CatalogId: CONSUMER, DatabaseName: 'meshgate_sales', Name: 'sales_gold__orders' };
const DESCRIBE = {
  CatalogId: CONSUMER,
  Principal: { DataLakePrincipalIdentifier: PRINCIPAL },
  Resource: { Table: LINK },
  Permissions: ['DESCRIBE'],
};

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(async () => {
  ram.restore();
  glue.restore();
  lf.restore();
  await p.close();
});

/**
 * Worker B, a late duplicate through the AWS adapter, grants `principal` after worker A granted
 * and bob revoked; B finds the request ended and removes what it made. The request's id.
 */
async function lateDuplicate(principal: string): Promise<string> {
  const consumerLinks = new AwsConsumerLinks({
    clientsFor: (a) => ({
      ram: new RAMClient({ region: a.region }),
      glue: new GlueClient({ region: a.region }),
      lakeFormation: new LakeFormationClient({ region: a.region }),
    }),
  });

  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/orders', { principal }),
  );
  expect(created.status).toBe(201);
  const id = created.body.id as string;

  // Worker B reads the request once it is GRANTING, then stalls inside its Lake Formation call.
  const b = lateWorker(p, id, { consumerLinks });

  // Worker A (the queue's) grants, with its own links; then bob revokes and A removes them.
  expect(
    (await p.call('bob', 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
  ).toBe(200);
  await b.granting;
  await p.queue.onIdle();
  const grantId = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body.grantId as string;
  expect(
    (await p.call('bob', 'POST', `/v1/grants/${grantId}/revoke`, { reason: 'done' })).status,
  ).toBe(202);
  await p.queue.onIdle();
  expect((await p.call('alice', 'GET', `/v1/requests/${id}`)).body.status).toBe('REVOKED');
  expect(glue.calls()).toHaveLength(0);

  b.release();
  await b.done;
  return id;
}

test('a late duplicate worker whose grant is stray removes the resource link and DESCRIBE it made, with the exact calls', async () => {
  ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [] });
  glue.on(CreateDatabaseCommand).resolves({});
  glue.on(CreateTableCommand).resolves({});
  glue.on(DeleteTableCommand).resolves({});
  lf.on(GrantPermissionsCommand).resolves({});
  lf.on(RevokePermissionsCommand).resolves({});
  const id = await lateDuplicate(PRINCIPAL);

  // What B made in the consumer account, then took away again, call by call.
  expect(glue.calls().map((c) => [c.args[0].constructor.name, c.args[0].input])).toEqual([
    [
      'CreateDatabaseCommand',
      {
        CatalogId: CONSUMER,
        DatabaseInput: {
          Name: 'meshgate_sales',
          Description: `Resource links to data products shared by account ${PRODUCER}, made by Meshgate`,
        },
      },
    ],
    [
      'CreateTableCommand',
      {
        CatalogId: CONSUMER,
        DatabaseName: 'meshgate_sales',
        TableInput: {
          Name: 'sales_gold__orders',
          TargetTable: { CatalogId: PRODUCER, DatabaseName: 'sales_gold', Name: 'orders' },
        },
      },
    ],
    ['DeleteTableCommand', LINK],
  ]);
  expect(lf.calls().map((c) => [c.args[0].constructor.name, c.args[0].input])).toEqual([
    ['GrantPermissionsCommand', DESCRIBE],
    ['RevokePermissionsCommand', DESCRIBE],
  ]);
  // The Lake Formation grant B made is gone too, and the trail says what was removed.
  expect((await p.ledger.list(PRODUCER)).filter((e) => e.principal === PRINCIPAL)).toHaveLength(0);
  const history = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body.history as AuditEvent[];
  const removed = history.filter((e) => e.type === 'STRAY_GRANT_REMOVED');
  expect(removed).toHaveLength(1);
  // Lake Formation first, then the consumer account.
  expect((removed[0]!.detail.entries as Array<{ action: string }>).map((e) => e.action)).toEqual([
    'revoke',
    'revoke-describe',
    'delete-link',
  ]);
});

test("the consumer account refusing the links' removal never stops the stray grant's revoke nor its record", async () => {
  ram.reset();
  glue.reset();
  lf.reset();
  const principal = `arn:aws:iam::${CONSUMER}:role/stray-links-refused`;
  ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [] });
  glue.on(CreateDatabaseCommand).resolves({});
  glue.on(CreateTableCommand).resolves({});
  glue.on(DeleteTableCommand).resolves({});
  lf.on(GrantPermissionsCommand).resolves({});
  lf.on(RevokePermissionsCommand).rejects(
    Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }),
  );
  const id = await lateDuplicate(principal);

  // The Lake Formation grant B made is gone, and the trail records it and the failed removal.
  expect((await p.ledger.list(PRODUCER)).filter((e) => e.principal === principal)).toHaveLength(0);
  const history = (await p.call('alice', 'GET', `/v1/requests/${id}`)).body.history as AuditEvent[];
  const removed = history.filter((e) => e.type === 'STRAY_GRANT_REMOVED');
  expect(removed).toHaveLength(1);
  const entries = removed[0]!.detail.entries as Array<{ action: string; result: string }>;
  expect(entries.map((e) => [e.action, e.result])).toEqual([
    ['revoke', 'ok'],
    ['remove-links', 'failed'],
  ]);
  expect(entries[1]).toMatchObject({
    account: CONSUMER,
    database: 'meshgate_sales',
    error: expect.stringContaining('Rate exceeded'),
  });
  // The link stays for reconciliation: no DeleteTable was sent.
  expect(glue).toHaveReceivedCommandTimes(DeleteTableCommand, 0);
});
