/**
 * Brings a table written by an earlier Meshgate to today's keys and indexes:
 * `npm run table:migrate -- --table NAME [--dry-run] [--resume TOKEN]` (see USAGE, and
 * functions/adapters/aws/dynamo/migration.ts for what it writes and why it is safe while the
 * portal runs).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { migrateTable, type MigrationProgress } from '../functions/adapters/aws/dynamo/migration';
import { runAsMain, runTableCommand, type TableCommandIo } from './lib/table-command';

const USAGE = `Usage: npm run table:migrate -- --table NAME [--region REGION] [--dry-run] [--resume TOKEN]
       npm run table:migrate -- --config meshgate.json [--region REGION] [--dry-run]

Brings every item of Meshgate's DynamoDB table to the keys and indexes this version reads:
requests, grants, products, audit events, chain heads, memberships, domains, users and consumer
accounts get the index attributes today's item builders give them (their fields, an audit
event's detail and hash, are left as they are), and each ACTIVE grant gets its holder item. Run it once after deploying a version whose release notes
ask for it, once the Data stack has every index (gsi1 to gsi5); the portal may keep running.
Running it again changes nothing. It reads the whole table a page at a time and prints its
progress after each page, with the token that resumes it there.

  --table NAME     the table name (the configuration's tableName)
  --config FILE    read the table name from this configuration file (default: MESHGATE_CONFIG)
  --region REGION  the AWS region (default: AWS_REGION or the profile's region)
  --dry-run        count what it would write, write nothing
  --resume TOKEN   start where an earlier run stopped (the token of its last progress line)
  --help           this text`;

/** The resume token of a page's last key: base64url of its JSON. */
export const resumeToken = (key: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

function startKeyOf(token: string): Record<string, unknown> | undefined {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && !Array.isArray(key) && 'pk' in key && 'sk' in key)
      return key as Record<string, unknown>;
  } catch {
    // not a token
  }
  return undefined;
}

const n = (x: number) => x.toLocaleString('en-US');

function progressLine(p: Readonly<MigrationProgress>, dryRun: boolean): string {
  const verb = dryRun ? 'would rewrite' : 'rewritten';
  const kinds = Object.entries(p.byKind)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  return (
    `scanned ${n(p.scanned)}: ${verb} ${n(p.rewritten)}${kinds ? ` (${kinds})` : ''}, ` +
    `holders ${dryRun ? 'to put' : 'put'} ${n(p.holders)}, current ${n(p.current)}, ` +
    `left alone ${n(p.left['other kind'] + p.left['key shape'])}` +
    (p.raced ? `, raced ${n(p.raced)}` : '') +
    (p.nextKey ? ` | resume: --resume ${resumeToken(p.nextKey)}` : '')
  );
}

/** The command; returns its exit code. */
export function migrateCommand(argv: string[], io: TableCommandIo): Promise<number> {
  return runTableCommand(
    argv,
    io,
    {
      name: 'table:migrate',
      usage: USAGE,
      switches: ['--dry-run'],
      options: ['--resume'],
    },
    async ({ client, table, region, flags }) => {
      const dryRun = flags['dry-run'] === true;
      let startKey: Record<string, unknown> | undefined;
      if (typeof flags.resume === 'string') {
        startKey = startKeyOf(flags.resume);
        if (!startKey) {
          io.err(`table:migrate: --resume ${flags.resume} is not a token this command printed.`);
          return 2;
        }
      }
      io.out(`${dryRun ? 'Dry run: ' : ''}migrating table ${table} in ${region}...`);
      const done = await migrateTable(client, table, {
        dryRun,
        startKey,
        onPage: (p) => io.out(progressLine(p, dryRun)),
      });
      if (done.left['key shape'])
        io.err(
          `table:migrate: ${n(done.left['key shape'])} item(s) have a table key this version does not write; they were left as they are.`,
        );
      io.out(
        `${dryRun ? 'Dry run done' : 'Done'}: ${progressLine(done, dryRun)}.` +
          (dryRun ? '' : ' Run a catalog sync to rebuild the search index if it is missing.'),
      );
      return 0;
    },
  );
}

if (require.main === module)
  runAsMain(migrateCommand, (region) => new DynamoDBClient(region ? { region } : {}));
