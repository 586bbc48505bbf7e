import { forbidden } from '../domain/errors';
import { externalIdFingerprint } from '../domain/configuration';
import { ALL_DOMAINS, type ConsumerAccount, type Principal } from '../domain/model';
import { auditEvent, type Deps } from './deps';
import { openPage, type PageQuery } from './paging';

/** A consumer account as callers see it: the broker's role, never its ExternalId. */
export function redactedConsumerAccount(c: ConsumerAccount) {
  const { broker, ...rest } = c;
  return broker
    ? {
        ...rest,
        broker: { roleArn: broker.roleArn, externalId: externalIdFingerprint(broker.externalId) },
      }
    : rest;
}

/**
 * Registers an AWS account as a consumer account: Meshgate then makes resource links there for
 * the grants of its principals. Registering is the platform admins' (as registering a domain is):
 * the broker role it names is trusted with every grant to that account.
 */
export async function registerConsumerAccount(
  deps: Pick<Deps, 'store' | 'policy' | 'clock' | 'ids'>,
  who: Principal,
  c: ConsumerAccount,
) {
  const decision = deps.policy.decide({
    user: who.userId,
    domain: ALL_DOMAINS,
    object: '*',
    action: 'domain:register',
  });
  if (!decision.allowed)
    throw forbidden(
      'NOT_ALLOWED',
      `Registering consumer accounts is for platform admins. ${decision.reason}`,
    );
  await deps.store.createConsumerAccount(
    c,
    auditEvent(
      deps,
      'CONSUMER_ACCOUNT_REGISTERED',
      who.userId,
      { domain: ALL_DOMAINS },
      { ...redactedConsumerAccount(c), decision },
    ),
  );
  return redactedConsumerAccount(c);
}

/** The registered consumer accounts, by AWS account id, a page at a time (anyone signed in). */
export async function listConsumerAccounts(
  deps: Pick<Deps, 'store'>,
  who: Principal,
  q: PageQuery,
) {
  const page = await openPage(deps.store, 'consumer-accounts', who.userId, {}, q);
  return page.answer(await deps.store.listConsumerAccountsPage(page), (accounts) =>
    accounts.map(redactedConsumerAccount),
  );
}
