import type { LakeFormationPort } from '../../functions/ports/lakeformation';
import type { Store } from '../../functions/ports/store';
import { runJob } from '../../functions/usecases/fulfilment';
import type { TestPortal } from './portal';

/**
 * A late duplicate worker on request `id` (a redelivered grant job): worker B reads the request
 * once it is past APPROVED (GRANTING, as the queue's worker A moves it), then stalls inside its
 * Lake Formation grant until the test releases it. `granting` settles when B has read the request;
 * `release()` lets its grant go on; `done` is B's job. `extra` adds or replaces B's adapters.
 */
export function lateWorker(p: TestPortal, id: string, extra: Record<string, unknown> = {}) {
  let sawGranting!: () => void;
  const granting = new Promise<void>((resolve) => (sawGranting = resolve));
  let release!: () => void;
  const mayGrant = new Promise<void>((resolve) => (release = resolve));
  const store: Store = Object.create(p.store, {
    getRequest: {
      value: async (rid: string) => {
        for (;;) {
          const r = await p.store.getRequest(rid);
          if (r?.status !== 'PENDING' && r?.status !== 'APPROVED') {
            sawGranting();
            return r;
          }
          await new Promise((res) => setTimeout(res, 1));
        }
      },
    },
  });
  const lakeFormation: LakeFormationPort = {
    grant: async (q) => (await mayGrant, p.broker.lakeFormation.grant(q)),
    revoke: (q) => p.broker.lakeFormation.revoke(q),
    listPermissions: (a) => p.broker.lakeFormation.listPermissions(a),
  };
  const done = runJob(
    { ...p.deps, ...p.broker, store, lakeFormation, ...extra },
    { kind: 'grant', requestId: id },
  );
  return { granting, release, done };
}
