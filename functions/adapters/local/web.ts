import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppEnv } from '../../http/app';

/**
 * Serves the built web UI (`npm run build:web`) from this process, with the runtime
 * configuration the UI reads at start: the API on the same origin, local sign-in.
 * On AWS, CloudFront serves the same files and the web stack writes its own config.json.
 */
export function mountWeb(
  webDir: string,
  /** 'dev-code': sign-in also takes the code the server printed at start (against AWS). */
  auth: 'dev' | 'dev-code' = 'dev',
): (app: OpenAPIHono<AppEnv>) => void {
  return (app) => {
    app.get('/config.json', (c) =>
      c.json({ apiUrl: '', auth }, 200, { 'cache-control': 'no-store' }),
    );
    app.use('/*', serveStatic({ root: webDir }));
  };
}
