import { reconcileDomain, syncDomain } from '../../functions/usecases/operations';
import type { LakeFormationPort } from '../../functions/ports/lakeformation';
import { catalogWith, loseGrant } from '../support/operation-trail';
import { activeRequest, startPortal, type TestPortal } from '../support/portal';

// A worker whose operation another worker took over stops at its next progress note (the note is
// conditional on its attempt: operation-runs.ts). The checks of a reconciliation read and compare
// only; each change after them (a repair in Lake Formation, the consumer links) and each
// retirement of a sync comes after a note, so a worker taken over while it checked makes none.

let p: TestPortal;
beforeAll(async () => {
  p = await startPortal();
});
afterAll(() => p.close());

/** A progress note that refuses once the run reaches `at` (done) of its total: taken over there. */
const lostAt = (at: 'end') => async (done: number, total: number) => {
  if (at === 'end' && done >= total) throw new Error('taken over');
};

test('a reconciliation taken over after its checks repairs nothing', async () => {
  const r = await activeRequest(p, 'sales/orders');
  await loseGrant(p, (await p.store.getGrant(r.grantId))!);

  const real = p.broker.lakeFormation;
  const changes: string[] = [];
  const watched: LakeFormationPort = {
    grant: (g) => (changes.push('grant'), real.grant(g)),
    revoke: (g) => (changes.push('revoke'), real.revoke(g)),
    listPermissions: (a) => real.listPermissions(a),
  };
  const deps = { ...p.deps, ...p.broker, lakeFormation: watched };
  const domain = (await p.store.getDomain('sales'))!;
  await expect(reconcileDomain(deps, 'bob', domain, lostAt('end'))).rejects.toThrow('taken over');
  expect(changes).toEqual([]);
  // Not taken over, the same reconciliation repairs the lost grant.
  await reconcileDomain(deps, 'bob', domain);
  expect(changes).toEqual(['grant']);
});

test('a sync taken over before a retirement retires nothing', async () => {
  const domain = (await p.store.getDomain('sales'))!;
  p.catalog.set(catalogWith('to_retire'));
  await syncDomain({ ...p.deps, ...p.broker }, 'bob', domain);
  expect((await p.store.getProduct('sales/to_retire'))?.status).toBe('ACTIVE');
  // The product leaves the catalog; the sync is taken over once it has listed every product.
  p.catalog.set(catalogWith('another'));
  await expect(
    syncDomain({ ...p.deps, ...p.broker }, 'bob', domain, lostAt('end')),
  ).rejects.toThrow('taken over');
  expect((await p.store.getProduct('sales/to_retire'))?.status).toBe('ACTIVE');
});
