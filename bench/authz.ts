// Authorization freshness: what keeping the policy in step with the store costs each API call
// (README "Policy in force"), on the embedded portal (dynalite over loopback HTTP, the demo mesh,
// the repository's policy files, watched). Counted: the DynamoDB commands one call sends for the
// check when nothing changed and after another instance's membership change, and the size and
// read capacity of the item it reads. Timed: a refresh and its parts, and the same API call with
// the refresh taken out (the baseline, in the same run).
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { createEmbeddedPortal } from '../functions/wiring/local';
import { policyFolder } from '../functions/policy/files';
import { fmt, median, type Benchmark, type BenchResult, type Row, type Verdict } from './lib';

const CONFIG = { calls: 2000, reloads: 200 } as const;
const POLICY_DIR = join(__dirname, '..', 'policies');

const us = (ns: bigint) => Number(ns) / 1000;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const p50p99 = (xs: number[]) => `${fmt.us(pct(xs, 50))} / ${fmt.us(pct(xs, 99))}`;

async function time(n: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(us(process.hrtime.bigint() - t));
  }
  return out;
}

async function run(log: (msg: string) => void): Promise<BenchResult> {
  const CALLS = CONFIG.calls;
  const portal = await createEmbeddedPortal({ policyDir: POLICY_DIR });
  const { app, store, policy, dynamo } = portal;
  try {
    const token = async (user: string) =>
      (
        (await (
          await app.request('/auth/dev-login', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user }),
          })
        ).json()) as { token: string }
      ).token;
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
        sent.push(
          `${(context.commandName ?? '?').replace(/Command$/, '')}${pk ? ` ${typeof pk === 'string' ? pk : JSON.stringify(pk)}` : ''}${input.ConsistentRead ? ' (consistent)' : ''}`,
        );
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
    await store.putMembership(
      { user: 'alice', domain: 'hr', role: 'steward' },
      {
        id: 'evt_cost_0000000000000000000000',
        at: new Date().toISOString(),
        type: 'MEMBERSHIP_ADDED',
        actor: 'erin',
        domain: 'hr',
        detail: {},
      },
    );
    const afterChange = await commandsOf(explain);
    const ownChange = await commandsOf(grantRole);

    const raw = await dynamo.client.send(
      new GetItemCommand({
        TableName: 'meshgate',
        Key: { pk: { S: 'POLICY' }, sk: { S: 'CURRENT' } },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    /* eslint-disable-next-line @typescript-eslint/no-require-imports */
    const itemSize = (require('dynalite/db') as { itemSize: (item: unknown) => number }).itemSize(
      raw.Item,
    );
    dynamo.client.middlewareStack.remove('countCommands');

    // Timings: warm up, then the same number of each.
    const files = policyFolder(POLICY_DIR, { watch: true });
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
    for (let i = 0; i < CONFIG.reloads; i++) {
      await store.putMembership(
        { user: 'alice', domain: 'hr', role: 'steward' },
        {
          id: `evt_cost_${String(i).padStart(22, '0')}`,
          at: new Date().toISOString(),
          type: 'MEMBERSHIP_ADDED',
          actor: 'erin',
          domain: 'hr',
          detail: {},
        },
      );
      const t = process.hrtime.bigint();
      await policy.refresh();
      reloadOnly.push(us(process.hrtime.bigint() - t));
    }

    log(
      `check p50 ${fmt.us(median(refresh))}, explain ${fmt.us(median(withCheck))} with, ${fmt.us(median(withoutCheck))} without`,
    );

    const added = median(withCheck) - median(withoutCheck);
    const rows: Row[] = [
      {
        figure: 'DynamoDB commands per call, nothing changed',
        value: `${unchanged.length}`,
        baseline: '0 (no check)',
        ratio: unchanged.join(', '),
      },
      {
        figure: "DynamoDB commands per call, after another instance's change",
        value: `${afterChange.length}`,
        ratio: afterChange.join(', '),
      },
      {
        figure: 'the item read (strongly consistent)',
        value: `${itemSize} bytes`,
        ratio: `${raw.ConsumedCapacity?.CapacityUnits} read capacity unit(s)`,
      },
      { figure: `refresh(), nothing changed: p50 / p99 (${CALLS} calls)`, value: p50p99(refresh) },
      { figure: "  of which the policy files' stat check", value: p50p99(statCheck) },
      { figure: '  of which the GetItem (dynalite over loopback)', value: p50p99(getItem) },
      {
        figure: `refresh() after a change (${memberships} memberships read again)`,
        value: p50p99(reloadOnly),
      },
      {
        figure: 'POST /v1/policy/explain: p50 / p99',
        value: p50p99(withCheck),
        baseline: `${p50p99(withoutCheck)} (check taken out)`,
        ratio: `+${fmt.us(added)} a call (p50)`,
      },
    ];
    const verdicts: Verdict[] = [
      {
        name: 'one store read per call while nothing changed',
        pass: unchanged.length === 1,
        value: `${unchanged.length}`,
        target: '= 1',
        detail: unchanged.join(', '),
      },
      {
        name: "another instance's change read on the next call",
        pass: afterChange.some((c) => c.startsWith('Query')),
        value: afterChange.join(', '),
        target: 'memberships read again',
        detail: 'a change made straight through the store, as another instance would',
      },
    ];
    rows.push(
      ...verdicts.map((v): Row => ({
        figure: `VERDICT ${v.name}`,
        value: v.value,
        ratio: v.target,
        verdict: v.pass ? 'PASS' : 'FAIL',
      })),
    );
    return {
      name: 'authz',
      title: 'Authorization freshness: the per-call check against the store (embedded portal)',
      rows,
      verdicts,
      figures: {
        config: CONFIG,
        unchanged,
        afterChange,
        ownChange,
        itemSize,
        refresh: { p50: pct(refresh, 50), p99: pct(refresh, 99) },
        withCheck: pct(withCheck, 50),
        withoutCheck: pct(withoutCheck, 50),
      },
    };
  } finally {
    await portal.close();
  }
}

export const authzBenchmark: Benchmark = { name: 'authz', title: 'Authorization freshness', run };
