import {
  AccessDeniedException,
  AlreadyExistsException,
  BatchGrantPermissionsCommand,
  BatchRevokePermissionsCommand,
  CreateDataCellsFilterCommand,
  DeleteDataCellsFilterCommand,
  EntityNotFoundException,
  GrantPermissionsCommand,
  InvalidInputException,
  LakeFormationClient,
  ListPermissionsCommand,
  RevokePermissionsCommand,
  type PrincipalResourcePermissions,
} from '@aws-sdk/client-lakeformation';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AwsLakeFormation,
  type AwsLakeFormationOptions,
} from '../../functions/adapters/aws/lakeformation';
import { BrokerCredentials } from '../../functions/adapters/aws/sts-credentials';
import {
  LakeFormationError,
  type PermissionEntry,
  type TableGrant,
} from '../../functions/ports/lakeformation';

// Every LakeFormationClient and STSClient instance is stubbed (prototype send): nothing leaves
// the process. Tests without a broker never resolve credentials, so the default chain is never asked.
const lf = mockClient(LakeFormationClient);
const sts = mockClient(STSClient);

const ACCOUNT = '111122223333';
const ROLE = 'arn:aws:iam::444455556666:role/analyst';
const BROKER = { roleArn: `arn:aws:iam::${ACCOUNT}:role/meshgate-broker`, externalId: 'ext-7f3a' };

// A clock in the past on purpose: the SDK's own credential memo compares Expiration with the real
// time, sees these as expired and always asks our provider, so the caching under test is ours.
let now: Date;
const minutes = (n: number) => n * 60_000;

const grant = (over: Partial<TableGrant> = {}): TableGrant => ({
  grantId: 'req_01HX',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  principal: ROLE,
  database: 'sales_gold',
  tables: ['orders'],
  permissions: ['SELECT'],
  columns: { mode: 'all' },
  ...over,
});

const tables = (n: number) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);

function make(over: AwsLakeFormationOptions = {}) {
  const delays: number[] = [];
  const adapter = new AwsLakeFormation({
    sts: new STSClient({ region: 'eu-west-1' }),
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    now: () => now,
    ...over,
  });
  return { adapter, delays };
}

/** An SDK-shaped error for codes Lake Formation does not model (they come from the protocol layer). */
const sdkError = (name: string, message: string, status = 400) =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
const throttled = () => sdkError('ThrottlingException', 'Rate exceeded');
const expiredToken = () =>
  sdkError('ExpiredTokenException', 'The security token included in the request is expired', 403);
const meta = { $metadata: { httpStatusCode: 400 } };

/** What the SDK does before signing: asks the client's credential provider (here, the broker's). */
async function resolveCredentials(getClient: () => unknown) {
  const config = (getClient() as LakeFormationClient).config as unknown as {
    credentials: () => Promise<{ accessKeyId: string }>;
  };
  return config.credentials();
}

/** The exact inputs of every call of one command, in order. */
const inputsOf = (command: Parameters<typeof lf.commandCalls>[0]) =>
  lf.commandCalls(command).map((c) => c.args[0].input as unknown);

let assumed = 0;
/** STS hands out numbered credentials, valid for an hour of the test clock. */
const assumeRole = () => {
  assumed++;
  return {
    Credentials: {
      AccessKeyId: `ASIA${assumed}`,
      SecretAccessKey: 'secret',
      SessionToken: `token-${assumed}`,
      Expiration: new Date(now.getTime() + minutes(60)),
    },
  };
};
beforeEach(() => {
  lf.reset();
  sts.reset();
  now = new Date('2024-05-01T10:00:00Z');
  assumed = 0;
  // Lake Formation answers every call with an empty success (no Failures) unless a test says otherwise.
  lf.onAnyCommand().resolves({});
  sts.on(AssumeRoleCommand).callsFake(assumeRole);
});
afterAll(() => {
  lf.restore();
  sts.restore();
});

