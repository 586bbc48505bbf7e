import { DynamoNotificationStore } from '../../functions/adapters/aws/dynamo-notifications';
import { notificationId, type Notification } from '../../functions/domain/notifications';
import { embeddedTables } from '../support/embedded-tables';

// The notification store against the embedded DynamoDB-compatible server: conditional puts,
// the unread counter moved in the same transactions, paging newest first, the catch-up marks.

const db = embeddedTables('notify');
let store: DynamoNotificationStore;
beforeAll(() => {
  store = new DynamoNotificationStore('notify', db.client);
});

let n = 0;
const note = (user: string, over: Partial<Notification> = {}): Notification => {
  const at = new Date(Date.UTC(2026, 2, 1, 0, 0, ++n)).toISOString();
  return {
    id: notificationId(at, `evt_${n}`, user, 'REQUEST_APPROVED'),
    user,
    kind: 'REQUEST_APPROVED',
    title: 'Approved: sales/orders',
    text: 'Your request for sales/orders was approved.',
    link: '#/requests/req_1',
    domain: 'sales',
    requestId: 'req_1',
    at,
    read: false,
    ...over,
  };
};

test('a notification is written once, however often it is delivered, even at the same time', async () => {
  const x = note('u1');
  const outcomes = await Promise.all([store.add(x), store.add(x), store.add(x), store.add(x)]);
  expect(outcomes.filter(Boolean)).toHaveLength(1);
  expect(await store.add(x)).toBe(false);
  expect(await store.unreadCount('u1')).toBe(1);
  expect((await store.list('u1', { limit: 10 })).items).toEqual([x]);
});

test('marking read moves the count once; a missing or foreign one is missing', async () => {
  const a = note('u2');
  const b = note('u2');
  await store.add(a);
  await store.add(b);
  expect(await store.unreadCount('u2')).toBe(2);
  const marks = await Promise.all([store.markRead('u2', a.id), store.markRead('u2', a.id)]);
  expect(marks.sort()).toEqual(['already', 'read']);
  expect(await store.unreadCount('u2')).toBe(1);
  expect(await store.markRead('u2', note('u2').id)).toBe('missing');
  expect(await store.markRead('someone-else', b.id)).toBe('missing');
  expect(await store.unreadCount('someone-else')).toBe(0);
  expect(await store.markAllRead('u2')).toBe(1);
  expect(await store.unreadCount('u2')).toBe(0);
  expect((await store.list('u2', { limit: 10 })).items.every((x) => x.read)).toBe(true);
});

test('listed newest first, page by page, unread ones alone on request', async () => {
  const all = Array.from({ length: 7 }, () => note('u3'));
  for (const x of all) await store.add(x);
  for (const x of all.filter((_, i) => i % 2 === 0)) await store.markRead('u3', x.id);
  const newestFirst = [...all].reverse().map((x) => x.id);

  const seen: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.list('u3', { limit: 3, after });
    expect(page.items.length).toBeLessThanOrEqual(3);
    seen.push(...page.items.map((x) => x.id));
    after = page.after;
  } while (after);
  expect(seen).toEqual(newestFirst);

  const unread = await store.list('u3', { limit: 2, unread: true });
  expect(unread.items.map((x) => x.id)).toEqual([all[5]!.id, all[3]!.id]);
  const rest = await store.list('u3', { limit: 2, unread: true, after: unread.after });
  expect(rest.items.map((x) => x.id)).toEqual([all[1]!.id]);
  expect(rest.after).toBeUndefined();
});

test('settings default to e-mail on; a catch-up mark moves only from where it was read', async () => {
  expect(await store.getSettings('u4')).toEqual({ email: true });
  await store.putSettings('u4', { email: false });
  expect(await store.getSettings('u4')).toEqual({ email: false });

  expect(await store.readMark('sales')).toBe(0);
  const races = await Promise.all([store.moveMark('sales', 0, 5), store.moveMark('sales', 0, 7)]);
  expect(races.filter(Boolean)).toHaveLength(1);
  const at = await store.readMark('sales');
  expect([5, 7]).toContain(at);
  expect(await store.moveMark('sales', 0, 9)).toBe(false);
  expect(await store.moveMark('sales', at, 9)).toBe(true);
  expect(await store.readMark('sales')).toBe(9);
});

test('many are added in one transaction, each count moved by how many were new', async () => {
  const [a, b, c] = [note('m1'), note('m1'), note('m2')];
  expect((await store.addMany([a, b, c, a])).added).toEqual([true, true, true, false]);
  expect(await store.unreadCount('m1')).toBe(2);
  expect(await store.unreadCount('m2')).toBe(1);
  // With one that exists: the others are added, the counts move by those alone.
  const [d, e] = [note('m1'), note('m2')];
  expect((await store.addMany([d, b, e])).added).toEqual([true, false, true]);
  expect(await store.unreadCount('m1')).toBe(3);
  expect(await store.unreadCount('m2')).toBe(2);
  expect((await store.list('m1', { limit: 10 })).items).toEqual([d, b, a]);
});

test('more than one transaction holds are added in several', async () => {
  const many = Array.from({ length: 130 }, (_, i) => note(`big${i % 40}`));
  const { added } = await store.addMany(many);
  expect(added.every(Boolean)).toBe(true);
  for (let u = 0; u < 40; u++)
    expect(await store.unreadCount(`big${u}`)).toBe(
      many.filter((n) => n.user === `big${u}`).length,
    );
});

test('a group that fails otherwise fails only its own notifications; the written ones are said', async () => {
  // The second transaction and every write after it are throttled.
  let transactions = 0;
  const failing = new DynamoNotificationStore('notify', db.client);
  const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
    name: 'ThrottlingException',
  });
  const send = (failing as unknown as { doc: { send: (c: unknown) => Promise<unknown> } }).doc;
  const real = send.send.bind(send);
  send.send = async (c: unknown) => {
    if ((c as object).constructor.name === 'TransactWriteCommand' && ++transactions > 1)
      throw throttled;
    return real(c);
  };
  const many = Array.from({ length: 130 }, (_, i) => note(`thr${i % 40}`));
  const { added, failures } = await failing.addMany(many);
  const written = added.filter(Boolean).length;
  expect(written).toBeGreaterThan(0);
  expect(written).toBeLessThan(many.length);
  expect(failures).toHaveLength(many.length - written);
  expect(failures.every((f) => f === throttled)).toBe(true);
  // What it says was added is in the centre, and nothing else.
  for (let i = 0; i < many.length; i++)
    expect(await store.get(many[i]!.user, many[i]!.id)).toEqual(added[i] ? many[i] : undefined);
});
