// A physical memory image read lazily: byte i of the file is physical address
// i, as QEMU's `pmemsave 0 SIZE FILE` or `pagelab boot --dump` write it. A raw
// file is read in 64 KiB blocks on demand (a 4 GiB image is never loaded
// whole); a gzip-compressed one is inflated into memory. Reads past the end
// return 0, as QEMU's bus does where no memory answers, and are counted.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PagelabError, ParseError } from '../../errors.js';
import { hex } from '../../hw/addr.js';

const BLOCK_SHIFT = 16;
const BLOCK_SIZE = 1 << BLOCK_SHIFT;
const CACHE_BLOCKS = 64;
/** The largest gzip-compressed image inflated in memory. */
export const MAX_GZ_IMAGE = 1 << 30;
const GZIP_MAGIC = [0x1f, 0x8b];

/** What the inspector needs of physical memory: dword reads and the extent. */
export interface PhysReader {
  /** Bytes in the image: physical addresses 0 .. size-1. */
  readonly size: number;
  /** read32 reads a little-endian dword; bytes past the end read as 0. */
  read32(p: number): number;
  /** write32 exists for walk()'s type; an image is never written. */
  write32(p: number, v: number): void;
}

/** contains tells whether the image holds all `length` bytes at p. */
export function contains(img: PhysReader, p: number, length = 4): boolean {
  return p >= 0 && p + length <= img.size;
}

/** An image over bytes already in memory (a gzip-inflated file, or a test's buffer). */
export class BufferImage implements PhysReader {
  readonly size: number;
  pastEndReads = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }

  read32(p: number): number {
    if (p < 0 || p + 4 > this.size) return this.pastEnd(p);
    const b = this.bytes;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  write32(p: number): void {
    throw new PagelabError(`memory image is read-only (write at ${hex(p)})`);
  }

  private pastEnd(p: number): number {
    this.pastEndReads++;
    return p < this.size ? readPartial(this.bytes, p) : 0;
  }
}

/** readPartial reads a dword that straddles the end: missing bytes are 0. */
function readPartial(bytes: Uint8Array, p: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + (p + i < bytes.length ? bytes[p + i] : 0);
  return v;
}

/** A raw image file read in 64 KiB blocks through a small LRU cache. */
export class FileImage implements PhysReader {
  readonly size: number;
  pastEndReads = 0;
  blockReads = 0;
  private readonly cache = new Map<number, Buffer>();

  constructor(
    private fd: number,
    size: number,
  ) {
    this.size = size;
  }

  read32(p: number): number {
    if (p < 0 || p + 4 > this.size) {
      this.pastEndReads++;
      return 0;
    }
    const off = p & (BLOCK_SIZE - 1);
    if (off <= BLOCK_SIZE - 4) return this.block(p >>> BLOCK_SHIFT).readUInt32LE(off);
    let v = 0;
    for (let i = 3; i >= 0; i--) v = v * 256 + this.block(Math.floor((p + i) / BLOCK_SIZE))[(p + i) & (BLOCK_SIZE - 1)];
    return v;
  }

  write32(p: number): void {
    throw new PagelabError(`memory image is read-only (write at ${hex(p)})`);
  }

  /** close releases the file descriptor. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.cache.clear();
  }

  /** block returns block n, reading it on a miss and evicting the least recently used. */
  private block(n: number): Buffer {
    const hit = this.cache.get(n);
    if (hit !== undefined) {
      this.cache.delete(n);
      this.cache.set(n, hit);
      return hit;
    }
    const buf = Buffer.alloc(BLOCK_SIZE);
    readSync(this.fd, buf, 0, Math.min(BLOCK_SIZE, this.size - n * BLOCK_SIZE), n * BLOCK_SIZE);
    this.blockReads++;
    if (this.cache.size >= CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(n, buf);
    return buf;
  }
}

export interface OpenOptions {
  /** The size the image must have (pmemsave's SIZE); a shorter file is truncated. */
  readonly expectedSize?: number;
}

/** openImage opens a raw or gzip-compressed image and checks its size. The caller closes it. */
export function openImage(path: string, options: OpenOptions = {}): FileImage | BufferImage {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new PagelabError(`cannot open memory image ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const stat = fstatSync(fd);
  if (stat.isDirectory()) {
    closeSync(fd);
    throw new PagelabError(`cannot open memory image ${path}: it is a directory`);
  }
  if (!stat.isFile()) {
    closeSync(fd);
    throw new PagelabError(
      `memory image ${path}: a pipe or device; an image is read by random access, so save it to a file first`,
    );
  }
  const size = stat.size;
  const head = Buffer.alloc(2);
  readSync(fd, head, 0, Math.min(2, size), 0);
  if (size >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    const bytes = inflate(fd, size, path);
    closeSync(fd);
    checkSize(path, bytes.length, options.expectedSize);
    return new BufferImage(bytes);
  }
  try {
    checkSize(path, size, options.expectedSize);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return new FileImage(fd, size);
}

/** inflate decompresses a whole gzip file, refusing corrupt or oversized streams. */
function inflate(fd: number, size: number, path: string): Uint8Array {
  const packed = Buffer.alloc(size);
  readSync(fd, packed, 0, size, 0);
  try {
    return gunzipSync(packed, { maxOutputLength: MAX_GZ_IMAGE });
  } catch (e) {
    closeSync(fd);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PagelabError(
        `${path}: inflates to more than ${MAX_GZ_IMAGE} bytes; gunzip it and inspect the raw file`,
      );
    }
    throw new ParseError(`${path}: gzip stream`, 0, `a complete gzip stream (${(e as Error).message})`);
  }
}

/** checkSize rejects an empty or truncated image: pmemsave and boot --dump write whole pages. */
export function checkSize(path: string, found: number, expected: number | undefined): void {
  if (expected !== undefined && found < expected) {
    throw new PagelabError(`${path}: truncated memory image: found ${found} bytes, expected ${expected}`);
  }
  if (expected !== undefined && found > expected) {
    throw new PagelabError(
      `${path}: the memory image is longer than --size says: found ${found} bytes, expected ${expected}`,
    );
  }
  if (found === 0) throw new PagelabError(`${path}: empty memory image: found 0 bytes, expected at least 4096`);
  if (found % 4096 !== 0) {
    const whole = Math.ceil(found / 4096) * 4096;
    throw new PagelabError(
      `${path}: truncated memory image: found ${found} bytes, expected a whole number of 4 KiB pages (${whole})`,
    );
  }
}
