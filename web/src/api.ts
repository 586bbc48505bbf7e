// The typed client of the Meshgate HTTP API: the only way the UI reaches data. Its types are
// generated from the API's OpenAPI document (api-types.ts, `npm run api:types`), never re-declared.
import type { components } from './api-types';

type Schemas = components['schemas'];
export type AccessRequest = Schemas['AccessRequest'];
export type AuditEvent = Schemas['AuditEvent'];
export type Classification = Schemas['Classification'];
export type DataProduct = Schemas['DataProduct'];
export type Decision = Schemas['Decision'];
export type Duration = Schemas['RequestedDuration'];
export type Grant = Schemas['Grant'];
export type Membership = Schemas['MembershipRecord'];
export type Permission = Schemas['GrantedScope']['permissions'][number];
export type RequestStatus = Schemas['RequestStatus'];
export type Role = Schemas['MembershipRecord']['role'];
export type RuleRef = Schemas['RuleRef'];
export type Scope = Schemas['GrantedScope'];
export type Me = Schemas['Me'];
export type DomainInfo = Schemas['DomainView'];
export type ProductDetail = Schemas['DataProductDetail'];
export type Preview = Schemas['RequestPreviewAnswer'];
/** A request with its terms as narrowed by approvers so far, and the personal-data columns they touch. */
export type RequestWithTerms = Schemas['RequestWithTerms'];
export type RequestWithHistory = Schemas['RequestDetail'];
/** A request in a listing, with its terms as narrowed by approvers so far. */
export type RequestListItem = Schemas['RequestListItem'];
export type NewRequest = Schemas['NewRequest'];
export type Access = Schemas['Access'];
export type GrantWithAccess = Schemas['GrantDetail'];
export type Notification = Schemas['Notification'];
export type NotificationSummary = Schemas['NotificationSummary'];
export type Operation = Schemas['Operation'];
export type PolicyInForce = Schemas['PolicyInForce'];
export type Verification = Schemas['AuditVerification'];
export type Explained = Schemas['ExplainAnswer'];
export type ExplainQuestion = Schemas['ExplainQuestion'];
export type NewDomain = Schemas['Domain'];

/** Every value of the API's enums the UI offers, checked against the model's types. */
export const PERMISSION_LABELS = {
  SELECT: 'Read rows (SELECT)',
  DESCRIBE: 'See the table definition (DESCRIBE)',
} satisfies Record<Permission, string>;
export const CLASSIFICATION_LABELS = {
  public: 'Public',
  internal: 'Internal',
  confidential: 'Confidential',
  restricted: 'Restricted',
} satisfies Record<Classification, string>;

/** `GET /v1/products`: filters of the catalog search (each a query parameter). */
export interface CatalogFilters {
  q?: string;
  domain?: string;
  classification?: string;
  tag?: string;
  owner?: string;
  pii?: 'true' | 'false';
  access?: 'true' | 'false';
}
export const FACET_NAMES = ['domain', 'classification', 'tag', 'owner', 'pii', 'access'] as const;
export type FacetName = (typeof FACET_NAMES)[number];
/** A search's answer: one page of ranked products (no columns), the total and the facets' counts. */
export type ProductSearch = Schemas['ProductSearch'];
/** A product as a search answers it: whether one holds personal data, and whether the caller holds it. */
export type ProductHit = ProductSearch['items'][number];
export interface Approval {
  comment?: string;
  narrowedScope?: Scope;
  narrowedDuration?: Duration;
}
export interface AuditFilter {
  from?: string;
  to?: string;
  domain?: string;
  actor?: string;
  product?: string;
  type?: string;
}
export interface RuntimeConfig {
  /** Base URL of the API; '' for the same origin (the local portal). */
  apiUrl: string;
  /**
   * 'dev': the embedded default's local sign-in; 'dev-code': the same, with the code the local
   * server printed at start (against AWS); 'cognito': the hosted UI.
   */
  auth: 'dev' | 'dev-code' | 'cognito';
  region?: string;
  userPoolClientId?: string;
  /** https://<prefix>.auth.<region>.amazoncognito.com */
  authDomain?: string;
  stage?: string;
}
export interface DevUser {
  id: string;
  name: string;
  title?: string;
  memberships: Membership[];
}

