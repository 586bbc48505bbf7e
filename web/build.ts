// Builds the web UI into static files: one ES module bundle (Preact + the pages), the style
// sheet and the HTML shell. Used by `npm start`, `npm run synth`, the browser tests and the
// benchmarks. Run directly: `tsx web/build.ts [outdir]`.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

export const WEB_ROOT = resolve(__dirname);
export const DEFAULT_OUTDIR = join(WEB_ROOT, 'dist');

/** How the UI's script is bundled (also used by the benchmarks for their baseline page). */
export const WEB_BUILD_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
} satisfies BuildOptions;

export interface BuiltFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** Builds the UI into `outdir` (emptied first) and returns every file with its size. */
export async function buildWeb(outdir: string = DEFAULT_OUTDIR): Promise<BuiltFile[]> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  cpSync(join(WEB_ROOT, 'public'), outdir, { recursive: true });
  await build({
    ...WEB_BUILD_OPTIONS,
    entryPoints: { app: join(WEB_ROOT, 'src', 'main.tsx') },
    outdir,
  });
  return listFiles(outdir);
}

function listFiles(dir: string, root = dir): BuiltFile[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return listFiles(p, root);
    const data = readFileSync(p);
    return [
      {
        path: relative(root, p),
        bytes: data.length,
        gzipBytes: gzipSync(data, { level: 9 }).length,
      },
    ];
  });
}

if (require.main === module) {
  const outdir = resolve(process.argv[2] ?? DEFAULT_OUTDIR);
  buildWeb(outdir).then(
    (files) => {
      const shipped = files.filter((f) => !f.path.endsWith('.map'));
      const gz = shipped.reduce((n, f) => n + f.gzipBytes, 0);
      console.log(
        `Web UI built in ${outdir}: ${shipped.length} files, ${(gz / 1024).toFixed(1)} KiB gzipped`,
      );
    },
    (err) => {
      console.error('Web UI build failed:', err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
