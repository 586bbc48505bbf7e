// What the Lambda bundles carry in place of two of casbin's dependencies: infra's BUNDLING aliases
// `csv-parse/sync` and `minimatch` to this file (esbuild `--alias`). casbin imports them for what
// Meshgate never asks of it: csv-parse to read policy lines from files or strings through an adapter
// (Meshgate parses its policy files itself, policy/engine.ts, and hands casbin the rules), minimatch
// for the `globMatch` matcher function (policies/model.conf matches by equality). Together with
// brace-expansion they are about 55 KB that every cold start would compile (issue 16, `npm run bench
// -- bundles`). Should casbin ever reach them, the call fails loudly rather than decide wrongly;
// test/infra/cold-load.test.ts runs the policy engine as the bundles carry it.

const notBundled = (what: string) => () => {
  throw new Error(
    `${what} is not in the Lambda bundles (functions/bundling/casbin-parts.ts): casbin was asked for a feature Meshgate does not use`,
  );
};

/** csv-parse/sync's `parse` (casbin's policy-line parser for adapters). */
export const parse = notBundled('csv-parse');

/** minimatch (casbin's `globMatch`). */
export const minimatch = notBundled('minimatch');
