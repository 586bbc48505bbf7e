import {
  GetDatabasesCommand,
  GetTablesCommand,
  GlueClient,
  type Table,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { GlueCatalog } from '../../functions/adapters/aws/glue-catalog';
import { MeshgateError } from '../../functions/domain/errors';
import type { BrokerAccess, DomainAccount } from '../../functions/ports/lakeformation';

const ACCOUNT: DomainAccount = { accountId: '111111111111', region: 'eu-west-1' };
const glue = mockClient(GlueClient);

/** The client the tests hand in; every instance's `send` is the mock. */
const catalog = () => new GlueCatalog({ clientFor: () => new GlueClient({ region: 'eu-west-1' }) });

const table = (
  name: string,
  parameters: Record<string, string> = {},
  over: Partial<Table> = {},
): Table => ({
  Name: name,
  Parameters: parameters,
  StorageDescriptor: { Columns: [{ Name: 'id', Type: 'string', Comment: 'Key' }] },
  ...over,
});

/** One database with these tables, one page each. */
function oneDatabase(
  name: string,
  tables: Table[],
  parameters?: Record<string, string>,
  description?: string,
) {
  glue
    .on(GetDatabasesCommand)
    .resolves({ DatabaseList: [{ Name: name, Parameters: parameters, Description: description }] });
  glue.on(GetTablesCommand, { DatabaseName: name }).resolves({ TableList: tables });
}

beforeEach(() => glue.reset());

describe('GlueCatalog', () => {
  it('follows NextToken through databases and tables, with the account as CatalogId', async () => {
    glue
      .on(GetDatabasesCommand)
      .resolvesOnce({ DatabaseList: [{ Name: 'sales_gold' }], NextToken: 'db-2' })
      .resolvesOnce({ DatabaseList: [{ Name: 'sales_raw' }] });
    glue
      .on(GetTablesCommand, { DatabaseName: 'sales_gold' })
      .resolvesOnce({
        TableList: [table('orders', { 'meshgate:product': 'true' })],
        NextToken: 't-2',
      })
      .resolvesOnce({ TableList: [table('leads', { 'meshgate:product': 'true' })] });
    glue
      .on(GetTablesCommand, { DatabaseName: 'sales_raw' })
      .resolves({ TableList: [table('events', { 'meshgate:product': 'true' })] });

    const products = await catalog().listProducts('sales', ACCOUNT);

    expect(products.map((p) => p.id)).toEqual(['sales/events', 'sales/leads', 'sales/orders']);
    expect(glue).toHaveReceivedCommandTimes(GetDatabasesCommand, 2);
    expect(glue).toHaveReceivedNthSpecificCommandWith(1, GetDatabasesCommand, {
      CatalogId: '111111111111',
    });
    expect(glue).toHaveReceivedNthSpecificCommandWith(2, GetDatabasesCommand, {
      CatalogId: '111111111111',
      NextToken: 'db-2',
    });
    expect(glue).toHaveReceivedCommandTimes(GetTablesCommand, 3);
    expect(glue).toHaveReceivedCommandWith(GetTablesCommand, {
      CatalogId: '111111111111',
      DatabaseName: 'sales_gold',
      NextToken: 't-2',
    });
    expect(glue).toHaveReceivedCommandWith(GetTablesCommand, {
      CatalogId: '111111111111',
      DatabaseName: 'sales_raw',
    });
    // Exact inputs: nothing else is sent (no stray NextToken on first pages, no other catalog).
    expect(glue.commandCalls(GetDatabasesCommand).map((c) => c.args[0].input)).toStrictEqual([
      { CatalogId: '111111111111' },
      { CatalogId: '111111111111', NextToken: 'db-2' },
    ]);
    expect(glue.commandCalls(GetTablesCommand).map((c) => c.args[0].input)).toStrictEqual([
      { CatalogId: '111111111111', DatabaseName: 'sales_gold' },
      { CatalogId: '111111111111', DatabaseName: 'sales_gold', NextToken: 't-2' },
      { CatalogId: '111111111111', DatabaseName: 'sales_raw' },
    ]);
  });

  it('makes a product of a marked table, reading every meshgate parameter', async () => {
    oneDatabase('sales_gold', [
      table(
        'leads',
        {
          'meshgate:product': 'true',
          'meshgate:classification': 'confidential',
          'meshgate:owner': 'bob',
          'meshgate:title': 'Sales leads',
          'meshgate:tags': 'crm, pipeline,,pii, crm',
          'meshgate:freshness': 'Hourly',
          'meshgate:pii': 'email, Phone',
          'other:key': 'ignored',
        },
        {
          Description: 'Leads from the CRM',
          StorageDescriptor: {
            Columns: [
              { Name: 'lead_id', Type: 'string', Comment: 'CRM id' },
              { Name: 'email', Type: 'string' },
              { Name: 'phone', Type: 'string' },
              { Name: 'full_name', Type: 'string', Parameters: { 'meshgate:pii': 'true' } },
              { Name: 'stage', Type: 'string', Parameters: { 'meshgate:pii': 'false' } },
            ],
          },
          PartitionKeys: [{ Name: 'dt', Type: 'date', Comment: 'Load date' }],
        },
      ),
    ]);

    const [p, ...rest] = await catalog().listProducts('sales', ACCOUNT);

    expect(rest).toEqual([]);
    expect(p).toStrictEqual({
      id: 'sales/leads',
      domain: 'sales',
      name: 'leads',
      title: 'Sales leads',
      description: 'Leads from the CRM',
      owner: 'bob',
      classification: 'confidential',
      tags: ['crm', 'pipeline', 'pii'],
      location: { catalogId: '111111111111', database: 'sales_gold', table: 'leads' },
      columns: [
        { name: 'lead_id', type: 'string', comment: 'CRM id', pii: false },
        { name: 'email', type: 'string', pii: true },
        { name: 'phone', type: 'string', pii: true },
        { name: 'full_name', type: 'string', pii: true },
        { name: 'stage', type: 'string', pii: false },
        { name: 'dt', type: 'date', comment: 'Load date', pii: false },
      ],
      freshness: 'Hourly',
      status: 'ACTIVE',
    });
  });

  it('defaults what is not declared: internal, no owner, no tags, a title from the name', async () => {
    oneDatabase('sales_gold', [table('customer_orders', { 'meshgate:product': 'true' })]);

    const [p] = await catalog().listProducts('sales', ACCOUNT);

    expect(p).toMatchObject({
      title: 'Customer orders',
      description: '',
      owner: '',
      classification: 'internal',
      tags: [],
      freshness: '',
      columns: [{ name: 'id', type: 'string', comment: 'Key', pii: false }],
    });
  });

  it.each([
    [undefined, 'internal'],
    ['', 'internal'],
    ['public', 'public'],
    ['internal', 'internal'],
    ['Confidential', 'confidential'],
    [' restricted ', 'restricted'],
    ['secret', 'restricted'],
    ['confidential,public', 'restricted'],
  ])('reads classification %p as %s (unreadable is the strictest)', async (value, expected) => {
    const params: Record<string, string> = { 'meshgate:product': 'true' };
    if (value !== undefined) params['meshgate:classification'] = value;
    oneDatabase('db', [table('t', params)]);

    const [p] = await catalog().listProducts('d', ACCOUNT);

    expect(p!.classification).toBe(expected);
  });

  it('accepts a restricted product with no pii column', async () => {
    oneDatabase('db', [
      table('t', { 'meshgate:product': 'true', 'meshgate:classification': 'restricted' }),
    ]);

    const [p] = await catalog().listProducts('d', ACCOUNT);

    expect(p!.classification).toBe('restricted');
    expect(p!.columns.every((c) => !c.pii)).toBe(true);
  });

  it('ignores tables not marked as products, and resource links', async () => {
    glue.on(GetDatabasesCommand).resolves({
      DatabaseList: [
        { Name: 'db' },
        { Name: 'link_db', TargetDatabase: { CatalogId: '999999999999', DatabaseName: 'x' } },
      ],
    });
    glue.on(GetTablesCommand, { DatabaseName: 'db' }).resolves({
      TableList: [
        table('plain'),
        table('no_params', undefined, { Parameters: undefined }),
        table('false', { 'meshgate:product': 'false' }),
        table('yes', { 'meshgate:product': 'yes' }),
        table(
          'link',
          { 'meshgate:product': 'true' },
          { TargetTable: { CatalogId: '999999999999', DatabaseName: 'x', Name: 'y' } },
        ),
        table('upper', { 'meshgate:product': ' TRUE ' }),
      ],
    });

    const products = await catalog().listProducts('d', ACCOUNT);

    expect(products.map((p) => p.id)).toEqual(['d/upper']);
    expect(glue).not.toHaveReceivedCommandWith(GetTablesCommand, { DatabaseName: 'link_db' });
  });

  it.each([
    ['Customer Orders', undefined, 'customer_orders'],
    ['orders', 'Orders v2 (EU)', 'orders_v2__eu_'],
    ['orders', 'gold-orders_2024', 'gold-orders_2024'],
    ['orders', 'Ünïcode.Name', '_n_code_name'],
    ['orders', '   ', 'orders'],
  ])('names the table %p with meshgate:name %p as %p', async (tableName, declared, expected) => {
    const params: Record<string, string> = { 'meshgate:product': 'true' };
    if (declared !== undefined) params['meshgate:name'] = declared;
    oneDatabase('db', [table(tableName, params)]);

    const [p] = await catalog().listProducts('sales', ACCOUNT);

    expect(p!.name).toBe(expected);
    expect(p!.id).toBe(`sales/${expected}`);
    expect(p!.location.table).toBe(tableName);
  });

  it('makes one product of a marked database: all its tables, sorted, columns of the first', async () => {
    oneDatabase(
      'Finance_Gold',
      [
        table(
          'ledger',
          { 'meshgate:product': 'true', 'meshgate:classification': 'public' },
          {
            StorageDescriptor: { Columns: [{ Name: 'entry', Type: 'bigint' }] },
          },
        ),
        table(
          'accounts',
          { 'meshgate:pii': 'holder' },
          {
            StorageDescriptor: {
              Columns: [
                { Name: 'account_id', Type: 'string' },
                { Name: 'holder', Type: 'string' },
                { Name: 'iban', Type: 'string' },
                { Name: 'email', Type: 'string', Parameters: { 'meshgate:pii': 'true' } },
              ],
            },
            PartitionKeys: [{ Name: 'dt', Type: 'date' }],
          },
        ),
        table('fx', {}),
      ],
      {
        'meshgate:product': 'true',
        'meshgate:classification': 'restricted',
        'meshgate:owner': 'carol',
        'meshgate:pii': 'iban',
        'meshgate:tags': 'finance',
        'meshgate:freshness': 'Monthly',
      },
      'The general ledger and its accounts',
    );

    const products = await catalog().listProducts('finance', ACCOUNT);

    expect(products).toStrictEqual([
      {
        id: 'finance/finance_gold',
        domain: 'finance',
        name: 'finance_gold',
        title: 'Finance gold',
        description: 'The general ledger and its accounts',
        owner: 'carol',
        classification: 'restricted',
        tags: ['finance'],
        location: {
          catalogId: '111111111111',
          database: 'Finance_Gold',
          table: 'accounts',
          tables: ['accounts', 'fx', 'ledger'],
        },
        columns: [
          { name: 'account_id', type: 'string', pii: false },
          { name: 'holder', type: 'string', pii: true },
          { name: 'iban', type: 'string', pii: true },
          { name: 'email', type: 'string', pii: true },
          { name: 'dt', type: 'date', pii: false },
        ],
        freshness: 'Monthly',
        status: 'ACTIVE',
      },
    ]);
  });

  it('names a database product from meshgate:name, and skips a product database with no tables', async () => {
    glue.on(GetDatabasesCommand).resolves({
      DatabaseList: [
        {
          Name: 'hr_gold',
          Parameters: {
            'meshgate:product': 'true',
            'meshgate:name': 'HR Core',
            'meshgate:title': 'HR core tables',
          },
        },
        { Name: 'empty', Parameters: { 'meshgate:product': 'true' } },
      ],
    });
    glue
      .on(GetTablesCommand, { DatabaseName: 'hr_gold' })
      .resolves({ TableList: [table('employees')] });
    glue.on(GetTablesCommand, { DatabaseName: 'empty' }).resolves({ TableList: [] });

    const products = await catalog().listProducts('hr', ACCOUNT);

    expect(products).toHaveLength(1);
    expect(products[0]).toMatchObject({
      id: 'hr/hr_core',
      title: 'HR core tables',
      location: {
        catalogId: '111111111111',
        database: 'hr_gold',
        table: 'employees',
        tables: ['employees'],
      },
    });
  });

  it('refuses two entries that declare the same product', async () => {
    glue.on(GetDatabasesCommand).resolves({ DatabaseList: [{ Name: 'a' }, { Name: 'b' }] });
    glue
      .on(GetTablesCommand, { DatabaseName: 'a' })
      .resolves({ TableList: [table('orders', { 'meshgate:product': 'true' })] });
    glue
      .on(GetTablesCommand, { DatabaseName: 'b' })
      .resolves({ TableList: [table('Orders', { 'meshgate:product': 'true' })] });

    const err = await catalog()
      .listProducts('sales', ACCOUNT)
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MeshgateError);
    expect(err).toMatchObject({ code: 'DUPLICATE_PRODUCT', details: { id: 'sales/orders' } });
  });

  it('names a Glue AccessDeniedException as a broker failure, the SDK error as cause', async () => {
    glue
      .on(GetDatabasesCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));

    await expect(catalog().listProducts('sales', ACCOUNT)).rejects.toMatchObject({
      name: 'BrokerError',
      failure: { accountId: ACCOUNT.accountId, service: 'Glue', awsCode: 'AccessDeniedException' },
      cause: { name: 'AccessDeniedException' },
    });
  });

  it('lets any other Glue error through', async () => {
    glue
      .on(GetDatabasesCommand)
      .rejects(Object.assign(new Error('no'), { name: 'InternalServiceException' }));

    await expect(catalog().listProducts('sales', ACCOUNT)).rejects.toMatchObject({
      name: 'InternalServiceException',
    });
  });

  describe('the default client', () => {
    const BROKER: BrokerAccess = {
      roleArn: 'arn:aws:iam::222222222222:role/meshgate-broker',
      externalId: 'ext-1',
    };
    const identity = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    };

    beforeEach(() => glue.on(GetDatabasesCommand).resolves({ DatabaseList: [] }));

    it('uses the credentials provider for the broker role, in the account region, once per role', async () => {
      const provider = jest.fn(async () => identity);
      const credentials = jest.fn((_access: BrokerAccess) => provider);
      const gc = new GlueCatalog({ credentials });
      const account: DomainAccount = {
        accountId: '222222222222',
        region: 'eu-central-1',
        broker: BROKER,
      };

      await gc.listProducts('sales', account);
      await gc.listProducts('sales', account);

      expect(credentials).toHaveBeenCalledTimes(1);
      expect(credentials).toHaveBeenCalledWith(BROKER);
      expect(glue).toHaveReceivedCommandWith(GetDatabasesCommand, { CatalogId: '222222222222' });
      const client = glue.send.getCall(0).thisValue as GlueClient;
      expect(await client.config.region()).toBe('eu-central-1');
      expect(await client.config.credentials()).toMatchObject(identity);
      expect(provider).toHaveBeenCalled();
      expect(glue.send.getCall(1).thisValue).toBe(client);
    });

    it('keeps one client per broker role', async () => {
      const credentials = jest.fn((_access: BrokerAccess) => async () => identity);
      const gc = new GlueCatalog({ credentials });
      const other: BrokerAccess = {
        roleArn: 'arn:aws:iam::333333333333:role/meshgate-broker',
        externalId: 'ext-2',
      };

      await gc.listProducts('a', {
        accountId: '222222222222',
        region: 'eu-west-1',
        broker: BROKER,
      });
      await gc.listProducts('b', { accountId: '333333333333', region: 'eu-west-1', broker: other });

      expect(credentials.mock.calls).toEqual([[BROKER], [other]]);
      expect(glue.send.getCall(0).thisValue).not.toBe(glue.send.getCall(1).thisValue);
    });

    it('uses the default chain when the account has no broker', async () => {
      const credentials = jest.fn((_access: BrokerAccess) => async () => identity);

      await new GlueCatalog({ credentials }).listProducts('sales', ACCOUNT);

      expect(credentials).not.toHaveBeenCalled();
      expect(await (glue.send.getCall(0).thisValue as GlueClient).config.region()).toBe(
        'eu-west-1',
      );
    });

    it('refuses a broker account without a credentials provider rather than read it as itself', async () => {
      await expect(
        new GlueCatalog().listProducts('sales', { ...ACCOUNT, broker: BROKER }),
      ).rejects.toThrow(/no credentials provider/);
      expect(glue).not.toHaveReceivedAnyCommand();
    });
  });
});
