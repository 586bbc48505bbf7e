// What keeping the policy in step with the store costs each API call, measured on the embedded
// portal (dynalite over loopback HTTP, the demo mesh, the repository's policy files, watched).
//
//   npx tsx scripts/authz-cost.ts [calls]
//
// Prints the DynamoDB commands one call sends for the check when nothing changed and after a
// membership change, the size and read capacity of the item it reads, and the time a refresh
// takes (the whole of it, and its parts: the stat check of the policy files and the GetItem), next
// to the same API call with the refresh taken out.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedPortal } from '../functions/adapters/local/portal';
import { policyFolder } from '../functions/policy/files';

const CALLS = Number(process.argv[2] ?? 2000);
const us = (ns: bigint) => Number(ns) / 1000;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} us, p99 ${pct(xs, 99).toFixed(1)} us`;

async function time(n: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(us(process.hrtime.bigint() - t));
  }
  return out;
}

async function main() {
  const portal = await createEmbeddedPortal({ policyDir: join(__dirname, '..', 'policies') });
  const { app, store, policy, dynamo } = portal;
  try {
    const token = async (user: string) =>
      ((await (await app.request('/auth/dev-login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) })).json()) as { token: string }).token;
    const bob = await token('bob');
    const erin = await token('erin');
    // An API call that reads nothing else from the store: the only DynamoDB traffic is the check.
    const explain = () =>
      app.request('/v1/policy/explain', {
        method: 'POST',
        headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'members:read', domain: 'sales', object: '*' }),
      });

    const sent: string[] = [];
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: { pk?: unknown }; ConsistentRead?: boolean };
        const pk = input.Key?.pk;
        sent.push(`${(context.commandName ?? '?').replace(/Command$/, '')}${pk ? ` ${typeof pk === 'string' ? pk : JSON.stringify(pk)}` : ''}${input.ConsistentRead ? ' (consistent)' : ''}`);
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const commandsOf = async (fn: () => unknown) => {
      sent.length = 0;
      await fn();
      return [...sent];
    };

    await explain();
    const unchanged = await commandsOf(explain);
    const grantRole = () =>
      app.request('/v1/memberships', {
        method: 'POST',
        headers: { authorization: `Bearer ${erin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'alice', domain: 'sales', role: 'steward' }),
      });
    // The change is made by "another instance": straight through the store, so this one learns of it only from the table.
    await store.putMembership({ user: 'alice', domain: 'hr', role: 'steward' }, { id: 'evt_cost_0000000000000000000000', at: new Date().toISOString(), type: 'MEMBERSHIP_ADDED', actor: 'erin', domain: 'hr', detail: {} });
    const afterChange = await commandsOf(explain);
    const ownChange = await commandsOf(grantRole);

    const raw = await dynamo.client.send(
      new GetItemCommand({ TableName: 'meshgate', Key: { pk: { S: 'POLICY' }, sk: { S: 'CURRENT' } }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
    );
    /* eslint-disable-next-line @typescript-eslint/no-require-imports */
    const itemSize = (require('dynalite/db') as { itemSize: (item: unknown) => number }).itemSize(raw.Item);
    dynamo.client.middlewareStack.remove('countCommands');

    // Timings: warm up, then the same number of each.
    const files = policyFolder(join(__dirname, '..', 'policies'), { watch: true });
    await files.load([]);
    await time(200, () => policy.refresh());
    const refresh = await time(CALLS, () => policy.refresh());
    const statCheck = await time(CALLS, () => files.mayHaveChanged());
    const getItem = await time(CALLS, () => store.readAuthzState());
    const withCheck = await time(CALLS, explain);
    const original = policy.refresh.bind(policy);
    policy.refresh = async () => {};
    const withoutCheck = await time(CALLS, explain);
    policy.refresh = original;
    const memberships = (await store.listMemberships()).length;
    const reloadOnly: number[] = [];
    for (let i = 0; i < Math.min(CALLS, 200); i++) {
      await store.putMembership({ user: 'alice', domain: 'hr', role: 'steward' }, { id: `evt_cost_${String(i).padStart(22, '0')}`, at: new Date().toISOString(), type: 'MEMBERSHIP_ADDED', actor: 'erin', domain: 'hr', detail: {} });
      const t = process.hrtime.bigint();
      await policy.refresh();
      reloadOnly.push(us(process.hrtime.bigint() - t));
    }

    const median = (xs: number[]) => pct(xs, 50);
    console.log(`Meshgate: the cost of the authorization check per API call (${CALLS} calls each; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)})`);
    console.log('');
    console.log('DynamoDB commands per call');
    console.log(`  nothing changed:                 ${unchanged.length}  [${unchanged.join(', ')}]`);
    console.log(`  after another instance's change: ${afterChange.length}  [${afterChange.join(', ')}]`);
    console.log(`  the change itself (POST /v1/memberships): ${ownChange.length}  [${ownChange.join(', ')}]`);
    console.log(`  the item read: ${itemSize} bytes, ${raw.ConsumedCapacity?.CapacityUnits} read capacity unit(s) strongly consistent`);
    console.log('');
    console.log('Time (the embedded store over loopback HTTP: dynalite on this machine, not DynamoDB)');
    console.log(`  refresh() while nothing changed:     ${fmt(refresh)}`);
    console.log(`    of which the policy files' stats:  ${fmt(statCheck)}`);
    console.log(`    of which the GetItem:              ${fmt(getItem)}`);
    console.log(`  refresh() after a change (${memberships} memberships read again): ${fmt(reloadOnly)}`);
    console.log(`  POST /v1/policy/explain with the check:    ${fmt(withCheck)}`);
    console.log(`  POST /v1/policy/explain without the check: ${fmt(withoutCheck)}`);
    console.log(`  added per call (difference of medians):    ${(median(withCheck) - median(withoutCheck)).toFixed(1)} us`);
  } finally {
    await portal.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
