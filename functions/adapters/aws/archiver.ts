import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { auditEventOf } from './dynamo-store';
import type { AuditEvent } from '../../domain/model';

const defaultClient = new S3Client({});

export interface StreamRecord {
  eventID?: string;
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, AttributeValue> };
}

/** Where an audit event is archived: by day, then time and id, so a day's trail lists in order. */
export const archiveKey = (e: Pick<AuditEvent, 'at' | 'id'>) =>
  `audit/${e.at.slice(0, 10).replace(/-/g, '/')}/${e.at}-${e.id}.json`;

/**
 * Copies each new audit event from the table's stream into the Object Lock bucket, one object per
 * event, so that the trail can be neither changed nor deleted before its retention ends, by anyone.
 * Objects are written once: the bucket's default retention (compliance mode) applies to each.
 */
export class AuditArchiver {
  constructor(
    private readonly bucket: string,
    private readonly s3: S3Client = defaultClient,
  ) {}

  /** Returns the keys written. Records that are not new audit events are skipped. */
  async archive(records: StreamRecord[]): Promise<string[]> {
    const keys: string[] = [];
    for (const r of records) {
      const image = r.dynamodb?.NewImage;
      if (r.eventName !== 'INSERT' || !image) continue;
      const item = unmarshall(image) as Record<string, unknown>;
      if (item.kind !== 'audit') continue;
      const event = auditEventOf(item);
      const key = archiveKey(event);
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(event),
          ContentType: 'application/json',
          // Object Lock needs an integrity checksum on every write.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      keys.push(key);
    }
    return keys;
  }
}
