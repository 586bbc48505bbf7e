import { startPortal } from '../support/portal';
test('probe', async () => {
  const p = await startPortal({ clock: { now: () => new Date('2026-11-19T10:00:00Z') } });
  const r = await p.call('alice', 'GET', '/v1/me');
  console.log('status with a clock 2 days behind real time:', r.status, JSON.stringify(r.body));
  await p.close();
});
