import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Fn, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig, type MeshgateConfig } from '../../config/schema';
import { trustedRoleArns } from '../../infra/naming';
import {
  DomainAccountStack,
  type DomainAccountStackProps,
} from '../../infra/stacks/domain-account-stack';
import { WebStack, type WebStackProps } from '../../infra/stacks/web-stack';

const config: MeshgateConfig = parseConfig(
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'example.json'), 'utf8')),
);
const governance = { account: config.governance.account, region: config.governance.region };
const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/';

/** A stand-in for the built UI (`npm run build:web`): the stack only packages the folder. */
const WEB_DIR = mkdtempSync(join(tmpdir(), 'meshgate-web-'));
writeFileSync(join(WEB_DIR, 'index.html'), '<!doctype html><div id="app"></div>');
writeFileSync(join(WEB_DIR, 'app.js'), 'export {};');

const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

function webStack(extra: Partial<WebStackProps> = {}, app = newApp()): WebStack {
  return new WebStack(app, 'Web', {
    env: governance,
    config,
    apiUrl: API_URL,
    userPoolId: 'eu-west-1_AbCdEf123',
    userPoolClientId: 'client123',
    signInUrl: 'https://meshgate-sandbox.auth.eu-west-1.amazoncognito.com',
    webDir: WEB_DIR,
    ...extra,
  });
}

function domainStack(
  extra: Partial<DomainAccountStackProps> = {},
  domainId = 'sales',
): DomainAccountStack {
  return new DomainAccountStack(newApp(), 'Domain', { config, domainId, ...extra });
}

/** cdk-nag v3 runs as a validation plugin; validateScope gives its report without a full synth. */
function nagFindings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map(
      (r) => `[${v.severity}] ${v.ruleName} at ${r.constructPath}: ${v.description}`,
    ),
  );
}

type Statement = {
  Effect: string;
  Action: string | string[];
  Principal?: { AWS?: string | string[] };
  Condition?: Record<string, Record<string, unknown>>;
  Resource?: unknown;
};
const list = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

// Synthesised templates are untyped JSON; the assertions below say what shape they expect.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function onlyResource(template: Template, type: string): { Properties: Json } {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as { Properties: Json };
}

const logicalIdOf = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

