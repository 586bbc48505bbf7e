import { serve } from '@hono/node-server';
import { createEmbeddedPortal } from '../adapters/local/portal';
import { localConfig } from '../adapters/local/config';

// `npm start`: the whole portal on this machine, no AWS account needed.
const config = localConfig(process.env);
createEmbeddedPortal(config).then((portal) => {
  const server = serve({ fetch: portal.app.fetch, port: config.port, hostname: config.host }, (info) => {
    console.log(`Meshgate is running at http://localhost:${info.port} (data in ${config.dataDir ?? 'memory'}${portal.seeded ? ', demo mesh seeded' : ''})`);
    console.log('Sign in: curl -s -XPOST localhost:%d/auth/dev-login -H content-type:application/json -d \'{"user":"alice"}\'', info.port);
  });
  const stop = () => server.close(() => void portal.close().then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}, (err) => {
  console.error('Meshgate could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
