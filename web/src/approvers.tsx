// "Who approves" on a product page: the policy's answer (the request preview's stages and
// outcome), not the domain's memberships alone. Restricted data also waits for compliance;
// a product policy approves automatically has no approver at all.
import type { ProductDetail } from './api';
import { useApp, useLoad } from './ui';

/** The request a product page asks about: read every column, for one day. */
const TYPICAL = {
  scope: { permissions: ['SELECT' as const], columns: { mode: 'all' as const } },
  duration: { value: 1, unit: 'days' as const },
};

export function WhoApproves({ product: p }: { product: ProductDetail }) {
  const { api } = useApp();
  const preview = useLoad(() => api.preview({ productId: p.id, ...TYPICAL }), [api, p.id]);
  if (preview.state === 'loading') return <span class="muted">asking the policy…</span>;
  if (preview.state === 'error')
    return <span class="muted">the policy could not be asked ({preview.error.message})</span>;
  const answer = preview.data;
  if (answer.outcome === 'auto-approved')
    return <span data-testid="who-approves">nobody: policy approves requests automatically</span>;
  if (answer.outcome === 'refused')
    return <span data-testid="who-approves">nobody: policy refuses your requests here</span>;
  const owners = p.approvers.length
    ? p.approvers.map((a) => `${a.user} (${a.role})`).join(', ')
    : `the owners of ${p.domain} (nobody holds the role yet)`;
  return (
    <ol class="stages" data-testid="who-approves">
      {answer.stages.map((s) => (
        <li key={s.name}>
          {s.name === 'owner' ? `${owners}` : 'compliance (a compliance officer)'}
        </li>
      ))}
    </ol>
  );
}
