import { Worker } from 'node:worker_threads';
import {
  INDEX_ARRAYS,
  INDEX_FORMAT,
  MiniSearchCatalog,
  splitSerialised,
  type SerialisedParts,
} from '../search/minisearch-catalog';

/**
 * The embedded portal loads its search index in a worker thread. Loading the index of 100,000
 * products unzips ~110 MB, parses a ~57 MB JSON header and copies ~53 MB of arrays out: in the
 * server's own isolate that left ~110 MB of buffers and the header's text to the next full garbage
 * collection, which, started while they were still in use, could come minutes later (the scale
 * benchmark's RSS moved by 200 MB with it). In a worker, all of that is the worker's and goes when
 * it exits; the server receives the header's strings (copied as it reads the message) and the
 * arrays (transferred, not copied), and its event loop is not blocked while the index unzips.
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
const { gunzipSync } = require('node:zlib');
const split = ${splitSerialised.toString()};
const blob = Buffer.from(workerData.blob.buffer, workerData.blob.byteOffset, workerData.blob.byteLength);
// One output buffer of the member's recorded size (see gunzipWhole).
const size = blob.length >= 18 ? blob.readUInt32LE(blob.length - 4) : 0;
const parts = split(gunzipSync(blob, { chunkSize: Math.max(64 * 1024, size + 1) }), workerData.widths, workerData.format);
parentPort.postMessage(parts, Object.values(parts.arrays).map((a) => a.buffer));
`;

/** The index in a gzipped serialised blob, read in a worker thread. */
export function loadIndexInWorker(blob: Uint8Array): Promise<MiniSearchCatalog> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(SOURCE, {
      eval: true,
      workerData: { blob, widths: INDEX_ARRAYS, format: INDEX_FORMAT },
    });
    worker.once('message', (parts: SerialisedParts) => {
      settled = true;
      try {
        resolve(MiniSearchCatalog.fromParts(parts));
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
