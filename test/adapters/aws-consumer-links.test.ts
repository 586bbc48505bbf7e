// The consumer's last mile on AWS, at the clients: the exact RAM, Glue and Lake Formation calls
// made in a consumer account through its broker role.

import {
  AlreadyExistsException,
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  AccessDeniedException,
  GrantPermissionsCommand,
  InvalidInputException,
  LakeFormationClient,
  ListPermissionsCommand,
  RevokePermissionsCommand,
} from '@aws-sdk/client-lakeformation';
import {
  AcceptResourceShareInvitationCommand,
  GetResourceShareInvitationsCommand,
  RAMClient,
  ResourceShareInvitationAlreadyAcceptedException,
} from '@aws-sdk/client-ram';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsConsumerLinks } from '../../functions/adapters/aws/consumer-links';
import {
  linkEntriesOf,
  LinkNameTakenError,
  type LinkSpec,
} from '../../functions/ports/consumer-links';
import { LakeFormationError } from '../../functions/ports/lakeformation';

const ram = mockClient(RAMClient);
const glue = mockClient(GlueClient);
const lf = mockClient(LakeFormationClient);

const CONSUMER = '444455556666';
const PRODUCER = '111122223333';
const PRINCIPAL = `arn:aws:iam::${CONSUMER}:role/analyst`;
const BROKER = { roleArn: `arn:aws:iam::${CONSUMER}:role/meshgate-broker`, externalId: 'ext-9c1d' };

const spec = (over: Partial<LinkSpec> = {}): LinkSpec => ({
  consumer: { accountId: CONSUMER, region: 'eu-west-1', broker: BROKER },
  producer: { accountId: PRODUCER, region: 'eu-west-1' },
  database: 'meshgate_sales',
  links: [{ name: 'sales_gold__orders', targetDatabase: 'sales_gold', targetTable: 'orders' }],
  principal: PRINCIPAL,
  ...over,
});

const describeInput = {
  CatalogId: CONSUMER,
  Principal: { DataLakePrincipalIdentifier: PRINCIPAL },
  Resource: {
    Table: { CatalogId: CONSUMER, DatabaseName: 'meshgate_sales', Name: 'sales_gold__orders' },
  },
  Permissions: ['DESCRIBE'],
};

// Clients without credentials (no broker lookup): every call is answered by the mocks.
const adapter = () =>
  new AwsConsumerLinks({
    clientsFor: (a) => ({
      ram: new RAMClient({ region: a.region }),
      glue: new GlueClient({ region: a.region }),
      lakeFormation: new LakeFormationClient({ region: a.region }),
    }),
  });

beforeEach(() => {
  ram.reset();
  glue.reset();
  lf.reset();
  ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [] });
  glue.on(CreateDatabaseCommand).resolves({});
  glue.on(CreateTableCommand).resolves({});
  lf.on(GrantPermissionsCommand).resolves({});
});

test('link accepts the pending invitation of the producing account, creates the link and grants DESCRIBE on it', async () => {
  ram.on(GetResourceShareInvitationsCommand).resolves({
    resourceShareInvitations: [
      {
        resourceShareInvitationArn:
          'arn:aws:ram:eu-west-1:111122223333:resource-share-invitation/a',
        senderAccountId: PRODUCER,
        status: 'PENDING',
      },
      // Another sender's, and one accepted already: left alone.
      {
        resourceShareInvitationArn:
          'arn:aws:ram:eu-west-1:999999999999:resource-share-invitation/b',
        senderAccountId: '999999999999',
        status: 'PENDING',
      },
      {
        resourceShareInvitationArn:
          'arn:aws:ram:eu-west-1:111122223333:resource-share-invitation/c',
        senderAccountId: PRODUCER,
        status: 'ACCEPTED',
      },
    ],
  });
  ram.on(AcceptResourceShareInvitationCommand).resolves({});

  const out = await adapter().link(spec());

  expect(out.invitationAccepted).toBe(true);
  expect(ram).toHaveReceivedCommandTimes(AcceptResourceShareInvitationCommand, 1);
  expect(ram).toHaveReceivedCommandWith(AcceptResourceShareInvitationCommand, {
    resourceShareInvitationArn: 'arn:aws:ram:eu-west-1:111122223333:resource-share-invitation/a',
  });
  expect(glue).toHaveReceivedCommandWith(CreateDatabaseCommand, {
    CatalogId: CONSUMER,
    DatabaseInput: expect.objectContaining({ Name: 'meshgate_sales' }),
  });
  expect(glue.commandCalls(CreateTableCommand)[0]!.args[0].input).toEqual({
    CatalogId: CONSUMER,
    DatabaseName: 'meshgate_sales',
    TableInput: {
      Name: 'sales_gold__orders',
      TargetTable: { CatalogId: PRODUCER, DatabaseName: 'sales_gold', Name: 'orders' },
    },
  });
  expect(lf.commandCalls(GrantPermissionsCommand)[0]!.args[0].input).toEqual(describeInput);
  expect(out.entries.map((e) => [e.action, e.result])).toEqual([
    ['accept-invitation', 'ok'],
    ['create-database', 'ok'],
    ['create-link', 'ok'],
    ['grant-describe', 'ok'],
  ]);
});

