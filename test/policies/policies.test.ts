import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Membership } from '../../functions/domain/model';
import { CasbinPolicyEngine, type PolicySource } from '../../functions/policy/engine';
import { loadPolicyEngine } from '../../functions/policy/files';
import type { PolicyQuery } from '../../functions/ports/policy';

const POLICY_DIR = path.join(__dirname, '../../policies');
const MODEL = readFileSync(path.join(POLICY_DIR, 'model.conf'), 'utf8');
const GLOBAL = readFileSync(path.join(POLICY_DIR, 'global.csv'), 'utf8');
const globalSource = (): PolicySource => ({ source: 'policies/global.csv', text: GLOBAL });

// alice holds no role: she is an ordinary consumer.
const memberships: Membership[] = [
  { user: 'bob', role: 'owner', domain: 'sales' },
  { user: 'sam', role: 'steward', domain: 'sales' },
  { user: 'fiona', role: 'owner', domain: 'finance' },
  { user: 'grace', role: 'owner', domain: 'hr' },
  { user: 'henry', role: 'owner', domain: 'marketing' },
  { user: 'carol', role: 'compliance', domain: '*' },
  { user: 'dave', role: 'auditor', domain: '*' },
  { user: 'erin', role: 'admin', domain: '*' },
  { user: 'henry', role: 'backup', domain: 'sales' },
];

/** A rule source that names one of the policy files, with its line number. */
const POLICY_FILE_SOURCE = /policies\/(global|domains\/[a-z0-9_-]+)\.csv:\d+$/;

type Row = [
  user: string,
  relation: 'requester' | undefined,
  domain: string,
  object: string,
  classification: string | undefined,
  action: string,
  expected: boolean,
];

const R = 'requester' as const;
const _ = undefined;

