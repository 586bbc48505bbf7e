import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Duration, Fn, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import type { MeshgateConfig } from '../../config/schema';
import { stackName } from '../naming';

export interface WebStackProps extends StackProps {
  config: MeshgateConfig;
  /** The API's base URL (a token from the API stack is fine): the UI calls it, the CSP allows it. */
  apiUrl: string;
  userPoolId: string;
  userPoolClientId: string;
  /** The Cognito hosted sign-in base URL (https://<prefix>.auth.<region>.amazoncognito.com). */
  signInUrl: string;
  /** The built UI to host (`npm run build:web`). Default: <repo>/web/dist. */
  webDir?: string;
  /**
   * A custom domain: its names and an ACM certificate in us-east-1. Only with a certificate of its
   * own can CloudFront enforce TLS 1.2 for viewers; its default *.cloudfront.net one allows TLSv1.
   */
  domain?: { names: string[]; certificate: ICertificate };
  /** A WAFv2 web ACL (scope CLOUDFRONT, so created in us-east-1) to attach, by ARN. */
  webAclArn?: string;
}

/** CloudFront log delivery writes with ACLs; S3 server access logs go in under their own prefix. */
const CLOUDFRONT_LOG_PREFIX = 'cloudfront/';
const SITE_LOG_PREFIX = 's3/site/';

/**
 * The approvals UI: static files in a private bucket behind CloudFront (Origin Access Control),
 * with security headers on every response. The UI learns where the API and the user pool are from
 * `/config.json`, written at deploy time, so one build serves every stage.
 */
