// zod's classic API (node_modules/zod/v4/classic/external.js) as the bundles carry it: see zod.ts.
// A module's own export takes precedence over the same name from `export *`, so `locales` and
// `core` here replace zod's.
export * from '../../node_modules/zod/v4/classic/external.js';
export * as core from './zod-core';
/** No translations in the bundles (see zod.ts). */
export const locales = {};
