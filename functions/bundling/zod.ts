// The zod that the Lambda bundles carry: infra's BUNDLING aliases the package `zod` to this file
// (esbuild `--alias`), for Meshgate's code and its libraries alike. It is zod's own entry
// (node_modules/zod/index.js) less the translations of its error messages: `z` is used as a value
// (by @hono/zod-openapi), so esbuild keeps every export of the namespace, and `z.locales` (and
// `z.core.locales`) would put all of zod's locales, about 260 KB, in each bundle, compiled at every
// cold start. Meshgate answers in English, which zod sets up from its `en` locale by a direct
// import, not through these exports, and selects no other. The names and every other value are
// zod's (test/infra/bundles.test.ts).
import * as z from './zod-classic';
export * from './zod-classic';
export { z, z as default };
