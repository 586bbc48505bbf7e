import fc from 'fast-check';
import { MeshgateError } from '../../functions/domain/errors';
import type {
  AccessRequest,
  Approval,
  DataProduct,
  Duration,
  Scope,
  Stage,
} from '../../functions/domain/model';
import {
  checkNarrowing,
  checkScope,
  normaliseScope,
  currentStage,
  durationHours,
  effectiveTerms,
  formatHours,
  piiColumnsTouched,
  principalAccount,
  PRINCIPAL_PATTERN,
  scopedColumns,
} from '../../functions/domain/request';

// ------------------------------------------------------------------------------------- fixtures

const COLUMNS = ['id', 'name', 'email', 'country', 'amount'];
const PII = ['name', 'email'];

const product: DataProduct = {
  id: 'shop/customers',
  domain: 'shop',
  name: 'customers',
  title: 'Customers',
  description: 'A hand-built product for unit tests.',
  owner: 'olga',
  classification: 'confidential',
  tags: [],
  location: { catalogId: '123456789012', database: 'shop', table: 'customers' },
  columns: COLUMNS.map((name) => ({ name, type: 'string', pii: PII.includes(name) })),
  freshness: 'daily',
  status: 'ACTIVE',
};

const all = (permissions: Scope['permissions'] = ['SELECT'], rowFilter?: string): Scope => ({
  permissions,
  columns: { mode: 'all' },
  ...(rowFilter ? { rowFilter } : {}),
});
const include = (
  columns: string[],
  permissions: Scope['permissions'] = ['SELECT'],
  rowFilter?: string,
): Scope => ({
  permissions,
  columns: { mode: 'include', columns },
  ...(rowFilter ? { rowFilter } : {}),
});
const exclude = (
  columns: string[],
  permissions: Scope['permissions'] = ['SELECT'],
  rowFilter?: string,
): Scope => ({
  permissions,
  columns: { mode: 'exclude', columns },
  ...(rowFilter ? { rowFilter } : {}),
});

/** Runs `fn` and returns the MeshgateError it throws (failing the test if it throws nothing else). */
function refusal(fn: () => void): MeshgateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeshgateError);
    return err as MeshgateError;
  }
  throw new Error('expected a MeshgateError, nothing was thrown');
}

function expectRefusal(fn: () => void, code: string) {
  const err = refusal(fn);
  expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'unprocessable', code });
  return err;
}

const approval = (by: string, over: Partial<Approval> = {}): Approval => ({
  by,
  at: '2024-01-01T00:00:00.000Z',
  comment: '',
  rule: null,
  ...over,
});
const stage = (name: Stage['name'], approvals: Approval[] = [], required = 1): Stage => ({
  name,
  required,
  approvals,
  rule: null,
});

function request(
  stages: Stage[],
  scope: Scope = all(),
  duration: Duration = { value: 7, unit: 'days' },
): AccessRequest {
  return {
    id: 'req_01hzzzzzzzzzzzzzzzzzzzzzzz',
    requester: 'alice',
    principal: '123456789012',
    productId: product.id,
    domain: product.domain,
    classification: product.classification,
    scope,
    duration,
    purpose: 'tests',
    status: 'PENDING',
    stages,
    explanation: [],
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    version: 1,
  };
}

/** Non-empty subsets of the product's columns, in a random order. */
const columnSubset = fc
  .subarray(COLUMNS, { minLength: 1 })
  .chain((cs) => fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length }));

// ------------------------------------------------------------------------------------ principals

