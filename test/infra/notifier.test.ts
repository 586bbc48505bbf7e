import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../config/schema';
import { EVENT_SOURCE, NOTIFIER_DETAIL_TYPES } from '../../functions/ports/events';
import { ApiStack } from '../../infra/stacks/api-stack';
import { DataStack } from '../../infra/stacks/data-stack';
import { functionRoleName, stackName } from '../../infra/naming';

// The notifier in the API stack: its function, the rule that feeds it every status change from
// the bus, and e-mail through SES from the configured identity only.

const example = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'config', 'example.json'), 'utf8'),
);

function synth(over: Record<string, unknown> = {}) {
  const config = parseConfig({ ...example, ...over });
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const env = { account: config.governance.account, region: config.governance.region };
  const data = new DataStack(app, stackName(config.stage, 'Data'), { env, config });
  const api = new ApiStack(app, stackName(config.stage, 'Api'), {
    env,
    config,
    table: data.table,
    auditBucket: data.auditBucket,
  });
  return { config, t: Template.fromStack(api) };
}

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};
function statementsOf(t: Template, roleName: string): Statement[] {
  const roles = t.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } });
  const [roleId] = Object.keys(roles);
  expect(roleId).toBeDefined();
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      (p.Properties.Roles as unknown[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const { config, t } = synth();

test('a rule sends every status change and every stage awaiting approval of the bus to the notifier function', () => {
  const fns = t.findResources('AWS::Lambda::Function', {
    Properties: {
      Description: 'Meshgate notifier (notification centre, e-mail and chat on status changes)',
    },
  });
  const [fnId] = Object.keys(fns);
  expect(fnId).toBeDefined();
  const rules = Object.values(t.findResources('AWS::Events::Rule'));
  const rule = rules.find((r) =>
    (r.Properties.Targets as { Arn: unknown }[]).some(
      (x) => JSON.stringify(x.Arn) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
    ),
  );
  expect(rule).toBeDefined();
  // The event the runtime publishes (ports/events.ts), on the Meshgate bus.
  expect(rule!.Properties.EventPattern).toEqual({
    source: [EVENT_SOURCE],
    'detail-type': [...NOTIFIER_DETAIL_TYPES],
  });
  expect(JSON.stringify(rule!.Properties.EventBusName)).toMatch(/Bus/);
  const env = Object.values(fns)[0]!.Properties.Environment.Variables;
  expect(env).toMatchObject({ MESHGATE_CONFIG: './meshgate.json' });
});

test('ses:SendEmail from the configured identity only (and its configuration set), for the notifier and the sweep alone', () => {
  const from = config.notifications!.emailFrom;
  for (const fn of ['notifier', 'scheduled']) {
    const ses = statementsOf(t, functionRoleName(config.stage, fn)).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('ses:')),
    );
    expect(ses).toHaveLength(1);
    expect(ses[0]!.Action).toBe('ses:SendEmail');
    const resources = JSON.stringify(ses[0]!.Resource);
    expect(resources).toContain(`:identity/${from}`);
    // And the configuration set SES applies to the identity, if its owner attaches one: SES
    // checks that too. The only wildcard.
    expect(resources).toContain(':configuration-set/*');
    expect(resources.replace(':configuration-set/*', '')).not.toContain('*');
    expect(ses[0]!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': from } });
  }
  for (const fn of ['api', 'worker'])
    expect(
      statementsOf(t, functionRoleName(config.stage, fn)).some((s) =>
        [s.Action].flat().some((a) => a.startsWith('ses:')),
      ),
    ).toBe(false);
});

test('without an e-mail identity no function may send e-mail', () => {
  const { t: plain } = synth({ notifications: undefined });
  const all = Object.values(plain.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Statement[],
  );
  expect(all.some((s) => [s.Action].flat().some((a) => a.startsWith('ses:')))).toBe(false);
});
