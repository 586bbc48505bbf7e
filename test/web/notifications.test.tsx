// The bell's pieces without a browser: the route of the notifications page and the count badges.
import { render } from 'preact-render-to-string';
import { CountBadge } from '../../web/src/counts';
import { parseRoute } from '../../web/src/main';

test.each([
  ['#/notifications', { page: 'notifications', params: {} }],
  ['#/notifications?unread=1', { page: 'notifications', params: {} }],
  ['#/notifications/x', { page: 'not-found', params: {} }],
])('route %s', (hash, route) => {
  expect(parseRoute(hash)).toEqual(route);
});

test('a count says its digits, or its label to a screen reader when it has one', () => {
  expect(render(<CountBadge testId="unread-count" text="3" />)).toBe(
    '<span class="count" data-testid="unread-count">3</span>',
  );
  const pending = render(
    <CountBadge testId="pending-count" text="100+" label="100+ waiting for you" />,
  );
  expect(pending).toContain('<span aria-hidden="true">100+</span>');
  expect(pending).toContain('<span class="sr-only"> (100+ waiting for you)</span>');
});
