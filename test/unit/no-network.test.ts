// The unit project's guard (test/support/unit-environment.ts): no socket, server, fetch or process.
import { spawn, execFileSync } from 'node:child_process';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';

const REFUSED = /not allowed in unit tests/;

test('outbound connections are refused', async () => {
  expect(() => connect(443, '127.0.0.1')).toThrow(REFUSED);
  expect(() => request('http://127.0.0.1:1/')).toThrow(REFUSED);
  await expect(async () => fetch('http://127.0.0.1:1/')).rejects.toThrow(REFUSED);
});

test('a server cannot start', () => {
  const server = createServer();
  expect(() => server.listen(0)).toThrow(REFUSED);
});

test('a child process cannot start', () => {
  expect(() => spawn('true')).toThrow(REFUSED);
  expect(() => execFileSync('true')).toThrow(REFUSED);
});