const ROWS: Row[] = [
  // Escalation: a backup approver decides a stage only through its escalated action, in the domain
  // they back up, and never their own request; the ordinary action stays refused to them.
  ['henry', _, 'sales', 'sales/orders', 'internal', 'approve:owner', false],
  ['henry', _, 'sales', 'sales/orders', 'internal', 'approve:owner:escalated', true],
  ['henry', _, 'sales', 'sales/orders', 'restricted', 'approve:compliance:escalated', true],
  ['henry', R, 'sales', 'sales/orders', 'internal', 'approve:owner:escalated', false],
  ['henry', _, 'finance', 'finance/ledger', 'internal', 'approve:owner:escalated', false],
  ['bob', _, 'sales', 'sales/orders', 'internal', 'approve:owner:escalated', false],
  ['henry', _, 'sales', 'sales/orders', 'internal', 'read', true],
  // Requesting: anyone may ask; auditors may not; HR payroll is never requested.
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'request', true],
  ['alice', _, 'finance', 'finance/ledger', 'restricted', 'request', true],
  ['bob', _, 'finance', 'finance/ledger', 'internal', 'request', true],
  ['dave', _, 'sales', 'sales/orders', 'confidential', 'request', false],
  ['dave', _, 'finance', 'finance/ledger', 'public', 'request', false],
  ['alice', _, 'hr', 'hr/payroll', 'restricted', 'request', false],
  ['grace', _, 'hr', 'hr/payroll', 'restricted', 'request', false],
  ['alice', _, 'hr', 'hr/headcount', 'internal', 'request', true],

  // Owner-stage approval: owners and stewards of the product's domain, never of their own request.
  ['bob', _, 'sales', 'sales/orders', 'confidential', 'approve:owner', true],
  ['bob', _, 'finance', 'finance/ledger', 'confidential', 'approve:owner', false],
  ['sam', _, 'sales', 'sales/orders', 'confidential', 'approve:owner', true],
  ['sam', _, 'finance', 'finance/ledger', 'confidential', 'approve:owner', false],
  ['fiona', _, 'finance', 'finance/ledger', 'confidential', 'approve:owner', true],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'approve:owner', false],
  ['bob', R, 'sales', 'sales/orders', 'confidential', 'approve:owner', false],
  ['sam', R, 'sales', 'sales/orders', 'confidential', 'approve:owner', false],
  ['carol', _, 'sales', 'sales/orders', 'restricted', 'approve:owner', false],
  ['dave', _, 'sales', 'sales/orders', 'confidential', 'approve:owner', false],
  ['erin', _, 'sales', 'sales/orders', 'confidential', 'approve:owner', false],

  // Compliance-stage approval: compliance officers in every domain, never their own request.
  ['carol', _, 'sales', 'sales/customers', 'restricted', 'approve:compliance', true],
  ['carol', _, 'finance', 'finance/ledger', 'restricted', 'approve:compliance', true],
  ['carol', _, 'hr', 'hr/employees', 'restricted', 'approve:compliance', true],
  ['carol', R, 'sales', 'sales/customers', 'restricted', 'approve:compliance', false],
  ['bob', _, 'sales', 'sales/customers', 'restricted', 'approve:compliance', false],

  // Routing: the owner stage always, the compliance stage for restricted data only.
  ['alice', _, 'sales', 'sales/customers', 'restricted', 'stage:compliance', true],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'stage:compliance', false],
  ['alice', _, 'finance', 'finance/budget', 'internal', 'stage:compliance', false],
  ['alice', _, 'sales', 'sales/products', 'public', 'stage:owner', true],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'stage:owner', true],
  ['alice', _, 'hr', 'hr/employees', 'restricted', 'stage:owner', true],
  ['alice', _, 'marketing', 'marketing/campaign_performance', 'internal', 'stage:owner', true],

  // Automatic approval: public data, plus what a domain file adds; never restricted data.
  ['alice', _, 'sales', 'sales/products', 'public', 'auto-approve', true],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'auto-approve', false],
  ['alice', _, 'finance', 'finance/ledger', 'restricted', 'auto-approve', false],
  ['alice', _, 'marketing', 'marketing/campaign_performance', 'internal', 'auto-approve', true],
  ['alice', _, 'marketing', 'marketing/campaign_performance', 'restricted', 'auto-approve', false],
  ['alice', _, 'marketing', 'marketing/audiences', 'internal', 'auto-approve', false],
  ['alice', _, 'sales', 'sales/leads', 'internal', 'auto-approve', false],
  ['alice', _, 'sales', 'sales/leads', 'public', 'auto-approve', false],

  // Reading a request or grant.
  ['alice', R, 'sales', 'sales/orders', 'confidential', 'read', true],
  ['bob', _, 'sales', 'sales/orders', 'confidential', 'read', true],
  ['sam', _, 'sales', 'sales/orders', 'confidential', 'read', true],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'read', false],
  ['fiona', _, 'sales', 'sales/orders', 'confidential', 'read', false],
  ['dave', _, 'sales', 'sales/orders', 'confidential', 'read', true],
  ['carol', _, 'finance', 'finance/ledger', 'restricted', 'read', true],
  ['erin', _, 'hr', 'hr/employees', 'restricted', 'read', true],

  // Revoking a grant.
  ['bob', _, 'sales', 'sales/orders', 'confidential', 'revoke', true],
  ['alice', R, 'sales', 'sales/orders', 'confidential', 'revoke', true],
  ['erin', _, 'sales', 'sales/orders', 'confidential', 'revoke', true],
  ['dave', _, 'sales', 'sales/orders', 'confidential', 'revoke', false],
  ['dave', R, 'sales', 'sales/orders', 'confidential', 'revoke', false],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'revoke', false],
  ['fiona', _, 'sales', 'sales/orders', 'confidential', 'revoke', false],

  // Cancelling a pending request: the requester only.
  ['alice', R, 'sales', 'sales/orders', 'confidential', 'cancel', true],
  ['alice', _, 'sales', 'sales/orders', 'confidential', 'cancel', false],
  ['bob', _, 'sales', 'sales/orders', 'confidential', 'cancel', false],

  // Retrying a failed fulfilment.
  ['bob', _, 'sales', 'sales/orders', 'confidential', 'retry', true],
  ['erin', _, 'sales', 'sales/orders', 'confidential', 'retry', true],
  ['alice', R, 'sales', 'sales/orders', 'confidential', 'retry', false],

  // The audit trail is for auditors. Owners and stewards may not read it, not even in their own
  // domain (the `read` lines with object `*` must not let them).
  ['dave', _, 'sales', '*', _, 'audit:read', true],
  ['dave', _, '*', '*', _, 'audit:read', true],
  ['bob', _, '*', '*', _, 'audit:read', false],
  ['bob', _, 'finance', '*', _, 'audit:read', false],
  ['bob', _, 'sales', '*', _, 'audit:read', false],
  ['sam', _, 'sales', '*', _, 'audit:read', false],
  ['fiona', _, 'finance', '*', _, 'audit:read', false],
  ['alice', _, 'sales', '*', _, 'audit:read', false],
  ['alice', _, '*', '*', _, 'audit:read', false],

  // Administration.
  ['erin', _, 'sales', '*', _, 'members:manage', true],
  ['bob', _, 'sales', '*', _, 'members:manage', false],
  ['bob', _, 'sales', '*', _, 'members:read', true],
  ['alice', _, 'sales', '*', _, 'members:read', false],
  ['erin', _, '*', '*', _, 'domain:register', true],
  ['erin', _, 'logistics', '*', _, 'domain:register', true],
  ['bob', _, 'sales', '*', _, 'domain:register', false],

  // Explaining decisions for someone else.
  ['bob', _, 'sales', '*', _, 'policy:explain', true],
  ['bob', _, 'finance', '*', _, 'policy:explain', false],
  ['alice', _, 'sales', '*', _, 'policy:explain', false],
  ['dave', _, 'hr', '*', _, 'policy:explain', true],

  // Actions nobody mentions are refused.
  ['erin', _, 'sales', 'sales/orders', 'confidential', 'delete', false],
];