describe('PRINCIPAL_PATTERN', () => {
  test.each([
    'arn:aws:iam::123456789012:role/analyst',
    'arn:aws:iam::123456789012:role/team/data/analyst',
    'arn:aws:iam::123456789012:role/service-role/AWSGlueServiceRole-x',
    'arn:aws-cn:iam::123456789012:role/analyst',
    'arn:aws-cn:iam::123456789012:role/path/analyst',
    'arn:aws-us-gov:iam::123456789012:role/analyst',
    'arn:aws-us-gov:iam::123456789012:role/a/b/c/analyst',
    'arn:aws:iam::000000000000:role/x',
    'arn:aws:iam::123456789012:role/svc+role=a,b.c@d-e_f',
    `arn:aws:iam::123456789012:role/${'r'.repeat(64)}`,
    '123456789012',
    '000000000000',
  ])('accepts %s', (principal) => {
    expect(principal).toMatch(PRINCIPAL_PATTERN);
  });

  test.each([
    ['a user', 'arn:aws:iam::123456789012:user/x'],
    ['a user with a path', 'arn:aws:iam::123456789012:user/role/x'],
    ['a group', 'arn:aws:iam::123456789012:group/analysts'],
    ['the account root', 'arn:aws:iam::123456789012:root'],
    ['a policy', 'arn:aws:iam::123456789012:policy/x'],
    ['an assumed-role session', 'arn:aws:sts::123456789012:assumed-role/analyst/session'],
    ['an 11-digit account in an ARN', 'arn:aws:iam::12345678901:role/analyst'],
    ['a 13-digit account in an ARN', 'arn:aws:iam::1234567890123:role/analyst'],
    ['an 11-digit account id', '12345678901'],
    ['a 13-digit account id', '1234567890123'],
    ['an account id with a letter', '12345678901a'],
    ['an account id with spaces', '123 456 789 012'],
    ['a wildcard role name', 'arn:aws:iam::123456789012:role/*'],
    ['a role name with a wildcard', 'arn:aws:iam::123456789012:role/analyst*'],
    ['a wildcard in the path', 'arn:aws:iam::123456789012:role/*/analyst'],
    ['a wildcard account', 'arn:aws:iam::*:role/analyst'],
    ['a wildcard partition', 'arn:*:iam::123456789012:role/analyst'],
    ['a bare wildcard', '*'],
    ['an unknown partition', 'arn:aws-iso:iam::123456789012:role/analyst'],
    ['a region in an IAM ARN', 'arn:aws:iam:eu-west-1:123456789012:role/analyst'],
    ['another service', 'arn:aws:s3::123456789012:role/analyst'],
    ['upper-case ARN', 'ARN:AWS:IAM::123456789012:ROLE/analyst'],
    ['an empty role name', 'arn:aws:iam::123456789012:role/'],
    ['a trailing slash', 'arn:aws:iam::123456789012:role/analyst/'],
    ['an empty path segment', 'arn:aws:iam::123456789012:role//analyst'],
    ['a 65-character role name', `arn:aws:iam::123456789012:role/${'r'.repeat(65)}`],
    ['a space in the name', 'arn:aws:iam::123456789012:role/data analyst'],
    ['a leading space', ' arn:aws:iam::123456789012:role/analyst'],
    ['a trailing newline', 'arn:aws:iam::123456789012:role/analyst\n'],
    ['a trailing newline after an account id', '123456789012\n'],
    ['two principals', '123456789012,210987654321'],
    ['empty', ''],
  ])('rejects %s', (_label, principal) => {
    expect(principal).not.toMatch(PRINCIPAL_PATTERN);
  });

  test('accepts any 12-digit account, bare or in a role ARN; rejects any other digit count', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{1,20}$/),
        fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'),
        (digits, partition) => {
          const ok = digits.length === 12;
          expect(PRINCIPAL_PATTERN.test(digits)).toBe(ok);
          expect(PRINCIPAL_PATTERN.test(`arn:${partition}:iam::${digits}:role/analyst`)).toBe(ok);
        },
      ),
    );
  });
});

