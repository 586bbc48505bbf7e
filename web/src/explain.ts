// What policy will do with a request, in plain words: the preview shown before submitting and the
// explanation shown to approvers both come from here.
import type { Decision, Preview, RuleRef } from './api';
import { formatHours } from './validation';

export interface PreviewSummary {
  tone: 'ok' | 'wait' | 'refused';
  headline: string;
  steps: string[];
  rules: RuleRef[];
}

const STAGE_WORDS = {
  owner: 'an owner or steward of the domain',
  compliance: 'compliance',
} as const;

export const ruleText = (r: RuleRef) => `${r.source}: ${r.line}`;

export function summarisePreview(
  p: Preview,
  piiRequested: string[] = p.piiColumns,
): PreviewSummary {
  const rules = uniqueRules(p.explanation);
  if (p.outcome === 'refused') {
    const why = p.explanation.filter((d) => !d.allowed).map(plainReason);
    return {
      tone: 'refused',
      headline: 'Policy will refuse this request',
      steps: why.length ? why : ['No policy line allows it.'],
      rules,
    };
  }
  const steps: string[] = [];
  if (piiRequested.length) steps.push(`It touches personal data: ${piiRequested.join(', ')}.`);
  steps.push(`The longest grant allowed here is ${formatHours(p.maxDurationHours)}.`);
  if (p.outcome === 'auto-approved') {
    return {
      tone: 'ok',
      headline: 'Approved automatically: access is granted as soon as you submit',
      steps,
      rules,
    };
  }
  // The policy lines stay in the panel's collapsible "policy lines" detail, not in the words.
  const order = p.stages.map((s, i) => `${i + 1}. approval by ${STAGE_WORDS[s.name]}`);
  return {
    tone: 'wait',
    headline:
      p.stages.length === 1 ? 'Needs one approval' : `Needs ${p.stages.length} approvals, in order`,
    steps: [...order, ...steps],
    rules,
  };
}

export function uniqueRules(decisions: Decision[]): RuleRef[] {
  const seen = new Map<string, RuleRef>();
  for (const d of decisions) for (const r of d.rules) seen.set(ruleText(r), r);
  return [...seen.values()];
}

const ACTION_WORDS: Record<string, [allowed: string, denied: string]> = {
  'auto-approve': [
    'Approved automatically: no person needs to decide',
    'Not approved automatically: people decide',
  ],
  request: ['You may ask for this data', 'You may not ask for this data'],
  read: ['You may read it', 'You may not read it'],
  revoke: ['You may end this access', 'You may not end this access'],
};

/**
 * A policy decision in plain words. The engine's reason ("Denied: auto-approve on sales/orders
 * in sales by policies/domains/sales.csv") names the action and the file; people read what it
 * means, and the policy lines stay in a collapsible detail.
 */
export function plainReason(d: Pick<Decision, 'allowed' | 'reason'>): string {
  const m = /^(?:Allowed|Denied): (?:no policy line allows )?([a-z-]+) on \S+ in \S+/.exec(
    d.reason,
  );
  if (!m) {
    if (/failed/.test(d.reason))
      return 'The policy could not be read just now; try again later or ask a platform admin.';
    return d.allowed ? 'Allowed by policy' : 'Not allowed by policy';
  }
  const action = m[1]!;
  const words = ACTION_WORDS[action];
  if (words) return d.allowed ? words[0] : words[1];
  const stage = /^approve-?(.*)$/.exec(action);
  if (stage)
    return d.allowed
      ? `May decide the ${stage[1] || 'approval'} stage`
      : `May not decide the ${stage[1] || 'approval'} stage`;
  return `${d.allowed ? 'Allowed' : 'Not allowed'}: ${action.replace(/-/g, ' ')}`;
}
