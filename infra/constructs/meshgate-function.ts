import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

// infra/ never imports runtime code (npm run layers): functions are referenced by file path only.
const REPO_ROOT = join(__dirname, '..', '..');
const POLICY_DIR = join(REPO_ROOT, 'policies');
/** zod less its locales, for every bundle (functions/bundling/zod.ts says why). */
const ZOD_FOR_BUNDLES = join(REPO_ROOT, 'functions', 'bundling', 'zod.ts');
/** casbin less its policy-file parser and glob matching (functions/bundling/casbin-parts.ts). */
const CASBIN_PARTS = join(REPO_ROOT, 'functions', 'bundling', 'casbin-parts.ts');
/**
 * The AWS SDK clients the functions load at first use (`import()`): each is aliased to a module of
 * `functions/bundling/aws-sdk/` that exports only the client and the commands Meshgate sends, from
 * the package's ES-module build. esbuild cannot trim a package reached by `import()` alone: it
 * wraps the package's index to evaluate it later and then keeps everything the index re-exports,
 * every command of the service and all their shapes (Glue's 223 KB in the worker, where the
 * commands sent need 48 KB). Each bundle then compiled them at every cold start, and evaluated
 * them at the first use (test/infra/bundles.test.ts lists the commands each bundle holds).
 */
const LAZY_CLIENTS = ['sqs', 'eventbridge', 'sesv2', 'glue', 'lakeformation', 'ram', 'sts'];

/**
 * How every Meshgate function is bundled (esbuild on this host, see `bundling` below). Exported
 * so that `npm run bench -- bundles` bundles the entries exactly the same way.
 */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  // Stack traces need the mappings, not a copy of every source file in each zip.
  sourcesContent: false,
  target: 'node22',
  format: OutputFormat.CJS,
  // Packages' ES-module builds first: the AWS SDK's clients then bring only the commands and
  // shapes Meshgate sends (esbuild cannot leave out parts of their CommonJS builds, which hold
  // every operation of the service). A fifth to a third of each function's cold load (issue 16).
  mainFields: ['module', 'main'],
  // The runtime's SDK v3 changes under us; the version in package-lock.json is the one tested.
  externalModules: [] as string[],
  // Passed to the esbuild command line as they are (`--alias:zod=...`). The aliases keep zod's
  // ~260 KB of locales, and what casbin imports for features Meshgate does not use, out of every
  // bundle, which each cold start would compile (issue 16).
  esbuildArgs: {
    '--alias': [
      `zod=${ZOD_FOR_BUNDLES}`,
      `csv-parse/sync=${CASBIN_PARTS}`,
      `minimatch=${CASBIN_PARTS}`,
      ...LAZY_CLIENTS.map(
        (c) =>
          `@aws-sdk/client-${c}=${join(REPO_ROOT, 'functions', 'bundling', 'aws-sdk', `${c}.mjs`)}`,
      ),
    ],
  } as Record<string, string | string[]>,
};
/** The runtime, architecture and NODE_OPTIONS of every function. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** The absolute path of a Lambda entry file, `functions/entry/<name>.ts`. */
export const functionEntry = (name: string) => join(REPO_ROOT, 'functions', 'entry', `${name}.ts`);

export interface MeshgateFunctionProps {
  /** Absolute path of a `functions/entry/*.ts` file (see `functionEntry`). */
  readonly entry: string;
  /**
   * A fixed role name. Domain accounts trust the broker callers' roles by ARN
   * (`trustedRoleArns` in infra/naming.ts), so those roles cannot have generated names.
   */
  readonly roleName?: string;
  readonly environment?: Record<string, string>;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 29 seconds: API Gateway gives up on an integration after 30 s. */
  readonly timeout?: Duration;
  readonly reservedConcurrency?: number;
  /** @default ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  readonly description?: string;
  /** Files to ship beside the code (name -> content), such as the deployment configuration. */
  readonly bundledFiles?: Record<string, string>;
}

/**
 * The one way Meshgate deploys a Lambda function: nodejs22.x on arm64, bundled offline with the
 * local esbuild (no Docker), X-Ray tracing, JSON logs into a retained log group, and a role that
 * holds nothing but what the stacks grant it.
 */
export class MeshgateFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MeshgateFunctionProps) {
    super(scope, id);
    // Written at synth time; the bundling hook (on this host) copies them next to index.js.
    const extra = props.bundledFiles ?? {};
    const extraDir =
      Object.keys(extra).length > 0 ? mkdtempSync(join(tmpdir(), 'meshgate-bundle-')) : '';
    for (const [name, content] of Object.entries(extra))
      writeFileSync(join(extraDir, name), content);

    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Meshgate ${id} function`,
    });

    // Retained: a stack rollback or deletion must not take the function's history with it.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Instead of AWSLambdaBasicExecutionRole (cdk-nag IAM4), which may write to any log group.
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(29),
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role: this.role,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        // The policy files travel inside the bundle (afterBundling below); Lambda's cwd is /var/task.
        MESHGATE_POLICY_DIR: './policies',
        ...props.environment,
      },
      bundling: {
        ...BUNDLING,
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // Runs on the host (local bundling), so the absolute repository path is valid.
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp -r "${POLICY_DIR}" "${join(outputDir, 'policies')}"`,
            ...Object.keys(extra).map(
              (name) => `cp "${join(extraDir, name)}" "${join(outputDir, name)}"`,
            ),
          ],
        },
      },
    });

    // Findings that hold for every Meshgate function, acknowledged on the exact resources.
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${this.node.path}: nodejs22.x is the runtime Meshgate is built (esbuild target node22) and tested for; moving to a newer runtime is a deliberate change of this construct and its bundling target together.`,
    });
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${this.node.path} role: xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions; no other statement of this policy may use "*" (asserted in test/infra/governance.test.ts).`,
      });
    }
  }
}