describe('principalAccount', () => {
  test.each([
    ['arn:aws:iam::123456789012:role/analyst', '123456789012'],
    ['arn:aws:iam::210987654321:role/team/data/analyst', '210987654321'],
    ['arn:aws-cn:iam::111122223333:role/analyst', '111122223333'],
    ['arn:aws-us-gov:iam::444455556666:role/a/b', '444455556666'],
    ['123456789012', '123456789012'],
    ['000000000000', '000000000000'],
  ])('%s is in account %s', (principal, account) => {
    expect(principalAccount(principal)).toBe(account);
  });

  test('is the account of every principal the pattern accepts', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{12}$/),
        fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'),
        fc.array(fc.stringMatching(/^[\w+=,.@-]{1,10}$/), { maxLength: 3 }),
        fc.stringMatching(/^[\w+=,.@-]{1,64}$/),
        (account, partition, path, name) => {
          const arn = `arn:${partition}:iam::${account}:role/${[...path, name].join('/')}`;
          expect(arn).toMatch(PRINCIPAL_PATTERN);
          expect(principalAccount(arn)).toBe(account);
          expect(principalAccount(account)).toBe(account);
        },
      ),
    );
  });
});

// ------------------------------------------------------------------------------------- durations

describe('durationHours and formatHours', () => {
  test.each([
    [{ value: 1, unit: 'hours' }, 1],
    [{ value: 36, unit: 'hours' }, 36],
    [{ value: 1, unit: 'days' }, 24],
    [{ value: 14, unit: 'days' }, 336],
    [{ value: 90, unit: 'days' }, 2160],
    [{ value: 91, unit: 'days' }, 2184],
  ] as [Duration, number][])('%j is %i hours', (d, hours) => {
    expect(durationHours(d)).toBe(hours);
  });

  test('a day is 24 hours, whatever the count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (n) => {
        expect(durationHours({ value: n, unit: 'days' })).toBe(
          24 * durationHours({ value: n, unit: 'hours' }),
        );
      }),
    );
  });

  test.each([
    [24, '1 days'],
    [48, '2 days'],
    [336, '14 days'],
    [5, '5 hours'],
    [25, '25 hours'],
  ])('formatHours(%i) is %s', (h, text) => {
    expect(formatHours(h)).toBe(text);
  });
});

// ----------------------------------------------------------------------------------------- scope

describe('checkScope', () => {
  test.each([
    ['all columns', all()],
    ['all columns, both permissions', all(['SELECT', 'DESCRIBE'])],
    ['some columns', include(['id', 'country'])],
    ['every column by name', include(COLUMNS)],
    ['all but one column', exclude(COLUMNS.slice(1))],
    ['all but the pii columns', exclude(PII)],
  ])('accepts %s', (_label, scope) => {
    expect(() => checkScope(product, scope)).not.toThrow();
  });

  test('names the unknown columns of an include list, in the order given', () => {
    const err = expectRefusal(
      () => checkScope(product, include(['id', 'ssn', 'email', 'dob'])),
      'UNKNOWN_COLUMNS',
    );
    expect(err.details).toEqual({ columns: ['ssn', 'dob'] });
    expect(err.message).toContain('ssn, dob');
    expect(err.message).toContain(product.id);
  });

  test('refuses unknown columns in an exclude list too', () => {
    const err = expectRefusal(() => checkScope(product, exclude(['ssn'])), 'UNKNOWN_COLUMNS');
    expect(err.details).toEqual({ columns: ['ssn'] });
  });

  test('column names are case-sensitive', () => {
    expectRefusal(() => checkScope(product, include(['ID'])), 'UNKNOWN_COLUMNS');
  });

  test('refuses an exclude list that removes every column: EMPTY_SCOPE', () => {
    expectRefusal(() => checkScope(product, exclude(COLUMNS)), 'EMPTY_SCOPE');
    expectRefusal(() => checkScope(product, exclude([...COLUMNS].reverse())), 'EMPTY_SCOPE');
  });

  test('unknown columns are reported before an empty scope', () => {
    expectRefusal(() => checkScope(product, exclude([...COLUMNS, 'ssn'])), 'UNKNOWN_COLUMNS');
  });

  // The API refuses repeated names (400), but the rule itself counts distinct columns.
  test('an exclude list with repeated names is judged by the columns it removes', () => {
    const scope = exclude(Array(COLUMNS.length).fill('amount'));
    expect(scopedColumns(product, scope)).toEqual(['id', 'name', 'email', 'country']);
    expect(() => checkScope(product, scope)).not.toThrow();
  });

  test('refuses exactly the exclude lists that leave nothing (distinct names)', () => {
    fc.assert(
      fc.property(fc.subarray(COLUMNS, { minLength: 1 }), (excluded) => {
        const scope = exclude(excluded);
        if (excluded.length === COLUMNS.length)
          expectRefusal(() => checkScope(product, scope), 'EMPTY_SCOPE');
        else expect(() => checkScope(product, scope)).not.toThrow();
      }),
    );
  });
});

