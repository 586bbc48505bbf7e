/** Layer rules (see README "Layout"). Checked by `npm run layers`, part of `npm test`. */
const SDK = '^(node_modules/)?@aws-sdk/';
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain/ imports nothing outside domain/ (Node built-ins such as crypto aside)',
      from: { path: '^functions/domain/' },
      to: { pathNot: '^functions/domain/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      comment: 'ports/ see only the domain (and hono types for the auth port)',
      from: { path: '^functions/ports/' },
      to: { pathNot: ['^functions/(domain|ports)/', 'node_modules/hono/'] },
    },
    {
      name: 'usecases-see-domain-and-ports',
      severity: 'error',
      comment: 'use cases depend on domain/ and ports/ only',
      from: { path: '^functions/usecases/' },
      to: { pathNot: ['^functions/(domain|ports|usecases)/'] },
    },
    {
      name: 'policy-engine-no-adapters',
      severity: 'error',
      comment: 'the policy engine knows no adapter, use case or HTTP',
      from: { path: '^functions/policy/' },
      to: { path: '^functions/(adapters|usecases|http|entry)/' },
    },
    {
      name: 'http-no-sdk',
      severity: 'error',
      comment: 'http/ never talks to AWS directly',
      from: { path: '^functions/http/' },
      to: { path: [SDK, '^functions/adapters/', '^functions/entry/'] },
    },
    {
      name: 'aws-adapters-not-local',
      severity: 'error',
      comment: 'AWS adapters do not depend on the embedded ones',
      from: { path: '^functions/adapters/aws/' },
      to: { path: '^functions/adapters/local/' },
    },
    {
      name: 'only-entries-wire',
      severity: 'error',
      comment: 'nothing imports an entry file',
      from: {},
      to: { path: '^functions/entry/' },
    },
    {
      name: 'wiring-is-the-composition-root',
      severity: 'error',
      comment:
        'functions/wiring/ builds the core from adapters (it may import anything in functions/); only the entry files use it',
      from: { pathNot: '^functions/(entry|wiring)/' },
      to: { path: '^functions/wiring/' },
    },
    {
      name: 'adapters-hold-no-startup',
      severity: 'error',
      comment:
        'adapters adapt: the startup sequence (use cases, the policy in force, the app) is assembled in functions/wiring/',
      from: { path: '^functions/adapters/' },
      to: {
        path: ['^functions/usecases/(?!deps\\.ts$)', '^functions/http/app\\.ts$'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'infra-no-runtime',
      severity: 'error',
      comment: 'infra/ references Lambda code by path, never imports it',
      from: { path: '^infra/' },
      to: { path: '^functions/' },
    },
    {
      name: 'web-talks-to-api-only',
      severity: 'error',
      comment: 'the web UI uses the HTTP API, not runtime code',
      from: { path: '^web/' },
      to: { path: '^functions/', pathNot: '^functions/domain/model\\.ts$' },
    },
    {
      name: 'web-takes-only-api-types',
      severity: 'error',
      comment: 'the web UI may name the API model types, and nothing of it ships in the bundle',
      from: { path: '^web/' },
      to: { path: '^functions/domain/model\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-stands-alone',
      severity: 'error',
      comment: 'config/ is read by infra and runtime alike, and imports neither',
      from: { path: '^config/' },
      to: { path: '^(functions|infra|web)/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(^test/|\\.test\\.ts$)' },
  },
};
