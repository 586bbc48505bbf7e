import type { Decision, Membership, RuleRef } from '../domain/model';

export interface PolicyQuery {
  /** The user asking. */
  user: string;
  /** `requester` when the user is the requester of the object, otherwise absent. */
  relation?: 'requester';
  domain: string;
  /** A product id, or a named resource such as `audit`, `membership`, `domain`. */
  object: string;
  /** The product's classification, when the object is a product. */
  classification?: string;
  action: string;
}

export interface Limit {
  value: number;
  rule: RuleRef;
}

/** The policy engine. It fails closed: any problem is a deny with a reason. */
export interface PolicyEngine {
  decide(q: PolicyQuery): Decision;
  /** The largest grant duration in hours for the domain (the smallest of the global and domain limits). */
  maxDurationHours(domain: string): Limit;
  /** Roles the user holds in the domain (including roles held in every domain). */
  rolesOf(user: string, domain: string): string[];
  /** The memberships of one user the engine decides with. */
  membershipsOf(user: string): Membership[];
  /** Replaces the memberships (the role assignments) the engine decides with. */
  setMemberships(memberships: Membership[]): Promise<void>;
}
