/*
 * Compiled with the Lambda code (tsconfig.runtime.json) and the CDK app (tsconfig.infra.json), never
 * run. Neither has the browser's globals nor jest's, so each line below is an expected type error.
 * Should the DOM library creep back in (a JSX setting alone pulls in Preact's DOM types), an error
 * goes missing and `npm run typecheck` fails on the unused @ts-expect-error.
 */
// @ts-expect-error: no DOM in Lambda or CDK code
export const noDocument = document;
// @ts-expect-error: no DOM in Lambda or CDK code
export const noWindow = window;
// @ts-expect-error: no DOM in Lambda or CDK code
export type NoElement = HTMLElement;
// @ts-expect-error: no jest in Lambda or CDK code
export const noJest = describe;
