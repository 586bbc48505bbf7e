import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoStore } from '../../functions/adapters/aws/dynamo-store';
import { MeshgateError } from '../../functions/domain/errors';
import type {
  AccessRequest,
  AuditEvent,
  AuditEventType,
  DataProduct,
  Domain,
  Grant,
  Membership,
  User,
} from '../../functions/domain/model';
import { embeddedTables, pendingRequest } from '../support/embedded-tables';

const TABLE = 'store-test';

const db = embeddedTables(TABLE);
let store: DynamoStore;
beforeAll(() => {
  store = new DynamoStore(TABLE, db.client);
});

// ---- fixtures -------------------------------------------------------------------------------

let seq = 0;
const nextId = (prefix: string) => `${prefix}_${String(++seq).padStart(8, '0')}`;

/** Each test works in its own domain, so that listings by domain see only what it wrote. */
const freshDomain = () => `d${String(++seq).padStart(6, '0')}`;

const domain = (id: string, over: Partial<Domain> = {}): Domain => ({
  id,
  name: `Domain ${id}`,
  accountId: '111111111111',
  region: 'eu-west-1',
  ...over,
});

const product = (domainId: string, name: string): DataProduct => ({
  id: `${domainId}/${name}`,
  domain: domainId,
  name,
  title: name,
  description: `The ${name} table`,
  owner: 'bob',
  classification: 'confidential',
  tags: ['t'],
  location: { catalogId: '111111111111', database: `${domainId}_gold`, table: name },
  columns: [{ name: 'id', type: 'string', pii: false }],
  freshness: 'Daily',
  status: 'ACTIVE',
});

const event = (over: Partial<AuditEvent> & Pick<AuditEvent, 'domain'>): AuditEvent => ({
  id: nextId('evt'),
  at: '2024-03-01T10:00:00.000Z',
  type: 'TEST_EVENT' as AuditEventType, // the store takes any type
  actor: 'tester',
  detail: {},
  ...over,
});

const request = (domainId: string, over: Partial<AccessRequest> = {}): AccessRequest =>
  pendingRequest(domainId, nextId('req'), '2024-03-01T10:00:00.000Z', over);

const grantFor = (r: AccessRequest, over: Partial<Grant> = {}): Grant => ({
  id: nextId('grt'),
  requestId: r.id,
  requester: r.requester,
  principal: r.principal,
  productId: r.productId,
  domain: r.domain,
  classification: r.classification,
  accountId: '111111111111',
  scope: r.scope,
  grantedAt: '2024-03-02T10:00:00.000Z',
  expiresAt: '2024-03-09T10:00:00.000Z',
  status: 'ACTIVE',
  entries: [{ action: 'grant', result: 'ok' }],
  ...over,
});

