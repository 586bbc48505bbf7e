// The sign-in page, without a browser: the local server against AWS asks for its sign-in code.
import { render } from 'preact-render-to-string';
import type { Api, RuntimeConfig } from '../../web/src/api';
import { SignIn } from '../../web/src/pages/signin';

const api = { devUsers: () => new Promise(() => {}) } as unknown as Api;
const page = (auth: RuntimeConfig['auth']) =>
  render(<SignIn api={api} config={{ apiUrl: '', auth }} onSession={() => {}} />);

test("'dev-code': a field for the code the server printed at start", () => {
  const html = page('dev-code');
  expect(html).toMatch(/<label for="signin-code">Sign-in code<\/label>/);
  expect(html).toMatch(/<input id="signin-code"/);
});

test("'dev': the demo users' picker alone, no code", () => {
  const html = page('dev');
  expect(html).not.toMatch(/signin-code/);
  expect(html).toMatch(/Nobody needs a password here/);
});
