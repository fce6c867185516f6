// Reading a whole input file with a bound: regular files, pipes, character
// devices, process substitution (`<(...)`), `/dev/stdin` and `-` (standard
// input) alike — read in chunks, never by seeking — and refused, by name and
// bound, as soon as it grows past what its format can need (so `/dev/zero`
// ends at once instead of filling memory).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PagelabError } from '../../errors.js';

/** Bounds on inputs, by what they are; README.md's "Inputs and outputs" lists them. */
export const INPUT_LIMITS = {
  /** A register file (QEMU `info registers`, a `boot --json` document). */
  registers: 16 << 20,
  /** A kernel ELF: larger than any kernel the 4 MiB boot mapping can hold. */
  kernel: 64 << 20,
  /** A boot module: the multiboot area leaves a few MiB for modules. */
  module: 64 << 20,
  /** A captured multiboot structure (the capture format's text). */
  multiboot: 64 << 20,
  /** A program's ELF for `pagelab run`. */
  elf: 256 << 20,
  /** A page-reference string for `pagelab policy`. */
  pages: 256 << 20,
} as const;

const CHUNK = 1 << 16;

/** openInput opens a path for reading; `-` is standard input. */
function openInput(path: string, what: string): { fd: number; owned: boolean } {
  if (path === '-') return { fd: 0, owned: false };
  try {
    const fd = openSync(path, 'r');
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      throw new PagelabError(`${what} ${path}: is a directory, not a file`);
    }
    return { fd, owned: true };
  } catch (e) {
    if (e instanceof PagelabError) throw e;
    throw new PagelabError(`${what} ${path}: cannot open it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** readChunk reads what is available, waiting briefly while a non-blocking descriptor has nothing yet. */
function readChunk(fd: number, buf: Buffer, at: number): number {
  for (;;) {
    try {
      return readSync(fd, buf, at, Math.min(CHUNK, buf.length - at), null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      else if (code === 'EOF') return 0;
      else throw e;
    }
  }
}

/** readInput reads the whole input at `path` (`-`: standard input), refusing more than `limit` bytes. */
export function readInput(path: string, what: string, limit: number): Uint8Array {
  const { fd, owned } = openInput(path, what);
  let buf = Buffer.alloc(Math.min(limit + 1, CHUNK));
  let n = 0;
  try {
    for (;;) {
      if (n === buf.length) {
        if (n > limit) break;
        const bigger = Buffer.alloc(Math.min(limit + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readChunk(fd, buf, n);
      if (got === 0) break;
      n += got;
    }
  } catch (e) {
    throw new PagelabError(`${what} ${path}: read failed (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  } finally {
    if (owned) closeSync(fd);
  }
  if (n > limit)
    throw new PagelabError(
      `${what} ${path}: more than ${limit / 2 ** 20} MiB (${limit} bytes), the bound for this input`,
    );
  return new Uint8Array(buf.buffer, buf.byteOffset, n);
}

/** readInputText is readInput decoded as UTF-8. */
export function readInputText(path: string, what: string, limit: number): string {
  return Buffer.from(readInput(path, what, limit)).toString('utf8');
}