test('link pages through the invitations and is idempotent: what exists already is fine', async () => {
  ram
    .on(GetResourceShareInvitationsCommand)
    .resolvesOnce({ resourceShareInvitations: [], nextToken: 'p2' })
    .resolvesOnce({ resourceShareInvitations: [] });
  glue
    .on(CreateDatabaseCommand)
    .rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
  glue
    .on(CreateTableCommand)
    .rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
  glue.on(GetTableCommand).resolves({
    Table: {
      Name: 'sales_gold__orders',
      TargetTable: { CatalogId: PRODUCER, DatabaseName: 'sales_gold', Name: 'orders' },
    },
  });

  const out = await adapter().link(spec());

  expect(ram.commandCalls(GetResourceShareInvitationsCommand).map((c) => c.args[0].input)).toEqual([
    {},
    { nextToken: 'p2' },
  ]);
  expect(out.invitationAccepted).toBe(false);
  expect(out.entries.map((e) => [e.action, e.result])).toEqual([
    ['create-database', 'already'],
    ['create-link', 'already'],
    ['grant-describe', 'ok'],
  ]);
});

describe('a link name that exists already', () => {
  const exists = () =>
    glue
      .on(CreateTableCommand)
      .rejectsOnce(new AlreadyExistsException({ message: 'exists', $metadata: {} }));

  test('is this link when it points to the same table (Glue keeps names in lower case)', async () => {
    exists();
    glue.on(GetTableCommand).resolves({
      Table: {
        Name: 'sales_gold__orders',
        TargetTable: { CatalogId: PRODUCER, DatabaseName: 'SALES_GOLD', Name: 'Orders' },
      },
    });
    const out = await adapter().link(spec());
    expect(glue.commandCalls(GetTableCommand)[0]!.args[0].input).toEqual({
      CatalogId: CONSUMER,
      DatabaseName: 'meshgate_sales',
      Name: 'sales_gold__orders',
    });
    expect(out.entries.map((e) => [e.action, e.result])).toEqual([
      ['create-database', 'ok'],
      ['create-link', 'already'],
      ['grant-describe', 'ok'],
    ]);
  });

  test.each([
    [
      'a link to another table whose name folds to the same (sales.gold__orders)',
      {
        Name: 'sales_gold__orders',
        TargetTable: { CatalogId: PRODUCER, DatabaseName: 'sales', Name: 'gold__orders' },
      },
      `a resource link to ${PRODUCER}:sales.gold__orders`,
    ],
    [
      'a link to the same table name in another account',
      {
        Name: 'sales_gold__orders',
        TargetTable: { CatalogId: '999999999999', DatabaseName: 'sales_gold', Name: 'orders' },
      },
      'a resource link to 999999999999:sales_gold.orders',
    ],
    [
      'a table that is not a link',
      { Name: 'sales_gold__orders', StorageDescriptor: {} },
      'a table that is not a resource link',
    ],
  ])(
    'is taken when it is %s: LINK_NAME_TAKEN naming both, and no DESCRIBE on it',
    async (_l, table, theirs) => {
      exists();
      glue.on(GetTableCommand).resolves({ Table: table });
      const err = await adapter()
        .link(spec())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LinkNameTakenError);
      expect(err).toMatchObject({
        code: 'LINK_NAME_TAKEN',
        permanent: true,
        link: 'sales_gold__orders',
      });
      expect((err as Error).message).toContain(theirs);
      expect((err as Error).message).toContain(`${PRODUCER}:sales_gold.orders`);
      expect((err as Error).message).toContain('meshgate_sales.sales_gold__orders');
      expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 0);
    },
  );

  test('deleted between CreateTable and GetTable: created once more', async () => {
    exists();
    glue
      .on(GetTableCommand)
      .rejectsOnce(new EntityNotFoundException({ message: 'gone', $metadata: {} }));
    const out = await adapter().link(spec());
    expect(glue).toHaveReceivedCommandTimes(CreateTableCommand, 2);
    expect(out.entries.map((e) => [e.action, e.result])).toEqual([
      ['create-database', 'ok'],
      ['create-link', 'ok'],
      ['grant-describe', 'ok'],
    ]);
  });
});

