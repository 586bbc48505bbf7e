// What the SQS adapter takes from the client package, loaded at the first job sent (`import()` of
// this module). In the Lambda bundles the package is aliased to a module exporting only these
// (LAZY_CLIENTS in infra/constructs/meshgate-function.ts): reached by `import()` alone, the whole
// package would be bundled, every command of the service.
export { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
