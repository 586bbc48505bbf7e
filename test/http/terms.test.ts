// What approvers and requesters are shown of a request: its terms as narrowed so far (the next
// approver narrows from there) and the personal-data columns those terms touch.
import { newRequest, startPortal, type TestPortal } from '../support/portal';

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

test("after the owner narrows a restricted request, compliance's inbox and the request show the narrowed terms and what they touch", async () => {
  const created = await p.call(
    'alice',
    'POST',
    '/v1/requests',
    newRequest('sales/leads', { duration: { value: 7, unit: 'days' } }),
  );
  expect(created.status).toBe(201);
  const id = created.body.id;

  const asked = (await p.call('bob', 'GET', '/v1/approvals')).body.items.find(
    (r: { id: string }) => r.id === id,
  );
  expect(asked.terms).toEqual({ scope: created.body.scope, duration: { value: 7, unit: 'days' } });
  expect(asked.piiColumns).toEqual(['full_name', 'email', 'phone']);

  const narrowedScope = {
    permissions: ['SELECT'],
    columns: { mode: 'include', columns: ['lead_id', 'company'] },
  };
  const approved = await p.call('bob', 'POST', `/v1/requests/${id}/approve`, {
    comment: 'no contact data',
    narrowedScope,
    narrowedDuration: { value: 48, unit: 'hours' },
  });
  expect(approved.status).toBe(200);

  const inbox = (await p.call('carol', 'GET', '/v1/approvals')).body.items.find(
    (r: { id: string }) => r.id === id,
  );
  expect(inbox.terms).toEqual({ scope: narrowedScope, duration: { value: 48, unit: 'hours' } });
  expect(inbox.piiColumns).toEqual([]);
  expect(inbox.scope).toEqual(created.body.scope); // what was asked stays on record

  const seen = await p.call('alice', 'GET', `/v1/requests/${id}`);
  expect(seen.body).toMatchObject({
    terms: { scope: narrowedScope, duration: { value: 48, unit: 'hours' } },
    piiColumns: [],
  });
});