export class WebStack extends Stack {
  /** https://<distribution domain> (or the first custom domain name). */
  readonly url: string;
  readonly distribution: cloudfront.Distribution;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: WebStackProps) {
    super(scope, id, {
      ...props,
      stackName: props.stackName ?? stackName(props.config.stage, 'Web'),
    });
    // The log bucket takes S3 server access logs through a bucket policy, not the LogDeliveryWrite
    // ACL that CDK would otherwise set: a canned ACL on every update could drop the grant that
    // CloudFront adds for its own log delivery.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const { config } = props;
    const region = config.governance.region;

    const logs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront standard logging delivers with an ACL grant, so ACLs must stay enabled;
      // BUCKET_OWNER_PREFERRED still makes this account own what is delivered.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [
        { expiration: Duration.days(365), abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket itself; logging its own accesses into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: SITE_LOG_PREFIX,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `Meshgate ${config.stage}: security headers for the web UI`,
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        // The legacy XSS auditor is gone from browsers and could be abused; "0" turns it off.
        xssProtection: { protection: false, override: true },
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy(props.apiUrl, props.signInUrl, region),
          override: true,
        },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Meshgate ${config.stage} web UI`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.domain
        ? {
            domainNames: props.domain.names,
            certificate: props.domain.certificate,
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      ...(props.webAclArn ? { webAclId: props.webAclArn } : {}),
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: CLOUDFRONT_LOG_PREFIX,
    });
    this.acknowledgeDistributionFindings(props);

    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(builtWeb(props.webDir ?? join(__dirname, '..', '..', 'web', 'dist'))),
        // Written at deploy time with the real values (tokens resolve then), read by the UI at run
        // time: nothing stage-specific is baked into the static files.
        Source.jsonData('config.json', {
          apiUrl: props.apiUrl,
          region,
          auth: 'cognito',
          userPoolId: props.userPoolId,
          userPoolClientId: props.userPoolClientId,
          authDomain: props.signInUrl,
          stage: config.stage,
        }),
      ],
      // File names carry no content hash, so browsers revalidate (cheap 304s) instead of keeping a
      // stale index.html or config.json; the invalidation clears the edge caches.
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
    });
    this.acknowledgeDeploymentFindings(deployment);

    this.url = props.domain
      ? `https://${props.domain.names[0]}`
      : `https://${this.distribution.distributionDomainName}`;
    new CfnOutput(this, 'WebUrl', { value: this.url, description: 'The approvals UI' });
  }

  private acknowledgeDistributionFindings(props: WebStackProps): void {
    const v = Validations.of(this.distribution);
    v.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'No geo restriction: the portal serves employees wherever they work; every API call needs a Cognito sign-in, and the static files hold no data.',
    });
    if (!props.webAclArn) {
      v.acknowledge({
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves only static files (no data, no server code); the API has its own protection. A CLOUDFRONT-scope WAF web ACL must live in us-east-1: pass webAclArn to attach one.',
      });
    }
    if (!props.domain) {
      v.acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'Without a custom domain the distribution uses the default *.cloudfront.net certificate, whose security policy CloudFront fixes at TLSv1 (minimumProtocolVersion cannot apply). Pass domain { names, certificate } to enforce TLSv1.2_2021.',
      });
    }
  }

  /** The BucketDeployment's singleton Lambda (a CDK-managed custom resource) is not ours to shape. */
  private acknowledgeDeploymentFindings(deployment: BucketDeployment): void {
    const handler = this.node.children.find((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (!handler)
      throw new Error('WebStack: the BucketDeployment handler was not found where CDK puts it.');
    const why =
      'CDK-managed BucketDeployment custom resource (aws-s3-deployment), used only at deploy time';
    const v = Validations.of(handler);
    v.acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${why}: CDK attaches the basic execution role for its CloudWatch logs.`,
      },
      {
        id: 'AwsSolutions-L1',
        reason: `${why}: CDK pins the runtime of its handler and upgrades it with aws-cdk-lib.`,
      },
    );
    // CDK's own grants: read the asset bucket, write and prune the site bucket (s3:GetObject*,
    // List*, DeleteObject*, Abort* on bucket/*) and invalidate the distribution (Resource *).
    const policy = deployment.handlerRole.node.tryFindChild('DefaultPolicy') as
      iam.Policy | undefined;
    for (const finding of policy ? wildcardFindings(this, policy.document) : []) {
      v.acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `${why}: CDK writes this grant (asset read, site write and prune, CloudFront invalidation).`,
      });
    }
  }
}

/**
 * The wildcard findings cdk-nag's IAM5 reports for a policy document, named as it names them
 * (`Action::s3:List*`, `Resource::<Site.Arn>/*`), so that each one is acknowledged on its own.
 */
function wildcardFindings(stack: Stack, document: iam.PolicyDocument): string[] {
  type Statement = { Effect?: string; Action?: string | string[]; Resource?: unknown };
  const resolved = stack.resolve(document) as { Statement?: Statement[] } | undefined;
  const list = <T>(v: T | T[] | undefined): T[] =>
    v === undefined ? [] : Array.isArray(v) ? v : [v];
  const found = new Set<string>();
  for (const st of resolved?.Statement ?? []) {
    if (st.Effect !== 'Allow') continue;
    for (const a of list(st.Action)) if (a.includes('*')) found.add(`Action::${a}`);
    for (const r of list(st.Resource).map(flatten))
      if (r.includes('*')) found.add(`Resource::${r}`);
  }
  return [...found];
}

/** CloudFormation references flattened the way cdk-nag writes them in finding ids. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = node as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [sep, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(sep);
  }
  if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [res, attr] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(res)}.${flatten(attr)}>`;
  }
  if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
  if (o.Ref) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * 'self' for everything the UI loads; its API calls may also go to the API's origin, to the hosted
 * sign-in domain (the code-for-token exchange) and to Cognito's user-pool endpoint in the
 * governance region.
 */
function contentSecurityPolicy(apiUrl: string, signInUrl: string, region: string): string {
  const connect = [
    "'self'",
    apiOrigin(apiUrl),
    apiOrigin(signInUrl),
    `https://cognito-idp.${region}.amazonaws.com`,
  ];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}

/** The built UI, or a clear error before anything is synthesised without it. */
function builtWeb(dir: string): string {
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'app.js'))) {
    throw new Error(
      `The web UI is not built in ${dir}: run \`npm run build:web\` first (\`npm run synth\` does).`,
    );
  }
  return dir;
}

/** scheme://host of a URL; for a deploy-time token, the same thing in CloudFormation functions. */
function apiOrigin(apiUrl: string): string {
  if (!Token.isUnresolved(apiUrl)) return new URL(apiUrl).origin;
  // "https://abc.execute-api.eu-west-1.amazonaws.com/prod/" split on "/" is ["https:", "", host, ...].
  return `https://${Fn.select(2, Fn.split('/', apiUrl))}`;
}