test('an invitation another worker accepted meanwhile (two grants to one account at once) counts as accepted', async () => {
  const arn = `arn:aws:ram:eu-west-1:${PRODUCER}:resource-share-invitation/a`;
  ram.on(GetResourceShareInvitationsCommand).resolves({
    resourceShareInvitations: [
      { resourceShareInvitationArn: arn, senderAccountId: PRODUCER, status: 'PENDING' },
    ],
  });
  ram.on(AcceptResourceShareInvitationCommand).rejects(
    new ResourceShareInvitationAlreadyAcceptedException({
      message: `The invitation ${arn} was already accepted.`,
      $metadata: { httpStatusCode: 400 },
    }),
  );
  const out = await adapter().link(spec());
  expect(out.invitationAccepted).toBe(false);
  expect(out.entries[0]).toMatchObject({ action: 'accept-invitation', result: 'already' });
  // And the link is made as usual.
  expect(glue).toHaveReceivedCommandTimes(CreateTableCommand, 1);
  expect(lf).toHaveReceivedCommandWith(GrantPermissionsCommand, describeInput);
});

test('a consumer account registered again with another broker role or ExternalId gets clients of that one', async () => {
  const made: string[] = [];
  const links = new AwsConsumerLinks({
    credentials: (access) => async () => {
      made.push(`${access.roleArn} ${access.externalId}`);
      return { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' };
    },
    clientsFor: (a, credentials) => {
      void credentials?.();
      return {
        ram: new RAMClient({ region: a.region }),
        glue: new GlueClient({ region: a.region }),
        lakeFormation: new LakeFormationClient({ region: a.region }),
      };
    },
  });
  await links.link(spec());
  await links.link(spec());
  const rotated = { ...BROKER, externalId: 'ext-rotated' };
  await links.link(
    spec({ consumer: { accountId: CONSUMER, region: 'eu-west-1', broker: rotated } }),
  );
  expect(made).toEqual([`${BROKER.roleArn} ${BROKER.externalId}`, `${BROKER.roleArn} ext-rotated`]);
});

test('a link to a table in another region names the region', async () => {
  await adapter().link(spec({ producer: { accountId: PRODUCER, region: 'us-east-1' } }));
  expect(glue.commandCalls(CreateTableCommand)[0]!.args[0].input.TableInput?.TargetTable).toEqual({
    CatalogId: PRODUCER,
    DatabaseName: 'sales_gold',
    Name: 'orders',
    Region: 'us-east-1',
  });
});

test('unlink revokes DESCRIBE and deletes only the links it is told to; what is gone is fine', async () => {
  lf.on(RevokePermissionsCommand).resolves({});
  glue.on(DeleteTableCommand).resolves({});
  const two = spec({
    links: [
      { name: 'sales_gold__orders', targetDatabase: 'sales_gold', targetTable: 'orders' },
      { name: 'sales_gold__leads', targetDatabase: 'sales_gold', targetTable: 'leads' },
    ],
  });

  const entries = await adapter().unlink(two, ['sales_gold__orders']);

  expect(lf).toHaveReceivedCommandTimes(RevokePermissionsCommand, 2);
  expect(lf.commandCalls(RevokePermissionsCommand)[0]!.args[0].input).toEqual(describeInput);
  expect(glue).toHaveReceivedCommandTimes(DeleteTableCommand, 1);
  expect(glue).toHaveReceivedCommandWith(DeleteTableCommand, {
    CatalogId: CONSUMER,
    DatabaseName: 'meshgate_sales',
    Name: 'sales_gold__orders',
  });
  expect(entries.map((e) => e.action)).toEqual([
    'revoke-describe',
    'revoke-describe',
    'delete-link',
  ]);

  lf.on(RevokePermissionsCommand).rejects(
    new InvalidInputException({
      message: 'No permissions revoked. Grantee has no permissions',
      $metadata: {},
    }),
  );
  glue
    .on(DeleteTableCommand)
    .rejects(new EntityNotFoundException({ message: 'not found', $metadata: {} }));
  const again = await adapter().unlink(spec(), ['sales_gold__orders']);
  expect(again.map((e) => e.result)).toEqual(['already', 'already']);
});

test('a link call that fails part way carries the entries of what it made, for the undo', async () => {
  // The second link's CreateTable is refused; the first link was made, DESCRIBE granted on it.
  glue.on(CreateTableCommand).callsFake((input: { TableInput?: { Name?: string } }) => {
    if (input.TableInput?.Name === 'sales_gold__refunds')
      throw new InvalidInputException({ message: 'bad input', $metadata: {} });
    return {};
  });
  const err = await adapter()
    .link(
      spec({
        links: [
          { name: 'sales_gold__orders', targetDatabase: 'sales_gold', targetTable: 'orders' },
          { name: 'sales_gold__refunds', targetDatabase: 'sales_gold', targetTable: 'refunds' },
        ],
      }),
    )
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LakeFormationError);
  expect(
    linkEntriesOf(err)!.map((e) => [
      e.action,
      e.result,
      (e.sent as { TableInput?: { Name: string } }).TableInput?.Name,
    ]),
  ).toEqual([
    ['create-database', 'ok', undefined],
    ['create-link', 'ok', 'sales_gold__orders'],
    ['grant-describe', 'ok', undefined],
  ]);
});

