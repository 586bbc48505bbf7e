import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { errorResponse } from './errors';

/**
 * A JSON media type, with parameters: the same test @hono/zod-openapi applies to the routes it
 * declares, so that every route with a JSON body refuses the same content types.
 */
const JSON_MEDIA_TYPE = /^application\/([a-z.-]+\+)?json(;\s*[a-z0-9-]+=[^;]+)*$/i;

/**
 * Refuses, before anything reads the body, a request whose body is not declared as JSON (415).
 * A browser sends text/plain, form and multipart bodies to another site without asking it first
 * (no CORS preflight); a JSON content type it sends only after the site said yes.
 */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (!JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? ''))
    return errorResponse(
      c,
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the body as JSON, with content-type: application/json.',
    );
  await next();
};

export interface LocalBoundaryOptions {
  /** The port the server listens on (known once it listens: port 0 picks one). */
  port: () => number;
  /** Where people reach the server from elsewhere (a proxy, a tunnel): its origin is accepted too. */
  publicUrl?: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The Host values and origins the local server is: the loopback names with its port, and the
 * public URL. A Host without a port stands for port 80.
 */
export function ownNames(port: number, publicUrl?: string) {
  const hosts = new Set(LOOPBACK_NAMES.map((n) => `${n}:${port}`));
  const origins = new Set(LOOPBACK_NAMES.map((n) => `http://${n}:${port}`));
  if (port === 80) for (const n of LOOPBACK_NAMES) hosts.add(n);
  if (publicUrl) {
    const u = new URL(publicUrl);
    hosts.add(u.host);
    hosts.add(`${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`);
    origins.add(u.origin);
  }
  return { hosts, origins };
}

/**
 * Content-Security-Policy of the local server: the CloudFront policy of the web stack
 * (infra/stacks/web-stack.ts) with its API on the same origin and no Cognito, and without
 * `upgrade-insecure-requests`, which would send the page's own http://localhost requests to
 * https://, where nothing listens.
 */
export const LOCAL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The security headers of the CloudFront distribution (infra/stacks/web-stack.ts), set on every
 * answer of the local server, over what the app set. No Strict-Transport-Security: browsers
 * ignore it over http (RFC 6797 8.1), and, were the server ever reached over https as localhost,
 * it would pin every local development server on that name to https for its max-age.
 */
export const LOCAL_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': LOCAL_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-xss-protection': '0',
};

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  // A response that came out of fetch() keeps immutable headers: copy it to set them.
  let res = c.res;
  try {
    res.headers.delete('strict-transport-security');
  } catch {
    res = new Response(res.body, res);
    res.headers.delete('strict-transport-security');
  }
  for (const [name, value] of Object.entries(LOCAL_SECURITY_HEADERS)) res.headers.set(name, value);
  c.res = res;
};

/**
 * The local server's boundary (`npm start`, embedded or against AWS). A web page elsewhere can
 * make its own name resolve to 127.0.0.1 (DNS rebinding) and then be same-origin with the portal:
 * only a request naming the server's own Host gets an answer (421 otherwise). A page of another
 * origin may still send simple requests (forms, text/plain): a change that carries a foreign
 * Origin is refused (403); a request without Origin (curl, scripts) is not from a browser page.
 * The Lambda API sits behind API Gateway and its own domain, and takes none of this.
 */
export function localBoundary<E extends object>(
  app: { fetch: (req: Request, env: E) => Response | Promise<Response> },
  opts: LocalBoundaryOptions,
) {
  let names: { port: number; own: ReturnType<typeof ownNames> } | undefined;
  const own = () => {
    const port = opts.port();
    if (names?.port !== port) names = { port, own: ownNames(port, opts.publicUrl) };
    return names.own;
  };
  const outer = new Hono<{ Bindings: E }>();
  outer.use('*', securityHeaders);
  outer.use('*', async (c, next) => {
    const host = c.req.header('host')?.toLowerCase();
    if (!host || !own().hosts.has(host))
      return errorResponse(
        c,
        'MISDIRECTED_REQUEST',
        `This server answers only as ${[...own().hosts][0]}${opts.publicUrl ? ` or ${new URL(opts.publicUrl).host}` : ''}, not as ${host ?? 'no host'}.`,
      );
    await next();
  });
  outer.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (STATE_CHANGING.has(c.req.method) && origin !== undefined && !own().origins.has(origin))
      return refuseOrigin(c, origin);
    await next();
  });
  outer.all('*', (c) => app.fetch(c.req.raw, c.env));
  return outer;
}

const refuseOrigin = (c: Context, origin: string) =>
  errorResponse(
    c,
    'FOREIGN_ORIGIN',
    `A change from a page of ${origin.slice(0, 200)} is refused: open the portal itself.`,
  );