describe('WebStack', () => {
  const stack = webStack();
  const template = Template.fromStack(stack);

  test('the site bucket is private, encrypted, versioned, TLS-only and logs its accesses', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const b of Object.values(buckets)) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(
        b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]
          .ServerSideEncryptionByDefault.SSEAlgorithm,
      ).toBe('AES256');
      expect(b.Properties.WebsiteConfiguration).toBeUndefined();
    }
    const siteId = logicalIdOf(stack.bucket);
    const site = buckets[siteId]!;
    expect(site.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const logsRef = site.Properties.LoggingConfiguration.DestinationBucketName.Ref as string;
    expect(logsRef).not.toBe(siteId);
    // CloudFront standard logs are delivered with ACLs, so the log bucket keeps them enabled.
    expect(buckets[logsRef]!.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }],
    });

    // No statement grants the world; every bucket denies plain HTTP.
    for (const policy of Object.values(template.findResources('AWS::S3::BucketPolicy'))) {
      const statements = policy.Properties.PolicyDocument.Statement as Statement[];
      for (const st of statements.filter((s) => s.Effect === 'Allow'))
        expect(JSON.stringify(st.Principal)).not.toContain('"*"');
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  test('CloudFront reaches the bucket only through Origin Access Control', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  test('the distribution redirects to HTTPS, serves index.html at the root and logs', () => {
    const dist = onlyResource(template, 'AWS::CloudFront::Distribution').Properties
      .DistributionConfig;
    expect(dist.DefaultRootObject).toBe('index.html');
    expect(dist.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(dist.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(dist.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: expect.any(String) });
    expect(dist.Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [expect.any(String), 'RegionalDomainName'] },
      Prefix: 'cloudfront/',
    });
    expect(dist.ViewerCertificate).toBeUndefined();
  });

  test('every response carries HSTS, nosniff, frame DENY, a referrer policy and a CSP naming the API', () => {
    const config = onlyResource(template, 'AWS::CloudFront::ResponseHeadersPolicy').Properties
      .ResponseHeadersPolicyConfig;
    const h = config.SecurityHeadersConfig;
    expect(h.StrictTransportSecurity).toEqual({
      AccessControlMaxAgeSec: 63072000,
      IncludeSubdomains: true,
      Preload: true,
      Override: true,
    });
    expect(h.ContentTypeOptions).toEqual({ Override: true });
    expect(h.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(h.ReferrerPolicy).toEqual({
      ReferrerPolicy: 'strict-origin-when-cross-origin',
      Override: true,
    });
    const csp = h.ContentSecurityPolicy.ContentSecurityPolicy as string;
    expect(h.ContentSecurityPolicy.Override).toBe(true);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(
      /connect-src 'self' https:\/\/abc123\.execute-api\.eu-west-1\.amazonaws\.com /,
    );
    expect(csp).not.toContain('/prod');
    expect(csp).not.toContain('unsafe');
  });

  test('with the API URL as a deploy-time token, the CSP takes its origin with CloudFormation functions', () => {
    const t = Template.fromStack(webStack({ apiUrl: Fn.importValue('MeshgateApiUrl') }));
    const csp = JSON.stringify(
      onlyResource(t, 'AWS::CloudFront::ResponseHeadersPolicy').Properties,
    );
    expect(csp).toContain(
      '"Fn::Select":[2,{"Fn::Split":["/",{"Fn::ImportValue":"MeshgateApiUrl"}]}]',
    );
  });

  test('the web files and a runtime config.json are deployed, then the edge caches are invalidated', () => {
    const deployment = onlyResource(template, 'Custom::CDKBucketDeployment').Properties;
    expect(deployment.SourceObjectKeys).toHaveLength(2);
    expect(deployment.DestinationBucketName).toEqual({ Ref: logicalIdOf(stack.bucket) });
    expect(deployment.DistributionPaths).toEqual(['/*']);
    expect(deployment.Prune).toBe(true);
  });

  test('config.json holds the API, the user pool and the stage, with deploy-time values as markers', () => {
    const app = newApp();
    const stack = webStack(
      { apiUrl: Fn.importValue('MeshgateApiUrl'), userPoolId: Fn.importValue('MeshgatePoolId') },
      app,
    );
    const assembly = app.synth();
    const dirs = readdirSync(assembly.directory).filter(
      (d) => d.startsWith('asset.') && existsSync(join(assembly.directory, d, 'config.json')),
    );
    expect(dirs).toHaveLength(1);
    const written = JSON.parse(
      readFileSync(join(assembly.directory, dirs[0]!, 'config.json'), 'utf8'),
    );
    expect(written).toEqual({
      apiUrl: expect.stringMatching(/^<<marker:0xbaba:\d+>>$/),
      region: 'eu-west-1',
      userPoolId: expect.stringMatching(/^<<marker:0xbaba:\d+>>$/),
      auth: 'cognito',
      userPoolClientId: 'client123',
      authDomain: 'https://meshgate-sandbox.auth.eu-west-1.amazoncognito.com',
      stage: 'sandbox',
    });
    const markers = onlyResource(Template.fromStack(stack), 'Custom::CDKBucketDeployment')
      .Properties.SourceMarkers;
    expect(Object.values(markers[1])).toEqual(
      expect.arrayContaining([
        { 'Fn::ImportValue': 'MeshgateApiUrl' },
        { 'Fn::ImportValue': 'MeshgatePoolId' },
      ]),
    );
  });

  test('without a built UI the stack refuses to synthesise and says how to build it', () => {
    expect(() => webStack({ webDir: mkdtempSync(join(tmpdir(), 'meshgate-unbuilt-')) })).toThrow(
      /run `npm run build:web` first/,
    );
  });

  test('the CSP lets the UI exchange its sign-in code at the hosted sign-in domain', () => {
    const csp = JSON.stringify(
      onlyResource(template, 'AWS::CloudFront::ResponseHeadersPolicy').Properties,
    );
    expect(csp).toContain('https://meshgate-sandbox.auth.eu-west-1.amazoncognito.com');
  });

  test('the stack exposes its https URL as an output', () => {
    expect(stack.url).toMatch(/^https:\/\//);
    template.hasOutput('WebUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.anyValue(), 'DomainName'] }]] },
    });
  });

  test('with a custom domain, viewers need TLS 1.2', () => {
    const app = newApp();
    const certs = new Stack(app, 'Certs', {
      env: { account: governance.account, region: 'us-east-1' },
    });
    Validations.of(certs).acknowledge({
      id: 'CloudFormation-Validate::F0001',
      reason: 'Only holds the imported test certificate.',
    });
    const certificate = Certificate.fromCertificateArn(
      certs,
      'Cert',
      `arn:aws:acm:us-east-1:${governance.account}:certificate/abc`,
    );
    const stack = webStack(
      {
        domain: { names: ['meshgate.example.com'], certificate },
        webAclArn: `arn:aws:wafv2:us-east-1:${governance.account}:global/webacl/meshgate/1`,
      },
      app,
    );
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Aliases: ['meshgate.example.com'],
        ViewerCertificate: Match.objectLike({
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        }),
        WebACLId: Match.stringLikeRegexp('^arn:aws:wafv2:us-east-1:'),
      },
    });
    expect(stack.url).toBe('https://meshgate.example.com');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings', () => {
    const findings = nagFindings(stack);
    if (findings.length) console.log(findings.join('\n'));
    expect(findings).toEqual([]);
  });
});

