import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { tableDefinition } from '../../functions/adapters/aws/dynamo-store';
import { ensureMeshgateTable } from '../../functions/adapters/aws/table-setup';
import { tableCommand, type TableCommandIo } from '../../scripts/aws-table';

// `npm run aws:table`: the table of a local run against AWS, made from the one table definition.
// The SDK is mocked at the client; nothing leaves the process.

const ddb = mockClient(DynamoDBClient);
beforeEach(() => ddb.reset());

/** The indexes of the one table definition (whatever it holds when this runs). */
const INDEXES = (tableDefinition('x').GlobalSecondaryIndexes ?? []).map((g) => g.IndexName!);
const indexes = (status: string) =>
  INDEXES.map((IndexName) => ({
    IndexName,
    IndexStatus: status,
  })) as TableDescription['GlobalSecondaryIndexes'];

const described = (TableStatus: string, indexStatus = TableStatus): TableDescription => ({
  TableName: 'meshgate-dev',
  TableStatus: TableStatus as TableDescription['TableStatus'],
  GlobalSecondaryIndexes: indexes(indexStatus),
});

const noWait = { sleep: async () => {}, pollMs: 0 };

/** The command with a mocked client that has a region and credentials unless told otherwise. */
function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; client?: DynamoDBClient } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const regions: Array<string | undefined> = [];
  const io: TableCommandIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: opts.env ?? {},
    client: (region) => {
      regions.push(region);
      return (
        opts.client ??
        new DynamoDBClient({
          region: region ?? 'eu-west-1',
          credentials: { accessKeyId: 'AKIATESTONLY', secretAccessKey: 'test-only' },
        })
      );
    },
    setup: noWait,
  };
  return tableCommand(argv, io).then((code) => ({ code, out, err, regions }));
}

describe('ensureMeshgateTable', () => {
  test('creates the table with exactly the embedded store definition, then waits for it and its indexes to be ACTIVE', async () => {
    ddb.on(CreateTableCommand).resolves({});
    ddb
      .on(DescribeTableCommand)
      .resolvesOnce({ Table: described('CREATING') })
      .resolvesOnce({ Table: described('ACTIVE', 'CREATING') })
      .resolves({ Table: described('ACTIVE') });
    const result = await ensureMeshgateTable(new DynamoDBClient({}), 'meshgate-dev', noWait);
    expect(result).toEqual({
      tableName: 'meshgate-dev',
      created: true,
      indexes: INDEXES,
    });
    expect(ddb).toHaveReceivedCommandTimes(CreateTableCommand, 1);
    expect(ddb.commandCalls(CreateTableCommand)[0]!.args[0].input).toEqual(
      tableDefinition('meshgate-dev'),
    );
    // Not done until the indexes are ACTIVE too.
    expect(ddb).toHaveReceivedCommandTimes(DescribeTableCommand, 3);
  });

  test('an existing table is "already there" and is waited for, not created again', async () => {
    ddb
      .on(CreateTableCommand)
      .rejects(new ResourceInUseException({ message: 'Table already exists', $metadata: {} }));
    ddb
      .on(DescribeTableCommand)
      .resolvesOnce({ Table: described('UPDATING') })
      .resolves({ Table: described('ACTIVE') });
    const lines: string[] = [];
    const result = await ensureMeshgateTable(new DynamoDBClient({}), 'meshgate-dev', {
      ...noWait,
      log: (l) => lines.push(l),
    });
    expect(result.created).toBe(false);
    expect(lines).toEqual(['Table meshgate-dev already exists.']);
    expect(ddb).toHaveReceivedCommandTimes(DescribeTableCommand, 2);
  });

  test('an existing table without an index Meshgate queries is an error naming it', async () => {
    ddb
      .on(CreateTableCommand)
      .rejects(new ResourceInUseException({ message: 'Table already exists', $metadata: {} }));
    ddb.on(DescribeTableCommand).resolves({
      Table: { TableName: 'meshgate-dev', TableStatus: 'ACTIVE', GlobalSecondaryIndexes: [] },
    });
    await expect(
      ensureMeshgateTable(new DynamoDBClient({}), 'meshgate-dev', noWait),
    ).rejects.toThrow(`exists without the index(es) ${INDEXES.join(', ')} that Meshgate queries`);
  });

  test('a table that stays CREATING past the timeout is named, with what to do', async () => {
    ddb.on(CreateTableCommand).resolves({});
    ddb.on(DescribeTableCommand).resolves({ Table: described('CREATING') });
    await expect(
      ensureMeshgateTable(new DynamoDBClient({}), 'meshgate-dev', { ...noWait, timeoutMs: 0 }),
    ).rejects.toThrow(
      'Table meshgate-dev is not ACTIVE yet (status CREATING); run the command again',
    );
  });
});