describe('normaliseScope', () => {
  test('checks the columns, and stores the row filter in canonical form', () => {
    expect(
      normaliseScope(product, include(['id'], ['SELECT'], "COUNTRY='FR'  and amount<>'0'")),
    ).toEqual(include(['id'], ['SELECT'], `"country" = 'FR' AND "amount" <> '0'`));
    expectRefusal(
      () => normaliseScope(product, include(['ssn'], ['SELECT'], "country = 'FR'")),
      'UNKNOWN_COLUMNS',
    );
  });

  test('a scope without a row filter comes back as it was', () => {
    const scope = exclude(['email']);
    expect(normaliseScope(product, scope)).toBe(scope);
  });

  test('refuses a row filter that does not parse: ROW_FILTER_INVALID, with the position', () => {
    const err = refusal(() =>
      normaliseScope(product, all(['SELECT'], "country = 'FR'; DROP TABLE customers")),
    );
    expect({ kind: err.kind, code: err.code, details: err.details }).toEqual({
      kind: 'validation',
      code: 'ROW_FILTER_INVALID',
      details: { position: 15, problem: "';' is not allowed: a row filter is one expression" },
    });
  });
});

describe('scopedColumns', () => {
  test('all: every column, in product order', () => {
    expect(scopedColumns(product, all())).toEqual(COLUMNS);
  });

  test('include: the named columns, in product order, once each', () => {
    expect(scopedColumns(product, include(['email', 'id']))).toEqual(['id', 'email']);
    expect(scopedColumns(product, include(['country', 'country']))).toEqual(['country']);
  });

  test('exclude: every column but the named ones', () => {
    expect(scopedColumns(product, exclude(['name', 'email']))).toEqual(['id', 'country', 'amount']);
  });

  test('include and exclude of the same names split the columns in two', () => {
    fc.assert(
      fc.property(columnSubset, (cs) => {
        const inc = scopedColumns(product, include(cs));
        const exc = scopedColumns(product, exclude(cs));
        expect(new Set(inc)).toEqual(new Set(cs));
        expect(inc.filter((c) => exc.includes(c))).toEqual([]);
        expect([...inc, ...exc].sort()).toEqual([...COLUMNS].sort());
      }),
    );
  });

  test('never names a column the product does not have', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...COLUMNS, 'ssn', 'dob')),
        fc.constantFrom('include', 'exclude'),
        (cs, mode) => {
          const scope: Scope = { permissions: ['SELECT'], columns: { mode, columns: cs } };
          for (const c of scopedColumns(product, scope)) expect(COLUMNS).toContain(c);
        },
      ),
    );
  });
});

describe('piiColumnsTouched', () => {
  test.each([
    ['all columns', all(), PII],
    ['non-pii columns only', include(['id', 'country', 'amount']), []],
    ['one pii column', include(['email', 'amount']), ['email']],
    ['all but one pii column', exclude(['name']), ['email']],
    ['all but the pii columns', exclude(PII), []],
  ])('%s', (_label, scope, pii) => {
    expect(piiColumnsTouched(product, scope)).toEqual(pii);
  });

  test('is the pii columns among the scoped ones', () => {
    fc.assert(
      fc.property(columnSubset, fc.constantFrom('include', 'exclude'), (cs, mode) => {
        const scope: Scope = { permissions: ['SELECT'], columns: { mode, columns: cs } };
        expect(piiColumnsTouched(product, scope)).toEqual(
          scopedColumns(product, scope).filter((c) => PII.includes(c)),
        );
      }),
    );
  });
});

