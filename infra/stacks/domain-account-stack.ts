import { Aws, CfnOutput, Duration, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnDataLakeSettings } from 'aws-cdk-lib/aws-lakeformation';
import type { Construct } from 'constructs';
import type { DomainConfig, MeshgateConfig } from '../../config/schema';
import { brokerTrust, type BrokerTrustProps } from '../constructs/broker-trust';
import { brokerRoleName, stackName } from '../naming';
import type { z } from 'zod';

type Domain = z.infer<typeof DomainConfig>;

/** What the broker calls in Lake Formation (functions/adapters/aws/lakeformation.ts), nothing more. */
export const BROKER_LAKEFORMATION_ACTIONS = [
  'lakeformation:GrantPermissions',
  'lakeformation:BatchGrantPermissions',
  'lakeformation:RevokePermissions',
  'lakeformation:BatchRevokePermissions',
  'lakeformation:ListPermissions',
  'lakeformation:CreateDataCellsFilter',
  'lakeformation:DeleteDataCellsFilter',
] as const;

/** What the catalog adapter reads (functions/adapters/aws/glue-catalog.ts); grants also need to see the table. */
export const BROKER_GLUE_ACTIONS = [
  'glue:GetDatabase',
  'glue:GetDatabases',
  'glue:GetTable',
  'glue:GetTables',
] as const;

export interface DomainAccountStackProps extends StackProps, BrokerTrustProps {
  config: MeshgateConfig;
  /** Which of config.domains this stack is for; it is deployed in that domain's account and region. */
  domainId: string;
  /**
   * How the broker role gets the right to grant in Lake Formation.
   *
   * - `'admin'` (default): a CfnDataLakeSettings with MutationType APPEND adds it to the account's
   *   data lake administrators, leaving the other admins and settings as they are (REPLACE would
   *   rewrite the whole settings and drop admins not listed). Administrators may grant on every
   *   database of the account: that is broad, but needs nothing per database, and the role can
   *   only be used by Meshgate's functions, which grant exactly what was approved.
   * - `'none'`: nothing is written; someone with admin rights grants the broker role grantable
   *   permissions instead, for example a CfnPrincipalPermissions with ALL (and
   *   permissionsWithGrantOption ALL) on each shared database's tables. That is narrower, but needs
   *   the database names, which the configuration does not hold, and a change per new database.
   */
  lakeFormationMode?: 'admin' | 'none';
  /** Further data lake administrators to add in 'admin' mode (IAM role or user ARNs). */
  existingAdmins?: string[];
  /**
   * Consumers in other accounts: Lake Formation then shares through AWS RAM and a Glue resource
   * policy, so the broker also needs AWSLakeFormationCrossAccountManager (RAM shares named
   * LakeFormation*, glue:PutResourcePolicy). Off by default: same-account grants need none of it.
   */
  crossAccountSharing?: boolean;
}

/** The domain this stack serves, or an error naming the ones the configuration has. */
export function domainOf(config: MeshgateConfig, domainId: string): Domain {
  const domain = config.domains.find((d) => d.id === domainId);
  if (!domain) {
    throw new Error(
      `DomainAccountStack: unknown domain "${domainId}"; the configuration has ${config.domains.map((d) => `"${d.id}"`).join(', ')}.`,
    );
  }
  return domain;
}

/**
 * The broker role in one domain account: the only door Meshgate has into that account. The
 * governance worker function assumes it (with the domain's ExternalId) to read the Glue catalog
 * and to grant and revoke Lake Formation permissions; the API never does (it queues jobs).
 *
 * Deploy the governance stack first: IAM checks that every role named in a trust policy exists.
 * If those roles are ever deleted and recreated, redeploy this stack, since IAM pins a trusted
 * role by its unique id, not its name.
 */
export class DomainAccountStack extends Stack {
  readonly role: iam.Role;
  readonly domain: Domain;

