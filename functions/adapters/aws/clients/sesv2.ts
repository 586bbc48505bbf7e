// What the e-mail sender takes from the client package, loaded at the first e-mail (see
// clients/sqs.ts for why it is a module of its own).
export { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
