/*
 * Compiled with the UI (tsconfig.web.json), never run. The browser has neither Node's globals nor
 * jest's, so each line below is an expected type error; should either creep in, an error goes missing
 * and `npm run typecheck` fails on the unused @ts-expect-error.
 */
// @ts-expect-error: no Node in the browser
export const noProcess = process.env;
// @ts-expect-error: no Node in the browser
export const noBuffer = Buffer.from('');
// @ts-expect-error: no jest in the UI
export const noJest = describe;
