import { createScheduledHandler } from '../adapters/aws/lambda';

// Lambda entry for the schedules (expiry sweep, catalog sync, reconciliation): wired once per cold start.
const ready = createScheduledHandler(process.env);
export const handler = async (event: { task: 'sweep' | 'sync' | 'reconcile' }) =>
  (await ready)(event);
