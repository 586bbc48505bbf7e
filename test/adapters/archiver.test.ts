import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { archiveKey, AuditArchiver } from '../../functions/adapters/aws/archiver';

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

const event = {
  id: 'evt_01',
  at: '2026-11-21T10:00:00.000Z',
  type: 'REQUEST_APPROVED',
  actor: 'bob',
  domain: 'sales',
  requestId: 'req_1',
  detail: { comment: 'ok' },
};
const item = {
  ...event,
  kind: 'audit',
  pk: 'REQUEST#req_1',
  sk: 'EVENT#x',
  gsi2pk: 'AUDIT#sales',
  gsi2sk: 'x',
  gsi3pk: 'AUDITDAY#2026-11-21',
  gsi3sk: 'x',
};
const record = (eventName: string, image: Record<string, unknown>) => ({
  eventName,
  dynamodb: { NewImage: marshall(image, { removeUndefinedValues: true }) },
});

test('each new audit event becomes one object, without the table keys, under its day', async () => {
  s3.on(PutObjectCommand).resolves({});
  const keys = await new AuditArchiver('audit-bucket', new S3Client({})).archive([
    record('INSERT', item),
  ]);
  expect(keys).toEqual(['audit/2026/11/21/2026-11-21T10:00:00.000Z-evt_01.json']);
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'audit-bucket',
    Key: archiveKey(event),
    Body: JSON.stringify(event),
    ContentType: 'application/json',
    ChecksumAlgorithm: 'SHA256',
  });
});

test('records that are not new audit events are skipped', async () => {
  s3.on(PutObjectCommand).resolves({});
  const keys = await new AuditArchiver('audit-bucket', new S3Client({})).archive([
    record('MODIFY', item),
    record('INSERT', { ...item, kind: 'request' }),
    { eventName: 'REMOVE' },
  ]);
  expect(keys).toEqual([]);
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
});

test('a failed write fails the batch, so the stream delivers it again', async () => {
  s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
  await expect(
    new AuditArchiver('audit-bucket', new S3Client({})).archive([record('INSERT', item)]),
  ).rejects.toThrow('SlowDown');
});
