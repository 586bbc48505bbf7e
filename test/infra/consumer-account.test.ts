import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../config/schema';
import { trustedRoleArns } from '../../infra/naming';
import { ApiStack } from '../../infra/stacks/api-stack';
import { ConsumerAccountStack } from '../../infra/stacks/consumer-account-stack';
import { DataStack } from '../../infra/stacks/data-stack';

// A consumer account gets the same small stack as a domain account: a broker role the
// governance functions assume with its ExternalId, here allowed only the consumer's last mile.

const example = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'config', 'example.json'), 'utf8'),
);
const CONSUMER = {
  id: 'analytics',
  accountId: '777777777777',
  region: 'eu-west-1',
  brokerRoleArn: 'arn:aws:iam::777777777777:role/meshgate-broker',
  externalId: 'analytics-external-id',
};
const config = parseConfig({ ...example, consumerAccounts: [CONSUMER] });
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

const stack = new ConsumerAccountStack(newApp(), 'Consumer', { config, consumerId: 'analytics' });
const template = Template.fromStack(stack);
const role = () =>
  Object.values(template.findResources('AWS::IAM::Role'))[0]!.Properties as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const statements = () =>
  role().Policies.flatMap(
    (p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement,
  ) as Statement[];

test('is deployed in the consumer account, with the configured role name', () => {
  expect(stack.account).toBe('777777777777');
  expect(stack.region).toBe('eu-west-1');
  expect(stack.stackName).toBe(`Meshgate-${config.stage}-Consumer-analytics`);
  expect(role().RoleName).toBe('meshgate-broker');
  expect(role().MaxSessionDuration).toBe(3600);
});

test('only the governance functions may assume it, with the ExternalId, from the governance account', () => {
  const trust = role().AssumeRolePolicyDocument.Statement as Array<{
    Principal: { AWS: string | string[] };
    Condition: Record<string, Record<string, string>>;
  }>;
  expect(trust.flatMap((t) => list(t.Principal.AWS)).sort()).toEqual(
    trustedRoleArns(config).sort(),
  );
  for (const t of trust)
    expect(t.Condition.StringEquals).toEqual({
      'sts:ExternalId': 'analytics-external-id',
      'aws:PrincipalAccount': config.governance.account,
    });
});

describe('an operator role for a local run (-c operatorRoleArn, -c operatorOnly), as for a domain account', () => {
  const OPERATOR = 'arn:aws:iam::444444444444:role/Admin';
  const consumerStack = (props: { operatorRoleArn?: string; trustGovernanceRoles?: boolean }) =>
    new ConsumerAccountStack(newApp(), 'Consumer', { config, consumerId: 'analytics', ...props });
  /** Who may assume the role, with the terms, one entry per principal. */
  const trustOf = (s: ConsumerAccountStack) =>
    (
      Object.values(Template.fromStack(s).findResources('AWS::IAM::Role'))[0]!.Properties
        .AssumeRolePolicyDocument.Statement as Array<{
        Principal: { AWS: string | string[] };
        Condition: { StringEquals: Record<string, string> };
      }>
    )
      .flatMap((t) => list(t.Principal.AWS).map((p) => [p, t.Condition.StringEquals]))
      .sort();
  const operator = [
    OPERATOR,
    { 'sts:ExternalId': CONSUMER.externalId, 'aws:PrincipalAccount': '444444444444' },
  ];
  const governance = trustedRoleArns(config).map((arn) => [
    arn,
    { 'sts:ExternalId': CONSUMER.externalId, 'aws:PrincipalAccount': config.governance.account },
  ]);

  test('an operator role may assume it too, with its ExternalId, from its own account', () => {
    expect(trustOf(consumerStack({ operatorRoleArn: OPERATOR }))).toEqual(
      [...governance, operator].sort(),
    );
  });

  test('operator only: the operator role alone, so the stack deploys before the governance stacks', () => {
    expect(
      trustOf(consumerStack({ operatorRoleArn: OPERATOR, trustGovernanceRoles: false })),
    ).toEqual([operator]);
    expect(() => consumerStack({ trustGovernanceRoles: false })).toThrow(
      'ConsumerAccountStack analytics: trusting no governance role needs an operator role (operatorRoleArn), or nobody could assume the broker role.',
    );
    expect(() => consumerStack({ operatorRoleArn: 'arn:aws:iam::444444444444:user/x' })).toThrow(
      'ConsumerAccountStack analytics: operatorRoleArn "arn:aws:iam::444444444444:user/x" is not an IAM role ARN',
    );
  });

  test('passes the AWS Solutions checks in both modes', () => {
    for (const s of [
      consumerStack({ operatorRoleArn: OPERATOR }),
      consumerStack({ operatorRoleArn: OPERATOR, trustGovernanceRoles: false }),
    ]) {
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s as Stack);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    }
  });
});

