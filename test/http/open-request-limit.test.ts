import { newRequest, startPortal, type TestPortal } from '../support/portal';

// A user may hold at most max-open-requests (50, policies/global.csv) pending requests at once.
let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

const submit = (user: string) => p.call(user, 'POST', '/v1/requests', newRequest('sales/orders'));

test('the 51st open request is a 422 OPEN_REQUEST_LIMIT; a cancellation or a denial frees a place', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await submit('alice');
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  const refused = await submit('alice');
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({
    code: 'OPEN_REQUEST_LIMIT',
    details: { openRequests: 50, maxOpenRequests: 50 },
  });
  expect(refused.body.error.message).toContain('50 open requests');
  // Another user is not held back by alice's requests.
  expect((await submit('grace')).status).toBe(201);
  // A request approved at once is never open: it needs no place.
  expect(
    (await p.call('alice', 'POST', '/v1/requests', newRequest('finance/fx_rates'))).status,
  ).toBe(201);

  expect((await p.call('alice', 'POST', `/v1/requests/${ids[0]}/cancel`)).status).toBe(200);
  expect((await submit('alice')).status).toBe(201);
  expect((await submit('alice')).status).toBe(422);

  const denied = await p.call('bob', 'POST', `/v1/requests/${ids[1]}/deny`, { reason: 'no' });
  expect(denied.status).toBe(200);
  expect((await submit('alice')).status).toBe(201);

  const approved = await p.call('bob', 'POST', `/v1/requests/${ids[2]}/approve`, {
    comment: 'ok',
  });
  expect(approved.body.status).toBe('APPROVED');
  expect((await submit('alice')).status).toBe(201);
  expect((await submit('alice')).status).toBe(422);
  expect(await p.store.countOpenRequests('alice')).toBe(50);
});

test('10 simultaneous submissions with 45 open: exactly 5 are accepted', async () => {
  for (let i = 0; i < 45; i++) expect((await submit('henry')).status).toBe(201);
  // None of the ten reads the count before it writes: the limit holds by the conditional write of
  // the counter alone. Only the refused read it then, to say how many are open.
  const count = jest.spyOn(p.store, 'countOpenRequests');
  let answers;
  try {
    answers = await Promise.all(Array.from({ length: 10 }, () => submit('henry')));
    expect(count).toHaveBeenCalledTimes(5);
  } finally {
    count.mockRestore();
  }
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([...Array(5).fill(201), ...Array(5).fill(422)]);
  expect(answers.filter((a) => a.status === 422).map((a) => a.body.error.code)).toEqual(
    Array(5).fill('OPEN_REQUEST_LIMIT'),
  );
  expect(await p.store.countOpenRequests('henry')).toBe(50);
  // His own: as sales' backup approver he also reads the other sales requests.
  const pending = (await p.call('henry', 'GET', '/v1/requests?status=PENDING&mine=true')).body
    .items;
  expect(pending).toHaveLength(50);
});