describe('npm run aws:table', () => {
  beforeEach(() => {
    ddb.on(CreateTableCommand).resolves({});
    ddb.on(DescribeTableCommand).resolves({ Table: described('ACTIVE') });
  });

  test('--table and --region: creates that table in that region and says so', async () => {
    const r = await run(['--table', 'meshgate-dev', '--region', 'eu-central-1']);
    expect(r.code).toBe(0);
    expect(r.regions).toEqual(['eu-central-1']);
    expect(ddb.commandCalls(CreateTableCommand)[0]!.args[0].input.TableName).toBe('meshgate-dev');
    expect(r.out.at(-1)).toBe(
      `Table meshgate-dev is ACTIVE in eu-central-1 (created; indexes ${INDEXES.join(', ')}).`,
    );
  });

  test('--config (or MESHGATE_CONFIG) gives the table name of the configuration', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'meshgate-table-')), 'meshgate.json');
    writeFileSync(
      file,
      JSON.stringify({
        stage: 'dev',
        governance: { account: '123456789012', region: 'eu-west-1' },
        tableName: 'meshgate-from-config',
        domains: [
          {
            id: 'sales',
            name: 'Sales',
            accountId: '111111111111',
            region: 'eu-west-1',
            brokerRoleArn: 'arn:aws:iam::111111111111:role/meshgate-broker',
            externalId: 'meshgate-dev-sales-1234',
            owners: ['bob'],
          },
        ],
      }),
    );
    expect((await run(['--config', file])).code).toBe(0);
    expect((await run([], { env: { MESHGATE_CONFIG: file } })).code).toBe(0);
    expect(ddb.commandCalls(CreateTableCommand).map((c) => c.args[0].input.TableName)).toEqual([
      'meshgate-from-config',
      'meshgate-from-config',
    ]);
  });

  test('--help prints the usage and calls nothing; no table name or a stray argument is exit 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toContain('npm run aws:table -- --table NAME [--region REGION]');
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err[0]).toMatch(/^aws:table: name the table: --table NAME, or --config FILE/);
    expect((await run(['--tabel', 'x'])).err[0]).toMatch(/^aws:table: unknown argument --tabel/);
    expect((await run(['--table'])).err[0]).toMatch(/^aws:table: --table needs a value/);
    expect(ddb).toHaveReceivedCommandTimes(CreateTableCommand, 0);
  });

  test('no credentials, or no region: one line naming the setting, exit 2, nothing sent', async () => {
    const noCredentials = new DynamoDBClient({
      region: 'eu-west-1',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    const creds = await run(['--table', 'meshgate-dev'], { client: noCredentials });
    expect(creds).toMatchObject({
      code: 2,
      err: [
        'aws:table: no AWS credentials: set AWS_PROFILE (after `aws sso login` or `aws configure`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      ],
    });
    const noRegion = new DynamoDBClient({
      region: async () => {
        throw new Error('Region is missing');
      },
      credentials: { accessKeyId: 'AKIATESTONLY', secretAccessKey: 'test-only' },
    });
    const region = await run(['--table', 'meshgate-dev'], { client: noRegion });
    expect(region).toMatchObject({
      code: 2,
      err: ['aws:table: no AWS region: pass --region or set AWS_REGION.'],
    });
    expect(ddb).toHaveReceivedCommandTimes(CreateTableCommand, 0);
  });

  test('AWS refusing is exit 1 with its error code and message on one line', async () => {
    ddb.on(CreateTableCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: dynamodb:CreateTable'), {
        name: 'AccessDeniedException',
      }),
    );
    const r = await run(['--table', 'meshgate-dev']);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'aws:table: AccessDeniedException: User is not authorized to perform: dynamodb:CreateTable',
    ]);
  });
});
