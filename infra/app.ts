import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from './config';
import { stackName } from './naming';
import { ApiStack } from './stacks/api-stack';
import { DataStack } from './stacks/data-stack';
import { DomainAccountStack } from './stacks/domain-account-stack';
import { ConsumerAccountStack } from './stacks/consumer-account-stack';
import { WebStack } from './stacks/web-stack';

// One governance deployment (data, API, web) in the central account, and one broker stack in
// each domain account, all from one typed configuration file.
const app = new App();
const { config, path } = loadConfig(app.node.tryGetContext('config'));
const governance = { account: config.governance.account, region: config.governance.region };

const data = new DataStack(app, stackName(config.stage, 'Data'), {
  env: governance,
  config,
  description: `Meshgate ${config.stage}: tables and audit archive (${path})`,
});
// Cognito sends people back to the UI (the root page) after signing in or out: only to the
// configured web URLs. Until there are some (the first deploy), the client names the local portal,
// which Cognito requires one of and which nobody signs in through (it has its own sign-in).
const configured = [...new Set(config.web.urls.map((u) => new URL('/', u).href))];
const returnUrls = configured.length > 0 ? configured : ['http://localhost:3000/'];
const api = new ApiStack(app, stackName(config.stage, 'Api'), {
  env: governance,
  config,
  table: data.table,
  auditBucket: data.auditBucket,
  callbackUrls: returnUrls,
  logoutUrls: returnUrls,
  description: `Meshgate ${config.stage}: API, worker, schedules`,
});
new WebStack(app, stackName(config.stage, 'Web'), {
  env: governance,
  config,
  apiUrl: api.apiUrl,
  userPoolId: api.userPool.userPoolId,
  userPoolClientId: api.userPoolClient.userPoolClientId,
  signInUrl: api.signInUrl,
  description: `Meshgate ${config.stage}: approvals web UI`,
});
// For a local run against AWS (docs/deployment.md): `-c operatorRoleArn=<arn>` lets that role
// assume the broker roles (domain and consumer accounts') too, and `-c operatorOnly=true` trusts
// it alone.
const operatorRoleArn = app.node.tryGetContext('operatorRoleArn') as string | undefined;
const operatorOnly = String(app.node.tryGetContext('operatorOnly')) === 'true';
for (const d of config.domains) {
  new DomainAccountStack(app, stackName(config.stage, `Domain-${d.id}`), {
    env: { account: d.accountId, region: d.region },
    config,
    domainId: d.id,
    crossAccountSharing: config.crossAccountSharing,
    operatorRoleArn,
    trustGovernanceRoles: !operatorOnly,
    description: `Meshgate ${config.stage}: broker role for domain ${d.id}`,
  });
}

for (const c of config.consumerAccounts) {
  new ConsumerAccountStack(app, stackName(config.stage, `Consumer-${c.id}`), {
    env: { account: c.accountId, region: c.region },
    config,
    consumerId: c.id,
    operatorRoleArn,
    trustGovernanceRoles: !operatorOnly,
    description: `Meshgate ${config.stage}: broker role for consumer account ${c.id}`,
  });
}

Tags.of(app).add('meshgate:stage', config.stage);
// Every synth is checked against the AWS Solutions rules; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