  constructor(scope: Construct, id: string, props: DomainAccountStackProps) {
    const domain = domainOf(props.config, props.domainId);
    super(scope, id, {
      ...props,
      env: props.env ?? { account: domain.accountId, region: domain.region },
      stackName: props.stackName ?? stackName(props.config.stage, `Domain-${domain.id}`),
    });
    this.domain = domain;
    const { config } = props;
    if (!Token.isUnresolved(this.account) && this.account !== domain.accountId) {
      throw new Error(
        `DomainAccountStack ${domain.id}: deployed to account ${this.account}, but the domain's account is ${domain.accountId}.`,
      );
    }
    if (!Token.isUnresolved(this.region) && this.region !== domain.region) {
      throw new Error(
        `DomainAccountStack ${domain.id}: deployed to region ${this.region}, but the domain's region is ${domain.region}.`,
      );
    }

    // "arn:aws:iam::111111111111:role/some/path/meshgate-broker": the name is the last segment and
    // anything between role/ and the name is the role's path; both must match the configured ARN.
    const afterRole = domain.brokerRoleArn.split(':role/')[1]!;
    const segments = afterRole.split('/');
    const path = segments.length > 1 ? `/${segments.slice(0, -1).join('/')}/` : undefined;

    const trust = brokerTrust(`DomainAccountStack ${domain.id}`, config, domain.externalId, props);
    this.role = new iam.Role(this, 'BrokerRole', {
      roleName: brokerRoleName(domain.brokerRoleArn),
      ...(path ? { path } : {}),
      description: `Meshgate ${config.stage}: grants and revokes Lake Formation access for domain ${domain.id}`,
      // Only the governance worker's own role (and an operator's, when named): brokerTrust.
      assumedBy: trust.assumedBy,
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: {
        'meshgate-broker': new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'LakeFormationGrants',
              actions: [...BROKER_LAKEFORMATION_ACTIONS],
              // Lake Formation authorises these per resource with its own permissions (the
              // broker's grantable rights); IAM supports no resource ARNs for them.
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'GlueCatalogRead',
              actions: [...BROKER_GLUE_ACTIONS],
              resources: [
                `arn:${Aws.PARTITION}:glue:${domain.region}:${domain.accountId}:catalog`,
                `arn:${Aws.PARTITION}:glue:${domain.region}:${domain.accountId}:database/*`,
                `arn:${Aws.PARTITION}:glue:${domain.region}:${domain.accountId}:table/*/*`,
              ],
            }),
          ],
        }),
      },
    });
    if (trust.operatorStatement) this.role.assumeRolePolicy!.addStatements(trust.operatorStatement);
    const v = Validations.of(this.role);
    v.acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Lake Formation Grant/Revoke/BatchGrant/BatchRevoke/ListPermissions and Create/DeleteDataCellsFilter support no resource-level IAM permissions; Lake Formation itself limits what the broker may grant.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:${domain.region}:${domain.accountId}:database/*]`,
        reason:
          'The broker lists and reads every database of the domain catalog (GetDatabases needs database/*); read-only, this account only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:${domain.region}:${domain.accountId}:table/*/*]`,
        reason:
          'The broker reads the tables of any database the domain publishes (GetTables needs table/<db>/*); read-only, this account only.',
      },
    );

    if (props.crossAccountSharing) {
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('AWSLakeFormationCrossAccountManager'),
      );
      v.acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLakeFormationCrossAccountManager]',
        reason:
          'The AWS-maintained policy Lake Formation documents for cross-account grants (RAM shares limited to LakeFormation*, Glue resource policies); AWS keeps it in step with the service.',
      });
    }

    if ((props.lakeFormationMode ?? 'admin') === 'admin') {
      const admins = [...new Set([this.role.roleArn, ...(props.existingAdmins ?? [])])];
      new CfnDataLakeSettings(this, 'DataLakeSettings', {
        mutationType: 'APPEND',
        admins: admins.map((arn) => ({ dataLakePrincipalIdentifier: arn })),
      });
    }

    new CfnOutput(this, 'BrokerRoleArn', {
      value: this.role.roleArn,
      description: `The role Meshgate assumes in domain ${domain.id} (config: ${domain.brokerRoleArn})`,
    });
  }
}
