// `z.core` as the bundles carry it (see zod.ts): zod's core less its locales and its compiler.
export * from '../../node_modules/zod/v4/core/index.js';
import type { $ZodType } from '../../node_modules/zod/v4/core/index.js';
/** No translations in the bundles (see zod.ts). */
export const locales = {};

// zod's ahead-of-time compiler (`z.compile`, `z.withParser`: an opt-in fast path, ~30 KB of the
// bundle) is left out: nothing in Meshgate or its libraries compiles a schema. `compile` answers as
// zod's does for a schema it cannot compile: the schema itself, on zod's runtime parser.

/** What the compiler's fast path returns for input it refuses (zod's own value). */
export const INVALID = Symbol.for('zod.compile.invalid');
export class ZodCompileAsyncError extends Error {
  constructor(message = 'z.compile does not support async refinements, transforms, or checks') {
    super(message);
    this.name = 'ZodCompileAsyncError';
  }
}
export class ZodCompileUnsupportedError extends Error {
  readonly islandable: boolean;
  constructor(feature: string, islandable = true) {
    super(`z.compile does not support ${feature}; this schema must use the runtime parser`);
    this.name = 'ZodCompileUnsupportedError';
    this.islandable = islandable;
  }
}
/** zod's `compile`, falling back as zod does: the schema unchanged, on the runtime parser. */
export function compile<T extends $ZodType>(schema: T, options?: { strict?: boolean }): T {
  if (options?.strict) throw new ZodCompileUnsupportedError('compiling in the Lambda bundles');
  return schema;
}
const notBundled = (name: string) => () => {
  throw new Error(`z.${name} is not in the Lambda bundles (functions/bundling/zod-core.ts)`);
};
export const withParser = notBundled('withParser');
export const compileFn = notBundled('compileFn');
