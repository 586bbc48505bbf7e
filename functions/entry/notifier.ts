import { createNotifierHandler } from '../wiring/lambda';

// Lambda entry for the notifier (lifecycle events from the bus): wired once per cold start.
const ready = createNotifierHandler(process.env);
export const handler = async (event: { id?: string; detail?: unknown }) => (await ready)(event);