describe('DomainAccountStack', () => {
  const stack = domainStack();
  const template = Template.fromStack(stack);
  const sales = config.domains.find((d) => d.id === 'sales')!;
  const role = () => onlyResource(template, 'AWS::IAM::Role').Properties;

  test('is deployed in the domain account and region', () => {
    expect(stack.account).toBe(sales.accountId);
    expect(stack.region).toBe(sales.region);
    expect(stack.stackName).toBe('Meshgate-sandbox-Domain-sales');
  });

  test('the broker role has the configured name and a one-hour session limit', () => {
    expect(role().RoleName).toBe('meshgate-broker');
    expect(role().Path).toBeUndefined();
    expect(role().MaxSessionDuration).toBe(3600);
  });

  test('only the governance worker function may assume it (not the API), with the ExternalId, from the governance account', () => {
    const statements = role().AssumeRolePolicyDocument.Statement as Statement[];
    expect(statements.length).toBeGreaterThan(0);
    const principals: string[] = [];
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      expect(st.Action).toBe('sts:AssumeRole');
      expect(Object.keys(st.Principal ?? {})).toEqual(['AWS']);
      principals.push(...list(st.Principal!.AWS));
      expect(st.Condition).toEqual({
        StringEquals: {
          'sts:ExternalId': sales.externalId,
          'aws:PrincipalAccount': config.governance.account,
        },
      });
    }
    expect(principals.sort()).toEqual([...trustedRoleArns(config)].sort());
    expect(principals).toEqual([
      `arn:aws:iam::${config.governance.account}:role/meshgate-${config.stage}-worker`,
    ]);
    expect(principals).not.toContain('*');
    expect(principals.some((p) => p.endsWith(':root'))).toBe(false);
  });

  test('its policy allows exactly the Lake Formation calls the broker makes and read-only Glue on this account', () => {
    const policies = role().Policies as { PolicyDocument: { Statement: Statement[] } }[];
    expect(template.findResources('AWS::IAM::Policy')).toEqual({});
    expect(role().ManagedPolicyArns).toBeUndefined();
    const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    const actions = statements.flatMap((s) => list(s.Action));
    expect(actions.filter((a) => a.startsWith('lakeformation:')).sort()).toEqual(
      [
        'lakeformation:BatchGrantPermissions',
        'lakeformation:BatchRevokePermissions',
        'lakeformation:CreateDataCellsFilter',
        'lakeformation:DeleteDataCellsFilter',
        'lakeformation:GrantPermissions',
        'lakeformation:ListPermissions',
        'lakeformation:RevokePermissions',
      ].sort(),
    );
    expect(actions.filter((a) => a.startsWith('glue:')).sort()).toEqual([
      'glue:GetDatabase',
      'glue:GetDatabases',
      'glue:GetTable',
      'glue:GetTables',
    ]);
    expect(
      actions.filter((a) => !a.startsWith('lakeformation:') && !a.startsWith('glue:')),
    ).toEqual([]);
    expect(actions.some((a) => a.includes('*'))).toBe(false);
    expect(
      actions.filter((a) => /^glue:(Create|Update|Delete|Put|BatchDelete|BatchCreate)/.test(a)),
    ).toEqual([]);
    expect(actions).not.toContain('lakeformation:PutDataLakeSettings');
    expect(actions).not.toContain('lakeformation:GetDataAccess');

    const glue = statements.find((s) => list(s.Action).some((a) => a.startsWith('glue:')))!;
    const resources = list(glue.Resource).map((r) => JSON.stringify(stack.resolve(r)));
    expect(resources).toHaveLength(3);
    for (const suffix of [':catalog', ':database/*', ':table/*/*']) {
      expect(
        resources.some((r) => r.includes(`:glue:${sales.region}:${sales.accountId}${suffix}"`)),
      ).toBe(true);
    }
  });

  test('makes the broker role a data lake administrator, keeping the admins it is given', () => {
    const roleId = logicalIdOf(stack.role);
    template.hasResourceProperties('AWS::LakeFormation::DataLakeSettings', {
      Admins: [{ DataLakePrincipalIdentifier: { 'Fn::GetAtt': [roleId, 'Arn'] } }],
    });
    const keep = 'arn:aws:iam::111111111111:role/Admin';
    const withAdmins = Template.fromStack(domainStack({ existingAdmins: [keep] }));
    withAdmins.hasResourceProperties('AWS::LakeFormation::DataLakeSettings', {
      Admins: [
        { DataLakePrincipalIdentifier: { 'Fn::GetAtt': [roleId, 'Arn'] } },
        { DataLakePrincipalIdentifier: keep },
      ],
    });
  });

  test("'none' mode leaves the Lake Formation settings alone", () => {
    Template.fromStack(domainStack({ lakeFormationMode: 'none' })).resourceCountIs(
      'AWS::LakeFormation::DataLakeSettings',
      0,
    );
  });

  test('cross-account sharing adds the AWS-managed Lake Formation cross-account policy, and only then', () => {
    const t = Template.fromStack(domainStack({ crossAccountSharing: true }));
    t.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/AWSLakeFormationCrossAccountManager',
            ],
          ],
        },
      ],
    });
  });

  test('outputs the broker role ARN', () => {
    template.hasOutput('BrokerRoleArn', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } });
  });

  test('a role ARN with a path creates the role under that path', () => {
    const withPath: MeshgateConfig = {
      ...config,
      domains: config.domains.map((d) =>
        d.id === 'sales'
          ? {
              ...d,
              brokerRoleArn: `arn:aws:iam::${d.accountId}:role/meshgate/brokers/sales-broker`,
            }
          : d,
      ),
    };
    const t = Template.fromStack(
      new DomainAccountStack(newApp(), 'Domain', { config: withPath, domainId: 'sales' }),
    );
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'sales-broker',
      Path: '/meshgate/brokers/',
    });
  });

  test('an unknown domain id, or the wrong account, is refused with a clear error', () => {
    expect(() => domainStack({}, 'marketing')).toThrow(
      /unknown domain "marketing"; the configuration has "sales", "finance"/,
    );
    expect(() => domainStack({ env: { account: '999999999999', region: 'eu-west-1' } })).toThrow(
      /account 999999999999.*111111111111/,
    );
  });

  // An SSO permission set's role, in another account than the governance one, with its path.
  const OPERATOR =
    'arn:aws:iam::444444444444:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123abcd';
  /** Who may assume the broker role, one entry per principal, with the statement's terms. */
  const trustOf = (t: Template) =>
    (onlyResource(t, 'AWS::IAM::Role').Properties.AssumeRolePolicyDocument.Statement as Statement[])
      .flatMap((st) =>
        list(st.Principal?.AWS).map((principal) => ({
          principal,
          Effect: st.Effect,
          Action: st.Action,
          Condition: st.Condition,
        })),
      )
      .sort((a, b) => (a.principal < b.principal ? -1 : 1));
  const trust = (principal: string, account: string) => ({
    principal,
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Condition: {
      StringEquals: { 'sts:ExternalId': sales.externalId, 'aws:PrincipalAccount': account },
    },
  });
  const governanceTrust = trustedRoleArns(config).map((arn) =>
    trust(arn, config.governance.account),
  );
  const operatorTrust = trust(OPERATOR, '444444444444');
  const sorted = <T extends { principal: string }>(xs: T[]) =>
    [...xs].sort((a, b) => (a.principal < b.principal ? -1 : 1));

  test('without an operator role the trust is the governance roles alone', () => {
    expect(trustOf(template)).toEqual(sorted(governanceTrust));
    expect(trustOf(Template.fromStack(domainStack({ operatorRoleArn: '' })))).toEqual(
      sorted(governanceTrust),
    );
  });

  test("an operator role may assume it too, with the domain's ExternalId, from the operator's account", () => {
    const t = Template.fromStack(domainStack({ operatorRoleArn: OPERATOR }));
    expect(trustOf(t)).toEqual(sorted([...governanceTrust, operatorTrust]));
  });

  test('trusting no governance role trusts the operator role alone, and is refused without one', () => {
    const t = Template.fromStack(
      domainStack({ operatorRoleArn: OPERATOR, trustGovernanceRoles: false }),
    );
    expect(trustOf(t)).toEqual([operatorTrust]);
    expect(() => domainStack({ trustGovernanceRoles: false })).toThrow(
      'DomainAccountStack sales: trusting no governance role needs an operator role (operatorRoleArn), or nobody could assume the broker role.',
    );
  });

  test('an operator that is not an IAM role ARN is refused, naming it', () => {
    for (const arn of [
      'arn:aws:iam::444444444444:user/alice',
      'arn:aws:iam::444444444444:root',
      'arn:aws:sts::444444444444:assumed-role/Admin/alice',
      '*',
    ])
      expect(() => domainStack({ operatorRoleArn: arn })).toThrow(
        `DomainAccountStack sales: operatorRoleArn "${arn}" is not an IAM role ARN`,
      );
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings (every mode)', () => {
    for (const s of [
      stack,
      domainStack({
        crossAccountSharing: true,
        existingAdmins: ['arn:aws:iam::111111111111:role/Admin'],
      }),
      domainStack({ lakeFormationMode: 'none' }),
      domainStack({ operatorRoleArn: OPERATOR }),
      domainStack({ operatorRoleArn: OPERATOR, trustGovernanceRoles: false }),
    ]) {
      const findings = nagFindings(s);
      if (findings.length) console.log(findings.join('\n'));
      expect(findings).toEqual([]);
    }
  });
});
