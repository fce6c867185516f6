// Writing physical memory [0, top of RAM) to a file as a raw image. A regular
// file is first sized (sparse, zero-filled by the file system), then only the
// chunks that were ever written are stored at their offsets: holes and
// untouched RAM read as zeros, and no buffer the size of RAM is ever built.
// Anything else (a pipe, a device such as /dev/full) cannot be sized or
// seeked: it gets the same bytes in order, zeros written out.

import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { PhysicalMemory } from '../hw/memory.js';

const ZEROS = new Uint8Array(1 << 16);

/** dumpPhysical writes the image and returns its size in bytes. */
export function dumpPhysical(mem: PhysicalMemory, path: string): number {
  const fd = openSync(path, 'w');
  try {
    if (fstatSync(fd).isFile()) dumpSparse(mem, fd);
    else dumpInOrder(mem, fd);
  } finally {
    closeSync(fd);
  }
  return mem.top;
}

/** dumpSparse sizes a regular file and writes the written chunks at their offsets. */
function dumpSparse(mem: PhysicalMemory, fd: number): void {
  ftruncateSync(fd, mem.top);
  mem.forEachWrittenChunk((base, bytes) => {
    const n = Math.min(bytes.length, mem.top - base);
    if (n > 0) writeSync(fd, bytes, 0, n, base);
  });
}

/** dumpInOrder writes every byte from 0 to the top in order, the chunks never written as zeros. */
function dumpInOrder(mem: PhysicalMemory, fd: number): void {
  let at = 0;
  const zerosTo = (end: number): void => {
    for (; at < end; at += Math.min(ZEROS.length, end - at))
      writeAll(fd, ZEROS.subarray(0, Math.min(ZEROS.length, end - at)));
  };
  mem.forEachWrittenChunk((base, bytes) => {
    const n = Math.min(bytes.length, mem.top - base);
    if (n <= 0) return;
    zerosTo(base);
    writeAll(fd, bytes.subarray(0, n));
    at = base + n;
  });
  zerosTo(mem.top);
}

/** writeAll writes all of `bytes` at the current position, however many calls a pipe needs. */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}
