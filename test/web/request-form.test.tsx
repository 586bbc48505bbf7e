// The request form's checks and the explain preview, without a browser.
import { render } from 'preact-render-to-string';
import type { Preview } from '../../web/src/api';
import { summarisePreview } from '../../web/src/explain';
import { PreviewPanel } from '../../web/src/pages/request-form';
import {
  describeOffered,
  fieldOf,
  principalProblem,
  PRINCIPAL_PATTERN,
  toRequestBody,
  validateDraft,
  type RequestDraft,
} from '../../web/src/validation';
import { PRINCIPAL_PATTERN as API_PATTERN } from '../../functions/domain/request';
import { ApiError } from '../../web/src/api';

const COLUMNS = ['order_id', 'customer_id', 'region', 'amount'];
const ok: RequestDraft = {
  principal: 'arn:aws:iam::123456789012:role/analytics',
  permissions: ['SELECT'],
  columnMode: 'all',
  columns: [],
  rowFilter: '',
  durationValue: '30',
  durationUnit: 'days',
  purpose: 'Quarterly attribution',
};
const check = (over: Partial<RequestDraft>, max = 2160) =>
  validateDraft({ ...ok, ...over }, { columns: COLUMNS, maxDurationHours: max });

describe('principal, validated as you type', () => {
  test.each([
    ['arn:aws:iam::123456789012:role/analytics', undefined],
    ['arn:aws:iam::123456789012:role/team/data/analytics', undefined],
    ['arn:aws-cn:iam::123456789012:role/x', undefined],
    ['123456789012', undefined],
    ['', 'Enter the IAM role'],
    ['12345', 'An account id has 12 digits; this has 5.'],
    ['arn:aws:s3:::bucket', 'Only IAM roles can receive grants'],
    ['arn:aws:iam::1234:role/x', 'The account in the ARN must be 12 digits.'],
    ['arn:aws:iam::123456789012:user/bob', 'not users or groups'],
    ['arn:gcp:iam::123456789012:role/x', 'must start with arn:aws:'],
    ['role/analytics', 'Use an IAM role ARN'],
  ])('%s', (input, problem) => {
    const got = principalProblem(input);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  test('the form accepts exactly what the API accepts', () => {
    const samples = [
      'arn:aws:iam::123456789012:role/a',
      'arn:aws-us-gov:iam::123456789012:role/p/q/r',
      'arn:aws:iam::123456789012:role/' + 'x'.repeat(64),
      'arn:aws:iam::123456789012:role/' + 'x'.repeat(65),
      'arn:aws:iam::12345678901:role/a',
      '1234567890123',
      'arn:aws:iam::123456789012:role/a b',
      'arn:aws:iam::123456789012:role/',
    ];
    for (const s of samples)
      expect([s, PRINCIPAL_PATTERN.test(s)]).toEqual([s, API_PATTERN.test(s)]);
  });
});

describe('the whole draft', () => {
  test('a complete draft has no errors and becomes the API body', () => {
    expect(check({})).toEqual({});
    expect(
      toRequestBody('sales/orders', {
        ...ok,
        principal: `  ${ok.principal} `,
        rowFilter: " region = 'EMEA' ",
      }),
    ).toEqual({
      productId: 'sales/orders',
      principal: ok.principal,
      scope: { permissions: ['SELECT'], columns: { mode: 'all' }, rowFilter: "region = 'EMEA'" },
      duration: { value: 30, unit: 'days' },
      purpose: 'Quarterly attribution',
    });
  });

  test('each field says what is wrong with it', () => {
    expect(check({ permissions: [] })).toEqual({ permissions: 'Choose at least one permission.' });
    expect(check({ columnMode: 'include' })).toEqual({ columns: 'Choose the columns you need.' });
    expect(check({ columnMode: 'exclude', columns: COLUMNS })).toEqual({
      columns: 'Excluding every column leaves nothing to read.',
    });
    expect(check({ columnMode: 'include', columns: ['nope'] })).toEqual({
      columns: 'Not columns of this product: nope.',
    });
    expect(check({ durationValue: '0' }).duration).toMatch(/at least 1/);
    expect(check({ durationValue: '2.5' }).duration).toMatch(/whole number/);
    expect(check({ durationValue: '15', durationUnit: 'days' }, 336)).toEqual({
      duration: 'Policy allows at most 14 days on this domain.',
    });
    expect(check({ durationValue: '336', durationUnit: 'hours' }, 336)).toEqual({});
    expect(check({ purpose: '   ' })).toEqual({
      purpose: 'Say what the data is for: approvers decide on it.',
    });
    expect(check({ rowFilter: "channel = 'web;partner' OR channel LIKE '%--%'" })).toEqual({}); // the API parses filters
    expect(check({ rowFilter: 'x'.repeat(2001) }).rowFilter).toMatch(/at most 2,000/);
  });

  test("the API's field paths land on the form's fields", () => {
    const err = new ApiError(400, 'VALIDATION_FAILED', 'bad', {
      issues: [
        { path: 'principal', message: 'an IAM role ARN' },
        { path: 'scope.columns.columns', message: 'columns must not repeat' },
        { path: 'duration.value', message: 'too big' },
      ],
    });
    const byField = Object.fromEntries(
      Object.entries(err.fieldErrors()).map(([k, v]) => [fieldOf(k), v]),
    );
    expect(byField).toEqual({
      principal: 'an IAM role ARN',
      columns: 'columns must not repeat',
      duration: 'too big',
    });
  });
});

describe('the explain preview', () => {
  const rule = (line: string) => ({ source: 'policies/global.csv:10', line });
  const base: Preview = {
    outcome: 'needs-approval',
    scope: { permissions: ['SELECT'], columns: { mode: 'all' } },
    stages: [],
    maxDurationHours: 2160,
    piiColumns: [],
    explanation: [],
  };

  test('two stages are listed in order with the rules that made them', () => {
    const p: Preview = {
      ...base,
      stages: [
        { name: 'owner', rule: rule('p, *, *, *, stage:owner, allow') },
        { name: 'compliance', rule: rule('p, *, *, class:restricted, stage:compliance, allow') },
      ],
      piiColumns: ['email'],
      explanation: [
        { allowed: true, reason: 'allowed', rules: [rule('p, *, *, *, request, allow')] },
      ],
    };
    const s = summarisePreview(p);
    expect(s.tone).toBe('wait');
    expect(s.headline).toBe('Needs 2 approvals, in order');
    // Plain words: the policy lines are in the panel's collapsible detail, not in the steps.
    expect(s.steps[0]).toBe('1. approval by an owner or steward of the domain');
    expect(s.rules.length).toBeGreaterThan(0);
    expect(s.steps[1]).toMatch(/^2\. approval by compliance/);
    expect(s.steps).toContain('It touches personal data: email.');
    const html = render(<PreviewPanel preview={p} loading={false} pii={['email']} />);
    expect(html).toContain('data-outcome="needs-approval"');
    expect(html).toContain('Needs 2 approvals, in order');
    expect(html).toContain('p, *, *, *, request, allow');
  });

  test('auto-approval and refusal say so, with the reason', () => {
    expect(
      summarisePreview({ ...base, outcome: 'auto-approved', maxDurationHours: 720 }),
    ).toMatchObject({
      tone: 'ok',
      headline: 'Approved automatically: access is granted as soon as you submit',
      steps: ['The longest grant allowed here is 30 days.'],
    });
    const refused = summarisePreview({
      ...base,
      outcome: 'refused',
      explanation: [
        {
          allowed: false,
          reason: 'Denied: request on hr/payroll in hr by policies/domains/hr.csv',
          rules: [rule('p, *, hr, hr/payroll, request, deny')],
        },
      ],
    });
    expect(refused).toMatchObject({
      tone: 'refused',
      headline: 'Policy will refuse this request',
      steps: ['You may not ask for this data'],
    });
    const html = render(
      <PreviewPanel
        preview={{
          ...base,
          outcome: 'refused',
          explanation: [{ allowed: false, reason: 'denied', rules: [] }],
        }}
        loading={false}
        pii={[]}
      />,
    );
    expect(html).toContain('tone-refused');
  });

  test('before an answer: waiting or asking; an API error is shown in its place', () => {
    expect(render(<PreviewPanel loading={true} pii={[]} />)).toContain('Asking policy…');
    expect(render(<PreviewPanel loading={false} pii={[]} />)).toContain(
      'Complete the permissions, columns and duration',
    );
    const html = render(
      <PreviewPanel
        loading={false}
        pii={[]}
        error={new ApiError(422, 'UNKNOWN_COLUMNS', 'No column nope in sales/orders.')}
      />,
    );
    expect(html).toContain('No column nope in sales/orders.');
    expect(html).toContain('role="alert"');
  });
});

describe('DESCRIBE goes on whole tables only', () => {
  test('offered for every column without a row filter; refused with a column list or a row filter', () => {
    expect(describeOffered(ok)).toBe(true);
    expect(check({ permissions: ['SELECT', 'DESCRIBE'] })).toEqual({});
    expect(check({ permissions: ['DESCRIBE'] })).toEqual({});
    for (const over of [
      { columnMode: 'include', columns: ['order_id'] },
      { columnMode: 'exclude', columns: ['amount'] },
      { rowFilter: "region = 'EMEA'" },
    ] as Partial<RequestDraft>[]) {
      expect(describeOffered({ ...ok, ...over })).toBe(false);
      expect(check({ ...over, permissions: ['SELECT', 'DESCRIBE'] }).permissions).toContain(
        'DESCRIBE goes on whole tables only',
      );
      expect(check({ ...over, permissions: ['SELECT'] }).permissions).toBeUndefined();
    }
    // A filter of blanks is no filter.
    expect(describeOffered({ ...ok, rowFilter: '  ' })).toBe(true);
  });
});