// ------------------------------------------------------------------------------------- narrowing

describe('checkNarrowing', () => {
  test.each([
    ['the same scope', all(), all()],
    ['fewer permissions', all(['SELECT', 'DESCRIBE']), all(['DESCRIBE'])],
    ['all columns to some', all(), include(['id'])],
    ['all columns to all but some', all(), exclude(['email'])],
    ['fewer included columns', include(['id', 'email']), include(['id'])],
    ['the same included columns, reordered', include(['id', 'email']), include(['email', 'id'])],
    ['more excluded columns', exclude(['email']), exclude(['email', 'name'])],
    ['an exclude list to an included subset', exclude(['email']), include(['id', 'amount'])],
    [
      'an include list to the equivalent exclude list',
      include(['id', 'country', 'amount']),
      exclude(PII),
    ],
    ['adding a row filter', all(), all(['SELECT'], "country = 'FR'")],
    [
      'keeping the row filter',
      include(['id'], ['SELECT'], "country = 'FR'"),
      include(['id'], ['SELECT'], "country = 'FR'"),
    ],
    [
      'keeping the row filter, spelled another way',
      all(['SELECT'], `"country" = 'FR'`),
      all(['SELECT'], "COUNTRY='FR'"),
    ],
    [
      'adding a condition to the row filter with AND',
      all(['SELECT'], "country = 'FR'"),
      all(['SELECT'], "amount = '1' AND country = 'FR'"),
    ],
    [
      'keeping every condition of the row filter and adding one',
      all(['SELECT'], "country = 'FR' AND name <> ''"),
      all(['SELECT'], "name <> '' AND (country = 'FR' AND id = '7')"),
    ],
    [
      'keeping an OR whole and adding a condition',
      all(['SELECT'], "country = 'FR' OR country = 'DE'"),
      all(['SELECT'], "(country = 'FR' OR country = 'DE') AND id = '7'"),
    ],
  ])('accepts %s', (_label, requested, narrowed) => {
    expect(() => checkNarrowing(product, requested, narrowed)).not.toThrow();
  });

  test.each([
    ['an added permission', all(['SELECT']), all(['SELECT', 'DESCRIBE']), 'DESCRIBE'],
    ['another permission', all(['DESCRIBE']), all(['SELECT']), 'SELECT'],
    ['some columns to all', include(['id']), all(), 'name'],
    ['an added included column', include(['id']), include(['id', 'email']), 'email'],
    ['fewer excluded columns', exclude(['email', 'name']), exclude(['email']), 'name'],
    ['an include list to a wider exclude list', include(['id']), exclude(['email']), 'name'],
  ])('refuses %s: NOT_NARROWER', (_label, requested, narrowed, named) => {
    const err = expectRefusal(() => checkNarrowing(product, requested, narrowed), 'NOT_NARROWER');
    expect(err.message).toContain(named);
  });

  test.each([
    ['dropping the row filter', include(['id'], ['SELECT'], "country = 'FR'"), include(['id'])],
    [
      'changing the row filter',
      include(['id'], ['SELECT'], "country = 'FR'"),
      include(['id'], ['SELECT'], "country = 'DE'"),
    ],
    [
      'widening the row filter',
      all(['SELECT'], "country = 'FR'"),
      all(['SELECT'], "country = 'FR' OR country = 'DE'"),
    ],
    [
      'dropping one condition of the row filter',
      all(['SELECT'], "country = 'FR' AND id = '7'"),
      all(['SELECT'], "country = 'FR'"),
    ],
    [
      'splitting an OR of the row filter',
      all(['SELECT'], "country = 'FR' OR country = 'DE'"),
      all(['SELECT'], "country = 'FR'"),
    ],
    [
      'keeping a stored row filter that no longer parses',
      all(['SELECT'], 'ssn = 1'),
      all(['SELECT'], "country = 'FR'"),
    ],
  ])('refuses %s: NOT_NARROWER', (_label, requested, narrowed) => {
    const err = expectRefusal(() => checkNarrowing(product, requested, narrowed), 'NOT_NARROWER');
    expect(err.message).toContain('row filter');
  });

  test('refuses a narrowed row filter that does not parse: ROW_FILTER_INVALID (400)', () => {
    for (const narrowed of ["country = 'FR' OR 1 = 1", "country = 'FR' --", 'ssn = 1']) {
      const err = refusal(() =>
        checkNarrowing(product, all(['SELECT'], "country = 'FR'"), all(['SELECT'], narrowed)),
      );
      expect({ kind: err.kind, code: err.code }).toEqual({
        kind: 'validation',
        code: 'ROW_FILTER_INVALID',
      });
      expect(() => checkNarrowing(product, all(), all(['SELECT'], narrowed))).toThrow(
        /Invalid row filter/,
      );
    }
  });

  test('checks the narrowed scope against the product first', () => {
    expectRefusal(() => checkNarrowing(product, all(), include(['ssn'])), 'UNKNOWN_COLUMNS');
    expectRefusal(() => checkNarrowing(product, all(), exclude(COLUMNS)), 'EMPTY_SCOPE');
  });

  test('accepts exactly the narrowed scopes whose columns and permissions are subsets, DESCRIBE on whole tables only', () => {
    const perms = fc.subarray(['SELECT', 'DESCRIBE'] as const, { minLength: 1 }).map((p) => [...p]);
    const columns = fc.oneof(fc.constant('all' as const), columnSubset);
    const scopeOf = (cs: 'all' | string[], ps: Scope['permissions']) =>
      cs === 'all' ? all(ps) : include(cs, ps);
    const named = (cs: 'all' | string[]) => (cs === 'all' ? COLUMNS : cs);
    fc.assert(
      fc.property(columns, columns, perms, perms, (req, nar, reqPerms, narPerms) => {
        const requested = scopeOf(req, reqPerms);
        const narrowed = scopeOf(nar, narPerms);
        if (nar !== 'all' && narPerms.includes('DESCRIBE')) {
          const err = refusal(() => checkNarrowing(product, requested, narrowed));
          expect([err.kind, err.code]).toEqual(['validation', 'DESCRIBE_NEEDS_WHOLE_TABLE']);
          return;
        }
        const narrower =
          named(nar).every((c) => named(req).includes(c)) &&
          narPerms.every((p) => reqPerms.includes(p));
        if (narrower) expect(() => checkNarrowing(product, requested, narrowed)).not.toThrow();
        else expectRefusal(() => checkNarrowing(product, requested, narrowed), 'NOT_NARROWER');
      }),
    );
  });

  test('DESCRIBE with a column list or a row filter is refused (Lake Formation takes DESCRIBE on whole tables only)', () => {
    const refused = (scope: Scope) => {
      const err = refusal(() => normaliseScope(product, scope));
      expect([err.kind, err.code]).toEqual(['validation', 'DESCRIBE_NEEDS_WHOLE_TABLE']);
    };
    refused(include(['id'], ['SELECT', 'DESCRIBE']));
    refused(include(['id'], ['DESCRIBE']));
    refused(exclude(['email'], ['SELECT', 'DESCRIBE']));
    refused(all(['SELECT', 'DESCRIBE'], "country = 'DE'"));
    refused(all(['DESCRIBE'], "country = 'DE'"));
    for (const ok of [
      all(['SELECT', 'DESCRIBE']),
      all(['DESCRIBE']),
      include(['id'], ['SELECT']),
      exclude(['email'], ['SELECT']),
      all(['SELECT'], "country = 'DE'"),
    ])
      expect(() => normaliseScope(product, ok)).not.toThrow();
    // An approver narrowing a whole-table request to some columns must drop DESCRIBE too.
    const err = refusal(() =>
      checkNarrowing(product, all(['SELECT', 'DESCRIBE']), include(['id'], ['SELECT', 'DESCRIBE'])),
    );
    expect(err.code).toBe('DESCRIBE_NEEDS_WHOLE_TABLE');
    expect(() =>
      checkNarrowing(product, all(['SELECT', 'DESCRIBE']), include(['id'], ['SELECT'])),
    ).not.toThrow();
  });

  test('narrowing is transitive: narrowing a narrowed scope is narrower than the original', () => {
    fc.assert(
      fc.property(columnSubset, fc.nat(), fc.nat(), (cs, a, b) => {
        const first = cs.slice(0, 1 + (a % cs.length));
        const second = first.slice(0, 1 + (b % first.length));
        expect(() => checkNarrowing(product, include(cs), include(first))).not.toThrow();
        expect(() => checkNarrowing(product, include(first), include(second))).not.toThrow();
        expect(() => checkNarrowing(product, include(cs), include(second))).not.toThrow();
      }),
    );
  });
});

