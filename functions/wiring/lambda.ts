import { apiGatewayJwtAuth } from '../adapters/aws/jwt-claims-auth';
import { apiHandler, notifierHandler, scheduledHandler } from '../adapters/aws/lambda';
import { SesNotificationSender } from '../adapters/aws/ses-sender';
import { lambdaCore, type Env } from './lambda-core';

// The API and the schedules: neither reaches a domain account (they queue jobs for the worker),
// so nothing here imports the Glue, Lake Formation or STS clients (test/infra/bundles.test.ts).
// The schedules and the notifier send e-mail through SES; the API never does (the notifier
// Lambda notifies), so its bundle carries no SES client either.
const ses = (emailFrom: string | undefined) => new SesNotificationSender(emailFrom);

/**
 * The API on Lambda: callers from API Gateway's Cognito JWT authorizer. There is no local sign-in
 * here (`/auth/dev-login` answers 403).
 */
export async function createLambdaHandler(env: Env) {
  return apiHandler((await lambdaCore(env, true)).app({ authenticate: apiGatewayJwtAuth }));
}

/** The scheduled tasks: expiry sweep, and a sync or reconciliation queued per domain. */
export async function createScheduledHandler(env: Env) {
  return scheduledHandler((await lambdaCore(env, false, ses)).schedules);
}

/** The notifier: the lifecycle events of the bus (an EventBridge rule), each notified. */
export async function createNotifierHandler(env: Env) {
  return notifierHandler((await lambdaCore(env, false, ses)).notify);
}
