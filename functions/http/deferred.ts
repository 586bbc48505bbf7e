import type { RouteConfig, z } from '@hono/zod-openapi';

// Request schemas built when their route is first called, not when the app is made (issue 16).
// zod builds each schema eagerly, every schema instance carrying its own state: building all of the
// API's request schemas at module load was several milliseconds of the API Lambda's cold load
// (`npm run bench -- bundles`), while a cold Lambda serves one route first and a route uses one to
// four of them.

const BUILD = Symbol('meshgate.deferredSchema');
const MADE = Symbol('meshgate.deferredSchemaMade');

/** A zod schema that is built at its first parse (see `deferred`). */
export type Deferred<T extends z.ZodType> = T & { readonly [BUILD]: () => T };

/** A value built at its first use, then kept. */
export const once = <T extends object>(build: () => T) => {
  let value: T | undefined;
  return (): T => (value ??= build());
};

/**
 * Not for `headers` schemas: @hono/zod-validator matches header names case-insensitively only for
 * a real zod schema (it looks for `_zod`), which a deferred one is not until built.
 *
 * A schema for the validators of `app.openapi`: typed as the schema `build` returns, it has the four
 * parse methods that @hono/zod-openapi and @hono/zod-validator call, and builds the schema at the
 * first of those calls. It is not a zod schema: to nest it in another schema, or to give it to
 * anything else that reads a schema (the OpenAPI document), take `built(it)`.
 */
export function deferred<T extends z.ZodType>(build: () => T): Deferred<T> {
  let made: T | undefined;
  const schema = () => (made ??= build());
  const d = {
    [BUILD]: schema,
    [MADE]: () => made !== undefined,
    parse: (data: unknown, params?: z.core.ParseContext<z.core.$ZodIssue>) =>
      schema().parse(data, params),
    safeParse: (data: unknown, params?: z.core.ParseContext<z.core.$ZodIssue>) =>
      schema().safeParse(data, params),
    parseAsync: (data: unknown, params?: z.core.ParseContext<z.core.$ZodIssue>) =>
      schema().parseAsync(data, params),
    safeParseAsync: (data: unknown, params?: z.core.ParseContext<z.core.$ZodIssue>) =>
      schema().safeParseAsync(data, params),
  };
  return d as unknown as Deferred<T>;
}

/** Whether a schema is built: any schema but a deferred one not parsed nor `built` yet. */
export const isBuilt = (s: z.ZodType) => (s as { [MADE]?: () => boolean })[MADE]?.() ?? true;

/** The schema itself: a deferred schema built now, any other returned as it is. */
export function built<T extends z.ZodType>(s: T): T {
  const build = (s as unknown as { [BUILD]?: () => T })[BUILD];
  return build ? build() : s;
}

type Request = NonNullable<RouteConfig['request']>;

/**
 * A route as the OpenAPI document reads it: its request schemas built when the document generator
 * reads them (the route as registered keeps the deferred ones, for its validators).
 */
export function documented<R extends RouteConfig>(route: R): R {
  if (!route.request) return route;
  const request: Request = { ...route.request };
  for (const key of ['query', 'params', 'headers', 'cookies'] as const) {
    const s = route.request[key];
    if (s && !Array.isArray(s))
      Object.defineProperty(request, key, { enumerable: true, get: () => built(s as z.ZodType) });
  }
  const body = route.request.body;
  if (body) {
    const content: Record<string, unknown> = {};
    for (const [type, media] of Object.entries(body.content)) {
      const schema = (media as { schema?: z.ZodType } | undefined)?.schema;
      content[type] = schema
        ? Object.defineProperty({ ...media }, 'schema', {
            enumerable: true,
            get: () => built(schema),
          })
        : media;
    }
    request.body = { ...body, content } as Request['body'];
  }
  return { ...route, request };
}
