import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONSUMER_GLUE_ACTIONS,
  CONSUMER_LAKEFORMATION_ACTIONS,
  CONSUMER_RAM_ACTIONS,
} from '../../infra/stacks/consumer-account-stack';
import {
  BROKER_GLUE_ACTIONS,
  BROKER_LAKEFORMATION_ACTIONS,
} from '../../infra/stacks/domain-account-stack';

// The broker roles' IAM policies list actions by hand (infra/stacks/*-account-stack.ts), and the
// local tests reach no IAM: an operation added to a broker adapter without its action would be
// AccessDenied on AWS only. Here every command an adapter sends through a broker role is read
// from its source (the commands it imports from an AWS SDK client and constructs) and must be an
// action of that role.

const ADAPTERS = join(__dirname, '..', '..', 'functions', 'adapters', 'aws');
const PREFIX: Record<string, string> = {
  '@aws-sdk/client-lakeformation': 'lakeformation',
  '@aws-sdk/client-glue': 'glue',
  '@aws-sdk/client-ram': 'ram',
};

/** The IAM actions of the commands a file constructs (`new XCommand(`), by the client it imports X from. */
function actionsSent(file: string): string[] {
  const text = readFileSync(join(ADAPTERS, file), 'utf8');
  const from = new Map<string, string>();
  for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g))
    for (const name of m[1]!.split(',').map((n) => n.trim()))
      if (PREFIX[m[2]!] && name.endsWith('Command')) from.set(name, PREFIX[m[2]!]!);
  const sent = [...text.matchAll(/new (\w+Command)\(/g)].map((m) => m[1]!);
  return [
    ...new Set(sent.filter((c) => from.has(c)).map((c) => `${from.get(c)}:${c.slice(0, -7)}`)),
  ].sort();
}

test('the domain broker role allows every Lake Formation and Glue call of the grant and catalog adapters', () => {
  const sent = [...actionsSent('lakeformation.ts'), ...actionsSent('glue-catalog.ts')];
  expect(sent).toEqual(
    expect.arrayContaining(['lakeformation:GrantPermissions', 'glue:GetTables']),
  );
  const allowed = new Set<string>([...BROKER_LAKEFORMATION_ACTIONS, ...BROKER_GLUE_ACTIONS]);
  expect(sent.filter((a) => !allowed.has(a))).toEqual([]);
});

test('the consumer broker role allows every call of the consumer links adapter', () => {
  const sent = actionsSent('consumer-links.ts');
  expect(sent).toEqual(
    expect.arrayContaining([
      'glue:CreateTable',
      'lakeformation:GrantPermissions',
      'ram:AcceptResourceShareInvitation',
    ]),
  );
  const allowed = new Set<string>([
    ...CONSUMER_GLUE_ACTIONS,
    ...CONSUMER_LAKEFORMATION_ACTIONS,
    ...CONSUMER_RAM_ACTIONS,
  ]);
  expect(sent.filter((a) => !allowed.has(a))).toEqual([]);
});