describe('grant: the resources sent', () => {
  test('all columns: one GrantPermissions on the Table', async () => {
    const { adapter } = make();
    const entries = await adapter.grant(grant());
    const expected = {
      CatalogId: ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: ROLE },
      Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' } },
      Permissions: ['SELECT'],
    };
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 1);
    expect(lf).toHaveReceivedCommandWith(GrantPermissionsCommand, expected);
    expect(inputsOf(GrantPermissionsCommand)).toEqual([expected]);
    expect(lf).not.toHaveReceivedCommand(BatchGrantPermissionsCommand);
    expect(entries).toEqual<PermissionEntry[]>([
      {
        action: 'grant',
        table: 'orders',
        sent: {
          Principal: expected.Principal,
          Resource: expected.Resource,
          Permissions: ['SELECT'],
        },
        result: 'ok',
      },
    ]);
  });

  test('include list: TableWithColumns with ColumnNames', async () => {
    const { adapter } = make();
    await adapter.grant(grant({ columns: { mode: 'include', columns: ['order_id', 'amount'] } }));
    expect(inputsOf(GrantPermissionsCommand)).toEqual([
      {
        CatalogId: ACCOUNT,
        Principal: { DataLakePrincipalIdentifier: ROLE },
        Resource: {
          TableWithColumns: {
            CatalogId: ACCOUNT,
            DatabaseName: 'sales_gold',
            Name: 'orders',
            ColumnNames: ['order_id', 'amount'],
          },
        },
        Permissions: ['SELECT'],
      },
    ]);
  });

  test('exclude list: TableWithColumns with ColumnWildcard.ExcludedColumnNames', async () => {
    const { adapter } = make();
    await adapter.grant(
      grant({
        columns: { mode: 'exclude', columns: ['email', 'phone'] },
        permissions: ['SELECT'],
      }),
    );
    expect(inputsOf(GrantPermissionsCommand)).toEqual([
      {
        CatalogId: ACCOUNT,
        Principal: { DataLakePrincipalIdentifier: ROLE },
        Resource: {
          TableWithColumns: {
            CatalogId: ACCOUNT,
            DatabaseName: 'sales_gold',
            Name: 'orders',
            ColumnWildcard: { ExcludedColumnNames: ['email', 'phone'] },
          },
        },
        Permissions: ['SELECT'],
      },
    ]);
  });

  test('row filter: CreateDataCellsFilter, then the grant on the DataCellsFilter', async () => {
    const { adapter } = make();
    const entries = await adapter.grant(
      grant({ rowFilter: "region = 'EU'", columns: { mode: 'exclude', columns: ['email'] } }),
    );
    const filter = {
      TableCatalogId: ACCOUNT,
      DatabaseName: 'sales_gold',
      TableName: 'orders',
      Name: 'meshgate-req_01HX',
      RowFilter: { FilterExpression: "region = 'EU'" },
      ColumnWildcard: { ExcludedColumnNames: ['email'] },
    };
    expect(inputsOf(CreateDataCellsFilterCommand)).toEqual([{ TableData: filter }]);
    expect(inputsOf(GrantPermissionsCommand)).toEqual([
      {
        CatalogId: ACCOUNT,
        Principal: { DataLakePrincipalIdentifier: ROLE },
        Resource: {
          DataCellsFilter: {
            TableCatalogId: ACCOUNT,
            DatabaseName: 'sales_gold',
            TableName: 'orders',
            Name: 'meshgate-req_01HX',
          },
        },
        Permissions: ['SELECT'],
      },
    ]);
    // The filter must exist before anything is granted on it.
    expect(lf.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'CreateDataCellsFilterCommand',
      'GrantPermissionsCommand',
    ]);
    expect(entries.map((e) => [e.action, e.table, e.result])).toEqual([
      ['create-filter', 'orders', 'ok'],
      ['grant', 'orders', 'ok'],
    ]);
    expect(entries[0]!.sent).toEqual(filter);
  });

  test('row filter with an include list puts the ColumnNames on the filter', async () => {
    const { adapter } = make();
    await adapter.grant(
      grant({ rowFilter: 'amount > 0', columns: { mode: 'include', columns: ['order_id'] } }),
    );
    expect(lf).toHaveReceivedCommandWith(CreateDataCellsFilterCommand, {
      TableData: {
        TableCatalogId: ACCOUNT,
        DatabaseName: 'sales_gold',
        TableName: 'orders',
        Name: 'meshgate-req_01HX',
        RowFilter: { FilterExpression: 'amount > 0' },
        ColumnNames: ['order_id'],
      },
    });
  });

  test('a data cells filter left by an earlier try is already there, not an error', async () => {
    lf.on(CreateDataCellsFilterCommand).rejects(
      new AlreadyExistsException({ message: 'Filter already exists', ...meta }),
    );
    const { adapter } = make();
    const entries = await adapter.grant(
      grant({ rowFilter: "region = 'EU'", tables: ['orders', 'lines'] }),
    );
    expect(entries.map((e) => [e.action, e.table, e.result])).toEqual([
      ['create-filter', 'orders', 'already'],
      ['create-filter', 'lines', 'already'],
      ['grant', 'orders', 'ok'],
      ['grant', 'lines', 'ok'],
    ]);
    expect(lf).toHaveReceivedCommandTimes(BatchGrantPermissionsCommand, 1);
  });

  test('multi-table: 41 tables are 3 BatchGrantPermissions of 20, 20 and 1 entries', async () => {
    const { adapter } = make();
    const names = tables(41);
    const entries = await adapter.grant(grant({ tables: names }));
    expect(lf).toHaveReceivedCommandTimes(BatchGrantPermissionsCommand, 3);
    expect(lf).not.toHaveReceivedCommand(GrantPermissionsCommand);
    const calls = inputsOf(BatchGrantPermissionsCommand) as {
      CatalogId: string;
      Entries: { Id: string; Resource: { Table: { Name: string } } }[];
    }[];
    expect(calls.map((c) => c.Entries.length)).toEqual([20, 20, 1]);
    expect(calls.every((c) => c.CatalogId === ACCOUNT)).toBe(true);
    expect(calls.flatMap((c) => c.Entries.map((e) => e.Resource.Table.Name))).toEqual(names);
    const ids = calls.flatMap((c) => c.Entries.map((e) => e.Id));
    expect(new Set(ids).size).toBe(41);
    expect(calls[2]!.Entries).toEqual([
      {
        Id: '40-t40',
        Principal: { DataLakePrincipalIdentifier: ROLE },
        Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 't40' } },
        Permissions: ['SELECT'],
      },
    ]);
    expect(entries).toHaveLength(41);
    expect(entries.every((e) => e.action === 'grant' && e.result === 'ok')).toBe(true);
  });

  test('progress is heard after each call: 20, 40 and 41 of 41 tables; one table: 1 of 1', async () => {
    const { adapter } = make();
    const heard: [number, number][] = [];
    await adapter.grant(
      grant({ tables: tables(41) }),
      (done, total) => void heard.push([done, total]),
    );
    expect(heard).toEqual([
      [20, 41],
      [40, 41],
      [41, 41],
    ]);
    heard.length = 0;
    await adapter.grant(grant(), (done, total) => void heard.push([done, total]));
    expect(heard).toEqual([[1, 1]]);
  });

  test('batch entry ids stay valid for table names with odd characters', async () => {
    const { adapter } = make();
    await adapter.grant(grant({ tables: ['a b', 'c/d'] }));
    const [call] = inputsOf(BatchGrantPermissionsCommand) as { Entries: { Id: string }[] }[];
    expect(call!.Entries.map((e) => e.Id)).toEqual(['0-a_b', '1-c_d']);
  });

  test.each([
    ['an account id (cross-account share)', '555566667777'],
    ['a role ARN', ROLE],
  ])('principal: %s is sent as the DataLakePrincipalIdentifier', async (_label, principal) => {
    const { adapter } = make();
    await adapter.grant(grant({ principal }));
    expect(lf).toHaveReceivedCommandWith(GrantPermissionsCommand, {
      CatalogId: ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: principal },
      Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' } },
      Permissions: ['SELECT'],
    });
  });
});

