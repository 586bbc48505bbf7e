import { parentPort, workerData } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { splitSerialised } from '../search/minisearch-catalog';

/**
 * The worker thread of `loadIndexInWorker` (search-index-worker.ts): it unzips the parts it was
 * handed as a stream into one buffer, reads the index with the same `splitSerialised` as the
 * process, and posts it back with the arrays' and the packed card strings' buffers transferred.
 * Its buffers and the header's text go when it exits.
 */
interface Task {
  parts: Uint8Array[];
  widths: Record<string, 'u8' | 'u16' | 'u32'>;
  format: number;
}

const { parts, widths, format } = workerData as Task;
// The gzip member's recorded size (its last 4 bytes): one output buffer that size.
const last = parts[parts.length - 1];
const size =
  last && last.byteLength >= 4
    ? Buffer.from(last.buffer, last.byteOffset, last.byteLength).readUInt32LE(last.byteLength - 4)
    : 0;
const gunzip = createGunzip({ chunkSize: Math.max(64 * 1024, size + 1) });
const out: Buffer[] = [];
gunzip.on('data', (chunk: Buffer) => out.push(chunk));
gunzip.on('error', (err) => {
  throw err;
});
gunzip.on('end', () => {
  // The chunks are consecutive slices of the one output buffer: read them in place.
  const first = out[0];
  const total = out.reduce((n, c) => n + c.length, 0);
  const inPlace =
    first !== undefined &&
    out.every(
      (c, i) =>
        c.buffer === first.buffer &&
        (i === 0 || c.byteOffset === out[i - 1]!.byteOffset + out[i - 1]!.length),
    );
  const whole = inPlace ? Buffer.from(first.buffer, first.byteOffset, total) : Buffer.concat(out);
  const read = splitSerialised(whole, widths, format);
  const moved = [...Object.values(read.arrays), read.texts.bytes, read.texts.offsets];
  parentPort!.postMessage(
    read,
    moved.map((a) => a.buffer as ArrayBuffer),
  );
});
for (const part of parts) gunzip.write(part);
gunzip.end();