// ----------------------------------------------------------------------------- stages and terms

describe('currentStage', () => {
  test('no stages: nothing is waiting', () => {
    expect(currentStage({ stages: [] })).toBeUndefined();
  });

  test('the first stage that lacks approvals', () => {
    const owner = stage('owner');
    const compliance = stage('compliance');
    expect(currentStage({ stages: [owner, compliance] })).toBe(owner);
  });

  test('the compliance stage once the owner stage has its approval', () => {
    const compliance = stage('compliance');
    expect(currentStage({ stages: [stage('owner', [approval('bob')]), compliance] })).toBe(
      compliance,
    );
  });

  test('nothing once every stage has its approvals', () => {
    expect(
      currentStage({
        stages: [stage('owner', [approval('bob')]), stage('compliance', [approval('carol')])],
      }),
    ).toBeUndefined();
  });

  test('a stage that needs two approvals waits for the second', () => {
    const owner = stage('owner', [approval('bob')], 2);
    expect(currentStage({ stages: [owner] })).toBe(owner);
    expect(
      currentStage({ stages: [stage('owner', [approval('bob'), approval('sam')], 2)] }),
    ).toBeUndefined();
  });
});

describe('effectiveTerms', () => {
  const asked = include(['id', 'email', 'amount']);
  const week: Duration = { value: 7, unit: 'days' };

  test('without approvals: the requested terms', () => {
    expect(effectiveTerms(request([stage('owner')], asked, week))).toEqual({
      scope: asked,
      duration: week,
    });
  });

  test('approvals without narrowing keep the requested terms', () => {
    const r = request(
      [stage('owner', [approval('bob')]), stage('compliance', [approval('carol')])],
      asked,
      week,
    );
    expect(effectiveTerms(r)).toEqual({ scope: asked, duration: week });
  });

  test('a narrowing replaces the scope, or the duration, independently', () => {
    const narrowed = include(['id']);
    const r = request(
      [
        stage('owner', [approval('bob', { narrowedScope: narrowed })]),
        stage('compliance', [approval('carol', { narrowedDuration: { value: 2, unit: 'days' } })]),
      ],
      asked,
      week,
    );
    expect(effectiveTerms(r)).toEqual({ scope: narrowed, duration: { value: 2, unit: 'days' } });
  });

  test('the last narrowing wins, across stages', () => {
    const r = request(
      [
        stage('owner', [
          approval('bob', {
            narrowedScope: include(['id', 'amount']),
            narrowedDuration: { value: 72, unit: 'hours' },
          }),
        ]),
        stage(
          'compliance',
          [approval('carol', { narrowedScope: include(['id']) }), approval('carl')],
          2,
        ),
      ],
      asked,
      week,
    );
    expect(effectiveTerms(r)).toEqual({
      scope: include(['id']),
      duration: { value: 72, unit: 'hours' },
    });
  });

  test('does not change the request', () => {
    const r = request(
      [stage('owner', [approval('bob', { narrowedScope: include(['id']) })])],
      asked,
      week,
    );
    const copy = structuredClone(r);
    effectiveTerms(r);
    expect(r).toEqual(copy);
  });
});
