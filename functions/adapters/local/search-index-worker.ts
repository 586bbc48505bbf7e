import { Worker } from 'node:worker_threads';
import {
  INDEX_ARRAYS,
  INDEX_FORMAT,
  MiniSearchCatalog,
  packTexts,
  splitSerialised,
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
 * The worker runs `splitSerialised` from its source text (it refers to nothing outside itself), so
 * the format is read by the same code in both places. AWS mode loads in the process (its Lambda
 * bundle is minified; an instance loads the index once per catalog version).
 */
const SOURCE = `
'use strict';
// tsx (npm start) names functions through esbuild's helper; the worker has none of its own.
const __name = (f) => f;
const { parentPort, workerData } = require('node:worker_threads');
const { createGunzip } = require('node:zlib');
const packTexts = ${packTexts.toString()};
const split = ${splitSerialised.toString()};
const parts = workerData.parts;
// The gzip member's recorded size (its last 4 bytes): one output buffer that size.
const last = parts[parts.length - 1];
const size = last && last.byteLength >= 4
  ? Buffer.from(last.buffer, last.byteOffset, last.byteLength).readUInt32LE(last.byteLength - 4)
  : 0;
const gunzip = createGunzip({ chunkSize: Math.max(64 * 1024, size + 1) });
const out = [];
gunzip.on('data', (chunk) => out.push(chunk));
gunzip.on('error', (err) => { throw err; });
gunzip.on('end', () => {
  // The chunks are consecutive slices of the one output buffer: read them in place.
  const first = out[0];
  const total = out.reduce((n, c) => n + c.length, 0);
  const inPlace = first && out.every((c, i) =>
    c.buffer === first.buffer && (i === 0 || c.byteOffset === out[i - 1].byteOffset + out[i - 1].length));
  const whole = inPlace ? Buffer.from(first.buffer, first.byteOffset, total) : Buffer.concat(out);
  const read = split(whole, workerData.widths, workerData.format);
  const moved = [...Object.values(read.arrays), read.texts.bytes, read.texts.offsets];
  parentPort.postMessage(read, moved.map((a) => a.buffer));
});
for (const part of parts) gunzip.write(part);
gunzip.end();
`;

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
    const worker = new Worker(SOURCE, {
      eval: true,
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