/** An error answered by the API: its code, its message and, for bad input, which fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** Messages per field path ("scope.columns", "principal"...), when the API named the fields. */
  fieldErrors(): Record<string, string> {
    const issues = this.details?.issues;
    const out: Record<string, string> = {};
    if (!Array.isArray(issues)) return out;
    for (const i of issues as { path?: unknown; message?: string }[]) {
      const key = Array.isArray(i.path) ? i.path.join('.') : String(i.path ?? '');
      if (!(key in out)) out[key] = String(i.message ?? 'invalid');
    }
    return out;
  }
}

const query = (q: Record<string, string | number | boolean | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

const RETRIES_ON_503 = 3;

/** One page of a listing: `cursor` (absent on the last page) asks for the next. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** Every item of a listing, page after page (for short lists: domains, a dropdown's choices). */
async function everyPage<T>(page: (cursor?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    items.push(...p.items);
    cursor = p.cursor;
  } while (cursor);
  return items;
}

export class Api {
  private readonly baseUrl: string;
  constructor(
    baseUrl: string,
    private readonly token: () => string | undefined,
    private readonly onUnauthenticated: () => void = () => {},
  ) {
    // The API stage URL ends with '/'; paths start with one.
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** A raw authenticated fetch (downloads and streams). */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const t = this.token();
    if (t) headers.set('authorization', `Bearer ${t}`);
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
    let res: Response;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await fetch(`${this.baseUrl}${path}`, { ...init, headers });
      } catch {
        throw new ApiError(
          0,
          'NETWORK',
          'The portal cannot be reached. Check your connection and try again.',
        );
      }
      // 503: the instance could not decide (a deploy in progress, the audit chain busy) and
      // changed nothing; another try soon usually lands on one that can.
      if (res.status !== 503 || attempt >= RETRIES_ON_503) break;
      await new Promise((ok) => setTimeout(ok, 250 * 2 ** attempt));
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => undefined)) as
        | { error?: { code?: string; message?: string; details?: Record<string, unknown> } }
        | undefined;
      const err = new ApiError(
        res.status,
        body?.error?.code ?? `HTTP_${res.status}`,
        body?.error?.message ?? `The portal answered ${res.status}.`,
        body?.error?.details,
      );
      if (res.status === 401) this.onUnauthenticated();
      throw err;
    }
    return res;
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await this.fetch(path, init)).json()) as T;
  }
  private post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>(path, { method: 'POST', body: JSON.stringify(body ?? {}) });
  }

  devUsers = () => this.json<{ items: DevUser[] }>('/auth/dev-users').then((r) => r.items);
  devLogin = (user: string, code?: string) =>
    this.post<{ token: string; expiresAt: string }>(
      '/auth/dev-login',
      code === undefined ? { user } : { user, code },
    );

  me = () => this.json<Me>('/v1/me');
  domainsPage = (cursor?: string) =>
    this.json<Page<DomainInfo>>(`/v1/domains${query({ limit: 500, cursor })}`);
  domains = () => everyPage(this.domainsPage);
  products = (f: CatalogFilters & { cursor?: string; limit?: number }) =>
    this.json<ProductSearch>(`/v1/products${query({ ...f })}`);
  product = (id: string) =>
    this.json<ProductDetail>(`/v1/products/${id.split('/').map(encodeURIComponent).join('/')}`);

  preview = (b: Pick<NewRequest, 'productId' | 'scope' | 'duration'>) =>
    this.post<Preview>('/v1/requests/preview', b);
  submit = (b: NewRequest) => this.post<AccessRequest>('/v1/requests', b);
  requestsPage = (
    f: { mine?: boolean; status?: RequestStatus; domain?: string } = {},
    cursor?: string,
  ) => this.json<Page<RequestListItem>>(`/v1/requests${query({ ...f, cursor })}`);
  /** Every page: for short lists only (the pages use `requestsPage`). */
  requests = (f: { mine?: boolean; status?: RequestStatus; domain?: string } = {}) =>
    everyPage((cursor) => this.requestsPage({ ...f }, cursor));
  request = (id: string) => this.json<RequestWithHistory>(`/v1/requests/${encodeURIComponent(id)}`);
  approve = (id: string, a: Approval) =>
    this.post<AccessRequest>(`/v1/requests/${encodeURIComponent(id)}/approve`, a);
  deny = (id: string, reason: string) =>
    this.post<AccessRequest>(`/v1/requests/${encodeURIComponent(id)}/deny`, { reason });
  cancel = (id: string) =>
    this.post<AccessRequest>(`/v1/requests/${encodeURIComponent(id)}/cancel`);
  retry = (id: string) => this.post<AccessRequest>(`/v1/requests/${encodeURIComponent(id)}/retry`);
  approvalsPage = (cursor?: string) =>
    this.json<Page<RequestWithTerms>>(`/v1/approvals${query({ cursor })}`);
  approvals = () => everyPage(this.approvalsPage);

  grantsPage = (
    f: { domain?: string; status?: Grant['status']; mine?: boolean } = {},
    cursor?: string,
  ) => this.json<Page<Grant>>(`/v1/grants${query({ ...f, cursor })}`);
  /** Every page: for short lists only (the pages use `grantsPage`). */
  grants = (f: { domain?: string; status?: Grant['status']; mine?: boolean } = {}) =>
    everyPage((cursor) => this.grantsPage(f, cursor));
  /** One grant, with how to use it while it is ACTIVE. */
  grant = (id: string) => this.json<GrantWithAccess>(`/v1/grants/${encodeURIComponent(id)}`);
  revoke = (id: string, reason: string) =>
    this.post<Grant>(`/v1/grants/${encodeURIComponent(id)}/revoke`, { reason });
  extend = (id: string, duration: Duration, purpose: string) =>
    this.post<AccessRequest>(`/v1/grants/${encodeURIComponent(id)}/extend`, { duration, purpose });

  notifications = (q: { limit?: number; cursor?: string; unread?: boolean } = {}) =>
    this.json<{ items: Notification[]; cursor?: string }>(`/v1/notifications${query(q)}`);
  notificationSummary = () => this.json<NotificationSummary>('/v1/notifications/summary');
  markNotificationRead = (id: string) =>
    this.post<Notification>(`/v1/notifications/${encodeURIComponent(id)}/read`);
  markAllNotificationsRead = () => this.post<{ marked: number }>('/v1/notifications/read-all');

  // The admin console.
  registerDomain = (d: NewDomain) => this.post<Schemas['RegisteredDomain']>('/v1/domains', d);
  operations = (domain: string, limit = 20, cursor?: string) =>
    this.json<Page<Operation>>(`/v1/operations${query({ domain, limit, cursor })}`);
  operation = (id: string) =>
    this.json<{ operation: Operation }>(`/v1/operations/${encodeURIComponent(id)}`);
  startOperation = (domain: string, kind: Operation['kind']) =>
    this.post<{ operation: Operation }>(`/v1/domains/${encodeURIComponent(domain)}/${kind}`);
  membersPage = (domain: string, cursor?: string) =>
    this.json<Page<Membership>>(
      `/v1/domains/${encodeURIComponent(domain)}/members${query({ limit: 500, cursor })}`,
    );
  members = (domain: string) => everyPage((cursor) => this.membersPage(domain, cursor));
  addMembership = (m: Pick<Membership, 'user' | 'domain' | 'role'>) =>
    this.post<Membership>('/v1/memberships', m);
  removeMembership = (m: Pick<Membership, 'user' | 'domain' | 'role'>) =>
    this.json<{ removed: Membership }>(
      `/v1/memberships/${[m.domain, m.user, m.role].map(encodeURIComponent).join('/')}`,
      { method: 'DELETE' },
    );
  verifyAudit = () => this.json<Verification>('/v1/audit/verify');
  policy = () => this.json<PolicyInForce>('/v1/policy');
  explain = (q: ExplainQuestion) => this.post<Explained>('/v1/policy/explain', q);

  /** The audit export for a filter, as a response to stream or save. */
  auditExport = (f: AuditFilter, format: 'csv' | 'jsonl') =>
    this.fetch(`/v1/audit/export${query({ ...f, format })}`);
  exportUrl = (f: AuditFilter, format: 'csv' | 'jsonl') =>
    `/v1/audit/export${query({ ...f, format })}`;
}
