import { Aws, CfnOutput, Duration, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnDataLakeSettings } from 'aws-cdk-lib/aws-lakeformation';
import type { Construct } from 'constructs';
import type { ConsumerAccountConfig, MeshgateConfig } from '../../config/schema';
import { brokerTrust, type BrokerTrustProps } from '../constructs/broker-trust';
import { brokerRoleName, stackName } from '../naming';
import type { z } from 'zod';

type ConsumerAccount = z.infer<typeof ConsumerAccountConfig>;

/** The resource links' databases: `meshgate_<domain>` (functions/domain/consumer.ts). */
export const LINK_DATABASE_PREFIX = 'meshgate_';

/** What the consumer links adapter calls in RAM (functions/adapters/aws/consumer-links.ts). */
export const CONSUMER_RAM_ACTIONS = [
  'ram:GetResourceShareInvitations',
  'ram:AcceptResourceShareInvitation',
] as const;

/**
 * Glue: the link databases and the links in them, nothing else of the consumer's catalog (GetTables
 * lists a link database for reconciliation, which removes the links no grant uses).
 */
export const CONSUMER_GLUE_ACTIONS = [
  'glue:GetDatabase',
  'glue:CreateDatabase',
  'glue:GetTable',
  'glue:GetTables',
  'glue:CreateTable',
  'glue:DeleteTable',
] as const;

/**
 * Lake Formation: DESCRIBE on the links for the grant's principal, and the listing of permissions
 * that reconciliation reads to find the DESCRIBE no grant uses.
 */
export const CONSUMER_LAKEFORMATION_ACTIONS = [
  'lakeformation:GrantPermissions',
  'lakeformation:RevokePermissions',
  'lakeformation:ListPermissions',
] as const;

export interface ConsumerAccountStackProps extends StackProps, BrokerTrustProps {
  config: MeshgateConfig;
  /** Which of config.consumerAccounts (by id) this stack is for; deployed in that account and region. */
  consumerId: string;
  /**
   * `'admin'` (default): the broker role is added (MutationType APPEND) to the account's data lake
   * administrators, which Lake Formation requires to create databases in a catalog it governs and
   * to grant DESCRIBE on the links. `'none'`: someone with admin rights grants it database creation
   * and grantable DESCRIBE instead.
   */
  lakeFormationMode?: 'admin' | 'none';
}

/** The consumer account this stack serves, or an error naming the ones the configuration has. */
export function consumerOf(config: MeshgateConfig, consumerId: string): ConsumerAccount {
  const c = config.consumerAccounts.find((a) => a.id === consumerId);
  if (!c)
    throw new Error(
      `ConsumerAccountStack: unknown consumer account "${consumerId}"; the configuration has ${
        config.consumerAccounts.map((a) => `"${a.id}"`).join(', ') || 'none'
      }.`,
    );
  return c;
}

/**
 * The broker role in a consumer account: the same small stack as a domain account's, trusting the
 * same governance functions with the account's ExternalId, and allowed only what the consumer's
 * last mile needs: accept the producing accounts' RAM invitations, create and delete resource
 * links in the `meshgate_*` databases, and grant DESCRIBE on them.
 */
export class ConsumerAccountStack extends Stack {
  readonly role: iam.Role;
  readonly consumer: ConsumerAccount;

  constructor(scope: Construct, id: string, props: ConsumerAccountStackProps) {
    const consumer = consumerOf(props.config, props.consumerId);
    super(scope, id, {
      ...props,
      env: props.env ?? { account: consumer.accountId, region: consumer.region },
      stackName: props.stackName ?? stackName(props.config.stage, `Consumer-${consumer.id}`),
    });
    this.consumer = consumer;
    const { config } = props;
    if (!Token.isUnresolved(this.account) && this.account !== consumer.accountId)
      throw new Error(
        `ConsumerAccountStack ${consumer.id}: deployed to account ${this.account}, but the consumer account is ${consumer.accountId}.`,
      );

    const afterRole = consumer.brokerRoleArn.split(':role/')[1]!;
    const segments = afterRole.split('/');
    const path = segments.length > 1 ? `/${segments.slice(0, -1).join('/')}/` : undefined;
    const arn = (what: string) =>
      `arn:${Aws.PARTITION}:glue:${consumer.region}:${consumer.accountId}:${what}`;

    const trust = brokerTrust(
      `ConsumerAccountStack ${consumer.id}`,
      config,
      consumer.externalId,
      props,
    );
    this.role = new iam.Role(this, 'BrokerRole', {
      roleName: brokerRoleName(consumer.brokerRoleArn),
      ...(path ? { path } : {}),
      description: `Meshgate ${config.stage}: resource links for the grants of consumer account ${consumer.id}`,
      // As the domain broker: the governance worker's role (and an operator's, when named).
      assumedBy: trust.assumedBy,
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: {
        'meshgate-consumer-broker': new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'AcceptLakeFormationShares',
              actions: [...CONSUMER_RAM_ACTIONS],
              // Invitations have ARNs in the sender's account, unknown before they are sent.
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'ResourceLinks',
              actions: [...CONSUMER_GLUE_ACTIONS],
              resources: [
                arn('catalog'),
                arn(`database/${LINK_DATABASE_PREFIX}*`),
                arn(`table/${LINK_DATABASE_PREFIX}*/*`),
              ],
            }),
            new iam.PolicyStatement({
              sid: 'DescribeOnLinks',
              actions: [...CONSUMER_LAKEFORMATION_ACTIONS],
              // Lake Formation authorises these itself; IAM supports no resource ARNs for them.
              // ListPermissions answers only what the role may see as a data lake administrator.
              resources: ['*'],
            }),
          ],
        }),
      },
    });
    if (trust.operatorStatement) this.role.assumeRolePolicy!.addStatements(trust.operatorStatement);
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'RAM invitations are named by the sending account, and Lake Formation Grant/RevokePermissions support no resource-level IAM permissions; Lake Formation limits what the broker may grant.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:${consumer.region}:${consumer.accountId}:database/${LINK_DATABASE_PREFIX}*]`,
        reason: "Only Meshgate's own link databases (meshgate_<domain>), one per producing domain.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:${consumer.region}:${consumer.accountId}:table/${LINK_DATABASE_PREFIX}*/*]`,
        reason: "Only the resource links in Meshgate's own link databases.",
      },
    );

    if ((props.lakeFormationMode ?? 'admin') === 'admin') {
      new CfnDataLakeSettings(this, 'DataLakeSettings', {
        mutationType: 'APPEND',
        admins: [{ dataLakePrincipalIdentifier: this.role.roleArn }],
      });
    }

    new CfnOutput(this, 'BrokerRoleArn', {
      value: this.role.roleArn,
      description: `The role Meshgate assumes in consumer account ${consumer.id} (config: ${consumer.brokerRoleArn})`,
    });
  }
}