describe('grant: the broker role', () => {
  test('AssumeRole with the broker role, its ExternalId and a named session', async () => {
    lf.on(GrantPermissionsCommand).callsFake(async (_input, getClient) => {
      await resolveCredentials(getClient);
      return {};
    });
    const { adapter } = make();
    await adapter.grant(grant({ broker: BROKER }));
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: BROKER.roleArn,
      RoleSessionName: `meshgate-${ACCOUNT}`,
      ExternalId: 'ext-7f3a',
      DurationSeconds: 3600,
    });
  });

  test('the default client: region from the account, no SDK retries, the broker credentials', async () => {
    const seen: { region: string; maxAttempts: number; accessKeyId: string }[] = [];
    lf.on(GrantPermissionsCommand).callsFake(async (_input, getClient) => {
      const client = getClient() as LakeFormationClient;
      const creds = await resolveCredentials(getClient);
      seen.push({
        region: await client.config.region(),
        maxAttempts: await client.config.maxAttempts(),
        accessKeyId: creds.accessKeyId,
      });
      return {};
    });
    const { adapter } = make();
    await adapter.grant(grant({ broker: BROKER, region: 'eu-central-1' }));
    expect(seen).toEqual([{ region: 'eu-central-1', maxAttempts: 1, accessKeyId: 'ASIA1' }]);
  });

  test('credentials are cached: 2 grants, 1 AssumeRole, 1 client', async () => {
    const clients = new Set<unknown>();
    lf.on(GrantPermissionsCommand).callsFake(async (_input, getClient) => {
      clients.add(getClient());
      await resolveCredentials(getClient);
      return {};
    });
    const { adapter } = make();
    await adapter.grant(grant({ broker: BROKER }));
    now = new Date(now.getTime() + minutes(30));
    await adapter.grant(grant({ broker: BROKER, tables: ['lines'] }));
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 2);
    expect(clients.size).toBe(1);
  });

  test('a domain registered again with another broker role is reached through that role', async () => {
    lf.on(GrantPermissionsCommand).callsFake(async (_input, getClient) => {
      await resolveCredentials(getClient);
      return {};
    });
    const { adapter } = make();
    await adapter.grant(grant({ broker: BROKER }));
    const replaced = {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/meshgate-broker-v2`,
      externalId: 'ext-9',
    };
    await adapter.grant(grant({ broker: replaced }));
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      BROKER.roleArn,
      replaced.roleArn,
    ]);
  });

  test('credentials are refreshed 5 minutes before they expire', async () => {
    lf.on(GrantPermissionsCommand).callsFake(async (_input, getClient) => {
      await resolveCredentials(getClient);
      return {};
    });
    const { adapter } = make();
    await adapter.grant(grant({ broker: BROKER }));
    now = new Date(now.getTime() + minutes(54)); // 6 minutes left: still good
    await adapter.grant(grant({ broker: BROKER }));
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    now = new Date(now.getTime() + minutes(2)); // 4 minutes left: refresh
    await adapter.grant(grant({ broker: BROKER }));
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  test('BrokerCredentials: one AssumeRole per role, shared by concurrent callers, refreshed near expiry, invalidated on demand', async () => {
    const broker = new BrokerCredentials({
      sts: new STSClient({ region: 'eu-west-1' }),
      now: () => now,
    });
    const provider = broker.provider(BROKER);
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(a).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 'secret',
      sessionToken: 'token-1',
      expiration: new Date('2024-05-01T11:00:00Z'),
    });
    expect(b).toBe(a);

    now = new Date(now.getTime() + minutes(55) + 1);
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect((await provider()).accessKeyId).toBe('ASIA2');

    broker.invalidate(BROKER.roleArn);
    expect((await provider()).accessKeyId).toBe('ASIA3');

    const other = { roleArn: 'arn:aws:iam::999988887777:role/meshgate-broker', externalId: 'x' };
    await broker.provider(other)();
    expect(sts).toHaveReceivedNthCommandWith(4, AssumeRoleCommand, {
      RoleArn: other.roleArn,
      RoleSessionName: 'meshgate-999988887777',
    });
  });

  test('BrokerCredentials: a failed AssumeRole is not cached', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(sdkError('AccessDenied', 'not authorized to perform sts:AssumeRole', 403))
      .callsFake(assumeRole);
    const provider = new BrokerCredentials({
      sts: new STSClient({ region: 'eu-west-1' }),
      now: () => now,
    }).provider(BROKER);
    // Named as the broker's failure: the role and the code, the SDK error as cause, no ExternalId.
    const err = (await provider().catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({
      name: 'BrokerError',
      failure: { roleArn: BROKER.roleArn, service: 'STS', awsCode: 'AccessDenied' },
      cause: { name: 'AccessDenied' },
    });
    expect(err.message).toContain(BROKER.roleArn);
    expect(err.message).not.toContain(BROKER.externalId);
    expect((await provider()).accessKeyId).toBe('ASIA1');
  });
});

describe('fault injection', () => {
  test('throttling then success', async () => {
    lf.on(GrantPermissionsCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    const { adapter, delays } = make();
    const entries = await adapter.grant(grant());
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 3);
    expect(delays).toEqual([50, 100]);
    expect(entries.map((e) => e.result)).toEqual(['ok']);
  });

  test('1-of-20 partial batch failure', async () => {
    const names = tables(20);
    lf.on(BatchGrantPermissionsCommand).callsFake(
      (input: { Entries: { Id: string; Principal: unknown; Resource: unknown }[] }) => {
        const bad = input.Entries[7]!;
        return {
          Failures: [
            {
              RequestEntry: { Id: bad.Id, Principal: bad.Principal, Resource: bad.Resource },
              Error: {
                ErrorCode: 'ConcurrentModificationException',
                ErrorMessage: 'Another permission change is in progress',
              },
            },
          ],
        };
      },
    );
    const { adapter } = make();
    const entries = await adapter.grant(grant({ tables: names }));
    expect(lf).toHaveReceivedCommandTimes(BatchGrantPermissionsCommand, 1);
    expect(entries).toHaveLength(20);
    const failed = entries.filter((e) => e.result === 'failed');
    expect(failed).toEqual([
      {
        action: 'grant',
        table: 't07',
        sent: {
          Principal: { DataLakePrincipalIdentifier: ROLE },
          Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 't07' } },
          Permissions: ['SELECT'],
        },
        result: 'failed',
        error: {
          code: 'ConcurrentModificationException',
          message: 'Another permission change is in progress',
        },
      },
    ]);
    expect(entries.filter((e) => e.result === 'ok').map((e) => e.table)).toEqual(
      names.filter((t) => t !== 't07'),
    );

    // The retry of the failed table sends exactly that one entry.
    lf.reset();
    lf.onAnyCommand().resolves({});
    const retry = await adapter.grant(grant({ tables: names, onlyTables: ['t07'] }));
    expect(lf).not.toHaveReceivedCommand(BatchGrantPermissionsCommand);
    expect(inputsOf(GrantPermissionsCommand)).toEqual([
      {
        CatalogId: ACCOUNT,
        Principal: { DataLakePrincipalIdentifier: ROLE },
        Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 't07' } },
        Permissions: ['SELECT'],
      },
    ]);
    expect(retry.map((e) => [e.table, e.result])).toEqual([['t07', 'ok']]);
  });

  test('a batch failure that names no entry is charged to the whole batch, never dropped', async () => {
    lf.on(BatchGrantPermissionsCommand).resolves({
      Failures: [{ Error: { ErrorCode: 'InternalServiceException', ErrorMessage: 'boom' } }],
    });
    const { adapter } = make();
    const entries = await adapter.grant(grant({ tables: ['a', 'b', 'c'] }));
    expect(entries.map((e) => [e.table, e.result, e.error?.code])).toEqual([
      ['a', 'failed', 'InternalServiceException'],
      ['b', 'failed', 'InternalServiceException'],
      ['c', 'failed', 'InternalServiceException'],
    ]);
  });

  test('a failure in a later batch keeps the earlier batches', async () => {
    lf.on(BatchGrantPermissionsCommand)
      .resolvesOnce({})
      .resolvesOnce({
        Failures: [
          {
            RequestEntry: { Id: '25-t25' },
            Error: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Table t25 not found' },
          },
        ],
      });
    const { adapter } = make();
    const entries = await adapter.grant(grant({ tables: tables(30) }));
    expect(entries.filter((e) => e.result === 'ok')).toHaveLength(29);
    expect(entries.find((e) => e.result === 'failed')).toMatchObject({
      table: 't25',
      error: { code: 'EntityNotFoundException' },
    });
  });

  test('permanent AccessDenied is a permanent LakeFormationError', async () => {
    lf.on(GrantPermissionsCommand).rejects(
      new AccessDeniedException({ message: 'Insufficient Lake Formation permission(s)', ...meta }),
    );
    const { adapter, delays } = make();
    const err = await adapter.grant(grant({ rowFilter: "region = 'EU'" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakeFormationError);
    expect(err).toMatchObject({ code: 'AccessDeniedException', permanent: true });
    expect((err as LakeFormationError).message).toContain(
      'Insufficient Lake Formation permission(s)',
    );
    expect((err as LakeFormationError).cause).toBeInstanceOf(AccessDeniedException);
    // What was done before the refusal comes with the error, for the audit trail.
    expect((err as LakeFormationError).entries.map((e) => [e.action, e.result])).toEqual([
      ['create-filter', 'ok'],
    ]);
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 1);
    expect(delays).toEqual([]);
  });

  test.each([
    [
      'EntityNotFoundException',
      new EntityNotFoundException({ message: 'Table not found', ...meta }),
    ],
    ['InvalidInputException', new InvalidInputException({ message: 'Invalid principal', ...meta })],
  ])('%s on grant is permanent, not retried', async (code, error) => {
    lf.on(BatchGrantPermissionsCommand).rejects(error);
    const { adapter } = make();
    await expect(adapter.grant(grant({ tables: ['a', 'b'] }))).rejects.toMatchObject({
      code,
      permanent: true,
    });
    expect(lf).toHaveReceivedCommandTimes(BatchGrantPermissionsCommand, 1);
  });

  test('revoke that fails then succeeds', async () => {
    lf.on(RevokePermissionsCommand).rejectsOnce(throttled()).resolves({});
    const { adapter, delays } = make();
    const entries = await adapter.revoke(grant());
    expect(lf).toHaveReceivedCommandTimes(RevokePermissionsCommand, 2);
    const inputs = inputsOf(RevokePermissionsCommand);
    expect(inputs[0]).toEqual(inputs[1]);
    expect(inputs[0]).toEqual({
      CatalogId: ACCOUNT,
      Principal: { DataLakePrincipalIdentifier: ROLE },
      Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: 'orders' } },
      Permissions: ['SELECT'],
    });
    expect(delays).toHaveLength(1);
    expect(entries).toEqual([
      { action: 'revoke', table: 'orders', sent: expect.any(Object), result: 'ok' },
    ]);
  });

  test('expired STS credentials mid-run', async () => {
    const clients: unknown[] = [];
    lf.on(GrantPermissionsCommand)
      .callsFakeOnce(async (_input, getClient) => {
        clients.push(getClient());
        await resolveCredentials(getClient);
        throw expiredToken();
      })
      .callsFake(async (_input, getClient) => {
        clients.push(getClient());
        const creds = await resolveCredentials(getClient);
        expect(creds.accessKeyId).toBe('ASIA2');
        return {};
      });
    const { adapter, delays } = make();
    const entries = await adapter.grant(grant({ broker: BROKER }));
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 2);
    expect(clients[0]).not.toBe(clients[1]); // a new client: the SDK memoizes credentials per client
    expect(delays).toEqual([]);
    expect(entries.map((e) => e.result)).toEqual(['ok']);
  });

  test('credentials rejected twice in one call are not retried forever', async () => {
    lf.on(GrantPermissionsCommand).rejects(
      sdkError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid',
        403,
      ),
    );
    const { adapter } = make();
    await expect(adapter.grant(grant({ broker: BROKER }))).rejects.toMatchObject({
      code: 'UnrecognizedClientException',
      permanent: false,
    });
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 2);
  });

  test('revoke of a permission already gone is already', async () => {
    const gone =
      'No permissions revoked. Grantee has no permissions and no grantable permissions on resource.';
    lf.on(RevokePermissionsCommand).rejects(new InvalidInputException({ message: gone, ...meta }));
    lf.on(BatchRevokePermissionsCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Failures: [
        {
          RequestEntry: { Id: input.Entries[0]!.Id },
          Error: { ErrorCode: 'InvalidInputException', ErrorMessage: gone },
        },
        {
          RequestEntry: { Id: input.Entries[1]!.Id },
          Error: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Table b not found' },
        },
      ],
    }));
    const { adapter } = make();
    expect((await adapter.revoke(grant())).map((e) => [e.action, e.table, e.result])).toEqual([
      ['revoke', 'orders', 'already'],
    ]);
    expect(
      (await adapter.revoke(grant({ tables: ['a', 'b', 'c'] }))).map((e) => [e.table, e.result]),
    ).toEqual([
      ['a', 'already'],
      ['b', 'already'],
      ['c', 'ok'],
    ]);
  });

  test('an invalid revoke that is not about a missing permission is still an error', async () => {
    lf.on(RevokePermissionsCommand).rejects(
      new InvalidInputException({ message: 'Principal is not a valid IAM ARN', ...meta }),
    );
    const { adapter } = make();
    await expect(adapter.revoke(grant())).rejects.toMatchObject({
      code: 'InvalidInputException',
      permanent: true,
    });
  });

  test('revoke deletes the data cells filter', async () => {
    const { adapter } = make();
    const g = grant({ rowFilter: "region = 'EU'", tables: ['orders', 'lines'] });
    const entries = await adapter.revoke(g);
    const cells = (table: string) => ({
      TableCatalogId: ACCOUNT,
      DatabaseName: 'sales_gold',
      TableName: table,
      Name: 'meshgate-req_01HX',
    });
    expect(inputsOf(BatchRevokePermissionsCommand)).toEqual([
      {
        CatalogId: ACCOUNT,
        Entries: [
          {
            Id: '0-orders',
            Principal: { DataLakePrincipalIdentifier: ROLE },
            Resource: { DataCellsFilter: cells('orders') },
            Permissions: ['SELECT'],
          },
          {
            Id: '1-lines',
            Principal: { DataLakePrincipalIdentifier: ROLE },
            Resource: { DataCellsFilter: cells('lines') },
            Permissions: ['SELECT'],
          },
        ],
      },
    ]);
    expect(inputsOf(DeleteDataCellsFilterCommand)).toEqual([cells('orders'), cells('lines')]);
    // Permissions go before the filter they sit on.
    expect(lf.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'BatchRevokePermissionsCommand',
      'DeleteDataCellsFilterCommand',
      'DeleteDataCellsFilterCommand',
    ]);
    expect(entries.map((e) => [e.action, e.table, e.result])).toEqual([
      ['revoke', 'orders', 'ok'],
      ['revoke', 'lines', 'ok'],
      ['delete-filter', 'orders', 'ok'],
      ['delete-filter', 'lines', 'ok'],
    ]);

    // Safe to repeat: the second time everything is already gone.
    lf.reset();
    lf.onAnyCommand().resolves({});
    lf.on(BatchRevokePermissionsCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Failures: input.Entries.map((e) => ({
        RequestEntry: { Id: e.Id },
        Error: {
          ErrorCode: 'EntityNotFoundException',
          ErrorMessage: 'Data cells filter not found',
        },
      })),
    }));
    lf.on(DeleteDataCellsFilterCommand).rejects(
      new EntityNotFoundException({ message: 'Entity not found', ...meta }),
    );
    const again = await adapter.revoke(g);
    expect(again.map((e) => e.result)).toEqual(['already', 'already', 'already', 'already']);
  });

  test('a table whose revoke failed keeps its filter for the retry', async () => {
    lf.on(BatchRevokePermissionsCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Failures: [
        {
          RequestEntry: { Id: input.Entries[1]!.Id },
          Error: { ErrorCode: 'ConcurrentModificationException', ErrorMessage: 'busy' },
        },
      ],
    }));
    const { adapter } = make();
    const entries = await adapter.revoke(
      grant({ rowFilter: 'x = 1', tables: ['orders', 'lines'] }),
    );
    expect(inputsOf(DeleteDataCellsFilterCommand)).toEqual([
      {
        TableCatalogId: ACCOUNT,
        DatabaseName: 'sales_gold',
        TableName: 'orders',
        Name: 'meshgate-req_01HX',
      },
    ]);
    expect(entries.find((e) => e.result === 'failed')).toMatchObject({
      table: 'lines',
      error: { code: 'ConcurrentModificationException' },
    });
  });

  test('listPermissions follows NextToken', async () => {
    const perm = (principal: string, table: string): PrincipalResourcePermissions => ({
      Principal: { DataLakePrincipalIdentifier: principal },
      Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: 'sales_gold', Name: table } },
      Permissions: ['SELECT'],
      PermissionsWithGrantOption: [],
    });
    lf.on(ListPermissionsCommand)
      .resolvesOnce({
        PrincipalResourcePermissions: [perm(ROLE, 'a'), perm(ROLE, 'b')],
        NextToken: 'p2',
      })
      .resolvesOnce({ PrincipalResourcePermissions: [], NextToken: 'p3' })
      .resolvesOnce({ PrincipalResourcePermissions: [perm('555566667777', 'c')] });
    const { adapter } = make();
    const listed = await adapter.listPermissions({ accountId: ACCOUNT, region: 'eu-west-1' });
    expect(inputsOf(ListPermissionsCommand)).toEqual([
      { CatalogId: ACCOUNT },
      { CatalogId: ACCOUNT, NextToken: 'p2' },
      { CatalogId: ACCOUNT, NextToken: 'p3' },
    ]);
    const listedAs = (principal: string, table: string) => ({
      principal,
      resource: perm(principal, table).Resource,
      permissions: ['SELECT'],
      permissionsWithGrantOption: [],
    });
    expect(listed).toEqual([
      listedAs(ROLE, 'a'),
      listedAs(ROLE, 'b'),
      listedAs('555566667777', 'c'),
    ]);
  });
});

describe('backoff', () => {
  test('delays are jittered within [0, min(5 s, 100 ms * 2^n)), and running out of attempts is a transient error', async () => {
    const randoms = [0.9, 0.1, 0.6, 0.3, 0.99];
    let i = 0;
    lf.on(GrantPermissionsCommand).rejects(throttled());
    const { adapter, delays } = make({ random: () => randoms[i++ % randoms.length]! });
    const err = await adapter.grant(grant()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakeFormationError);
    expect(err).toMatchObject({ code: 'ThrottlingException', permanent: false });
    expect(lf).toHaveReceivedCommandTimes(GrantPermissionsCommand, 6); // the default maxAttempts
    const bounds = [100, 200, 400, 800, 1600];
    expect(delays).toHaveLength(5);
    delays.forEach((d, n) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(bounds[n]!);
      expect(d).toBeCloseTo(randoms[n]! * bounds[n]!, 6);
    });
    expect(new Set(delays.map((d, n) => d / bounds[n]!)).size).toBe(5); // jittered, not a fixed fraction
  });

  test('delays grow: with the same draw each time they double up to the 5 s cap', async () => {
    lf.on(GrantPermissionsCommand).rejects(
      sdkError('ServiceUnavailable', 'Service unavailable', 503),
    ); // 5xx is retried too
    const { adapter, delays } = make({ random: () => 0.999, maxAttempts: 10 });
    await expect(adapter.grant(grant())).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      permanent: false,
    });
    expect(delays.map((d) => Math.round(d / 0.999))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000,
    ]);
  });

  test.each([
    'ConcurrentModificationException',
    'InternalServiceException',
    'OperationTimeoutException',
  ])('%s is retried', async (name) => {
    lf.on(CreateDataCellsFilterCommand).rejectsOnce(sdkError(name, 'try again')).resolves({});
    const { adapter, delays } = make();
    await adapter.grant(grant({ rowFilter: 'x = 1' }));
    expect(lf).toHaveReceivedCommandTimes(CreateDataCellsFilterCommand, 2);
    expect(delays).toHaveLength(1);
  });
});
