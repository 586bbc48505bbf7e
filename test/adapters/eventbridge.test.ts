import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventBridgePublisher } from '../../functions/adapters/aws/eventbridge';
import {
  APPROVAL_AWAITED,
  EVENT_SOURCE,
  STATUS_CHANGED,
  type LifecycleEvent,
  type StatusChanged,
} from '../../functions/ports/events';
import type { RequestStatus } from '../../functions/domain/model';

// Every EventBridgeClient instance is stubbed (the module's default client included): nothing
// leaves the process.
const eb = mockClient(EventBridgeClient);

const STATUSES: RequestStatus[] = ['PENDING', 'APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING'];

const event = (i: number, over: Partial<StatusChanged> = {}): LifecycleEvent => ({
  detailType: STATUS_CHANGED,
  detail: statusChanged(i, over),
});
const statusChanged = (i: number, over: Partial<StatusChanged>): StatusChanged => ({
  eventId: `evt_${String(i).padStart(3, '0')}`,
  at: new Date(Date.UTC(2024, 4, 1, 10, 0, i)).toISOString(),
  requestId: `req_${Math.floor(i / 5)}`,
  productId: 'sales/orders',
  domain: 'sales',
  requester: 'alice',
  principal: 'arn:aws:iam::555555555555:role/analyst',
  actor: i % 5 === 1 ? 'bob' : 'meshgate',
  fromStatus: i % 5 === 0 ? null : STATUSES[(i % 5) - 1]!,
  toStatus: STATUSES[i % 5]!,
  ...over,
});

/** The entry PutEvents must receive for one event. */
const entry = (bus: string, e: LifecycleEvent) => ({
  EventBusName: bus,
  Source: 'meshgate',
  DetailType: e.detailType,
  Time: new Date(e.detail.at),
  Resources: [],
  Detail: JSON.stringify(e.detail),
});

const inputs = () => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input);
const okFor = (input: { Entries?: unknown[] }) => ({
  FailedEntryCount: 0,
  Entries: (input.Entries ?? []).map((_e, i) => ({ EventId: `eb-${i}` })),
});

beforeEach(() => {
  eb.reset();
  eb.on(PutEventsCommand).callsFake(okFor);
});
afterAll(() => eb.restore());

const client = () =>
  new EventBridgeClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

test('the source and detail-types are the documented ones', () => {
  expect(EVENT_SOURCE).toBe('meshgate');
  expect(STATUS_CHANGED).toBe('Meshgate Access Request Status Changed');
  expect(APPROVAL_AWAITED).toBe('Meshgate Access Request Awaiting Approval');
});

test('a request awaiting approval goes out with its own detail-type, beside a status change', async () => {
  const awaiting: LifecycleEvent = {
    detailType: APPROVAL_AWAITED,
    detail: {
      eventId: 'evt_100',
      at: '2024-05-01T10:00:00.000Z',
      requestId: 'req_1',
      productId: 'sales/leads',
      domain: 'sales',
      requester: 'alice',
      principal: 'arn:aws:iam::555555555555:role/analyst',
      actor: 'bob',
      stage: 'compliance',
      escalated: false,
    },
  };
  await new EventBridgePublisher('bus', client()).publish([event(1), awaiting]);
  expect(inputs()).toEqual([{ Entries: [entry('bus', event(1)), entry('bus', awaiting)] }]);
  expect(inputs()[0]!.Entries!.map((x) => x.DetailType)).toEqual([
    'Meshgate Access Request Status Changed',
    'Meshgate Access Request Awaiting Approval',
  ]);
  expect(JSON.parse(inputs()[0]!.Entries![1]!.Detail!)).toEqual(awaiting.detail);
});

test('25 events are 3 PutEvents calls of 10, 10 and 5 entries, in order and exactly as documented', async () => {
  const events = Array.from({ length: 25 }, (_, i) => event(i));
  await new EventBridgePublisher('meshgate-sandbox', client()).publish(events);
  expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 3);
  expect(inputs().map((i) => i.Entries!.length)).toEqual([10, 10, 5]);
  expect(inputs()).toEqual([
    { Entries: events.slice(0, 10).map((e) => entry('meshgate-sandbox', e)) },
    { Entries: events.slice(10, 20).map((e) => entry('meshgate-sandbox', e)) },
    { Entries: events.slice(20).map((e) => entry('meshgate-sandbox', e)) },
  ]);
  // The detail is the event itself, nothing added or lost.
  expect(inputs().flatMap((i) => i.Entries!.map((x) => JSON.parse(x.Detail!)))).toEqual(
    events.map((e) => e.detail),
  );
});

test('exactly 10 events are one call; one event is one call; none is no call', async () => {
  const publisher = new EventBridgePublisher('bus', client());
  await publisher.publish(Array.from({ length: 10 }, (_, i) => event(i)));
  expect(inputs().map((i) => i.Entries!.length)).toEqual([10]);
  eb.resetHistory();
  await publisher.publish([event(3, { grantId: 'grt_1', reason: 'approved' })]);
  expect(inputs()).toEqual([
    { Entries: [entry('bus', event(3, { grantId: 'grt_1', reason: 'approved' }))] },
  ]);
  expect(JSON.parse(inputs()[0]!.Entries![0]!.Detail!)).toMatchObject({
    grantId: 'grt_1',
    reason: 'approved',
    fromStatus: 'GRANTING',
    toStatus: 'ACTIVE',
  });
  eb.resetHistory();
  await publisher.publish([]);
  expect(eb).not.toHaveReceivedCommand(PutEventsCommand);
});

test('without a client the module default is used (and stubbed like every instance)', async () => {
  await new EventBridgePublisher('bus').publish([event(0)]);
  expect(eb).toHaveReceivedCommandWith(PutEventsCommand, { Entries: [entry('bus', event(0))] });
});

test('FailedEntryCount > 0 throws, naming the error codes and messages of the refused entries', async () => {
  eb.on(PutEventsCommand).resolves({
    FailedEntryCount: 2,
    Entries: [
      { EventId: 'eb-0' },
      { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
      { EventId: 'eb-2' },
      { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' },
    ],
  });
  const err = await new EventBridgePublisher('bus', client())
    .publish([0, 1, 2, 3].map((i) => event(i)))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toBe(
    'EventBridge refused 2 event(s): ThrottlingException: Rate exceeded; InternalFailure: Internal failure',
  );
});

test('a refused batch stops the publishing: later batches are not sent', async () => {
  eb.on(PutEventsCommand)
    .callsFakeOnce(okFor)
    .resolvesOnce({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }],
    })
    .callsFake(okFor);
  const events = Array.from({ length: 25 }, (_, i) => event(i));
  await expect(new EventBridgePublisher('bus', client()).publish(events)).rejects.toThrow(
    /refused 1 event\(s\): AccessDeniedException: not authorized/,
  );
  expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 2);
});

test('an SDK error from PutEvents propagates unchanged', async () => {
  const boom = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  eb.on(PutEventsCommand).rejects(boom);
  await expect(new EventBridgePublisher('bus', client()).publish([event(0)])).rejects.toBe(boom);
});
