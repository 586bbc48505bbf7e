// Checks of the request form, run as the consumer types. The API checks everything again; these
// only say early, next to the field, what it would refuse.
import type { Duration, Permission, Scope } from './api';

/** An IAM role ARN in any partition (optionally with a path), or a 12-digit account id (as the API accepts). */
export const PRINCIPAL_PATTERN =
  /^(?:\d{12}|arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/;

export type ColumnMode = Scope['columns']['mode'];

export interface RequestDraft {
  principal: string;
  permissions: Permission[];
  columnMode: ColumnMode;
  /** The columns ticked for `include` or `exclude`. */
  columns: string[];
  rowFilter: string;
  durationValue: string;
  durationUnit: Duration['unit'];
  purpose: string;
}

export type DraftErrors = Partial<
  Record<'principal' | 'permissions' | 'columns' | 'rowFilter' | 'duration' | 'purpose', string>
>;

export function principalProblem(p: string): string | undefined {
  const v = p.trim();
  if (!v)
    return 'Enter the IAM role that will read the data, e.g. arn:aws:iam::123456789012:role/analytics.';
  if (/^\d+$/.test(v) && v.length !== 12)
    return `An account id has 12 digits; this has ${v.length}.`;
  if (/^arn:/.test(v)) {
    if (!/^arn:aws(?:-cn|-us-gov)?:/.test(v))
      return 'The ARN must start with arn:aws: (or arn:aws-cn:, arn:aws-us-gov:).';
    if (!/^arn:[\w-]+:iam::/.test(v))
      return 'Only IAM roles can receive grants: arn:aws:iam::<account>:role/<name>.';
    if (!/^arn:[\w-]+:iam::\d{12}:/.test(v)) return 'The account in the ARN must be 12 digits.';
    if (!/^arn:[\w-]+:iam::\d{12}:role\//.test(v))
      return 'Only IAM roles can receive grants (…:role/<name>), not users or groups.';
  }
  if (!PRINCIPAL_PATTERN.test(v))
    return 'Use an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>) or a 12-digit account id.';
  return undefined;
}

export function durationHours(value: number, unit: Duration['unit']): number {
  return unit === 'days' ? value * 24 : value;
}

export function formatHours(h: number): string {
  return h % 24 === 0 ? `${h / 24} day${h === 24 ? '' : 's'}` : `${h} hour${h === 1 ? '' : 's'}`;
}

/**
 * DESCRIBE is granted on whole tables only (the API refuses it with a column list or a row filter,
 * DESCRIBE_NEEDS_WHOLE_TABLE: Lake Formation takes a column list with SELECT alone), so the form
 * offers it only for every column without a row filter.
 */
export const describeOffered = (d: Pick<RequestDraft, 'columnMode' | 'rowFilter'>): boolean =>
  d.columnMode === 'all' && !d.rowFilter.trim();

/** Every problem of the draft, by field; empty when the form may be sent. */
export function validateDraft(
  d: RequestDraft,
  ctx: { columns: string[]; maxDurationHours?: number },
): DraftErrors {
  const e: DraftErrors = {};
  const principal = principalProblem(d.principal);
  if (principal) e.principal = principal;
  if (d.permissions.length === 0) e.permissions = 'Choose at least one permission.';
  else if (d.permissions.includes('DESCRIBE') && !describeOffered(d))
    e.permissions =
      'DESCRIBE goes on whole tables only: with a column list or a row filter, ask for SELECT alone (it shows the granted columns).';
  if (d.columnMode !== 'all') {
    const known = new Set(ctx.columns);
    const unknown = d.columns.filter((c) => !known.has(c));
    if (d.columns.length === 0)
      e.columns =
        d.columnMode === 'include'
          ? 'Choose the columns you need.'
          : 'Choose the columns to leave out.';
    else if (unknown.length) e.columns = `Not columns of this product: ${unknown.join(', ')}.`;
    else if (d.columnMode === 'exclude' && d.columns.length >= ctx.columns.length)
      e.columns = 'Excluding every column leaves nothing to read.';
  }
  // The filter's grammar is checked by the API (the preview answers as you type).
  if (d.rowFilter.length > 2000)
    e.rowFilter = `A row filter is at most 2,000 characters (this one has ${d.rowFilter.length}).`;
  const value = Number(d.durationValue);
  if (!/^\d+$/.test(d.durationValue.trim()) || !Number.isInteger(value) || value <= 0)
    e.duration = 'Enter a whole number of hours or days, at least 1.';
  else if (
    ctx.maxDurationHours !== undefined &&
    durationHours(value, d.durationUnit) > ctx.maxDurationHours
  )
    e.duration = `Policy allows at most ${formatHours(ctx.maxDurationHours)} on this domain.`;
  if (!d.purpose.trim()) e.purpose = 'Say what the data is for: approvers decide on it.';
  else if (d.purpose.length > 2000) e.purpose = 'The purpose is at most 2,000 characters.';
  return e;
}

/** The API body for a draft that passed `validateDraft`. */
export function toRequestBody(productId: string, d: RequestDraft) {
  const columns: Scope['columns'] =
    d.columnMode === 'all' ? { mode: 'all' } : { mode: d.columnMode, columns: d.columns };
  const scope: Scope = {
    permissions: d.permissions,
    columns,
    ...(d.rowFilter.trim() ? { rowFilter: d.rowFilter.trim() } : {}),
  };
  return {
    productId,
    principal: d.principal.trim(),
    scope,
    duration: { value: Number(d.durationValue), unit: d.durationUnit },
    purpose: d.purpose.trim(),
  };
}

/** Maps API field paths (scope.columns.columns, duration.value...) onto the form's fields. */
export function fieldOf(path: string): keyof DraftErrors | undefined {
  if (path.startsWith('principal')) return 'principal';
  if (path.startsWith('scope.permissions')) return 'permissions';
  if (path.startsWith('scope.columns')) return 'columns';
  if (path.startsWith('scope.rowFilter')) return 'rowFilter';
  if (path.startsWith('duration')) return 'duration';
  if (path.startsWith('purpose')) return 'purpose';
  return undefined;
}
