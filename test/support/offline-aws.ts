import type { LakeFormationPort } from '../../functions/ports/lakeformation';

const ENV_KEYS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
] as const;

/**
 * Points the SDK's standard settings at the embedded DynamoDB, with dummy credentials, and every
 * other service at a closed local port, so a call that slips past a mock fails here instead of
 * reaching AWS. Returns the function that puts the environment back.
 */
export function offlineAwsEnv(dynamoEndpoint: string): () => void {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoEndpoint;
  process.env.AWS_REGION = 'eu-west-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIATESTONLY';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-only';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  return () => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}

/** A Lake Formation port that counts calls and passes them on. */
export function countingLakeFormation(inner: LakeFormationPort) {
  const calls = { grant: 0, revoke: 0 };
  const port: LakeFormationPort = {
    grant: (q) => (calls.grant++, inner.grant(q)),
    revoke: (q) => (calls.revoke++, inner.revoke(q)),
    listPermissions: (a) => inner.listPermissions(a),
  };
  return { port, calls };
}