const query = ([user, relation, domain, object, classification, action]: Row): PolicyQuery => ({
  user,
  ...(relation ? { relation } : {}),
  domain,
  object,
  ...(classification ? { classification } : {}),
  action,
});

describe('the real policy files', () => {
  let engine: CasbinPolicyEngine;

  beforeAll(async () => {
    engine = await loadPolicyEngine(POLICY_DIR, memberships);
  });

  test('load without failure', () => {
    expect(engine.loadFailure).toBeUndefined();
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
  });

  test.each(ROWS)('%s (rel %s) in %s on %s [%s] %s -> %s', (...row) => {
    const [, , , , , , expected] = row;
    const d = engine.decide(query(row));
    expect(d.allowed).toBe(expected);
    expect(d.reason).toMatch(expected ? /^Allowed: / : /^Denied: /);
    // Every rule a decision cites is a line of a policy file, and it has the decision's effect.
    for (const rule of d.rules) {
      expect(rule.source).toMatch(POLICY_FILE_SOURCE);
      expect(rule.line.replace(/\s/g, '').endsWith(expected ? ',allow' : ',deny')).toBe(true);
    }
    // An allow is always decided by a line.
    if (expected) {
      expect(d.rules).toHaveLength(1);
      expect(d.reason).toContain(d.rules[0]!.source);
    }
  });

  test('self-approval is refused by the rel:requester line of policies/global.csv', () => {
    const d = engine.decide({
      user: 'bob',
      relation: 'requester',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'approve:owner',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules).toHaveLength(1);
    expect(d.rules[0]!.source).toMatch(/policies\/global\.csv:\d+$/);
    expect(d.rules[0]!.line).toContain('rel:requester');
    expect(d.rules[0]!.line).toContain('approve:owner');
    expect(d.rules[0]!.line).toMatch(/deny$/);
    expect(d.reason).toContain(d.rules[0]!.source);
  });

  test('the cited line number is the line of global.csv that holds the rule', () => {
    const d = engine.decide({
      user: 'bob',
      relation: 'requester',
      domain: 'sales',
      object: 'sales/orders',
      action: 'approve:owner',
    });
    const lineNo = Number(d.rules[0]!.source.split(':').pop());
    expect(GLOBAL.split(/\r?\n/)[lineNo - 1]!.trim()).toBe(d.rules[0]!.line);
  });

  test('self-approval at the compliance stage is refused by global.csv', () => {
    const d = engine.decide({
      user: 'carol',
      relation: 'requester',
      domain: 'sales',
      object: 'sales/customers',
      classification: 'restricted',
      action: 'approve:compliance',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules[0]!.source).toMatch(/policies\/global\.csv:\d+$/);
    expect(d.rules[0]!.line).toContain('rel:requester');
  });

  test('the payroll deny is cited from policies/domains/hr.csv', () => {
    const d = engine.decide({
      user: 'alice',
      domain: 'hr',
      object: 'hr/payroll',
      classification: 'restricted',
      action: 'request',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules).toHaveLength(1);
    expect(d.rules[0]!.source).toMatch(/policies\/domains\/hr\.csv:\d+$/);
    expect(d.rules[0]!.line).toBe('p, *, hr, hr/payroll, request, deny');
    expect(d.reason).toContain('policies/domains/hr.csv');
  });

  test('the auditor request deny is cited from global.csv', () => {
    const d = engine.decide({
      user: 'dave',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'request',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules[0]!.source).toMatch(/policies\/global\.csv:\d+$/);
    expect(d.rules[0]!.line).toBe('p, role:auditor, *, *, request, deny');
  });

  test('the marketing auto-approval is cited from policies/domains/marketing.csv', () => {
    const d = engine.decide({
      user: 'alice',
      domain: 'marketing',
      object: 'marketing/campaign_performance',
      classification: 'internal',
      action: 'auto-approve',
    });
    expect(d.allowed).toBe(true);
    expect(d.rules[0]!.source).toMatch(/policies\/domains\/marketing\.csv:\d+$/);
  });

  test('the sales leads deny is cited from policies/domains/sales.csv', () => {
    const d = engine.decide({
      user: 'alice',
      domain: 'sales',
      object: 'sales/leads',
      classification: 'public',
      action: 'auto-approve',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules[0]!.source).toMatch(/policies\/domains\/sales\.csv:\d+$/);
  });

  test('a refusal no line speaks to has no rule and says so', () => {
    const d = engine.decide({
      user: 'alice',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'approve:owner',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules).toEqual([]);
    expect(d.reason).toMatch(/^Denied: no policy line allows/);
  });

  test.each([
    ['sales', 2160],
    ['hr', 336],
    ['finance', 720],
    ['marketing', 2160],
    ['logistics', 2160],
  ])('maxDurationHours(%s) is %d', (domain, hours) => {
    const limit = engine.maxDurationHours(domain);
    expect(limit.value).toBe(hours);
    expect(limit.rule.source).toMatch(POLICY_FILE_SOURCE);
    expect(limit.rule.line).toContain(String(hours));
  });

  test('maxOpenRequests is the global max-open-requests line', () => {
    const limit = engine.maxOpenRequests();
    expect(limit.value).toBe(50);
    expect(limit.rule.source).toMatch(POLICY_FILE_SOURCE);
    expect(limit.rule.line).toBe('p2, *, max-open-requests, 50');
  });

  test('the waiting limits: 48 hours before a stage escalates, 14 days before a request times out', () => {
    expect(engine.escalateAfterHours('sales')).toMatchObject({
      value: 48,
      rule: { line: 'p2, *, stage-escalate-after-hours, 48' },
    });
    expect(engine.escalateAfterHours('sales').rule.source).toMatch(POLICY_FILE_SOURCE);
    expect(engine.pendingTimeoutDays()).toMatchObject({
      value: 14,
      rule: { line: 'p2, *, pending-timeout-days, 14' },
    });
  });

  test('rolesOf includes roles held in every domain', () => {
    expect(engine.rolesOf('bob', 'sales')).toEqual(['owner']);
    expect(engine.rolesOf('bob', 'finance')).toEqual([]);
    expect(engine.rolesOf('carol', 'hr')).toEqual(['compliance']);
    expect(engine.rolesOf('alice', 'sales')).toEqual([]);
  });
});

describe('memberships', () => {
  test('setMemberships swaps the roles the engine decides with', async () => {
    const engine = await loadPolicyEngine(POLICY_DIR, memberships);
    const q: PolicyQuery = {
      user: 'alice',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'approve:owner',
    };
    expect(engine.decide(q).allowed).toBe(false);

    await engine.setMemberships([
      ...memberships,
      { user: 'alice', role: 'owner', domain: 'sales' },
    ]);
    expect(engine.decide(q).allowed).toBe(true);
    expect(engine.rolesOf('alice', 'sales')).toEqual(['owner']);
    // The swap reaches every shard, including the domain-specific ones.
    expect(
      engine.decide({
        ...q,
        action: 'auto-approve',
        object: 'sales/leads',
        classification: 'public',
      }).allowed,
    ).toBe(false);
    expect(engine.decide({ ...q, action: 'revoke' }).allowed).toBe(true);

    await engine.setMemberships(memberships);
    expect(engine.decide(q).allowed).toBe(false);
    expect(engine.decide({ ...q, action: 'revoke' }).allowed).toBe(false);
    expect(engine.rolesOf('alice', 'sales')).toEqual([]);
  });

  test('an owner added in a domain with its own file (hr) is seen there', async () => {
    const engine = await loadPolicyEngine(POLICY_DIR, []);
    const q: PolicyQuery = {
      user: 'alice',
      domain: 'hr',
      object: 'hr/payroll',
      classification: 'restricted',
      action: 'request',
    };
    expect(engine.decide(q).allowed).toBe(false);
    expect(engine.decide({ ...q, action: 'approve:owner' }).allowed).toBe(false);
    await engine.setMemberships([{ user: 'alice', role: 'owner', domain: 'hr' }]);
    expect(engine.decide({ ...q, action: 'approve:owner' }).allowed).toBe(true);
    expect(engine.decide(q).allowed).toBe(false);
  });
});

describe('layering of global and domain policy', () => {
  test('a domain rule cannot override a global deny', async () => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        globalSource(),
        { source: 'x.csv', domain: 'sales', text: 'p, role:auditor, sales, *, request, allow' },
      ],
      memberships,
    );
    expect(engine.loadFailure).toBeUndefined();
    const d = engine.decide({
      user: 'dave',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'request',
    });
    expect(d.allowed).toBe(false);
    expect(d.rules[0]!.source).toMatch(/^policies\/global\.csv:\d+$/);
    expect(d.rules[0]!.line).toBe('p, role:auditor, *, *, request, deny');
    // The domain file still loaded: others may request in sales.
    expect(
      engine.decide({ user: 'alice', domain: 'sales', object: 'sales/orders', action: 'request' })
        .allowed,
    ).toBe(true);
  });

  test('a domain file may not speak for another domain: its own domain fails closed, others work', async () => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        globalSource(),
        { source: 'sales.csv', domain: 'sales', text: 'p, *, finance, *, request, allow' },
      ],
      memberships,
    );
    expect(engine.loadFailure).toBeUndefined();
    const inSales: PolicyQuery[] = [
      {
        user: 'alice',
        domain: 'sales',
        object: 'sales/orders',
        classification: 'confidential',
        action: 'request',
      },
      {
        user: 'bob',
        domain: 'sales',
        object: 'sales/orders',
        classification: 'confidential',
        action: 'approve:owner',
      },
      {
        user: 'alice',
        domain: 'sales',
        object: 'sales/products',
        classification: 'public',
        action: 'auto-approve',
      },
      { user: 'erin', domain: 'sales', object: '*', action: 'members:manage' },
      { user: 'dave', domain: 'sales', object: '*', action: 'audit:read' },
    ];
    for (const q of inSales) {
      const d = engine.decide(q);
      expect(d.allowed).toBe(false);
      expect(d.reason).toMatch(/^Denied: the sales policy failed to load/);
      expect(d.reason).toContain('sales.csv:1');
      expect(d.reason).toContain('finance');
      expect(d.rules).toEqual([]);
    }
    expect(engine.maxDurationHours('sales').value).toBe(0);
    // The out-of-domain line was not loaded for finance either.
    expect(
      engine.decide({
        user: 'dave',
        domain: 'finance',
        object: 'finance/ledger',
        action: 'request',
      }).allowed,
    ).toBe(false);
    expect(
      engine.decide({
        user: 'alice',
        domain: 'finance',
        object: 'finance/ledger',
        classification: 'confidential',
        action: 'request',
      }).allowed,
    ).toBe(true);
    expect(
      engine.decide({
        user: 'fiona',
        domain: 'finance',
        object: 'finance/ledger',
        action: 'approve:owner',
      }).allowed,
    ).toBe(true);
    expect(engine.maxDurationHours('finance').value).toBe(2160);
  });

  test('a broken domain file fails only its own domain', async () => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [globalSource(), { source: 'hr.csv', domain: 'hr', text: 'p, *, hr, hr/payroll, request' }],
      memberships,
    );
    expect(engine.loadFailure).toBeUndefined();
    const d = engine.decide({
      user: 'alice',
      domain: 'hr',
      object: 'hr/headcount',
      action: 'request',
    });
    expect(d.allowed).toBe(false);
    expect(d.reason).toMatch(/^Denied: the hr policy failed to load/);
    expect(
      engine.decide({ user: 'alice', domain: 'sales', object: 'sales/orders', action: 'request' })
        .allowed,
    ).toBe(true);
  });
});