/** Runs `fn`, which must fail with a MeshgateError; returns it. */
async function meshgateError(fn: () => Promise<unknown>): Promise<MeshgateError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof MeshgateError) return err;
    throw new Error(`expected a MeshgateError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Every audit event of one domain (all of time). */
const auditOf = async (domainId: string): Promise<AuditEvent[]> =>
  (
    await store.queryAudit({
      from: '2000-01-01T00:00:00.000Z',
      to: '2100-01-01T00:00:00.000Z',
      domain: domainId,
      limit: 1000,
    })
  ).items;

/** Creates a pending request with its REQUEST_CREATED event. */
async function created(domainId: string, over: Partial<AccessRequest> = {}) {
  const r = request(domainId, over);
  const ev = event({
    domain: domainId,
    requestId: r.id,
    type: 'REQUEST_CREATED',
    at: r.createdAt,
    toStatus: 'PENDING',
  });
  await store.createRequest(r, [ev]);
  return { r, ev };
}

// ---- catalogue --------------------------------------------------------------------------------

describe('domains, products, users', () => {
  test('put, get and list domains', async () => {
    const [a, b] = [freshDomain(), freshDomain()];
    await store.putDomain(domain(a, { description: 'first' }));
    await store.putDomain(domain(b));
    expect(await store.getDomain(a)).toEqual(domain(a, { description: 'first' }));
    expect(await store.getDomain('no-such-domain')).toBeUndefined();
    const ids = (await store.listDomains()).map((d) => d.id);
    expect(ids).toEqual(expect.arrayContaining([a, b]));
    // Stored items come back as the entity, without table keys.
    const listed = (await store.listDomains()).find((d) => d.id === a)!;
    expect(Object.keys(listed).sort()).toEqual([
      'accountId',
      'description',
      'id',
      'name',
      'region',
    ]);
  });

  test('putDomain replaces a domain', async () => {
    const a = freshDomain();
    await store.putDomain(domain(a));
    await store.putDomain(domain(a, { name: 'Renamed' }));
    expect((await store.getDomain(a))?.name).toBe('Renamed');
    expect((await store.listDomains()).filter((d) => d.id === a)).toHaveLength(1);
  });

  test('createDomain writes the domain with its audit event, and refuses an existing id', async () => {
    const a = freshDomain();
    const ev = event({ domain: a, type: 'DOMAIN_REGISTERED' });
    await store.createDomain(domain(a), ev);
    expect(await store.getDomain(a)).toEqual(domain(a));
    expect(await auditOf(a)).toEqual([ev]);

    const again = await meshgateError(() =>
      store.createDomain(
        domain(a, { name: 'Other' }),
        event({ domain: a, type: 'DOMAIN_REGISTERED' }),
      ),
    );
    expect(again).toMatchObject({ kind: 'conflict', code: 'DOMAIN_EXISTS' });
    expect((await store.getDomain(a))?.name).toBe(`Domain ${a}`);
    expect(await auditOf(a)).toHaveLength(1);
  });

  test('products are listed by domain', async () => {
    const [a, b] = [freshDomain(), freshDomain()];
    await store.putProduct(product(a, 'orders'));
    await store.putProduct(product(a, 'leads'));
    await store.putProduct(product(b, 'invoices'));
    expect(await store.getProduct(`${a}/orders`)).toEqual(product(a, 'orders'));
    expect(await store.getProduct(`${a}/missing`)).toBeUndefined();
    expect((await store.listProducts(a)).map((p) => p.id).sort()).toEqual([
      `${a}/leads`,
      `${a}/orders`,
    ]);
    expect((await store.listProducts(b)).map((p) => p.id)).toEqual([`${b}/invoices`]);
    expect(await store.listProducts(freshDomain())).toEqual([]);
  });

  test('users', async () => {
    const u: User = { id: nextId('user'), name: 'Uma', title: 'Analyst' };
    await store.putUser(u);
    expect(await store.getUser(u.id)).toEqual(u);
    expect(await store.getUser('nobody')).toBeUndefined();
    expect(await store.listUsers()).toContainEqual(u);
  });
});

// ---- memberships ------------------------------------------------------------------------------

describe('memberships', () => {
  test('put and delete, each with its audit event', async () => {
    const d = freshDomain();
    const m: Membership = { user: 'bob', domain: d, role: 'owner' };
    const added = event({ domain: d, type: 'MEMBERSHIP_ADDED', at: '2024-03-01T10:00:00.000Z' });
    await store.putMembership(m, added);
    expect(await store.listMemberships()).toContainEqual(m);
    expect(await auditOf(d)).toEqual([added]);

    // Putting it again replaces it: still one membership.
    await store.putMembership(
      m,
      event({ domain: d, type: 'MEMBERSHIP_ADDED', at: '2024-03-01T10:01:00.000Z' }),
    );
    expect((await store.listMemberships()).filter((x) => x.domain === d)).toEqual([m]);

    const removed = event({
      domain: d,
      type: 'MEMBERSHIP_REMOVED',
      at: '2024-03-01T11:00:00.000Z',
    });
    await store.deleteMembership(m, removed);
    expect((await store.listMemberships()).filter((x) => x.domain === d)).toEqual([]);
    expect((await auditOf(d)).map((e) => e.type)).toEqual([
      'MEMBERSHIP_ADDED',
      'MEMBERSHIP_ADDED',
      'MEMBERSHIP_REMOVED',
    ]);
  });

  test('roles are separate memberships', async () => {
    const d = freshDomain();
    await store.putMembership({ user: 'sam', domain: d, role: 'owner' }, event({ domain: d }));
    await store.putMembership({ user: 'sam', domain: d, role: 'steward' }, event({ domain: d }));
    await store.deleteMembership({ user: 'sam', domain: d, role: 'owner' }, event({ domain: d }));
    expect((await store.listMemberships()).filter((x) => x.domain === d)).toEqual([
      { user: 'sam', domain: d, role: 'steward' },
    ]);
  });

  test('deleting a missing membership is not_found, and writes no audit event', async () => {
    const d = freshDomain();
    const err = await meshgateError(() =>
      store.deleteMembership(
        { user: 'nobody', domain: d, role: 'owner' },
        event({ domain: d, type: 'MEMBERSHIP_REMOVED' }),
      ),
    );
    expect(err.kind).toBe('not_found');
    expect(err.code).toBe('MEMBERSHIP_NOT_FOUND');
    expect(await auditOf(d)).toEqual([]);
  });

  test('putMembership is atomic with its audit event: an event id already used writes neither', async () => {
    const d = freshDomain();
    const ev = event({ domain: d });
    await store.putMembership({ user: 'bob', domain: d, role: 'owner' }, ev);
    await expect(
      store.putMembership({ user: 'sam', domain: d, role: 'owner' }, ev),
    ).rejects.toThrow();
    expect((await store.listMemberships()).filter((x) => x.domain === d)).toEqual([
      { user: 'bob', domain: d, role: 'owner' },
    ]);
    expect(await auditOf(d)).toHaveLength(1);
  });
});

// ---- configuration record ---------------------------------------------------------------------

describe('configuration record', () => {
  test('writeConfiguration writes its changes and events only while the record is as read, and moves it', async () => {
    const d = freshDomain();
    const generation = async () => (await store.readAuthzState()).generation;
    expect(await store.readConfiguration()).toEqual({ version: undefined, seq: 0 });
    const g0 = await generation();

    // Changes without `done`: written with their events, the generation moved once, no version yet.
    const registered = event({ domain: d, type: 'DOMAIN_REGISTERED' });
    const added = event({ domain: d, type: 'MEMBERSHIP_ADDED' });
    expect(
      await store.writeConfiguration(
        [
          { domain: domain(d), audit: registered },
          { membership: { user: 'bob', domain: d, role: 'owner' }, audit: added },
        ],
        { seq: 0 },
      ),
    ).toBe(true);
    expect(await store.getDomain(d)).toEqual(domain(d));
    expect(await store.listMemberships()).toContainEqual({ user: 'bob', domain: d, role: 'owner' });
    expect(await auditOf(d)).toHaveLength(2);
    // Domain events go to the global chain, as createDomain's; membership events to the domain's.
    expect([registered.chain, added.chain]).toEqual(['*', d]);
    expect(await generation()).toBe(g0 + 1);
    expect(await store.readConfiguration()).toEqual({ version: undefined, seq: 1 });

    // A write from the record as it was before (another process read it too) writes nothing.
    const late = event({ domain: d, type: 'MEMBERSHIP_ADDED' });
    expect(
      await store.writeConfiguration(
        [{ membership: { user: 'sam', domain: d, role: 'owner' }, audit: late }],
        { seq: 0 },
      ),
    ).toBe(false);
    expect(await store.listMemberships()).not.toContainEqual({
      user: 'sam',
      domain: d,
      role: 'owner',
    });
    expect(await auditOf(d)).toHaveLength(2);
    expect(await generation()).toBe(g0 + 1);

    // `done` records the version with its event; no changes: the generation stays.
    const applied = event({ domain: '*', type: 'CONFIG_APPLIED', at: '2024-03-01T10:05:00.000Z' });
    expect(await store.writeConfiguration([], { seq: 1 }, { version: 'v1', audit: applied })).toBe(
      true,
    );
    expect(await store.readConfiguration()).toEqual({ version: 'v1', seq: 2 });
    expect(applied.chain).toBe('*');
    expect(await generation()).toBe(g0 + 1);
    expect(
      await store.writeConfiguration([], { version: 'v1', seq: 1 }, { version: 'v2', audit: late }),
    ).toBe(false);
    expect(await store.readConfiguration()).toEqual({ version: 'v1', seq: 2 });
  });
});

// ---- requests ---------------------------------------------------------------------------------

describe('requests', () => {
  test('createRequest writes the request, its audit event, and lists it by requester and domain', async () => {
    const d = freshDomain();
    const { r, ev } = await created(d, { requester: `u-${d}` });
    expect(await store.getRequest(r.id)).toEqual(r);
    expect(await store.listRequestAudit(r.id)).toEqual([ev]);
    expect(
      await store.listRequests([{ requester: `u-${d}` }], { limit: 500 }).then((x) => x.items),
    ).toEqual([r]);
    expect(await store.listRequests([{ domain: d }], { limit: 500 }).then((x) => x.items)).toEqual([
      r,
    ]);
    expect(await store.getRequest('req_missing')).toBeUndefined();
  });

  test('requests are listed newest first', async () => {
    const d = freshDomain();
    const older = (await created(d, { requester: `u-${d}`, createdAt: '2024-03-01T09:00:00.000Z' }))
      .r;
    const newer = (await created(d, { requester: `u-${d}`, createdAt: '2024-03-01T12:00:00.000Z' }))
      .r;
    expect(
      (await store.listRequests([{ domain: d }], { limit: 500 }).then((x) => x.items)).map(
        (x) => x.id,
      ),
    ).toEqual([newer.id, older.id]);
    expect(
      (
        await store.listRequests([{ requester: `u-${d}` }], { limit: 500 }).then((x) => x.items)
      ).map((x) => x.id),
    ).toEqual([newer.id, older.id]);
  });

  test('createRequest twice with the same id is a REQUEST_EXISTS conflict, with one audit event', async () => {
    const d = freshDomain();
    const { r, ev } = await created(d);
    const second = { ...r, purpose: 'overwritten?' };
    const err = await meshgateError(() =>
      store.createRequest(second, [event({ domain: d, requestId: r.id, type: 'REQUEST_CREATED' })]),
    );
    expect(err).toMatchObject({ kind: 'conflict', code: 'REQUEST_EXISTS' });
    expect(await store.getRequest(r.id)).toEqual(r);
    expect(await store.listRequestAudit(r.id)).toEqual([ev]);
    expect(await auditOf(d)).toHaveLength(1);
  });

  test('concurrent creates of one id: exactly one succeeds', async () => {
    const d = freshDomain();
    const r = request(d);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.createRequest({ ...r, purpose: `attempt ${i}` }, [
          event({ domain: d, requestId: r.id }),
        ]),
      ),
    );
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    for (const x of results) {
      if (x.status === 'rejected')
        expect(x.reason).toMatchObject({ kind: 'conflict', code: 'REQUEST_EXISTS' });
    }
    expect(await store.listRequestAudit(r.id)).toHaveLength(1);
  });

  test('updateRequest writes the next version with its events', async () => {
    const d = freshDomain();
    const { r } = await created(d);
    const next: AccessRequest = {
      ...r,
      status: 'APPROVED',
      updatedAt: '2024-03-01T11:00:00.000Z',
      version: 2,
    };
    const ev = event({
      domain: d,
      requestId: r.id,
      type: 'REQUEST_APPROVED',
      at: '2024-03-01T11:00:00.000Z',
    });
    await store.updateRequest(next, { status: 'PENDING', version: 1 }, [ev]);
    expect(await store.getRequest(r.id)).toEqual(next);
    expect((await store.listRequestAudit(r.id)).map((e) => e.type)).toEqual([
      'REQUEST_CREATED',
      'REQUEST_APPROVED',
    ]);
  });

  describe('a stale updateRequest is a STALE_REQUEST conflict and changes nothing', () => {
    async function approved(d: string) {
      const { r } = await created(d);
      const v2: AccessRequest = {
        ...r,
        status: 'APPROVED',
        updatedAt: '2024-03-01T11:00:00.000Z',
        version: 2,
      };
      await store.updateRequest(v2, { status: 'PENDING', version: 1 }, [
        event({ domain: d, requestId: r.id, type: 'REQUEST_APPROVED', at: v2.updatedAt }),
      ]);
      return v2;
    }

    test.each([
      ['a stale status', { status: 'PENDING', version: 2 }],
      ['a stale version', { status: 'APPROVED', version: 1 }],
      ['both stale', { status: 'PENDING', version: 1 }],
    ] as const)('%s', async (_label, expected) => {
      const d = freshDomain();
      const current = await approved(d);
      const auditBefore = await store.listRequestAudit(current.id);
      const next: AccessRequest = {
        ...current,
        status: 'ACTIVE',
        updatedAt: '2024-03-02T10:00:00.000Z',
        version: expected.version + 1,
      };
      const grant = grantFor(current);
      const err = await meshgateError(() =>
        store.updateRequest(
          next,
          expected,
          [
            event({
              domain: d,
              requestId: current.id,
              type: 'GRANT_ACTIVE',
              at: '2024-03-02T10:00:00.000Z',
            }),
          ],
          grant,
        ),
      );
      expect(err.kind).toBe('conflict');
      expect(err.code).toBe('STALE_REQUEST');
      expect(await store.getRequest(current.id)).toEqual(current);
      expect(await store.listRequestAudit(current.id)).toEqual(auditBefore);
      expect(await store.getGrant(grant.id)).toBeUndefined();
      expect(await store.listGrantsByDomain(d)).toEqual([]);
    });

    test('updating a request that does not exist', async () => {
      const d = freshDomain();
      const r = request(d);
      const err = await meshgateError(() =>
        store.updateRequest({ ...r, version: 2 }, { status: 'PENDING', version: 1 }, []),
      );
      expect(err).toMatchObject({ kind: 'conflict', code: 'STALE_REQUEST' });
      expect(await store.getRequest(r.id)).toBeUndefined();
    });
  });

  test('next.version must be expected.version + 1', async () => {
    const d = freshDomain();
    const { r } = await created(d);
    await expect(
      store.updateRequest(
        { ...r, status: 'APPROVED', version: 3 },
        { status: 'PENDING', version: 1 },
        [],
      ),
    ).rejects.toThrow(/expected.version \+ 1/);
    expect(await store.getRequest(r.id)).toEqual(r);
  });

  test('concurrent updates from one version: exactly one wins', async () => {
    const d = freshDomain();
    const { r } = await created(d);
    const results = await Promise.allSettled(
      (['APPROVED', 'DENIED', 'CANCELLED', 'APPROVED', 'DENIED', 'CANCELLED'] as const).map(
        (status) =>
          store.updateRequest({ ...r, status, version: 2 }, { status: 'PENDING', version: 1 }, [
            event({ domain: d, requestId: r.id, type: `TO_${status}` as AuditEventType }),
          ]),
      ),
    );
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    const after = (await store.getRequest(r.id))!;
    expect(after.version).toBe(2);
    const history = await store.listRequestAudit(r.id);
    expect(history.map((e) => e.type)).toEqual(['REQUEST_CREATED', `TO_${after.status}`]);
  });

  test('an update with a grant writes the grant, listed by domain and by requester', async () => {
    const d = freshDomain();
    const requester = `u-${d}`;
    const { r } = await created(d, { requester });
    const granting: AccessRequest = { ...r, status: 'GRANTING', version: 2 };
    await store.updateRequest(granting, { status: 'PENDING', version: 1 }, []);
    const grant = grantFor(r);
    const active: AccessRequest = { ...granting, status: 'ACTIVE', grantId: grant.id, version: 3 };
    await store.updateRequest(
      active,
      { status: 'GRANTING', version: 2 },
      [event({ domain: d, requestId: r.id, type: 'GRANT_ACTIVE' })],
      grant,
    );

    expect(await store.getGrant(grant.id)).toEqual(grant);
    expect(await store.getGrant('grt_missing')).toBeUndefined();
    expect(await store.listGrantsByDomain(d)).toEqual([grant]);
    expect(
      await store.listGrants([{ requester: requester }], { limit: 500 }).then((x) => x.items),
    ).toEqual([grant]);
    expect((await store.getRequest(r.id))?.grantId).toBe(grant.id);
    // While ACTIVE, it is among its principal's active grants in the domain.
    expect(await store.listActiveGrantsOf(d, grant.principal)).toEqual([grant]);
    expect(await store.listActiveGrantsOf(d, `${grant.principal}-other`)).toEqual([]);

    // A later update replaces the grant (same id), it does not add one.
    const revoking: AccessRequest = { ...active, status: 'REVOKING', version: 4 };
    await store.updateRequest(revoking, { status: 'ACTIVE', version: 3 }, [], {
      ...grant,
      status: 'REVOKING',
      endReason: 'done',
    });
    expect(await store.listGrantsByDomain(d)).toEqual([
      { ...grant, status: 'REVOKING', endReason: 'done' },
    ]);
    // Ending, it no longer holds the permission for others.
    expect(await store.listActiveGrantsOf(d, grant.principal)).toEqual([]);
  });

  test('grants are listed newest first', async () => {
    const d = freshDomain();
    const requester = `u-${d}`;
    const ids: string[] = [];
    for (const at of ['2024-03-02T10:00:00.000Z', '2024-03-03T10:00:00.000Z']) {
      const { r } = await created(d, { requester });
      const g = grantFor(r, { grantedAt: at });
      ids.push(g.id);
      await store.updateRequest(
        { ...r, status: 'ACTIVE', grantId: g.id, version: 2 },
        { status: 'PENDING', version: 1 },
        [],
        g,
      );
    }
    expect((await store.listGrantsByDomain(d)).map((g) => g.id)).toEqual([...ids].reverse());
    expect(
      (await store.listGrants([{ requester: requester }], { limit: 500 }).then((x) => x.items)).map(
        (g) => g.id,
      ),
    ).toEqual([...ids].reverse());
  });

  test('listPendingByDomain holds a request only while it is PENDING (sparse index)', async () => {
    const d = freshDomain();
    const first = (await created(d, { createdAt: '2024-03-01T09:00:00.000Z' })).r;
    const second = (await created(d, { createdAt: '2024-03-01T10:00:00.000Z' })).r;
    // Oldest first: the inbox order.
    expect(
      (
        await store
          .listPending(
            [
              { domain: d, stage: 'owner' },
              { domain: d, stage: 'compliance' },
            ],
            { limit: 500 },
          )
          .then((x) => x.items)
      ).map((x) => x.id),
    ).toEqual([first.id, second.id]);

    await store.updateRequest(
      { ...first, status: 'APPROVED', version: 2 },
      { status: 'PENDING', version: 1 },
      [],
    );
    expect(
      (
        await store
          .listPending(
            [
              { domain: d, stage: 'owner' },
              { domain: d, stage: 'compliance' },
            ],
            { limit: 500 },
          )
          .then((x) => x.items)
      ).map((x) => x.id),
    ).toEqual([second.id]);

    // A PENDING -> PENDING update (one approval of two) keeps it listed, with the new version.
    await store.updateRequest({ ...second, version: 2 }, { status: 'PENDING', version: 1 }, []);
    expect(
      (
        await store
          .listPending(
            [
              { domain: d, stage: 'owner' },
              { domain: d, stage: 'compliance' },
            ],
            { limit: 500 },
          )
          .then((x) => x.items)
      ).map((x) => [x.id, x.version]),
    ).toEqual([[second.id, 2]]);

    await store.updateRequest(
      { ...second, status: 'DENIED', version: 3 },
      { status: 'PENDING', version: 2 },
      [],
    );
    expect(
      await store
        .listPending(
          [
            { domain: d, stage: 'owner' },
            { domain: d, stage: 'compliance' },
          ],
          { limit: 500 },
        )
        .then((x) => x.items),
    ).toEqual([]);
    // Still listed by domain, with their new status.
    expect(
      (await store.listRequests([{ domain: d }], { limit: 500 }).then((x) => x.items))
        .map((x) => x.status)
        .sort(),
    ).toEqual(['APPROVED', 'DENIED']);
  });

  test('a request created in another status is never pending', async () => {
    const d = freshDomain();
    await created(d, { status: 'APPROVED' });
    expect(
      await store
        .listPending(
          [
            { domain: d, stage: 'owner' },
            { domain: d, stage: 'compliance' },
          ],
          { limit: 500 },
        )
        .then((x) => x.items),
    ).toEqual([]);
  });

  test('listRequestAudit returns events oldest first, whatever the order they were written in', async () => {
    const d = freshDomain();
    const { r, ev } = await created(d, { createdAt: '2024-03-01T08:00:00.000Z' });
    const late = event({
      domain: d,
      requestId: r.id,
      at: '2024-03-03T00:00:00.000Z',
      type: 'LATE' as AuditEventType,
    });
    const early = event({
      domain: d,
      requestId: r.id,
      at: '2024-03-02T00:00:00.000Z',
      type: 'EARLY' as AuditEventType,
    });
    await store.updateRequest({ ...r, version: 2 }, { status: 'PENDING', version: 1 }, [
      late,
      early,
    ]);
    expect(await store.listRequestAudit(r.id)).toEqual([ev, early, late]);
    // Another request's events are not mixed in.
    const other = await created(d);
    expect(await store.listRequestAudit(other.r.id)).toEqual([other.ev]);
  });
});

// ---- audit queries ----------------------------------------------------------------------------

describe('queryAudit', () => {
  // Three days in their own year, so no other test's events fall in range.
  const DAYS = ['2031-05-01', '2031-05-02', '2031-05-03'];
  const FROM = '2031-05-01T00:00:00.000Z';
  const TO = '2031-05-04T00:00:00.000Z';
  const DOMAINS = ['qa-sales', 'qa-finance'];
  const ACTORS = ['bob', 'sam', 'fiona'];
  const all: AuditEvent[] = [];

  beforeAll(async () => {
    let n = 0;
    for (const day of DAYS) {
      for (let h = 0; h < 7; h++) {
        const d = DOMAINS[n % 2]!;
        all.push(
          event({
            id: `evt_q${String(n).padStart(4, '0')}`,
            at: `${day}T${String(3 * h + 1).padStart(2, '0')}:15:00.000Z`,
            domain: d,
            actor: ACTORS[n % 3]!,
            type: 'Q' as AuditEventType,
            // Some belong to a request, some stand alone (memberships, domains).
            ...(n % 4 === 0 ? {} : { requestId: `req_q${n % 5}` }),
          }),
        );
        n++;
      }
    }
    // One event at exactly `to` (outside [from, to)) and one just before `from`.
    all.push(event({ id: 'evt_qedge1', at: TO, domain: DOMAINS[0]!, actor: 'bob' }));
    all.push(
      event({
        id: 'evt_qedge2',
        at: '2031-04-30T23:59:59.999Z',
        domain: DOMAINS[0]!,
        actor: 'bob',
      }),
    );
    // Written in a shuffled order, in separate transactions.
    const shuffled = [...all].sort((a, b) =>
      a.id.split('').reverse().join('') < b.id.split('').reverse().join('') ? -1 : 1,
    );
    for (const e of shuffled)
      await store.putMembership({ user: `qa-${e.id}`, domain: e.domain, role: 'auditor' }, e);
  });

  const inRange = () =>
    all
      .filter((e) => e.at >= FROM && e.at < TO)
      .sort((a, b) => `${a.at}#${a.id}`.localeCompare(`${b.at}#${b.id}`));

  /** Follows the cursor to the end; returns the pages. */
  async function walk(q: {
    domain?: string;
    actor?: string;
    limit: number;
    from?: string;
    to?: string;
  }) {
    const pages: AuditEvent[][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await store.queryAudit({ from: FROM, to: TO, ...q, after: cursor });
      expect(page.items.length).toBeLessThanOrEqual(q.limit);
      pages.push(page.items);
      cursor = page.next;
      if (!cursor) return pages;
    }
    throw new Error('the cursor never ended');
  }

  test('without a domain: every event in [from, to), oldest first, across days', async () => {
    const page = await store.queryAudit({ from: FROM, to: TO, limit: 1000 });
    expect(page.items).toEqual(inRange());
    expect(page.items).toHaveLength(21);
    expect(page.next).toBeUndefined();
  });

  test('with a domain: only that domain, oldest first', async () => {
    for (const d of DOMAINS) {
      const page = await store.queryAudit({ from: FROM, to: TO, domain: d, limit: 1000 });
      expect(page.items).toEqual(inRange().filter((e) => e.domain === d));
      expect(page.next).toBeUndefined();
    }
  });

  test('a narrower range', async () => {
    const from = '2031-05-02T00:00:00.000Z';
    const to = '2031-05-02T12:00:00.000Z';
    const expected = inRange().filter((e) => e.at >= from && e.at < to);
    expect(expected.length).toBeGreaterThan(0);
    expect((await store.queryAudit({ from, to, limit: 1000 })).items).toEqual(expected);
    expect((await store.queryAudit({ from, to, domain: DOMAINS[1], limit: 1000 })).items).toEqual(
      expected.filter((e) => e.domain === DOMAINS[1]),
    );
  });

  test('an actor filter, with and without a domain', async () => {
    const page = await store.queryAudit({ from: FROM, to: TO, actor: 'sam', limit: 1000 });
    expect(page.items).toEqual(inRange().filter((e) => e.actor === 'sam'));
    const inDomain = await store.queryAudit({
      from: FROM,
      to: TO,
      actor: 'sam',
      domain: DOMAINS[0],
      limit: 1000,
    });
    expect(inDomain.items).toEqual(
      inRange().filter((e) => e.actor === 'sam' && e.domain === DOMAINS[0]),
    );
    expect(
      (await store.queryAudit({ from: FROM, to: TO, actor: 'nobody', limit: 1000 })).items,
    ).toEqual([]);
  });

  test.each([1, 2, 3, 5, 7, 8, 20, 21, 22])(
    'paging with limit %i walks every event exactly once, in order',
    async (limit) => {
      const pages = await walk({ limit });
      expect(pages.flat()).toEqual(inRange());
      // Every page but the last is full.
      for (const p of pages.slice(0, -1)) expect(p).toHaveLength(limit);
    },
  );

  test.each([1, 4, 10])('paging with a domain and limit %i', async (limit) => {
    for (const d of DOMAINS) {
      expect((await walk({ domain: d, limit })).flat()).toEqual(
        inRange().filter((e) => e.domain === d),
      );
    }
  });

  test.each([1, 2, 3])('paging with an actor filter and limit %i', async (limit) => {
    for (const actor of ACTORS) {
      expect((await walk({ actor, limit })).flat()).toEqual(
        inRange().filter((e) => e.actor === actor),
      );
      expect((await walk({ actor, domain: DOMAINS[1], limit })).flat()).toEqual(
        inRange().filter((e) => e.actor === actor && e.domain === DOMAINS[1]),
      );
    }
  });

  test('a range with no events', async () => {
    expect(
      await store.queryAudit({
        from: '2031-06-01T00:00:00.000Z',
        to: '2031-06-03T00:00:00.000Z',
        limit: 5,
      }),
    ).toEqual({ items: [] });
  });

  test('a page resumes strictly after the position the previous one returned', async () => {
    const first = await store.queryAudit({ from: FROM, to: TO, limit: 2 });
    expect(first.next).toBe(`${first.items[1]!.at}#${first.items[1]!.id}`);
    const rest = await store.queryAudit({ from: FROM, to: TO, limit: 1000, after: first.next });
    expect([...first.items, ...rest.items]).toEqual(inRange());
  });

  test('any window, however long, is one Query', async () => {
    const sent = jest.spyOn(DynamoDBDocumentClient.prototype, 'send');
    try {
      const page = await store.queryAudit({
        from: '2030-01-01T00:00:00.000Z',
        to: '2031-02-04T00:00:00.000Z',
        limit: 5,
      });
      expect(page.items).toEqual([]);
      expect(sent).toHaveBeenCalledTimes(1);
    } finally {
      sent.mockRestore();
    }
  });
});

describe('single-table layout', () => {
  test('a request item carries its index keys; the audit event lives in the request partition', async () => {
    const d = freshDomain();
    const { r, ev } = await created(d);
    const raw = (
      await db.doc.send(
        new GetCommand({ TableName: TABLE, Key: { pk: `REQUEST#${r.id}`, sk: 'META' } }),
      )
    ).Item!;
    expect(raw).toMatchObject({
      kind: 'request',
      gsi1pk: `REQUESTER#${r.requester}`,
      gsi2pk: `REQDOMAIN#${d}`,
      gsi3pk: `PENDING#${d}#owner`,
      gsi4pk: 'PENDINGSTAGE#owner',
    });
    const partition = await db.doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': `REQUEST#${r.id}` },
      }),
    );
    expect(partition.Items!.map((i) => i.sk)).toEqual([`EVENT#${ev.at}#${ev.id}`, 'META']);
  });
});
