import type { Store } from '../../ports/store';
import {
  DEMO_CONSUMER_ACCOUNTS,
  DEMO_DOMAINS,
  DEMO_MEMBERSHIPS,
  DEMO_PRODUCTS,
  DEMO_USERS,
} from './demo-mesh';
import { SYSTEM } from '../../usecases/deps';

/** Seeds the demo mesh into an empty store. Returns false when the store already has domains. */
export async function seedDemoMesh(
  store: Store,
  now: () => Date = () => new Date(),
): Promise<boolean> {
  if ((await store.listDomains()).length > 0) return false;
  await Promise.all([
    ...DEMO_USERS.map((u) => store.putUser(u)),
    ...DEMO_PRODUCTS.map((p) => store.putProduct(p)),
  ]);
  let n = 0;
  for (const m of DEMO_MEMBERSHIPS) {
    await store.putMembership(m, {
      id: `evt_seed${String(n++).padStart(22, '0')}`,
      at: now().toISOString(),
      type: 'MEMBERSHIP_ADDED',
      actor: SYSTEM,
      domain: m.domain,
      detail: { ...m, seeded: true },
    });
  }
  for (const c of DEMO_CONSUMER_ACCOUNTS) {
    // A store seeded half-way before (a killed first start) may hold it already.
    if (await store.getConsumerAccount(c.accountId)) continue;
    await store.createConsumerAccount(c, {
      id: `evt_seed${String(n++).padStart(22, '0')}`,
      at: now().toISOString(),
      type: 'CONSUMER_ACCOUNT_REGISTERED',
      actor: SYSTEM,
      domain: '*',
      detail: { ...c, seeded: true },
    });
  }
  // Domains last: their presence is what marks the seed as complete.
  await Promise.all(DEMO_DOMAINS.map((d) => store.putDomain(d)));
  return true;
}