describe('fail closed', () => {
  const sampleQueries: PolicyQuery[] = [
    {
      user: 'alice',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'request',
    },
    {
      user: 'alice',
      domain: 'sales',
      object: 'sales/products',
      classification: 'public',
      action: 'auto-approve',
    },
    {
      user: 'bob',
      domain: 'sales',
      object: 'sales/orders',
      classification: 'confidential',
      action: 'approve:owner',
    },
    { user: 'alice', domain: 'sales', object: 'sales/orders', action: 'stage:owner' },
    { user: 'erin', domain: '*', object: '*', action: 'domain:register' },
    { user: 'dave', domain: '*', object: '*', action: 'audit:read' },
    {
      user: 'alice',
      relation: 'requester',
      domain: 'finance',
      object: 'finance/ledger',
      action: 'read',
    },
  ];

  const expectAllDenied = (engine: CasbinPolicyEngine) => {
    expect(engine.loadFailure).toBeDefined();
    for (const q of sampleQueries) {
      const d = engine.decide(q);
      expect(d.allowed).toBe(false);
      expect(d.reason).toMatch(/^Denied/);
      expect(d.rules).toEqual([]);
    }
    expect(engine.maxDurationHours('sales').value).toBe(0);
  };

  test('sanity: the sample queries are allowed with the real files', async () => {
    const engine = await loadPolicyEngine(POLICY_DIR, memberships);
    for (const q of sampleQueries) expect(engine.decide(q).allowed).toBe(true);
  });

  test('a broken model denies everything', async () => {
    const engine = await CasbinPolicyEngine.load(
      '[request_definition]\nr = sub, obj\n[matchers]\nm = (((',
      [globalSource()],
      memberships,
    );
    expectAllDenied(engine);
  });

  test('a model that is not a model at all denies everything', async () => {
    const engine = await CasbinPolicyEngine.load(
      'this is not a casbin model',
      [globalSource()],
      memberships,
    );
    expectAllDenied(engine);
  });

  test('an empty model denies everything', async () => {
    const engine = await CasbinPolicyEngine.load('', [globalSource()], memberships);
    expectAllDenied(engine);
  });

  test('a global file with a syntax error denies everything', async () => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        { source: 'global.csv', text: `${GLOBAL}\np, *, *, request\n` },
        {
          source: 'sales.csv',
          domain: 'sales',
          text: 'p, *, sales, sales/leads, auto-approve, deny',
        },
      ],
      memberships,
    );
    expectAllDenied(engine);
    expect(engine.loadFailure).toContain('global.csv');
    expect(engine.decide(sampleQueries[0]!).reason).toContain('a p line has 5 fields');
  });

  test.each([
    ['an unknown effect', 'p, *, *, *, request, maybe'],
    ['an unknown line type', 'g, bob, role:owner, sales'],
    ['an empty field', 'p, *, , *, request, allow'],
    ['a malformed p2', 'p2, *, max-duration-hours, forever'],
  ])('a global file with %s denies everything', async (_what, line) => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [{ source: 'global.csv', text: `${GLOBAL}\n${line}\n` }],
      memberships,
    );
    expectAllDenied(engine);
  });

  test('loading a folder that does not exist denies everything', async () => {
    const engine = await loadPolicyEngine(
      path.join(__dirname, 'no-such-policy-folder'),
      memberships,
    );
    expectAllDenied(engine);
  });

  test('with no policy source at all, everything is denied', async () => {
    const engine = await CasbinPolicyEngine.load(MODEL, [], memberships);
    for (const q of sampleQueries) expect(engine.decide(q).allowed).toBe(false);
  });

  test('with no p2 line loaded, the maximum duration is 0', async () => {
    const withoutLimits = GLOBAL.split(/\r?\n/)
      .filter((l) => !l.trim().startsWith('p2'))
      .join('\n');
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        { source: 'global.csv', text: withoutLimits },
        { source: 'hr.csv', domain: 'hr', text: 'p2, hr, max-duration-hours, 336' },
      ],
      memberships,
    );
    expect(engine.loadFailure).toBeUndefined();
    expect(engine.decide(sampleQueries[0]!).allowed).toBe(true);
    expect(engine.maxDurationHours('sales').value).toBe(0);
    // A domain limit alone does not make a limit: the global one is required.
    expect(engine.maxDurationHours('hr').value).toBe(0);
    // Without a max-open-requests line, the default holds.
    expect(engine.maxOpenRequests()).toMatchObject({ value: 50, rule: { source: 'default' } });
  });

  test('max-open-requests is global: a domain file that sets it does not load', async () => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        { source: 'global.csv', text: `${GLOBAL}\np2, *, max-open-requests, 20\n` },
        { source: 'hr.csv', domain: 'hr', text: 'p2, hr, max-open-requests, 5' },
      ],
      memberships,
    );
    expect(engine.maxOpenRequests().value).toBe(20);
    expect(engine.domainFailures.hr).toContain('max-open-requests is a global limit');
  });

  test('stage-escalate-after-hours: a domain may escalate sooner, never later; defaults without a line', async () => {
    const withoutWaiting = GLOBAL.split(/\r?\n/)
      .filter((l) => !/stage-escalate-after-hours|pending-timeout-days/.test(l))
      .join('\n');
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        {
          source: 'global.csv',
          text: `${withoutWaiting}\np2, *, stage-escalate-after-hours, 24\n`,
        },
        { source: 'hr.csv', domain: 'hr', text: 'p2, hr, stage-escalate-after-hours, 8' },
        { source: 'sales.csv', domain: 'sales', text: 'p2, sales, stage-escalate-after-hours, 72' },
      ],
      memberships,
    );
    expect(engine.loadFailure).toBeUndefined();
    expect(engine.escalateAfterHours('hr')).toMatchObject({
      value: 8,
      rule: { source: 'hr.csv:1' },
    });
    expect(engine.escalateAfterHours('sales').value).toBe(24);
    expect(engine.escalateAfterHours('finance').value).toBe(24);
    expect(engine.pendingTimeoutDays()).toMatchObject({ value: 14, rule: { source: 'default' } });
    const none = await CasbinPolicyEngine.load(MODEL, [
      { source: 'global.csv', text: withoutWaiting },
    ]);
    expect(none.escalateAfterHours('sales')).toMatchObject({
      value: 48,
      rule: { source: 'default' },
    });
  });

  test('pending-timeout-days is global, and neither waiting limit may be 0', async () => {
    const engine = await CasbinPolicyEngine.load(
      MODEL,
      [
        { source: 'global.csv', text: `${GLOBAL}\np2, *, pending-timeout-days, 7\n` },
        { source: 'hr.csv', domain: 'hr', text: 'p2, hr, pending-timeout-days, 3' },
        { source: 'sales.csv', domain: 'sales', text: 'p2, sales, stage-escalate-after-hours, 0' },
      ],
      memberships,
    );
    expect(engine.pendingTimeoutDays().value).toBe(7);
    expect(engine.domainFailures.hr).toContain('pending-timeout-days is a global limit');
    expect(engine.domainFailures.sales).toContain('stage-escalate-after-hours must be at least 1');
    const broken = await CasbinPolicyEngine.load(MODEL, [
      { source: 'global.csv', text: `${GLOBAL}\np2, *, pending-timeout-days, 0\n` },
    ]);
    expect(broken.loadFailure).toContain('pending-timeout-days must be at least 1');
  });
});
