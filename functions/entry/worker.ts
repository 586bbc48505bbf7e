import type { SQSEvent } from '../adapters/aws/lambda-types';
import { createWorkerHandler } from '../wiring/lambda-worker';

// Lambda entry for the fulfilment worker (SQS, partial batch failures): wired once per cold start.
const ready = createWorkerHandler(process.env);
export const handler = async (event: SQSEvent) => (await ready)(event);
