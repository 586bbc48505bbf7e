import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessRequest } from '../../functions/domain/model';
import { createEmbeddedPortal, type EmbeddedOptions } from '../../functions/wiring/local';
import { checkAnswer } from './response-check';

export const POLICY_DIR = join(__dirname, '../../policies');
export const DEMO_USERS = [
  'alice',
  'bob',
  'sam',
  'fiona',
  'grace',
  'henry',
  'carol',
  'dave',
  'erin',
] as const;
export type DemoUser = (typeof DEMO_USERS)[number];

/**
 * A copy of the policy folder with other global limits (`max-open-requests`,
 * `max-calls-per-minute`), for tests that make more requests or calls than one user may.
 */
export function policyWithLimits(limits: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-policy-'));
  cpSync(POLICY_DIR, dir, { recursive: true });
  const file = join(dir, 'global.csv');
  let text = readFileSync(file, 'utf8');
  for (const [key, value] of Object.entries(limits))
    text = text.replace(new RegExp(`^p2, \\*, ${key}, \\d+$`, 'm'), `p2, *, ${key}, ${value}`);
  writeFileSync(file, text);
  return dir;
}

export const ROLE_ARN = 'arn:aws:iam::555555555555:role/analyst';

let roles = 0;
/**
 * A request body for `POST /v1/requests` with sensible defaults. Each gets its own consumer role:
 * Lake Formation holds one permission per principal and resource, so requests that shared a role
 * would share their permission.
 */
export const newRequest = (productId: string, over: Record<string, unknown> = {}) => ({
  productId,
  principal: `${ROLE_ARN}-${++roles}`,
  scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
  duration: { value: 7, unit: 'days' },
  purpose: 'Quarterly campaign attribution',
  ...over,
});

/**
 * The embedded portal in memory (dynalite, local ledger, in-process queue), seeded with the demo
 * mesh, plus helpers to call its API as a demo user through `app.request()`.
 */
export async function startPortal(opts: EmbeddedOptions = {}) {
  const portal = await createEmbeddedPortal({ policyDir: POLICY_DIR, ...opts });
  const tokens = new Map<string, string>();

  async function token(user: string): Promise<string> {
    const cached = tokens.get(user);
    if (cached) return cached;
    const res = await portal.app.request('/auth/dev-login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    if (res.status !== 200) throw new Error(`dev-login ${user}: ${res.status} ${await res.text()}`);
    const t = ((await res.json()) as { token: string }).token;
    tokens.set(user, t);
    return t;
  }

  /** Calls the API as `user` (or anonymously with null); returns status and parsed JSON body. */
  async function call(user: string | null, method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (user) headers.authorization = `Bearer ${await token(user)}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await portal.app.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    checkAnswer(portal.app, method, path, res.status, res.headers, json);
    return { status: res.status, body: json };
  }

  /** Forgets the tokens (they last 12 hours of the portal's clock; a test that moves it past that signs in again). */
  const resetTokens = () => tokens.clear();

  return { ...portal, token, call, resetTokens };
}

export type TestPortal = Awaited<ReturnType<typeof startPortal>>;

/**
 * alice's request for `productId` (its body's fields `over`), approved by `approvers` (none for a
 * public product, approved as it is made), granted by the worker: the request, ACTIVE.
 */
export async function activeRequest(
  p: TestPortal,
  productId: string,
  over: Record<string, unknown> = {},
  approvers: readonly string[] = ['bob'],
) {
  const created = await p.call('alice', 'POST', '/v1/requests', newRequest(productId, over));
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  for (const approver of approvers)
    expect(
      (await p.call(approver, 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' })).status,
    ).toBe(200);
  await p.queue.onIdle();
  const r = await p.call('alice', 'GET', `/v1/requests/${id}`);
  expect(r.body.status).toBe('ACTIVE');
  return r.body;
}

/**
 * Brings a pending request to APPROVED directly in the store, as an approval commits it, without
 * queueing a job: the test runs the worker's job itself, when it chooses.
 */
export async function approveInStore(p: TestPortal, id: string): Promise<AccessRequest> {
  const r = (await p.store.getRequest(id))!;
  const now = p.deps.clock.now().toISOString();
  const next: AccessRequest = { ...r, status: 'APPROVED', updatedAt: now, version: r.version + 1 };
  await p.store.updateRequest(next, { status: r.status, version: r.version }, [
    {
      id: p.deps.ids.next('evt'),
      at: now,
      type: 'REQUEST_APPROVED',
      actor: 'bob',
      domain: r.domain,
      requestId: r.id,
      productId: r.productId,
      fromStatus: 'PENDING',
      toStatus: 'APPROVED',
      detail: {},
    },
  ]);
  return next;
}
