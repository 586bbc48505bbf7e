import type { LambdaContext, LambdaEvent } from 'hono/aws-lambda';
import { createLambdaHandler } from '../wiring/lambda';

// Lambda entry for the API: wired once per cold start, reused by every invocation.
const ready = createLambdaHandler(process.env);
export const handler = async (event: LambdaEvent, context: LambdaContext) =>
  (await ready)(event, context);
