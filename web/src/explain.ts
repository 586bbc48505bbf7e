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
    const why = p.explanation.filter((d) => !d.allowed).map((d) => d.reason);
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
  const order = p.stages.map(
    (s, i) =>
      `${i + 1}. approval by ${STAGE_WORDS[s.name]}${s.rule ? ` (${ruleText(s.rule)})` : ''}`,
  );
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
