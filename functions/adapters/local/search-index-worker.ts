import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  INDEX_ARRAYS,
  INDEX_FORMAT,
  MiniSearchCatalog,
  type SerialisedParts,
} from '../search/minisearch-catalog';

/**
 * The embedded portal loads its search index in a worker thread. Loading the index of 100,000
 * products unzips ~110 MB, parses a ~57 MB JSON header and copies ~53 MB of arrays out: in the
 * server's own isolate that left ~110 MB of buffers and the header's text to the next full garbage
 * collection, which, started while they were still in use, could come minutes later (the scale
 * benchmark's RSS moved by 200 MB with it). In a worker, all of that is the worker's and goes when
 * it exits; the server receives the header's few strings (copied as it reads the message), the
 * arrays and the card strings packed (transferred, not copied), and its event loop is not blocked while the index unzips.
 *
 * No buffer between 128 KB and 32 MB is made and freed on the way (the parts are handed over and
 * unzipped as a stream, not joined): glibc raises its trim and mmap thresholds to the size of such
 * a buffer once it is freed, for every thread, and the process then keeps up to twice that much
 * freed memory per malloc arena (measured: ~100 MB of the server's RSS at 100,000 products).
 *
 * The worker is a module of its own (search-index-thread.ts) that imports `splitSerialised`, so
 * the format is read by the same code in both places, whatever transforms the code (coverage
 * counters, a minifier's names). It is started from its file: a `.ts` one (npm start, jest)
 * through tsx's CommonJS hooks (`--require tsx/cjs`: no loader thread; the worker is outside
 * jest's module system), 35 to 60 ms more per start than the source text it replaced; a `.js` one as it
 * is (a bundle of the embedded portal would ship the thread as an entry of its own beside it).
 * AWS mode loads in the process (its Lambda bundle is minified; an instance loads the index once
 * per catalog version).
 */
const EXT = extname(__filename);
const THREAD = join(__dirname, `search-index-thread${EXT}`);
/** Whether the thread's file is there (a bundle that left it out loads the index in process). */
export const indexWorkerAvailable = () => existsSync(THREAD);
const EXEC_ARGV = EXT === '.ts' ? ['--require', require.resolve('tsx/cjs')] : [];

/**
 * The index in a gzipped serialised blob, given in parts (as stored), read in a worker thread.
 * The parts' buffers are handed to the worker (transferred: the caller must not use them after),
 * and unzipped as a stream, never joined: no buffer of the blob's size is made, copied or freed.
 */
export function loadIndexInWorker(parts: Uint8Array[]): Promise<MiniSearchCatalog> {
  // A part that shares its buffer (a small one from Node's pool) is copied into its own.
  const own = parts.map((p) =>
    p.byteOffset === 0 && p.byteLength === p.buffer.byteLength ? p : new Uint8Array(p),
  );
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(THREAD, {
      execArgv: EXEC_ARGV,
      workerData: { parts: own, widths: INDEX_ARRAYS, format: INDEX_FORMAT },
      transferList: own.map((p) => p.buffer as ArrayBuffer),
    });
    worker.once('message', (read: SerialisedParts) => {
      settled = true;
      try {
        resolve(MiniSearchCatalog.fromParts(read));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the search index worker exited ${code} without an index`));
    });
  });
}
