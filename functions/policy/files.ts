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
