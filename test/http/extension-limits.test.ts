import { newRequest, startPortal, type TestPortal } from '../support/portal';

// The two governance defects of the extension path, reproduced through the API: a chain of
// extensions that outlives the policy maximum, and parallel extensions of one grant.

const clock = {
  t: new Date('2026-11-21T10:00:00Z'),
  now() {
    return this.t;
  },
};
let p: TestPortal;
beforeAll(async () => {
  p = await startPortal({ clock });
});
afterAll(() => p.close());

const HOUR = 3_600_000;
const hoursFromNow = (iso: string) => (new Date(iso).getTime() - clock.t.getTime()) / HOUR;

async function activeGrant(user: string, productId: string, hours: number, approver?: string) {
  const created = await p.call(user, 'POST', '/v1/requests', {
    ...newRequest(productId),
    duration: { value: hours, unit: 'hours' },
  });
  expect(created.status).toBe(201);
  if (approver) {
    const approved = await p.call(approver, 'POST', `/v1/requests/${created.body.id}/approve`, {
      comment: 'ok',
    });
    expect(approved.status).toBe(200);
  }
  await p.queue.onIdle();
  const grantId = (await p.call(user, 'GET', `/v1/requests/${created.body.id}`)).body.grantId;
  return (await p.store.getGrant(grantId))!;
}

const extend = (grantId: string, hours: number) =>
  p.call('alice', 'POST', `/v1/grants/${grantId}/extend`, {
    duration: { value: hours, unit: 'hours' },
    purpose: 'longer study',
  });

test('an auto-approved grant cannot be extended past the policy maximum (720 h for finance)', async () => {
  const grant = await activeGrant('alice', 'finance/fx_rates', 720);
  expect(hoursFromNow(grant.expiresAt)).toBe(720);

  // The whole time the grant would run is checked: 720 h left + 720 h is twice the maximum.
  const refused = await extend(grant.id, 720);
  expect(refused.status).toBe(422);
  expect(refused.body.error.code).toBe('EXTENSION_EXCEEDS_POLICY');
  expect(refused.body.error.message).toMatch(/nothing can be added now/);
  expect(refused.body.error.details).toMatchObject({
    maxDurationHours: 720,
    resultingExpiresAt: new Date(clock.t.getTime() + 1440 * HOUR).toISOString(),
  });

  // Ten days on, ten days' worth can be added; the grant then ends 720 h from now, not later.
  clock.t = new Date(clock.t.getTime() + 240 * HOUR);
  p.resetTokens();
  expect((await extend(grant.id, 241)).body.error.code).toBe('EXTENSION_EXCEEDS_POLICY');
  const ok = await extend(grant.id, 240);
  expect(ok.status).toBe(201);
  expect(ok.body.status).toBe('APPROVED');
  await p.queue.onIdle();
  const ext = (await p.call('alice', 'GET', `/v1/requests/${ok.body.id}`)).body;
  const next = (await p.store.getGrant(ext.grantId))!;
  expect(next.status).toBe('ACTIVE');
  expect(hoursFromNow(next.expiresAt)).toBe(720);

  // And the chain stops there: the extension's grant is at the maximum already.
  for (let i = 0; i < 4; i++) {
    const again = await extend(next.id, 720);
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('EXTENSION_EXCEEDS_POLICY');
  }
  const active = (
    await p.store.listGrants([{ requester: 'alice' }], { limit: 500 }).then((x) => x.items)
  ).filter((g) => g.status === 'ACTIVE');
  for (const g of active) expect(hoursFromNow(g.expiresAt)).toBeLessThanOrEqual(720);
});

test('an extension that needs approval shows the approver the resulting expiry, and is checked on it', async () => {
  const grant = await activeGrant('alice', 'sales/orders', 24 * 60, 'bob');
  const ext = await extend(grant.id, 24 * 20);
  expect(ext.status).toBe(201);
  expect(ext.body.status).toBe('PENDING');
  const inbox = (await p.call('bob', 'GET', '/v1/approvals')).body.items;
  const item = inbox.find((r: { id: string }) => r.id === ext.body.id);
  // 60 days left plus 20 days: the approver sees the date the grant would end, not only "20 days".
  expect(item.terms.endsAt).toBe(
    new Date(new Date(grant.expiresAt).getTime() + 480 * HOUR).toISOString(),
  );
  expect(item.explanation[1].reason).toMatch(/would run until/);
  // A second extension while this one is open is refused.
  expect((await extend(grant.id, 1)).status).toBe(409);
  const denied = await p.call('bob', 'POST', `/v1/requests/${ext.body.id}/deny`, { reason: 'no' });
  expect(denied.status).toBe(200);
  // Deciding it frees the grant for another extension.
  expect((await extend(grant.id, 1)).status).toBe(201);
});

test('ten parallel extensions of one grant: exactly one is accepted, nine are 409', async () => {
  const grant = await activeGrant('alice', 'sales/orders', 24, 'bob');
  const answers = await Promise.all(Array.from({ length: 10 }, () => extend(grant.id, 24)));
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([201, ...Array(9).fill(409)]);
  for (const a of answers.filter((x) => x.status === 409)) {
    expect(a.body.error.code).toBe('EXTENSION_OPEN');
  }
  // Nothing of the refused ones was written: one extension request, one creation event.
  const mine = (
    await p.store.listRequests([{ requester: 'alice' }], { limit: 500 }).then((x) => x.items)
  ).filter((r) => r.extendsGrantId === grant.id);
  expect(mine).toHaveLength(1);
});