test("the broker role's refusal is a broker failure naming the consumer account's role, never its ExternalId", async () => {
  lf.on(GrantPermissionsCommand).rejects(
    new AccessDeniedException({
      message: 'Insufficient Lake Formation permission(s)',
      $metadata: {},
    }),
  );
  const links = new AwsConsumerLinks({
    credentials: () => async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
    clientsFor: (a, credentials) => ({
      ram: new RAMClient({ region: a.region, credentials }),
      glue: new GlueClient({ region: a.region, credentials }),
      lakeFormation: new LakeFormationClient({ region: a.region, credentials }),
    }),
  });
  const err = await links.link(spec()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LakeFormationError);
  expect((err as LakeFormationError).broker).toEqual({
    accountId: CONSUMER,
    roleArn: BROKER.roleArn,
    service: 'Lake Formation',
    awsCode: 'AccessDeniedException',
  });
  expect((err as Error).message).toContain(BROKER.roleArn);
  expect((err as Error).message).not.toContain(BROKER.externalId);
});

test('listLinks of a link database Glue does not know lists nothing, and asks Lake Formation nothing', async () => {
  glue
    .on(GetTablesCommand)
    .rejects(
      new EntityNotFoundException({ message: 'Database meshgate_sales not found.', $metadata: {} }),
    );
  const out = await adapter().listLinks(spec().consumer, 'meshgate_sales');
  expect(out).toEqual({ tables: [], describe: [] });
  expect(glue.commandCalls(GetTablesCommand)[0]!.args[0].input).toEqual({
    CatalogId: CONSUMER,
    DatabaseName: 'meshgate_sales',
  });
  expect(lf).toHaveReceivedCommandTimes(ListPermissionsCommand, 0);
});

test('listLinks asks Lake Formation for table permissions only, and carries when each link and DESCRIBE was made', async () => {
  glue.on(GetTablesCommand).resolves({
    TableList: [
      {
        Name: 'sales_gold__orders',
        DatabaseName: 'meshgate_sales',
        CreateTime: new Date('2026-12-01T09:14:05.000Z'),
        UpdateTime: new Date('2026-12-02T10:00:00.000Z'),
        TargetTable: { CatalogId: PRODUCER, DatabaseName: 'sales_gold', Name: 'orders' },
      },
      {
        Name: 'sales_gold__leads',
        DatabaseName: 'meshgate_sales',
        CreateTime: new Date('2026-12-03T08:00:00.000Z'),
        TargetTable: { CatalogId: PRODUCER, DatabaseName: 'sales_gold', Name: 'leads' },
      },
    ],
  });
  lf.on(ListPermissionsCommand).resolves({
    PrincipalResourcePermissions: [
      {
        Principal: { DataLakePrincipalIdentifier: PRINCIPAL },
        Resource: {
          Table: {
            CatalogId: CONSUMER,
            DatabaseName: 'meshgate_sales',
            Name: 'sales_gold__orders',
          },
        },
        Permissions: ['DESCRIBE'],
        LastUpdated: new Date('2026-12-04T11:30:00.000Z'),
      },
    ],
  });
  const out = await adapter().listLinks(spec().consumer, 'meshgate_sales');
  // Exactly this input: the consumer's catalog, table permissions only (no database filter: its
  // tables' rows are not documented to be listed through it).
  expect(lf.commandCalls(ListPermissionsCommand).map((c) => c.args[0].input)).toEqual([
    { CatalogId: CONSUMER, ResourceType: 'TABLE' },
  ]);
  expect(out).toEqual({
    tables: [
      {
        name: 'sales_gold__orders',
        at: '2026-12-02T10:00:00.000Z',
        target: { catalogId: PRODUCER, database: 'sales_gold', table: 'orders' },
      },
      {
        name: 'sales_gold__leads',
        at: '2026-12-03T08:00:00.000Z',
        target: { catalogId: PRODUCER, database: 'sales_gold', table: 'leads' },
      },
    ],
    describe: [
      { table: 'sales_gold__orders', principal: PRINCIPAL, at: '2026-12-04T11:30:00.000Z' },
    ],
  });
});
