// The approver's narrowing of a request's columns, without a browser.
import { narrowedScopeOf } from '../../web/src/pages/approvals';
import type { Scope } from '../../web/src/api';

const scope: Scope = { permissions: ['SELECT', 'DESCRIBE'], columns: { mode: 'all' } };
const granted = ['order_id', 'amount', 'email'];

test('narrowing the columns keeps SELECT alone; ticking every column again is no narrowing', () => {
  expect(narrowedScopeOf(scope, granted, undefined)).toBeUndefined();
  expect(narrowedScopeOf(scope, granted, ['order_id', 'amount'])).toEqual({
    permissions: ['SELECT'],
    columns: { mode: 'include', columns: ['order_id', 'amount'] },
  });
  // Every column unticked, then ticked again (in another order): DESCRIBE stays.
  expect(narrowedScopeOf(scope, granted, ['email', 'order_id', 'amount'])).toBeUndefined();
});
