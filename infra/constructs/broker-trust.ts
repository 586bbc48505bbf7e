import * as iam from 'aws-cdk-lib/aws-iam';
import type { MeshgateConfig } from '../../config/schema';
import { trustedRoleArns } from '../naming';

/** Who may assume a broker role (a domain account's or a consumer account's), beside the worker. */
export interface BrokerTrustProps {
  /**
   * An operator's IAM role (an SSO permission set's role, or one you assume) that may also assume
   * the broker role, with the account's ExternalId, from its own account: for
   * `MESHGATE_BACKEND=aws npm start`, which acts with the operator's credentials. Off by default;
   * the app reads it from `-c operatorRoleArn=<arn>`.
   */
  operatorRoleArn?: string;
  /**
   * Trust the governance functions' roles (default). False trusts the operator role alone, for a
   * local run before (or without) the governance stacks: IAM refuses a trust policy that names a
   * role that does not exist. Needs operatorRoleArn; the app reads it from `-c operatorOnly=true`.
   */
  trustGovernanceRoles?: boolean;
}

const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/**
 * The trust of a broker role: the governance roles that call brokers (trustedRoleArns: the worker),
 * never the governance account's root (a root principal would let in any role there with
 * sts:AssumeRole on *), with the account's ExternalId, from the governance account; and the
 * operator role when one is named, the same way from its own account. `assumedBy` is the role's
 * principal; `operatorStatement`, when set, is added to its trust policy. `label` names the stack
 * in errors ("DomainAccountStack sales").
 *
 * aws:PrincipalAccount is the account of the principal making the call, which for a role session
 * assuming the broker is the governance account. aws:SourceAccount would be wrong here: it is set
 * only when an AWS service acts on a resource's behalf (service principals), so a role-to-role
 * AssumeRole does not carry it and a condition on it would never match.
 */
export function brokerTrust(
  label: string,
  config: MeshgateConfig,
  externalId: string,
  props: BrokerTrustProps,
): { assumedBy: iam.IPrincipal; operatorStatement?: iam.PolicyStatement } {
  const arn = props.operatorRoleArn;
  let operator: iam.IPrincipal | undefined;
  if (arn !== undefined && arn !== '') {
    const match = ROLE_ARN.exec(arn);
    if (!match)
      throw new Error(
        `${label}: operatorRoleArn "${arn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).`,
      );
    operator = new iam.ArnPrincipal(arn).withConditions({
      StringEquals: { 'sts:ExternalId': externalId, 'aws:PrincipalAccount': match[2]! },
    });
  }
  if (props.trustGovernanceRoles === false) {
    if (!operator)
      throw new Error(
        `${label}: trusting no governance role needs an operator role (operatorRoleArn), or nobody could assume the broker role.`,
      );
    return { assumedBy: operator };
  }
  return {
    assumedBy: new iam.CompositePrincipal(
      ...trustedRoleArns(config).map((a) => new iam.ArnPrincipal(a)),
    ).withConditions({
      StringEquals: {
        'sts:ExternalId': externalId,
        'aws:PrincipalAccount': config.governance.account,
      },
    }),
    ...(operator
      ? {
          operatorStatement: new iam.PolicyStatement({
            actions: ['sts:AssumeRole'],
            principals: [operator],
          }),
        }
      : {}),
  };
}
