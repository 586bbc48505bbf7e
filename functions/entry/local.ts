import { serve } from '@hono/node-server';
import { localConfig } from '../adapters/local/config';
import { readConfigFile } from '../adapters/aws/configuration';
import { createAwsBackedPortal, createEmbeddedPortal } from '../wiring/local';

// `npm start`: the whole portal on this machine; embedded by default, or against AWS.
const config = localConfig(process.env);
const portal =
  config.backend === 'aws'
    ? Promise.resolve()
        .then(() => readConfigFile(config.configFile))
        .then((c) =>
          createAwsBackedPortal({ ...config, config: c }).then((p) => ({
            ...p,
            note: `AWS backend: table ${c.tableName}, ${c.domains.length} domain(s)`,
          })),
        )
    : createEmbeddedPortal(config).then((p) => ({
        ...p,
        note: `data in ${config.dataDir ?? 'memory'}${p.seeded ? ', demo mesh seeded' : ''}`,
      }));
portal.then(
  (p) => {
    const server = serve(
      { fetch: p.app.fetch, port: config.port, hostname: config.host },
      (info) => {
        console.log(`Meshgate is running at http://localhost:${info.port} (${p.note})`);
        console.log(
          `Open http://localhost:${info.port} in a browser and pick a demo user, or use the API:`,
        );
        console.log(
          'Sign in: curl -s -XPOST localhost:%d/auth/dev-login -H content-type:application/json -d \'{"user":"alice"}\'',
          info.port,
        );
      },
    );
    const stop = () => server.close(() => void p.close().then(() => process.exit(0)));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  },
  (err) => {
    console.error('Meshgate could not start:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
