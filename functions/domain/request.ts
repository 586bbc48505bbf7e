import type { AccessRequest, DataProduct, Duration, Scope, Stage } from './model';
import { unprocessable, validation } from './errors';
import { conjuncts, parseRowFilter, serialiseRowFilter } from './row-filter';

/** An IAM role ARN in any partition (optionally with a path), or a 12-digit account id. */
export const PRINCIPAL_PATTERN =
  /^(?:\d{12}|arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/;

export const principalAccount = (principal: string): string =>
  /^\d{12}$/.test(principal) ? principal : (principal.split(':')[4] ?? '');

export const durationHours = (d: Duration): number => (d.unit === 'days' ? d.value * 24 : d.value);

export const formatHours = (h: number): string => (h % 24 === 0 ? `${h / 24} days` : `${h} hours`);

/**
 * DESCRIBE goes on the whole table only. Lake Formation's TableWithColumns resource "is only used
 * when granting a SELECT permission" (its API reference: a column list with DESCRIBE is refused as
 * invalid input), and DESCRIBE on a data cells filter lets the principal describe the filter, not
 * the table. Sending DESCRIBE apart on the table would show every column name, the excluded ones
 * too; SELECT on columns already lets the principal see the table and the granted columns. So a
 * scope with a column list or a row filter asks for SELECT alone.
 */
export function checkDescribeScope(scope: Pick<Scope, 'permissions' | 'columns' | 'rowFilter'>) {
  if (!scope.permissions.includes('DESCRIBE')) return;
  const narrowed = scope.columns.mode !== 'all' ? 'a column list' : undefined;
  const filtered = scope.rowFilter !== undefined ? 'a row filter' : undefined;
  const by = [narrowed, filtered].filter(Boolean).join(' and ');
  if (!by) return;
  throw validation(
    'DESCRIBE_NEEDS_WHOLE_TABLE',
    `DESCRIBE is granted on whole tables only, not with ${by}: ask for SELECT alone (it shows the granted columns), or for every column without a row filter.`,
    { permissions: scope.permissions },
  );
}

/** Checks a scope against the product it asks for: every named column must exist. */
export function checkScope(product: DataProduct, scope: Scope): void {
  checkDescribeScope(scope);
  if (scope.columns.mode === 'all') return;
  const known = new Set(product.columns.map((c) => c.name));
  const unknown = scope.columns.columns.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw unprocessable(
      'UNKNOWN_COLUMNS',
      `Product ${product.id} has no column(s): ${unknown.join(', ')}.`,
      {
        columns: unknown,
      },
    );
  }
  if (scope.columns.mode === 'exclude' && new Set(scope.columns.columns).size >= known.size) {
    throw unprocessable('EMPTY_SCOPE', 'The exclude list removes every column of the product.');
  }
}

/**
 * The scope as it is stored: its columns checked against the product, and its row filter parsed
 * against the product's columns and put in canonical form (a `ROW_FILTER_INVALID` 400 if it does
 * not parse). Every way a scope enters (a request, a preview, a narrowing, an extension) goes
 * through here.
 */
export function normaliseScope(product: DataProduct, scope: Scope): Scope {
  checkScope(product, scope);
  if (scope.rowFilter === undefined) return scope;
  return { ...scope, rowFilter: parseRowFilter(scope.rowFilter, product.columns).canonical };
}

/** The column names a scope gives access to. */
export function scopedColumns(product: DataProduct, scope: Scope): string[] {
  const all = product.columns.map((c) => c.name);
  switch (scope.columns.mode) {
    case 'all':
      return all;
    case 'include':
      return all.filter((c) => (scope.columns as { columns: string[] }).columns.includes(c));
    case 'exclude':
      return all.filter((c) => !(scope.columns as { columns: string[] }).columns.includes(c));
  }
}

/**
 * The personal-data columns a scope reads: those it returns, and those its row filter tests (a
 * filter on `email` tells which rows hold an address even when `email` is not returned).
 */
export const piiColumnsTouched = (product: DataProduct, scope: Scope): string[] => {
  const pii = new Set(product.columns.filter((c) => c.pii).map((c) => c.name));
  const returned = scopedColumns(product, scope).filter((c) => pii.has(c));
  const filtered = scope.rowFilter
    ? parseRowFilter(scope.rowFilter, product.columns).columns.filter((c) => pii.has(c))
    : [];
  return [...new Set([...returned, ...filtered])];
};

/** An approver may narrow a request, never widen it. */
export function checkNarrowing(product: DataProduct, requested: Scope, narrowed: Scope): void {
  checkScope(product, narrowed);
  const wider = narrowed.permissions.filter((p) => !requested.permissions.includes(p));
  if (wider.length > 0) {
    throw unprocessable('NOT_NARROWER', `Narrowing cannot add permissions (${wider.join(', ')}).`);
  }
  const had = new Set(scopedColumns(product, requested));
  const added = scopedColumns(product, narrowed).filter((c) => !had.has(c));
  if (added.length > 0) {
    throw unprocessable('NOT_NARROWER', `Narrowing cannot add columns (${added.join(', ')}).`);
  }
  checkRowFilterNarrowing(product, requested.rowFilter, narrowed.rowFilter);
}

/**
 * A narrowed row filter must keep every condition the requested one ANDs together, and may AND
 * more: `region = 'EU'` can become `region = 'EU' AND channel = 'web'`, never `region = 'DE'`.
 */
function checkRowFilterNarrowing(
  product: DataProduct,
  requested: string | undefined,
  narrowed: string | undefined,
): void {
  const kept = narrowed === undefined ? undefined : parseRowFilter(narrowed, product.columns);
  if (requested === undefined) return;
  if (!kept) throw unprocessable('NOT_NARROWER', 'Narrowing must keep the requested row filter.');
  let had: string[];
  try {
    had = conjuncts(parseRowFilter(requested, product.columns).ast).map(serialiseRowFilter);
  } catch {
    // A filter stored before filters were parsed, or one the product's columns no longer fit:
    // no valid filter can be shown to keep it.
    had = [requested];
  }
  const has = new Set(conjuncts(kept.ast).map(serialiseRowFilter));
  const dropped = had.filter((c) => !has.has(c));
  if (dropped.length > 0) {
    throw unprocessable(
      'NOT_NARROWER',
      `Narrowing must keep the requested row filter (it may add conditions with AND); missing: ${dropped.join(' AND ')}.`,
    );
  }
}

/** The stage that is waiting for approvals, or undefined when all have passed. */
export const currentStage = (r: Pick<AccessRequest, 'stages'>): Stage | undefined =>
  r.stages.find((s) => s.approvals.length < s.required);

/** The scope and duration in force after approvals: the last narrowing wins. */
export function effectiveTerms(r: AccessRequest): { scope: Scope; duration: Duration } {
  let scope = r.scope;
  let duration = r.duration;
  for (const stage of r.stages) {
    for (const a of stage.approvals) {
      if (a.narrowedScope) scope = a.narrowedScope;
      if (a.narrowedDuration) duration = a.narrowedDuration;
    }
  }
  return { scope, duration };
}
