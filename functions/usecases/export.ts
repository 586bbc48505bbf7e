// Audit exports: the audit trail as a CSV or JSON Lines file, streamed page by page so memory
// stays constant however long the range; and one grant's full chain of evidence in one file.
import type { AuditEvent, AuditEventType, Principal } from '../domain/model';
import { forbidden, validation } from '../domain/errors';
import { csvHeader, csvRow, jsonlRow } from '../domain/export-format';
import { loadVisibleGrant, mayReadAudit, type Deps } from './deps';

type Q = Pick<Deps, 'store' | 'policy'>;

export type ExportFormat = 'csv' | 'jsonl';
export type ChainFormat = 'json' | ExportFormat;

/** Events per store page while exporting. */
export const EXPORT_PAGE = 500;

export interface ExportFilter {
  from: string;
  to: string;
  domain?: string;
  actor?: string;
  /** A product id: only its events. */
  product?: string;
  /** Only events of these types. */
  type?: readonly AuditEventType[];
}

/**
 * The time window of an audit read: `to` defaults to now, `from` to 30 days before `to`; at most
 * `maxDays` long, `from` before `to`.
 */
export function auditWindow(
  now: Date,
  maxDays: number,
  q: { from?: string; to?: string },
): { from: string; to: string } {
  const to = q.to ?? now.toISOString();
  const from = q.from ?? new Date(new Date(to).getTime() - 30 * 86_400_000).toISOString();
  if (new Date(from).getTime() > new Date(to).getTime())
    throw validation('VALIDATION_FAILED', '`from` must be before `to`.');
  if (new Date(to).getTime() - new Date(from).getTime() > maxDays * 86_400_000) {
    throw validation('VALIDATION_FAILED', `Ask for at most ${maxDays} days at a time.`);
  }
  return { from, to };
}

const rowOf = (format: ExportFormat) => (format === 'csv' ? csvRow : jsonlRow);

/**
 * The audit trail in [from, to) as chunks of text (the CSV header first). The caller's right is
 * checked here, before anything is produced: awaiting this either refuses (403) or hands back
 * the stream. Pages of EXPORT_PAGE events are read one at a time, following the store's cursor.
 */
export async function exportAudit(
  deps: Q,
  who: Principal,
  f: ExportFilter,
  format: ExportFormat,
): Promise<AsyncIterable<string>> {
  const decision = mayReadAudit(deps, who, f.domain);
  if (!decision.allowed)
    throw forbidden('NOT_ALLOWED', `Exporting the audit trail is for auditors. ${decision.reason}`);
  const types = f.type?.length ? new Set<string>(f.type) : undefined;
  const keep = (e: AuditEvent) =>
    (!f.product || e.productId === f.product) && (!types || types.has(e.type));
  const row = rowOf(format);
  const query = { from: f.from, to: f.to, domain: f.domain, actor: f.actor, limit: EXPORT_PAGE };

  async function* chunks(): AsyncGenerator<string> {
    if (format === 'csv') yield csvHeader();
    let after: string | undefined;
    do {
      const page = await deps.store.queryAudit({ ...query, after });
      let text = '';
      for (const e of page.items) if (keep(e)) text += row(e);
      if (text) yield text;
      after = page.next;
    } while (after);
  }
  return chunks();
}

/**
 * One grant's full chain: the grant, its request (stages, approvals, explanation) and every
 * audit event of the request in order, from its creation through the decision, approvals,
 * fulfilment (with the exact Lake Formation entries and results) to its expiry or revocation.
 * Visible to whoever may read the request and to auditors; to anyone else the grant is missing.
 */
export async function loadGrantChain(deps: Q, who: Principal, grantId: string) {
  const { grant, request } = await loadVisibleGrant(deps, who, grantId, true);
  const events = await deps.store.listRequestAudit(request.id);
  return { grant, request, events };
}

/** The chain as one file: a JSON document {grant, request, events}, or its events as CSV or JSON Lines. */
export async function grantChain(
  deps: Q,
  who: Principal,
  grantId: string,
  format: ChainFormat,
): Promise<string> {
  const chain = await loadGrantChain(deps, who, grantId);
  if (format === 'json') return JSON.stringify(chain, null, 2) + '\n';
  const row = rowOf(format);
  let text = format === 'csv' ? csvHeader() : '';
  for (const e of chain.events) text += row(e);
  return text;
}
