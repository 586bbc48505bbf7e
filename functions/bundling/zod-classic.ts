// zod's classic API (node_modules/zod/v4/classic/external.js) as the bundles carry it: see zod.ts.
// A module's own export takes precedence over the same name from `export *`, so `locales`, `core`
// and the names below here replace zod's.
export * from '../../node_modules/zod/v4/classic/external.js';
export * as core from './zod-core';
export {
  INVALID,
  ZodCompileAsyncError,
  ZodCompileUnsupportedError,
  compile,
  withParser,
} from './zod-core';
/** No translations in the bundles (see zod.ts). */
export const locales = {};
/** Building a schema from a JSON Schema (~12 KB, evaluated at load) is left out: nothing here does. */
export const fromJSONSchema = () => {
  throw new Error(
    'z.fromJSONSchema is not in the Lambda bundles (functions/bundling/zod-classic.ts)',
  );
};
