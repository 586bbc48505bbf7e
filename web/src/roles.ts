// What the signed-in person may see in the navigation, from their memberships. The API decides
// every action again; this only keeps people from pages that hold nothing for them.
import type { Me, Role } from './api';

export const hasRole = (me: Me, ...roles: Role[]) =>
  me.memberships.some((m) => roles.includes(m.role));
export const mayApprove = (me: Me) =>
  hasRole(me, 'owner', 'steward', 'compliance', 'admin', 'backup');
export const mayManageGrants = (me: Me) =>
  hasRole(me, 'owner', 'steward', 'admin', 'compliance', 'auditor');
export const mayAudit = (me: Me) => hasRole(me, 'auditor');
/** The admin console: platform admins (an admin role in every domain). */
export const mayAdminister = (me: Me) =>
  me.memberships.some((m) => m.role === 'admin' && m.domain === '*');

/** "owner of sales", "compliance (all domains)"... */
export function rolesText(me: Pick<Me, 'memberships'>): string {
  if (me.memberships.length === 0) return 'consumer';
  return me.memberships
    .map((m) => (m.domain === '*' ? `${m.role} (all domains)` : `${m.role} of ${m.domain}`))
    .join(', ');
}
