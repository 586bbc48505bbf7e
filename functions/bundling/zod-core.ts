// `z.core` as the bundles carry it (see zod.ts): zod's core less its locales.
export * from '../../node_modules/zod/v4/core/index.js';
/** No translations in the bundles (see zod.ts). */
export const locales = {};
