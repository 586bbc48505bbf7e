/**
 * The server the crash benchmark kills: `node --import tsx crash-server.ts <data folder>`.
 *
 * The embedded portal as `npm start` runs it (its schedules at their default rates, the sweeper's
 * default stall threshold), on the data folder given, served on 127.0.0.1 at an ephemeral port.
 * Prints `listening <port>` once it serves; what the portal logs (a resumption, a chain head
 * repaired) goes to stderr.
 */
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createEmbeddedPortal } from '../../functions/wiring/local';

async function main(dataDir: string) {
  const portal = await createEmbeddedPortal({
    dataDir,
    policyDir: join(__dirname, '../../policies'),
    schedules: { sweepSeconds: 60, syncMinutes: 60, reconcileMinutes: 60 },
  });
  serve({ fetch: portal.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    process.stdout.write(`listening ${info.port}\n`),
  );
}

main(process.argv[2]!).catch((err) => {
  console.error(err);
  process.exit(1);
});
