import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodType } from 'zod';

interface Declared {
  method: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: ZodType }> }>;
}

const cache = new WeakMap<object, Declared[]>();

/** The routes an app declared in its OpenAPI registry, with a matcher for their paths. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function declaredRoutes(app: OpenAPIHono<any>): Declared[] {
  let routes = cache.get(app);
  if (!routes) {
    routes = app.openAPIRegistry.definitions.flatMap((d) =>
      d.type === 'route'
        ? [
            {
              method: d.route.method.toUpperCase(),
              pattern: new RegExp(`^${d.route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
              responses: d.route.responses as Declared['responses'],
            },
          ]
        : [],
    );
    cache.set(app, routes);
  }
  return routes;
}

/**
 * Checks a JSON answer of a declared route against the schema its route declares for that status:
 * an answer that does not match (a missing, ill-typed or undeclared field) throws, naming the
 * route and the fields. Answers of undeclared routes, files and non-JSON answers are not checked.
 */
export function checkAnswer(
  app: OpenAPIHono<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  method: string,
  url: string,
  status: number,
  headers: Headers,
  body: unknown,
): void {
  // A file download (an export, a chain of custody) is declared as a file, not as JSON.
  if (headers.get('content-disposition')?.startsWith('attachment')) return;
  if (!headers.get('content-type')?.startsWith('application/json')) return;
  const path = url.split('?')[0]!;
  const route = declaredRoutes(app).find((r) => r.method === method && r.pattern.test(path));
  const schema = route?.responses[String(status)]?.content?.['application/json']?.schema;
  if (!schema) return;
  const result = schema.safeParse(body);
  if (!result.success)
    throw new Error(
      `${method} ${path} answered ${status} with a body its declared schema refuses:\n` +
        result.error.issues
          .slice(0, 10)
          .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('\n'),
    );
}
