import type { ScheduledTask } from '../wiring/core';
import { createScheduledHandler } from '../wiring/lambda';

// Lambda entry for the schedules (expiry sweep, catalog sync, reconciliation): wired once per cold start.
const ready = createScheduledHandler(process.env);
export const handler = async (event: { task: ScheduledTask }) => (await ready)(event);
