import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { localBoundary } from '../http/boundary';

export interface LocalServerOptions {
  /** 0 picks a free port. */
  port: number;
  hostname: string;
  /** Where people reach the server besides localhost (MESHGATE_PUBLIC_URL). */
  publicUrl?: string;
}

/**
 * The HTTP server of the local processes (`npm start`, embedded or against AWS): the app behind
 * the local boundary (own Host names only, no change from a foreign Origin, the web stack's
 * security headers; see http/boundary.ts). Resolves once it listens.
 */
export async function serveLocal(
  app: { fetch: (req: Request, env: object) => Response | Promise<Response> },
  opts: LocalServerOptions,
): Promise<{ server: ServerType; port: number; close: () => Promise<void> }> {
  let port = opts.port;
  const boundary = localBoundary(app, { port: () => port, publicUrl: opts.publicUrl });
  const server = serve({ fetch: boundary.fetch, port: opts.port, hostname: opts.hostname });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // Idle keep-alive connections would hold close() open.
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      }),
  };
}
