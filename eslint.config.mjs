import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const STATUS_ONLY_IN_DOMAIN =
  'A status is set only by the domain (functions/domain/lifecycle.ts for requests and grants, functions/domain/catalog.ts for products): call the transition and commit its change.';
export const STATUS_WRITES = [
  // `{ ...r, status: 'X' }`: a copy with another status.
  "ObjectExpression:has(> SpreadElement) > Property[key.name='status']",
  // A request or grant built by hand.
  "ObjectExpression:has(> Property[key.name='requester']) > Property[key.name='status']",
  // `r.status = 'X'`, `r['status'] = 'X'`.
  "AssignmentExpression > MemberExpression.left[property.name='status']",
  "AssignmentExpression > MemberExpression.left[property.value='status']",
  // Any literal status of the request lifecycle (or of a domain operation), wherever it is put.
  "Property[key.name='status'][value.type='Literal'][value.value=/^(PENDING|APPROVED|GRANTING|FAILED|REVOKING|REVOKED|EXPIRED|DENIED|CANCELLED|QUEUED|RUNNING|SUCCEEDED)$/]",
].map((selector) => ({ selector, message: STATUS_ONLY_IN_DOMAIN }));

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'cdk.out',
      '.meshgate-data',
      'test-output',
      'bench/results',
      'web/dist',
      'jest.config.js',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    // The request lifecycle lives in functions/domain/lifecycle.ts: a status is set there and
    // nowhere else (CONTRIBUTING.md). These selectors catch the ways one could be set by hand.
    // The response schemas (functions/http/responses.ts) describe the shape of a status, set none.
    files: ['functions/**/*.ts'],
    ignores: ['functions/domain/**', 'functions/http/responses.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...STATUS_WRITES],
    },
  },
);
