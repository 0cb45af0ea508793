import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface LineSource {
  lines: AsyncIterable<string>;
  /** Bytes of the file as stored (compressed, for gzip), when known; for progress. */
  totalBytes?: number;
  bytesRead: () => number;
}

/** Gzip is told by its magic bytes, whatever the file is called. */
function isGzip(path: string): boolean {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Lines of a file (plain or gzip), or of plain text on stdin for "-", without line endings. */
export function readLines(path: string): LineSource {
  const fromStdin = path === '-';
  // Checked before any stream exists, so a missing file is a plain error here.
  const gzip = !fromStdin && isGzip(path);
  const totalBytes = fromStdin ? undefined : statSync(path).size;
  const source: Readable = fromStdin ? process.stdin : createReadStream(path);
  let bytes = 0;
  source.on('data', (chunk: Buffer | string) => (bytes += chunk.length));
  const input = gzip ? source.pipe(createGunzip()) : source;
  if (input !== source) source.on('error', (error) => input.destroy(error));
  return {
    lines: createInterface({ input, crlfDelay: Infinity }),
    totalBytes,
    bytesRead: () => bytes,
  };
}
