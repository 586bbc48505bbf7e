import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Membership } from '../domain/model';
import type { LoadedPolicy, PolicyFiles, PolicyFingerprint } from '../ports/policy';
import { CasbinPolicyEngine, type PolicySource } from './engine';

/** Reads `model.conf`, `global.csv` and `domains/<domain>.csv` from a policy folder. */
export function readPolicyDir(dir: string): { model: string; sources: PolicySource[] } {
  const name = (f: string) => relative(process.cwd(), f) || f;
  const model = readFileSync(join(dir, 'model.conf'), 'utf8');
  const globalFile = join(dir, 'global.csv');
  const sources: PolicySource[] = [
    { source: name(globalFile), text: readFileSync(globalFile, 'utf8') },
  ];
  const domainsDir = join(dir, 'domains');
  if (existsSync(domainsDir)) {
    for (const f of readdirSync(domainsDir)
      .filter((f) => f.endsWith('.csv'))
      .sort()) {
      const file = join(domainsDir, f);
      sources.push({
        source: name(file),
        text: readFileSync(file, 'utf8'),
        domain: f.slice(0, -'.csv'.length),
      });
    }
  }
  return { model, sources };
}

/** Loads the engine from a folder; a missing or unreadable folder gives an engine that denies everything. */
export async function loadPolicyEngine(
  dir: string,
  memberships: Membership[] = [],
): Promise<CasbinPolicyEngine> {
  return (await loadPolicyFolder(dir, memberships)).engine;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The SHA-256 of each file and one version over all of them, from the texts that were loaded. */
function fingerprintOf(model: string, sources: PolicySource[]): PolicyFingerprint {
  const files = [
    { source: 'model.conf', sha256: sha256(model) },
    ...sources.map((s) => ({ source: s.source, sha256: sha256(s.text) })),
  ];
  return { version: sha256(files.map((f) => `${f.source}\n${f.sha256}`).join('\n')), files };
}

/** Reads the folder once: the engine and the fingerprint come from the same bytes. */
async function loadPolicyFolder(
  dir: string,
  memberships: Membership[],
): Promise<LoadedPolicy & { engine: CasbinPolicyEngine }> {
  let files: { model: string; sources: PolicySource[] };
  try {
    files = readPolicyDir(dir);
  } catch (err) {
    const why = `unreadable: ${(err as Error).message}`;
    const engine = await CasbinPolicyEngine.load('', [{ source: dir, text: why }]);
    return {
      engine,
      version: sha256(why),
      files: [],
      loadFailure: engine.loadFailure,
      domainFailures: {},
      texts: [],
    };
  }
  const engine = await CasbinPolicyEngine.load(files.model, files.sources, memberships);
  return {
    engine,
    ...fingerprintOf(files.model, files.sources),
    loadFailure: engine.loadFailure,
    domainFailures: engine.domainFailures,
    texts: [
      { source: 'model.conf', text: files.model },
      ...files.sources.map((s) => ({ source: s.source, text: s.text })),
    ],
  };
}

/**
 * A policy folder as the policy's source. `watch: false` is for files bundled with the code (on
 * Lambda): they cannot change, and `mayHaveChanged` is always false. With `watch: true` (the local
 * processes) it compares, on every call, the inode, size, modification and change times (ns) of
 * the folder, `model.conf`, `global.csv`, `domains/` and every domain file with what they were
 * when last loaded: a handful of stat calls, no reading. A file added to or removed from
 * `domains/` changes that folder's times; an editor's save-by-rename changes the inode. A change
 * that leaves the bytes as they were (a touch) is loaded again and found to be the same version.
 */
export function policyFolder(dir: string, opts: { watch: boolean }): PolicyFiles {
  let watched: string[] = [];
  let signature = '';
  const signatureOf = (paths: string[]) =>
    paths
      .map((p) => {
        const s = statSync(p, { bigint: true, throwIfNoEntry: false });
        return s ? `${p}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : `${p}:-`;
      })
      .join('|');
  return {
    async load(memberships) {
      if (opts.watch) {
        // Stat before reading: a change made while the files are read shows at the next check.
        const domainsDir = join(dir, 'domains');
        let domainFiles: string[] = [];
        try {
          domainFiles = readdirSync(domainsDir)
            .filter((f) => f.endsWith('.csv'))
            .map((f) => join(domainsDir, f));
        } catch {
          // No domains folder (or no folder at all): its absence is part of the signature.
        }
        watched = [
          dir,
          join(dir, 'model.conf'),
          join(dir, 'global.csv'),
          domainsDir,
          ...domainFiles,
        ];
        signature = signatureOf(watched);
      }
      return loadPolicyFolder(dir, memberships);
    },
    mayHaveChanged: () => opts.watch && signatureOf(watched) !== signature,
  };
}
