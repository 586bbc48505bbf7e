import { isDeepStrictEqual } from 'node:util';
import { DEMO_PRODUCTS } from '../../functions/adapters/local/demo-mesh';
import type { DataProduct, Grant } from '../../functions/domain/model';
import { tableGrantFor } from '../../functions/usecases/fulfilment';
import type { TestPortal } from './portal';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { verifyChain } from '../../functions/domain/audit-chain';
import type { Operation, OperationKind } from '../../functions/domain/operations';
import { BrokerError } from '../../functions/ports/lakeformation';
import type { BrokerAdapters } from '../../functions/wiring/core';
import type { OperationStore } from '../../functions/ports/operations';
import type { Store } from '../../functions/ports/store';

/**
 * What a stopped process leaves of domain operations in the trail, for the crash tests
 * (test/usecases/operation-crash.test.ts, operation-crash.property.test.ts).
 */

const WRITES = new Set([
  'TransactWriteItemsCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

/** When armed, the `at`-th write of the process and every one after it fail unwritten. */
export interface Fault {
  armed: boolean;
  at: number;
  writes: number;
}

/**
 * Every write through `client` counts; once `fault` is armed, its `at`-th and every later one
 * fail before they reach the store, as if the process had died there.
 */
export function crashingWrites(client: DynamoDBClient): Fault {
  const fault: Fault = { armed: false, at: Infinity, writes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (fault.armed && WRITES.has(context.commandName ?? '') && ++fault.writes >= fault.at)
        throw new Error('process stopped');
      return next(args);
    },
    { step: 'initialize', name: 'crashAtWrite' },
  );
  return fault;
}

/** The report event of each kind of operation. */
export const REPORT_EVENT: Record<OperationKind, string> = {
  sync: 'DOMAIN_SYNCED',
  reconcile: 'DOMAIN_RECONCILED',
};

/** What the checks read: a portal, or the stores alone (of a process that died as it started). */
export interface TrailReader {
  store: Pick<Store, 'listChain'>;
  operations: Pick<OperationStore, 'listByDomain'>;
}

export async function operationsOf(p: TrailReader, domain: string): Promise<Operation[]> {
  const ops: Operation[] = [];
  let after: Record<string, string> | undefined;
  do {
    const page = await p.operations.listByDomain(domain, { limit: 100, after });
    ops.push(...page.items);
    after = page.after;
  } while (after);
  return ops;
}

/** The same JSON, whichever way it was stored (an item's map, an event's JSON text). */
const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

/**
 * The domain's operation changes without their audit events, the events without their change, and
 * the reports not recorded exactly once: every operation has one OPERATION_STARTED; a SUCCEEDED
 * one one OPERATION_SUCCEEDED and one report event (DOMAIN_SYNCED, DOMAIN_RECONCILED) holding the
 * operation's report, sealed just before it (the two are written in one transaction); a FAILED
 * one one OPERATION_FAILED, and one BROKER_FAILED if it failed BROKER_UNAVAILABLE; an unfinished
 * or failed one no report. Empty when all is well.
 */
export async function operationGaps(
  p: TrailReader,
  domain: string,
  since?: TrailMark,
): Promise<string[]> {
  const events = (await p.store.listChain(domain, since?.seq)).filter(
    (e) => !since?.operations.has(e.detail.operationId as string),
  );
  const ops = (await operationsOf(p, domain)).filter((o) => !since?.operations.has(o.id));
  const found: string[] = [];
  // Counted by kind first, whatever the events name: a report recorded twice shows here as well.
  for (const kind of ['sync', 'reconcile'] as const) {
    const reports = events.filter((e) => e.type === REPORT_EVENT[kind]).length;
    const succeeded = ops.filter((o) => o.kind === kind && o.status === 'SUCCEEDED').length;
    if (reports !== succeeded)
      found.push(`${reports} ${REPORT_EVENT[kind]} for ${succeeded} SUCCEEDED ${kind}`);
  }
  const brokerFailed = (o: Operation) =>
    o.status === 'FAILED' && o.error?.code === 'BROKER_UNAVAILABLE' ? 1 : 0;
  const brokerEvents = events.filter((e) => e.type === 'BROKER_FAILED').length;
  const brokerOps = ops.filter(brokerFailed).length;
  if (brokerEvents !== brokerOps)
    found.push(`${brokerEvents} BROKER_FAILED for ${brokerOps} operations FAILED so`);
  const ofOp = (op: Operation, type: string) =>
    events.filter((e) => e.type === type && e.detail.operationId === op.id);
  for (const op of ops) {
    const expected = {
      OPERATION_STARTED: 1,
      OPERATION_SUCCEEDED: op.status === 'SUCCEEDED' ? 1 : 0,
      OPERATION_FAILED: op.status === 'FAILED' ? 1 : 0,
      [REPORT_EVENT[op.kind]]: op.status === 'SUCCEEDED' ? 1 : 0,
      BROKER_FAILED: brokerFailed(op),
    };
    for (const [type, n] of Object.entries(expected))
      if (ofOp(op, type).length !== n)
        found.push(`${op.id} ${op.status}: ${ofOp(op, type).length} ${type}`);
    const [report] = ofOp(op, REPORT_EVENT[op.kind]);
    const [succeeded] = ofOp(op, 'OPERATION_SUCCEEDED');
    if (op.status !== 'SUCCEEDED' || !report || !succeeded) continue;
    const detail: Record<string, unknown> = { ...report.detail };
    delete detail.operationId;
    delete detail.attempt;
    if (!isDeepStrictEqual(json(detail), json(op.report)))
      found.push(`${op.id}: its ${report.type} is not its report`);
    if (report.detail.attempt !== op.attempts)
      found.push(`${op.id}: report of attempt ${String(report.detail.attempt)}`);
    if (succeeded.seq !== report.seq! + 1)
      found.push(`${op.id}: ${report.type} at seq ${report.seq}, succeeded at ${succeeded.seq}`);
  }
  const known = new Set(ops.map((o) => o.id));
  for (const e of events)
    if (
      (e.type.startsWith('OPERATION_') ||
        e.type === 'BROKER_FAILED' ||
        Object.values(REPORT_EVENT).includes(e.type)) &&
      !known.has(e.detail.operationId as string)
    )
      found.push(`${e.type} of ${String(e.detail.operationId)}, which is not stored`);
  return found;
}

/** Where the domain's trail and operations stand: operationGaps checks only what comes after. */
export interface TrailMark {
  seq: number;
  operations: Set<string>;
}

/** The mark of now, when every operation of the domain so far is finished. */
export async function trailMark(p: TrailReader, domain: string): Promise<TrailMark> {
  const events = await p.store.listChain(domain);
  return {
    seq: events.at(-1)?.seq ?? 0,
    operations: new Set((await operationsOf(p, domain)).map((o) => o.id)),
  };
}

/** Whether the domain's hash chain verifies. */
export async function chainOk(p: TrailReader, chain: string) {
  return verifyChain(await p.store.listChain(chain)).ok;
}

/** The sales broker role refused, as STS refuses AssumeRole for a wrong ExternalId. */
export function breakBroker(p: { broker: BrokerAdapters }) {
  const refused = () =>
    Promise.reject(
      new BrokerError(
        {
          accountId: '111111111111',
          roleArn: SALES_BROKER,
          service: 'STS',
          awsCode: 'AccessDenied',
        },
        `AssumeRole of ${SALES_BROKER} refused`,
        {
          cause: Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {
            name: 'AccessDenied',
          }),
        },
      ),
    );
  p.broker.catalog = { listProducts: refused };
  p.broker.lakeFormation = { ...p.broker.lakeFormation, listPermissions: refused };
}
const SALES_BROKER = 'arn:aws:iam::111111111111:role/meshgate-broker';

/** A sales catalog with one product more than the demo's, so that a sync has a product to write. */
export function catalogWith(extra: string): DataProduct[] {
  const base = DEMO_PRODUCTS.find((x) => x.id === 'sales/orders')!;
  return [
    ...DEMO_PRODUCTS,
    {
      ...structuredClone(base),
      id: `sales/${extra}`,
      name: extra,
      location: { ...base.location, table: extra },
    },
  ];
}

/** `grant`'s permission taken out of Lake Formation: the next reconciliation grants it again. */
export async function loseGrant(p: TestPortal, grant: Grant): Promise<void> {
  const spec = await tableGrantFor(p.deps, {
    id: grant.requestId,
    productId: grant.productId,
    domain: grant.domain,
    principal: grant.principal,
    scope: grant.scope,
  });
  await p.ledger.revoke(spec);
}