test('it may accept RAM invitations, manage links in meshgate_* databases only, and grant DESCRIBE', () => {
  const bySid = Object.fromEntries(statements().map((s) => [s.Sid, s]));
  expect(list(bySid.AcceptLakeFormationShares!.Action).sort()).toEqual([
    'ram:AcceptResourceShareInvitation',
    'ram:GetResourceShareInvitations',
  ]);
  expect(list(bySid.ResourceLinks!.Action)).toEqual(
    expect.arrayContaining([
      'glue:CreateTable',
      'glue:DeleteTable',
      'glue:CreateDatabase',
      'glue:GetTables',
    ]),
  );
  const resources = JSON.stringify(bySid.ResourceLinks!.Resource);
  expect(resources).toContain(':777777777777:database/meshgate_*');
  expect(resources).toContain(':777777777777:table/meshgate_*/*');
  expect(resources).not.toMatch(/database\/\*"|table\/\*\//);
  expect(list(bySid.DescribeOnLinks!.Action).sort()).toEqual([
    'lakeformation:GrantPermissions',
    'lakeformation:ListPermissions',
    'lakeformation:RevokePermissions',
  ]);
  // Nothing of the domain broker's: no grants of data, no filters, no reads of other databases
  // (Glue's reads, GetTables included, are only in the statement bound to meshgate_* above).
  const all = statements().flatMap((s) => list(s.Action));
  expect(all).not.toContain('lakeformation:BatchGrantPermissions');
  const glueReads = statements().filter((s) =>
    list(s.Action).some((a) => a.startsWith('glue:Get')),
  );
  expect(glueReads.map((s) => s.Sid)).toEqual(['ResourceLinks']);
});

test('it is a data lake administrator of the account (APPEND), or nothing is written in none mode', () => {
  template.hasResourceProperties('AWS::LakeFormation::DataLakeSettings', {
    MutationType: 'APPEND',
  });
  Template.fromStack(
    new ConsumerAccountStack(newApp(), 'C2', {
      config,
      consumerId: 'analytics',
      lakeFormationMode: 'none',
    }),
  ).resourceCountIs('AWS::LakeFormation::DataLakeSettings', 0);
});

test('passes the AWS Solutions checks', () => {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack as Stack);
  expect(report.violations.map((v) => v.ruleName)).toEqual([]);
});

test('an unknown consumer account, or a deployment in another account, is refused', () => {
  expect(() => new ConsumerAccountStack(newApp(), 'X', { config, consumerId: 'nope' })).toThrow(
    /unknown consumer account "nope"; the configuration has "analytics"/,
  );
  expect(
    () =>
      new ConsumerAccountStack(newApp(), 'X', {
        config,
        consumerId: 'analytics',
        env: { account: '123456789012', region: 'eu-west-1' },
      }),
  ).toThrow(/deployed to account 123456789012/);
});

test("the governance functions may assume the consumer account's broker role", () => {
  const app = newApp();
  const env = { account: config.governance.account, region: config.governance.region };
  const data = new DataStack(app, 'Data', { env, config });
  const api = new ApiStack(app, 'Api', {
    env,
    config,
    table: data.table,
    auditBucket: data.auditBucket,
  });
  const policies = Template.fromStack(api).findResources('AWS::IAM::Policy');
  const assumable = Object.values(policies)
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
    .filter((s) => list(s.Action).includes('sts:AssumeRole'))
    .flatMap((s) => list(s.Resource as string | string[]));
  expect(assumable).toContain(CONSUMER.brokerRoleArn);
});
