import { handle } from 'hono/aws-lambda';
import { createApp } from '../../http/app';
import { loadPolicyEngine } from '../../policy/files';
import { systemClock, ulidIds } from '../runtime';
import { awsConfig } from './config';
import { DynamoStore } from './dynamo-store';
import { apiGatewayJwtAuth } from './jwt-claims-auth';
import { SqsQueue } from './sqs-queue';

/**
 * The API on Lambda: DynamoDB, SQS for fulfilment, callers from API Gateway's Cognito JWT
 * authorizer. There is no local sign-in here (`/auth/dev-login` answers 403).
 */
export async function createLambdaHandler(env: Record<string, string | undefined>) {
  const config = awsConfig(env);
  const store = new DynamoStore(config.tableName);
  const policy = await loadPolicyEngine(config.policyDir, await store.listMemberships());
  const app = createApp({
    store,
    policy,
    queue: new SqsQueue(config.queueUrl),
    clock: systemClock,
    ids: ulidIds(),
    authenticate: apiGatewayJwtAuth,
  });
  return handle(app);
}
