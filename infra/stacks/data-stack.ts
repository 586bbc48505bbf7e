import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { MeshgateConfig } from '../../config/schema';

/**
 * The table's global secondary indexes, each keyed `<name>pk` / `<name>sk` (strings), projecting
 * ALL. Must match `tableDefinition` in functions/adapters/aws/dynamo/keys.ts, which infra/ may
 * not import; test/infra/governance.test.ts compares the two.
 */
export const TABLE_INDEXES = ['gsi1', 'gsi2', 'gsi3', 'gsi4', 'gsi5'] as const;

export interface DataStackProps extends StackProps {
  readonly config: MeshgateConfig;
  /** How long each archived audit event is immutable (Object Lock, compliance mode). @default 2555 (7 years) */
  readonly auditRetentionDays?: number;
}

/**
 * The stateful half of the governance account: the table and the audit archive. Kept apart from
 * the API stack so that the stateless resources can be replaced freely; everything here is
 * retained when the stack goes.
 */
export class DataStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly auditBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    // Log delivery by bucket policy, not the LogDeliveryWrite ACL: the log bucket enforces bucket
    // ownership (ACLs disabled). Set here so that it holds whatever the app's cdk.json says.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { config } = props;

    const key = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: config.tableName,
      partitionKey: key('pk'),
      sortKey: key('sk'),
      globalSecondaryIndexes: TABLE_INDEXES.map((indexName) => ({
        indexName,
        partitionKey: key(`${indexName}pk`),
        sortKey: key(`${indexName}sk`),
        projectionType: dynamodb.ProjectionType.ALL,
      })),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // AWS managed key (aws/dynamodb): encrypted at rest with key use in CloudTrail, and no key
      // policy for every reader to be added to: the stream consumer and the API functions live in
      // another stack, and a customer managed key would need grants there and a rotation story here.
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      // The archiver copies each new audit item into the Object Lock bucket; it needs the new image only.
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Not access-logged itself (it would log into itself); cdk-nag's S1 accepts a log destination.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption S3 server access logging writes to
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // S3-managed keys, not KMS: the archive must stay readable for its whole retention, and a
    // disabled or deleted customer key would make compliance-locked objects unreadable for years.
    this.auditBucket = new s3.Bucket(this, 'AuditArchive', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(
        Duration.days(props.auditRetentionDays ?? 2555),
      ),
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'audit-archive/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
