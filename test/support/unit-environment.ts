/*
 * The test environment of the unit project (`npm run test:unit`): Node's, with no network and no
 * child processes. A unit test that opens a socket, starts a server, fetches a URL or spawns a
 * process fails with the message below; such a test belongs to the integration project.
 *
 * Node's built-in modules are shared by every test file a jest worker runs, so the guards are put
 * on in setup() and taken off in teardown(), which jest runs even when the test file fails to load.
 */
import childProcess from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import NodeEnvironment from 'jest-environment-node';

const MESSAGE =
  'is not allowed in unit tests (no network, no server, no child process): ' +
  'move the test to test/http, test/adapters or test/usecases (npm run test:integration)';

function refuse(name: string) {
  return function refused() {
    const error = new Error(`${name} ${MESSAGE}`);
    Error.captureStackTrace(error, refused); // the stack starts at the caller
    throw error;
  };
}

type Guard = [target: object, key: string, name: string];

const GUARDS: Guard[] = [
  [net.Socket.prototype, 'connect', 'net.Socket#connect (net.connect, http.request, fetch)'],
  [net.Server.prototype, 'listen', 'net.Server#listen (starting a server)'],
  [http, 'request', 'http.request'],
  [http, 'get', 'http.get'],
  [https, 'request', 'https.request'],
  [https, 'get', 'https.get'],
  ...(['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const).map(
    (k): Guard => [childProcess, k, `child_process.${k}`],
  ),
];

export default class UnitEnvironment extends NodeEnvironment {
  private restore: (() => void)[] = [];

  override async setup() {
    await super.setup();
    for (const [target, key, name] of GUARDS) this.replace(target, key, refuse(name));
    for (const key of ['fetch', 'WebSocket', 'EventSource']) {
      if (key in this.global) this.global[key] = refuse(key);
    }
  }

  override async teardown() {
    for (const undo of this.restore.splice(0).reverse()) undo();
    await super.teardown();
  }

  private replace(target: object, key: string, value: unknown) {
    const original = Object.getOwnPropertyDescriptor(target, key);
    Object.defineProperty(target, key, { value, configurable: true, writable: true });
    this.restore.push(() => {
      if (original) Object.defineProperty(target, key, original);
      else delete (target as Record<string, unknown>)[key];
    });
  }
}
