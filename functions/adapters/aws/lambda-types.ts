// The few Lambda event shapes the handlers use (kept here rather than pulling in @types/aws-lambda).

export interface SQSEvent {
  Records: Array<{ messageId: string; body: string }>;
}

export interface SQSBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}
