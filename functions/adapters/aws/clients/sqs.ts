// What the SQS adapter takes from the client package, loaded at the first job sent. Imported as a
// whole by `import()`, a package keeps every command of its service in the bundle; through this
// module the bundle keeps only these (issue 16, `npm run bench -- bundles`).
export { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
