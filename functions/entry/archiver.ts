import { AuditArchiver, type StreamRecord } from '../adapters/aws/archiver';

// Lambda entry for the audit archive (DynamoDB stream -> Object Lock bucket): wired once per cold start.
const bucket = process.env.MESHGATE_AUDIT_BUCKET;
if (!bucket) throw new Error('Invalid configuration: MESHGATE_AUDIT_BUCKET is not set');
const archiver = new AuditArchiver(bucket);
export const handler = async (event: { Records: StreamRecord[] }) => ({
  archived: (await archiver.archive(event.Records)).length,
});
