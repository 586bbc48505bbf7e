import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../config/schema';
import { tableDefinition } from '../../functions/adapters/aws/dynamo-store';
import { ApiStack } from '../../infra/stacks/api-stack';
import { DataStack } from '../../infra/stacks/data-stack';
import { BROKER_CALLERS, functionRoleName, stackName, trustedRoleArns } from '../../infra/naming';

// The governance stacks, synthesised from the example configuration. Bundling is skipped
// ('aws:cdk:bundling-stacks': []) except in the one test that proves offline bundling works.

const config = parseConfig(
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'example.json'), 'utf8')),
);
const env = { account: config.governance.account, region: config.governance.region };
const brokerRoleArns = config.domains.map((d) => d.brokerRoleArn).sort();

type Resource = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized template JSON is untyped; the assertions check its shape
  Properties: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };

function build(app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })) {
  const data = new DataStack(app, stackName(config.stage, 'Data'), { env, config });
  const api = new ApiStack(app, stackName(config.stage, 'Api'), {
    env,
    config,
    table: data.table,
    auditBucket: data.auditBucket,
  });
  return { app, data, api };
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const resources = (t: Template, type: string, props?: object) =>
  Object.entries(t.findResources(type, props)) as [string, Resource][];
const only = (t: Template, type: string, props?: object): [string, Resource] => {
  const found = resources(t, type, props);
  expect(found).toHaveLength(1);
  return found[0]!;
};

/** The statements of every policy attached to the role named `roleName`. */
function statementsOfRole(t: Template, roleName: string): Statement[] {
  const [roleId] = only(t, 'AWS::IAM::Role', { Properties: { RoleName: roleName } });
  return resources(t, 'AWS::IAM::Policy')
    .filter(([, p]) =>
      (p.Properties.Roles as unknown[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function nagViolations(stack: Stack) {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
  const describe = (severity: string) =>
    report.violations
      .filter((v) => v.severity === severity)
      .map(
        (v) =>
          `${v.ruleName} on ${v.violatingResources.map((r) => r.constructPath).join(', ')}: ${v.description}`,
      );
  return { errors: describe('error'), warnings: describe('warning') };
}

describe('governance stacks', () => {
  let data: Template;
  let api: Template;

  beforeAll(() => {
    const built = build();
    data = Template.fromStack(built.data);
    api = Template.fromStack(built.api);
  });

  describe('data stack', () => {
    it('creates the table exactly as the store defines it, retained, with PITR, deletion protection and a stream', () => {
      const expected = tableDefinition(config.tableName);
      const [, table] = only(data, 'AWS::DynamoDB::GlobalTable');
      const p = table.Properties;
      expect(table.DeletionPolicy).toBe('Retain');
      expect(p.TableName).toBe(config.tableName);
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.KeySchema).toEqual(expected.KeySchema);
      expect(
        [...p.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
      ).toEqual(
        [...expected.AttributeDefinitions!].sort((a, b) =>
          a.AttributeName!.localeCompare(b.AttributeName!),
        ),
      );
      expect(p.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
      expect(p.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName)).toEqual([
        'gsi1',
        'gsi2',
        'gsi3',
        'gsi4',
        'gsi5',
      ]);
      expect(p.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
      expect(p.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' }); // the AWS managed key
      expect(p.Replicas).toEqual([
        expect.objectContaining({
          Region: config.governance.region,
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]);
    });

    it('keeps the audit archive under compliance-mode Object Lock, versioned, private, SSL-only and access-logged', () => {
      const [, bucket] = only(data, 'AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } });
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const [logsId, logBucket] = only(data, 'AWS::S3::Bucket', {
        Properties: { ObjectLockEnabled: Match.absent() },
      });
      expect(bucket.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logsId },
        LogFilePrefix: 'audit-archive/',
      });
      expect(logBucket.DeletionPolicy).toBe('Retain');
      expect(logBucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      // Log delivery by bucket policy (ACLs are disabled on the log bucket).
      data.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logsId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
            }),
          ]),
        },
      });
      // Both buckets refuse plain HTTP.
      const sslOnly = resources(data, 'AWS::S3::BucketPolicy').filter(([, p]) =>
        (
          p.Properties.PolicyDocument.Statement as Array<
            Statement & { Condition?: { Bool?: Record<string, string> } }
          >
        ).some(
          (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        ),
      );
      expect(sslOnly).toHaveLength(2);
    });

    it('takes the retention from auditRetentionDays', () => {
      const stack = new DataStack(new App(), 'Retention', { env, config, auditRetentionDays: 30 });
      Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
        },
      });
    });
  });

  describe('api stack', () => {
    it('runs every function on nodejs22.x, arm64, traced, logging JSON', () => {
      const fns = resources(api, 'AWS::Lambda::Function');
      expect(fns).toHaveLength(5);
      for (const [, fn] of fns) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.Properties.LoggingConfig).toEqual(expect.objectContaining({ LogFormat: 'JSON' }));
        expect(fn.Properties.Environment.Variables).toEqual(
          expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            MESHGATE_POLICY_DIR: './policies',
          }),
        );
      }
      const withTable = fns.filter(
        ([, fn]) => fn.Properties.Environment.Variables.MESHGATE_TABLE_NAME,
      );
      expect(withTable).toHaveLength(4);
      for (const [, fn] of withTable) {
        expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
          expect.arrayContaining([
            'MESHGATE_TABLE_NAME',
            'MESHGATE_QUEUE_URL',
            'MESHGATE_EVENT_BUS_NAME',
          ]),
        );
      }
      const [, archiver] = fns.find(
        ([, fn]) => fn.Properties.Environment.Variables.MESHGATE_AUDIT_BUCKET,
      )!;
      expect(archiver.Properties.Environment.Variables.MESHGATE_TABLE_NAME).toBeUndefined();
    });

    it('sends failed jobs to a dead-letter queue after 5 receives', () => {
      const [dlqId, dlq] = only(api, 'AWS::SQS::Queue', {
        Properties: { QueueName: `meshgate-${config.stage}-jobs-dlq` },
      });
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      const [, jobs] = only(api, 'AWS::SQS::Queue', {
        Properties: { QueueName: `meshgate-${config.stage}-jobs` },
      });
      expect(jobs.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(jobs.Properties.VisibilityTimeout).toBe(1800);
      expect(jobs.Properties.SqsManagedSseEnabled).toBe(true);
    });

    it('lets the worker report partial batch failures', () => {
      api.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Jobs'), 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('archives only new audit items from the stream, with a failure destination', () => {
      api.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        StartingPosition: 'TRIM_HORIZON',
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        FilterCriteria: {
          Filters: [
            {
              Pattern: JSON.stringify({
                eventName: ['INSERT'],
                dynamodb: { NewImage: { kind: { S: ['audit'] } } },
              }),
            },
          ],
        },
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveFailures'), 'Arn'] },
          },
        },
      });
    });

    it('authorizes every route with the Cognito JWT authorizer except GET /health, and routes no dev login', () => {
      const routes = resources(api, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
      expect(routes.map((r) => r.RouteKey).sort()).toEqual([
        'ANY /v1/{proxy+}',
        'GET /health',
        'GET /openapi.json',
      ]);
      for (const r of routes)
        expect([r.RouteKey, r.AuthorizationType]).toEqual([
          r.RouteKey,
          r.RouteKey === 'GET /health' ? 'NONE' : 'JWT',
        ]);
      const [poolId] = only(api, 'AWS::Cognito::UserPool');
      const [clientId] = only(api, 'AWS::Cognito::UserPoolClient');
      api.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        JwtConfiguration: {
          Audience: [{ Ref: clientId }],
          Issuer: {
            'Fn::Join': [
              '',
              [`https://cognito-idp.${config.governance.region}.amazonaws.com/`, { Ref: poolId }],
            ],
          },
        },
      });
      api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AccessLogSettings: {
          DestinationArn: Match.anyValue(),
          Format: Match.stringLikeRegexp('requestId'),
        },
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
    });

    it('signs in through Cognito with MFA, no self sign-up, and a public code-flow client', () => {
      api.hasResourceProperties('AWS::Cognito::UserPool', {
        MfaConfiguration: 'ON',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        UserPoolTier: 'PLUS',
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      });
      const groups = resources(api, 'AWS::Cognito::UserPoolGroup')
        .map(([, g]) => g.Properties.GroupName)
        .sort();
      expect(groups).toEqual(['admin', 'auditor', 'compliance']);
      api.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        GenerateSecret: false,
        AllowedOAuthFlows: ['code'],
      });
    });

    it('lets the worker and the schedules write the search index chunks (BatchWriteItem) on the table, the API not; every function reads products in a batch', () => {
      // The search index is built after every sync (worker) and by the sweep (scheduled): its
      // chunks are written and deleted with BatchWriteItem, which the table statement must allow.
      for (const fn of ['worker', 'scheduled']) {
        const statements = statementsOfRole(api, functionRoleName(config.stage, fn));
        const table = statements.find((s) => s.Sid === 'MeshgateTable');
        expect([fn, list(table?.Action ?? [])]).toEqual([
          fn,
          expect.arrayContaining(['dynamodb:BatchWriteItem', 'dynamodb:Query']),
        ]);
      }
      // The API never builds it: no BatchWriteItem. Every function reads an inbox page's products
      // with BatchGetItem (adapters/aws/dynamo/catalog-store.ts).
      const apiTable = statementsOfRole(api, functionRoleName(config.stage, 'api')).find(
        (s) => s.Sid === 'MeshgateTable',
      );
      expect(list(apiTable?.Action ?? [])).not.toContain('dynamodb:BatchWriteItem');
      for (const fn of ['api', 'worker', 'scheduled', 'notifier'])
        expect([
          fn,
          list(
            statementsOfRole(api, functionRoleName(config.stage, fn)).find(
              (s) => s.Sid === 'MeshgateTable',
            )?.Action ?? [],
          ),
        ]).toEqual([fn, expect.arrayContaining(['dynamodb:BatchGetItem'])]);
    });

    it('lets the worker alone assume exactly the configured broker roles: the API role may assume none', () => {
      // The roles the domain accounts trust (infra/naming.ts) are the roles that exist here.
      for (const arn of trustedRoleArns(config))
        expect(arn).toMatch(
          new RegExp(`:role/meshgate-${config.stage}-(${BROKER_CALLERS.join('|')})$`),
        );
      for (const caller of BROKER_CALLERS) {
        const statements = statementsOfRole(api, functionRoleName(config.stage, caller));
        const sts = statements.filter((s) => list(s.Action).some((a) => a.startsWith('sts:')));
        expect(sts).toEqual([
          expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole' }),
        ]);
        expect(list(sts[0]!.Resource as string[]).sort()).toEqual(brokerRoleArns);
      }
      // The internet-facing API, the schedules and the archiver assume nothing: the worker alone
      // reaches domain accounts.
      expect(BROKER_CALLERS).toEqual(['worker']);
      for (const fn of ['api', 'scheduled', 'archiver']) {
        const statements = statementsOfRole(api, functionRoleName(config.stage, fn));
        expect([
          fn,
          statements.filter((s) => list(s.Action).some((a) => a.startsWith('sts:'))),
        ]).toEqual([fn, []]);
        // Nor any statement naming a broker role, whatever its action.
        expect([
          fn,
          statements.filter((s) =>
            brokerRoleArns.some((arn) => JSON.stringify(s.Resource ?? '').includes(arn)),
          ),
        ]).toEqual([fn, []]);
      }
      const archiver = statementsOfRole(api, functionRoleName(config.stage, 'archiver'));
      expect(archiver.filter((s) => list(s.Action).some((a) => a.startsWith('s3:')))).toEqual([
        expect.objectContaining({
          Action: 's3:PutObject',
          Resource: {
            'Fn::Join': [
              '',
              [
                { 'Fn::ImportValue': `${stackName(config.stage, 'Data')}-AuditArchiveArn` },
                '/audit/*',
              ],
            ],
          },
        }),
      ]);
    });

    it('uses a "*" resource only for X-Ray (the acknowledged IAM5 finding of every function role)', () => {
      for (const [, policy] of resources(api, 'AWS::IAM::Policy')) {
        for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
          if (list(s.Resource).includes('*'))
            expect(list(s.Action).sort()).toEqual([
              'xray:PutTelemetryRecords',
              'xray:PutTraceSegments',
            ]);
        }
      }
    });

    it('runs the sweep, sync and reconcile schedules on the scheduled function only', () => {
      const schedules = resources(api, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
      expect(schedules.map((s) => [s.ScheduleExpression, JSON.parse(s.Target.Input)])).toEqual([
        ['rate(5 minutes)', { task: 'sweep' }],
        ['rate(1 hour)', { task: 'sync' }],
        ['rate(6 hours)', { task: 'reconcile' }],
      ]);
      const targets = new Set(schedules.map((s) => JSON.stringify(s.Target.Arn)));
      expect(targets.size).toBe(1);
      for (const s of schedules) expect(s.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      const invoke = resources(api, 'AWS::IAM::Policy')
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => list(s.Action).includes('lambda:InvokeFunction'));
      expect(invoke).toEqual([expect.objectContaining({ Resource: schedules[0]!.Target.Arn })]);
    });

    it("alarms on the dead-letter queues and on each function's errors and throttles", () => {
      const alarms = resources(api, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
      for (const a of alarms) {
        expect(a).toEqual(
          expect.objectContaining({
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            TreatMissingData: 'notBreaching',
            AlarmActions: [{ Ref: expect.stringMatching(/^Alarms/) }],
          }),
        );
      }
      const [dlqId] = only(api, 'AWS::SQS::Queue', {
        Properties: { QueueName: `meshgate-${config.stage}-jobs-dlq` },
      });
      expect(alarms).toContainEqual(
        expect.objectContaining({
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        }),
      );
      for (const [fnId] of resources(api, 'AWS::Lambda::Function')) {
        for (const metric of ['Errors', 'Throttles']) {
          expect(alarms).toContainEqual(
            expect.objectContaining({
              MetricName: metric,
              Namespace: 'AWS/Lambda',
              Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
            }),
          );
        }
      }
    });

    it('publishes the outputs the portal and operators need', () => {
      for (const name of ['ApiUrl', 'UserPoolId', 'UserPoolClientId', 'EventBusName', 'QueueUrl'])
        api.hasOutput(name, {});
      api.hasResourceProperties('AWS::Events::EventBus', { Name: config.eventBusName });
    });
  });

  describe('cdk-nag (AwsSolutions)', () => {
    it.each(['data', 'api'] as const)('finds nothing unacknowledged in the %s stack', (which) => {
      const built = build();
      built.app.synth();
      const { errors, warnings } = nagViolations(built[which]);
      if (errors.length || warnings.length) console.log([...errors, ...warnings].join('\n'));
      expect(errors).toEqual([]);
      expect(warnings).toEqual([]);
    });

    it('does find what is not acknowledged (the checks above are not vacuous)', () => {
      const app = new App();
      const stack = new Stack(app, 'Unsafe', { env });
      new Bucket(stack, 'Plain');
      app.synth();
      expect(nagViolations(stack).errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^AwsSolutions-S1 /),
          expect.stringMatching(/^AwsSolutions-S10 /),
        ]),
      );
    });

    it('passes as a validation plugin of the app, as `cdk synth` runs it', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      build(app);
      expect(() => app.synth()).not.toThrow();
    });
  });

  it('answers CORS preflight for the web UI on another origin, for bearer tokens only', () => {
    const { api } = build(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    Template.fromStack(api).hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['*'],
        AllowHeaders: ['authorization', 'content-type'],
      }),
    });
  });

  it('bundles a function offline with esbuild, policies and configuration included', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'meshgate-cdk-'));
    try {
      const { app, api } = build(new App({ outdir }));
      app.synth();
      const [, fn] = only(Template.fromStack(api), 'AWS::Lambda::Function', {
        Properties: { Description: 'Meshgate HTTP API' },
      });
      const assetDir = join(
        outdir,
        `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
      );
      expect(existsSync(join(assetDir, 'index.js'))).toBe(true);
      expect(existsSync(join(assetDir, 'index.js.map'))).toBe(true);
      // BUNDLING's esbuild arguments reach the CDK's esbuild: zod without its locales (issue 16).
      const code = readFileSync(join(assetDir, 'index.js'), 'utf8');
      expect(code).toContain('Invalid input: expected');
      expect(code).not.toContain('Ungültige Eingabe');
      // And its main fields: the SDK's ES-module builds, without the operations nobody sends.
      expect(code).not.toContain('BatchExecuteStatement');
      expect(existsSync(join(assetDir, 'policies', 'model.conf'))).toBe(true);
      expect(existsSync(join(assetDir, 'policies', 'global.csv'))).toBe(true);
      // The deployment configuration ships with the API, which registers its domains at cold start.
      // It is the configuration as synth parsed it, defaults filled in: the functions read it
      // without parsing it again (functions/adapters/aws/deployed-config.ts).
      const bundled = JSON.parse(readFileSync(join(assetDir, 'meshgate.json'), 'utf8'));
      expect(bundled.domains.map((d: { id: string }) => d.id)).toEqual(['sales', 'finance']);
      expect(bundled).toEqual(JSON.parse(JSON.stringify(config)));
      expect(fn.Properties.Environment.Variables.MESHGATE_CONFIG).toBe('./meshgate.json');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
