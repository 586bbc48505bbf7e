// The embedded store's layout: a data folder written by an earlier Meshgate (no layout record, a
// holder item without its gsi1 keys) is migrated once when the portal starts on it; one made now
// records today's layout; one a newer version wrote is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/aws/dynamo/table';
import { LAYOUT_KEY, holderKey } from '../../functions/adapters/aws/dynamo/keys';
import { LAYOUT_VERSION } from '../../functions/adapters/aws/dynamo/migration';
import { activeRequest, startPortal, type TestPortal } from '../support/portal';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'meshgate-layout-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const layout = async (p: TestPortal) =>
  (
    await documentClient(p.client).send(
      new GetCommand({ TableName: 'meshgate', Key: LAYOUT_KEY, ConsistentRead: true }),
    )
  ).Item;

const mineActive = async (p: TestPortal) =>
  (await p.call('alice', 'GET', '/v1/grants?mine=true&status=ACTIVE')).body.items.map(
    (g: { id: string }) => g.id,
  );

test('a data folder from before the layout record is migrated once at start: its ACTIVE grants show again', async () => {
  let p = await startPortal({ dataDir });
  let grantId: string;
  try {
    expect(await layout(p)).toMatchObject({ version: LAYOUT_VERSION });
    const r = await activeRequest(p, 'sales/orders');
    grantId = r.grantId;
    expect(await mineActive(p)).toEqual([grantId]);
    // As an earlier version left it: no layout record, the holder item outside gsi1.
    const doc = documentClient(p.client);
    await doc.send(new DeleteCommand({ TableName: 'meshgate', Key: LAYOUT_KEY }));
    const grant = await p.store.getGrant(grantId);
    await doc.send(
      new UpdateCommand({
        TableName: 'meshgate',
        Key: holderKey(grant!),
        UpdateExpression: 'REMOVE gsi1pk, gsi1sk',
      }),
    );
    expect(await mineActive(p)).toEqual([]);
  } finally {
    await p.close();
  }
  p = await startPortal({ dataDir });
  try {
    expect(await mineActive(p)).toEqual([grantId]);
    expect(await layout(p)).toMatchObject({ version: LAYOUT_VERSION });
  } finally {
    await p.close();
  }
});

test('a data folder a newer Meshgate wrote is refused', async () => {
  const p = await startPortal({ dataDir });
  await documentClient(p.client).send(
    new PutCommand({
      TableName: 'meshgate',
      Item: { ...LAYOUT_KEY, kind: 'layout', version: LAYOUT_VERSION + 1 },
    }),
  );
  await p.close();
  await expect(startPortal({ dataDir })).rejects.toThrow(
    new RegExp(`layout ${LAYOUT_VERSION + 1}, written by a newer Meshgate`),
  );
});
