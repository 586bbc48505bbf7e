import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Membership } from '../domain/model';
import { CasbinPolicyEngine, type PolicySource } from './engine';

/** Reads `model.conf`, `global.csv` and `domains/<domain>.csv` from a policy folder. */
export function readPolicyDir(dir: string): { model: string; sources: PolicySource[] } {
  const name = (f: string) => relative(process.cwd(), f) || f;
  const model = readFileSync(join(dir, 'model.conf'), 'utf8');
  const globalFile = join(dir, 'global.csv');
  const sources: PolicySource[] = [{ source: name(globalFile), text: readFileSync(globalFile, 'utf8') }];
  const domainsDir = join(dir, 'domains');
  if (existsSync(domainsDir)) {
    for (const f of readdirSync(domainsDir).filter((f) => f.endsWith('.csv')).sort()) {
      const file = join(domainsDir, f);
      sources.push({ source: name(file), text: readFileSync(file, 'utf8'), domain: f.slice(0, -'.csv'.length) });
    }
  }
  return { model, sources };
}

/** Loads the engine from a folder; a missing or unreadable folder gives an engine that denies everything. */
export async function loadPolicyEngine(dir: string, memberships: Membership[] = []): Promise<CasbinPolicyEngine> {
  let files: { model: string; sources: PolicySource[] };
  try {
    files = readPolicyDir(dir);
  } catch (err) {
    return CasbinPolicyEngine.load('', [{ source: dir, text: `unreadable: ${(err as Error).message}` }]);
  }
  return CasbinPolicyEngine.load(files.model, files.sources, memberships);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Which policy is in force: the SHA-256 of each file and one version over all of them, so that a
 * change of policy can be recorded in the audit trail when it first takes effect.
 */
export function policyFingerprint(dir: string): { version: string; files: Array<{ source: string; sha256: string }> } {
  try {
    const { model, sources } = readPolicyDir(dir);
    const files = [{ source: 'model.conf', sha256: sha256(model) }, ...sources.map((s) => ({ source: s.source, sha256: sha256(s.text) }))];
    return { version: sha256(files.map((f) => `${f.source}\n${f.sha256}`).join('\n')), files };
  } catch (err) {
    return { version: sha256(`unreadable: ${(err as Error).message}`), files: [] };
  }
}
