import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Job, JobQueue } from '../../ports/queue';

const defaultClient = new SQSClient({});

/** Fulfilment jobs on SQS. The worker is idempotent, so at-least-once delivery is enough. */
export class SqsQueue implements JobQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = defaultClient,
  ) {}

  async send(job: Job): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(job),
        MessageAttributes: { kind: { DataType: 'String', StringValue: job.kind } },
      }),
    );
  }
}
