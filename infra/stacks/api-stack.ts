import {
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  CorsHttpMethod,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { MeshgateConfig } from '../../config/schema';
import { functionEntry, MeshgateFunction } from '../constructs/meshgate-function';
import { APP_FUNCTIONS, BROKER_CALLERS, functionRoleName, type AppFunction } from '../naming';
import { TABLE_INDEXES } from './data-stack';

export interface ApiStackProps extends StackProps {
  readonly config: MeshgateConfig;
  /** The table of the data stack (with its stream). */
  readonly table: dynamodb.ITableV2;
  /** The Object Lock audit archive of the data stack. */
  readonly auditBucket: s3.IBucket;
  /** Where Cognito may send users back after sign-in. @default the local portal */
  readonly callbackUrls?: string[];
  /** @default the local portal */
  readonly logoutUrls?: string[];
  /** The hosted sign-in domain, `<prefix>.auth.<region>.amazoncognito.com`. @default meshgate-<stage>-<account> */
  readonly authDomainPrefix?: string;
}

// The worker runs syncs and reconciliations too (a domain's whole catalog or grants in one job).
const WORKER_TIMEOUT = Duration.minutes(5);

/** What each schedule asks the scheduled function to do (functions/entry/scheduled.ts). */
const SCHEDULES = [
  { task: 'sweep', expression: 'rate(5 minutes)' },
  { task: 'sync', expression: 'rate(1 hour)' },
  { task: 'reconcile', expression: 'rate(6 hours)' },
] as const;

/**
 * The stateless half of the governance account: sign-in, the HTTP API, the fulfilment queue, the
 * lifecycle event bus, the functions and their schedules, and the alarms on all of them.
 */
export class ApiStack extends Stack {
  readonly apiUrl: string;
  /** The Cognito hosted sign-in base URL. */
  readonly signInUrl: string;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, table, auditBucket } = props;
    const stage = config.stage;

    // ---- Sign-in ----------------------------------------------------------------------------
    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `meshgate-${stage}`,
      // Accounts are created by an administrator: access to data is not self-service.
      selfSignUpEnabled: false,
      // The username is the Meshgate user id (config admins/compliance/auditors, domain owners);
      // people may sign in with it or with their email address.
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Approvers decide who reads which data: a password alone is not enough. TOTP, not SMS
      // (SIM swapping, and no SMS role or spend to manage).
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus: compromised-credential checks and adaptive authentication for those approvers.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Platform roles only; domain owners and stewards are memberships kept in Meshgate itself.
    for (const [groupId, groupName, description] of [
      ['AdminGroup', 'admin', 'Meshgate platform administrators'],
      ['ComplianceGroup', 'compliance', 'Compliance officers (second approval stage)'],
      ['AuditorGroup', 'auditor', 'Auditors (read the audit trail)'],
    ] as const) {
      this.userPool.addGroup(groupId, { groupName, description });
    }
    const authDomain = this.userPool.addDomain('SignIn', {
      cognitoDomain: {
        domainPrefix: props.authDomainPrefix ?? `meshgate-${stage}-${this.account}`,
      },
    });
    // A public client (the browser cannot keep a secret): authorization code flow, with PKCE
    // sent by the web client (code_challenge S256); no implicit grant, no password flow.
    this.userPoolClient = this.userPool.addClient('WebClient', {
      userPoolClientName: `meshgate-${stage}-web`,
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: props.callbackUrls ?? ['http://localhost:3000/'],
        logoutUrls: props.logoutUrls ?? props.callbackUrls ?? ['http://localhost:3000/'],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });

    // ---- Queue and bus ------------------------------------------------------------------------
    const jobsDlq = new sqs.Queue(this, 'JobsDlq', {
      queueName: `meshgate-${stage}-jobs-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const jobs = new sqs.Queue(this, 'Jobs', {
      queueName: `meshgate-${stage}-jobs`,
      // Lambda's guidance for SQS sources: six times the function timeout, so that a batch
      // being retried by the poller is not delivered to a second worker meanwhile.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: jobsDlq, maxReceiveCount: 5 },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // Stream batches the archiver gave up on (their shard and sequence numbers, not the records).
    const archiveFailures = new sqs.Queue(this, 'ArchiveFailures', {
      queueName: `meshgate-${stage}-archive-failures`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(archiveFailures.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `${archiveFailures.node.path} is itself a dead-letter destination: the archiver's stream event source mapping sends failed batches to it (OnFailure); nothing consumes it to fail again.`,
    });

    const bus = new events.EventBus(this, 'Bus', {
      eventBusName: config.eventBusName ?? `meshgate-${stage}`,
    });

    // ---- Functions ----------------------------------------------------------------------------
    const environment = {
      MESHGATE_TABLE_NAME: table.tableName,
      MESHGATE_QUEUE_URL: jobs.queueUrl,
      MESHGATE_EVENT_BUS_NAME: bus.eventBusName,
    };
    // The API and the scheduled function register the configured domains (with their broker
    // roles), owners and global roles at cold start, from the same file the app deployed from.
    const bundledFiles = { 'meshgate.json': JSON.stringify(props.config) };
    const withConfig = { ...environment, MESHGATE_CONFIG: './meshgate.json' };
    const callers: Record<AppFunction, MeshgateFunction> = {
      api: new MeshgateFunction(this, 'Api', {
        entry: functionEntry('api'),
        roleName: functionRoleName(stage, 'api'),
        environment: withConfig,
        bundledFiles,
        description: 'Meshgate HTTP API',
      }),
      worker: new MeshgateFunction(this, 'Worker', {
        entry: functionEntry('worker'),
        roleName: functionRoleName(stage, 'worker'),
        environment,
        timeout: WORKER_TIMEOUT,
        description:
          'Meshgate worker (grants, revocations, catalog syncs and reconciliations in domain accounts)',
      }),
      scheduled: new MeshgateFunction(this, 'Scheduled', {
        entry: functionEntry('scheduled'),
        roleName: functionRoleName(stage, 'scheduled'),
        environment: withConfig,
        bundledFiles,
        // The sweep pages through the grants and requests in flight; sync and reconcile only queue
        // one job per domain for the worker.
        timeout: Duration.minutes(5),
        description: 'Meshgate expiry sweep; queues the catalog syncs and reconciliations',
      }),
    };

    // Exactly the store's operations, on the table and its three indexes: nothing here scans or
    // reads the stream, and an index wildcard would also cover any index added later.
    const tableArns = [
      table.tableArn,
      ...TABLE_INDEXES.map((index) => `${table.tableArn}/index/${index}`),
    ];
    const tableAccess = (buildsSearchIndex = false) =>
      new iam.PolicyStatement({
        sid: 'MeshgateTable',
        // GetItem, BatchGetItem (the products of an inbox page), Query, UpdateItem (fulfilment
        // progress), and PutItem/DeleteItem/ConditionCheckItem inside TransactWriteItems.
        // BatchWriteItem only where the search index is built (its chunks, written and deleted after
        // a sync and in the sweep: adapters/aws/dynamo-search-index.ts); the API never builds it.
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:ConditionCheckItem',
          ...(buildsSearchIndex ? ['dynamodb:BatchWriteItem'] : []),
        ],
        resources: tableArns,
      });
    // Only the broker roles of the configured domains: a domain registered later through the API
    // is reachable once it is in the configuration and this stack is deployed again.
    // The consumer accounts' broker roles too: the worker makes the resource links through them.
    const brokerRoleArns = [
      ...new Set([
        ...config.domains.map((d) => d.brokerRoleArn),
        ...config.consumerAccounts.map((c) => c.brokerRoleArn),
      ]),
    ];
    for (const name of APP_FUNCTIONS) {
      const caller = callers[name];
      caller.role.addToPrincipalPolicy(tableAccess(name !== 'api'));
      jobs.grantSendMessages(caller.fn);
      bus.grantPutEventsTo(caller.fn);
    }
    // The worker alone reaches the domain accounts (the API and the schedules queue jobs for it).
    for (const name of BROKER_CALLERS)
      callers[name].role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeDomainBrokerRoles',
          actions: ['sts:AssumeRole'],
          resources: brokerRoleArns,
        }),
      );
    callers.worker.fn.addEventSource(
      new SqsEventSource(jobs, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // ---- Notifications ------------------------------------------------------------------------
    // The notifier: every status change, and every request awaiting a stage's approvers (a stage
    // reached or escalated), on the bus right after its commit. The scheduled
    // function's sweep catches up from the audit trail on whatever it missed (and warns of grants
    // about to end), so both may e-mail, from the configured SES identity only.
    const notifier = new MeshgateFunction(this, 'Notifier', {
      entry: functionEntry('notifier'),
      roleName: functionRoleName(stage, 'notifier'),
      environment: withConfig,
      bundledFiles,
      timeout: Duration.seconds(60),
      description: 'Meshgate notifier (notification centre, e-mail and chat on status changes)',
    });
    notifier.role.addToPrincipalPolicy(tableAccess());
    new events.Rule(this, 'NotifyOnStatusChange', {
      eventBus: bus,
      description: 'Every request status change and stage awaiting approval, to the notifier',
      // EVENT_SOURCE and NOTIFIER_DETAIL_TYPES of functions/ports/events.ts (test/infra/notifier.test.ts).
      eventPattern: {
        source: ['meshgate'],
        detailType: [
          'Meshgate Access Request Status Changed',
          'Meshgate Access Request Awaiting Approval',
        ],
      },
      targets: [new targets.LambdaFunction(notifier.fn, { retryAttempts: 4 })],
    });
    const emailFrom = config.notifications?.emailFrom;
    if (emailFrom) {
      const identities = [emailFrom, emailFrom.split('@')[1]!].map(
        (identity) =>
          `arn:${this.partition}:ses:${this.region}:${this.account}:identity/${identity}`,
      );
      // SES authorises a send on the identity and also on the configuration set that applies to
      // it (one the identity's owner attaches as its default, to track bounces and complaints,
      // at any time): without the second, every e-mail would then be refused. Any set of this
      // account, still only from the configured address.
      // As cdk-nag names the resource: an unresolved region or account as its pseudo parameter.
      const shown = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
      const configurationSets = `arn:${this.partition}:ses:${this.region}:${this.account}:configuration-set/*`;
      for (const fn of [notifier, callers.scheduled]) {
        fn.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'SendNotificationEmail',
            actions: ['ses:SendEmail'],
            resources: [...identities, configurationSets],
            conditions: { StringEquals: { 'ses:FromAddress': emailFrom } },
          }),
        );
        Validations.of(fn.role.node.findChild('DefaultPolicy')).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:${shown(this.region, 'Region')}:${shown(this.account, 'AccountId')}:configuration-set/*]`,
          reason: `${fn.node.path} role: ses:SendEmail from ${emailFrom} only (ses:FromAddress); SES also checks the configuration set attached to the identity, whose name the deployment does not know.`,
        });
      }
    }

    // The archiver only appends to the archive: s3:PutObject under audit/, no read, no delete,
    // no retention or legal-hold changes (grantPut would add those).
    const archiver = new MeshgateFunction(this, 'Archiver', {
      entry: functionEntry('archiver'),
      roleName: functionRoleName(stage, 'archiver'),
      environment: { MESHGATE_AUDIT_BUCKET: auditBucket.bucketName },
      timeout: Duration.seconds(60),
      description: 'Meshgate audit archive (table stream to the Object Lock bucket)',
    });
    const bucketStack = Stack.of(auditBucket);
    if (bucketStack === this)
      throw new Error('ApiStack expects the audit bucket of another stack (the data stack).');
    // A named export, so that the wildcard finding below can be acknowledged by its exact name.
    const auditArnExport = `${bucketStack.stackName}-AuditArchiveArn`;
    const auditObjects = Fn.join('', [
      bucketStack.exportValue(auditBucket.bucketArn, { name: auditArnExport }),
      '/audit/*',
    ]);
    archiver.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppendAuditArchive',
        actions: ['s3:PutObject'],
        resources: [auditObjects],
      }),
    );
    Validations.of(archiver.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${auditArnExport}/audit/*]`,
      reason: `${archiver.node.path} role: one object per audit event, keyed by day, time and id (functions/adapters/aws/archiver.ts), so the keys are not known in advance; s3:PutObject only, under audit/, in a compliance-mode Object Lock bucket.`,
    });
    // The named import is not a tracked reference: deploy the data stack first.
    this.addStackDependency(bucketStack);
    archiver.fn.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // A poison batch is split until the bad record is alone; the table keeps every audit item,
        // so a batch that still fails can be archived again from the table.
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(archiveFailures),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { kind: { S: lambda.FilterRule.isEqual('audit') } } },
          }),
        ],
      }),
    );

    // ---- HTTP API -----------------------------------------------------------------------------
    const authorizer = new HttpJwtAuthorizer(
      'Cognito',
      `https://cognito-idp.${this.region}.amazonaws.com/${this.userPool.userPoolId}`,
      {
        jwtAudience: [this.userPoolClient.userPoolClientId],
      },
    );
    const httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `meshgate-${stage}`,
      defaultAuthorizer: authorizer,
      // The web UI is served from CloudFront, another origin. Callers send a bearer token, never
      // cookies, so any origin may ask: a page without a user's token gets nothing.
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.DELETE,
          CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
      // The default stage is declared below, with access logs and throttling.
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('ApiFunction', callers.api.fn);
    httpApi.addRoutes({ path: '/v1/{proxy+}', methods: [HttpMethod.ANY], integration });
    // The contract names every admin route: signed-in callers only, like the routes it describes.
    httpApi.addRoutes({ path: '/openapi.json', methods: [HttpMethod.GET], integration });
    // POST /auth/dev-login is deliberately not routed: API Gateway answers 404 before any code
    // runs. (The API function would refuse it with 403 anyway: there is no local sign-in on AWS.)
    const [health] = httpApi.addRoutes({
      path: '/health',
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    Validations.of(health!.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: `${health!.node.path}: the liveness probe answers {"status":"ok"} and nothing else, for load balancers and uptime checks that hold no token.`,
    });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      // Who called which route, and the authorizer's verdict: kept as long as a review may ask.
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const apiStage = new HttpStage(this, 'DefaultStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            user: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.apiUrl = apiStage.url;

    // ---- Schedules ----------------------------------------------------------------------------
    const scheduled = callers.scheduled.fn;
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge Scheduler: invokes the Meshgate scheduled function',
    });
    // The function's ARN only: grantInvoke would add its versions and aliases (`:*`).
    schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [scheduled.functionArn],
      }),
    );
    for (const { task, expression } of SCHEDULES) {
      new CfnSchedule(this, `Schedule-${task}`, {
        name: `meshgate-${stage}-${task}`,
        description: `Meshgate ${task}`,
        scheduleExpression: expression,
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        target: {
          arn: scheduled.functionArn,
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify({ task }),
          // Every task is idempotent and runs again at its next rate: no day-long retries.
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 300 },
        },
      });
    }

    // ---- Alarms -------------------------------------------------------------------------------
    const alarmTopic = new sns.Topic(this, 'Alarms', {
      topicName: `meshgate-${stage}-alarms`,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one: CloudWatch alarms of this account must be let in.
    alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*`,
          },
        },
      }),
    );
    const alarmAction = new SnsAction(alarmTopic);
    const alarm = (
      alarmId: string,
      name: string,
      metric: cloudwatch.IMetric,
      description: string,
    ) => {
      new cloudwatch.Alarm(this, alarmId, {
        alarmName: `meshgate-${stage}-${name}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(alarmAction);
    };
    const minute = Duration.minutes(1);
    alarm(
      'JobsDlqAlarm',
      'jobs-dlq',
      jobsDlq.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
      'A fulfilment job failed 5 times: a grant or revocation is stuck until someone looks.',
    );
    alarm(
      'ArchiveFailuresAlarm',
      'archive-failures',
      archiveFailures.metricApproximateNumberOfMessagesVisible({
        period: minute,
        statistic: 'Maximum',
      }),
      'Audit events were not archived; the stream keeps records for 24 hours only.',
    );
    const functions = { ...callers, archiver, notifier } satisfies Record<string, MeshgateFunction>;
    for (const [name, f] of Object.entries(functions)) {
      const Name = name[0]!.toUpperCase() + name.slice(1);
      alarm(
        `${Name}ErrorsAlarm`,
        `${name}-errors`,
        f.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `The ${name} function failed.`,
      );
      alarm(
        `${Name}ThrottlesAlarm`,
        `${name}-throttles`,
        f.fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        `The ${name} function was throttled.`,
      );
    }

    new CfnOutput(this, 'ApiUrl', { value: this.apiUrl });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    this.signInUrl = authDomain.baseUrl();
    new CfnOutput(this, 'SignInDomain', { value: this.signInUrl });
    new CfnOutput(this, 'EventBusName', { value: bus.eventBusName });
    new CfnOutput(this, 'QueueUrl', { value: jobs.queueUrl });
  }
}
