import { localConfig } from '../adapters/local/config';
import { readConfigFile } from '../adapters/aws/configuration';
import { createAwsBackedPortal, createEmbeddedPortal } from '../wiring/local';
import { serveLocal } from '../wiring/local-server';

// `npm start`: the whole portal on this machine; embedded by default, or against AWS.
//
// `npm start` runs this file with MALLOC_MMAP_THRESHOLD_=131072 in its environment (package.json's
// `start` script; glibc reads it when the process starts, see mallopt(3); other C libraries ignore
// it). The embedded store's LevelDB keeps each open table's index block in memory, up to ~340 KB
// for the largest tables of a big store, read and freed by libuv's threads as tables open and
// close. glibc maps a block of 128 KB or more on its own, but once such a block is freed it raises
// that threshold to the block's size, for every thread: the next blocks came from the threads'
// malloc arenas, and a block freed between two that are still used stayed in the process. At
// 100,000 products and 1,000,000 requests (the scale benchmark) the arenas held ~80 MB freed that
// way (malloc_info: ~110 MB used, ~80 MB free in 13 arenas; malloc_trim gave 63 MB back), the
// server's RSS 450-519 MB. A threshold set at start is fixed: such blocks are always mapped on
// their own and given back when freed (RSS ~430 MB; test/adapters/start-environment.test.ts
// shows the mechanism). The scale benchmark starts its servers with this script's environment and
// node flags (bench/start-command.ts).
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
portal
  .then(async (p) => {
    const { port, close } = await serveLocal(p.app, {
      port: config.port,
      hostname: config.host,
      publicUrl: config.publicUrl,
    });
    const code = 'signInCode' in p ? p.signInCode : undefined;
    // Against AWS the users are the configuration's: no demo name to suggest.
    const body = code ? `{"user":"<user id>","code":"${code}"}` : '{"user":"alice"}';
    console.log(`Meshgate is running at http://localhost:${port} (${p.note})`);
    if (code) console.log(`Sign in with code ${code} (made at this start, good until it stops).`);
    console.log(
      code
        ? `Open http://localhost:${port} in a browser, enter the code and pick a user, or use the API:`
        : `Open http://localhost:${port} in a browser and pick a demo user, or use the API:`,
    );
    console.log(
      `Sign in: curl -s -XPOST localhost:${port}/auth/dev-login -H content-type:application/json -d '${body}'`,
    );
    const stop = () => void close().then(() => p.close().then(() => process.exit(0)));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  })
  .catch((err: unknown) => {
    // The port taken, the configuration invalid, AWS unreachable: one line, not a stack.
    console.error('Meshgate could not start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
