// Writing physical memory [0, top of RAM) to a file as a raw image. The file
// is first sized (sparse, zero-filled by the file system), then only the
// chunks that were ever written are stored at their offsets: holes and
// untouched RAM read as zeros, and no buffer the size of RAM is ever built.

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { PhysicalMemory } from '../hw/memory.js';

/** dumpPhysical writes the image and returns its size in bytes. */
export function dumpPhysical(mem: PhysicalMemory, path: string): number {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, mem.top);
    mem.forEachWrittenChunk((base, bytes) => {
      const n = Math.min(bytes.length, mem.top - base);
      if (n > 0) writeSync(fd, bytes, 0, n, base);
    });
  } finally {
    closeSync(fd);
  }
  return mem.top;
}
