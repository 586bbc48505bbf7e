import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Job, JobQueue } from '../../ports/queue';

// The SQS client is loaded at the first job sent, not at start: the API queues jobs only on the
// calls that start one (an approval, a sync), and a cold start that serves anything else does not
// pay for its module load (`npm run bench -- bundles`; test/infra/bundles.test.ts).
const sqs = () => import('./clients/sqs');
let defaultClient: SQSClient | undefined;

/** Fulfilment jobs on SQS. The worker is idempotent, so at-least-once delivery is enough. */
export class SqsQueue implements JobQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly client?: SQSClient,
  ) {}

  async send(job: Job): Promise<void> {
    const { SQSClient, SendMessageCommand } = await sqs();
    const client = this.client ?? (defaultClient ??= new SQSClient({}));
    await client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(job),
        MessageAttributes: { kind: { DataType: 'String', StringValue: job.kind } },
      }),
    );
  }
}
