// Physical memory: little-endian, sparse (64 KiB chunks allocated on first
// write), described by a list of RAM ranges. Outside RAM the bus floats:
// reads return all-ones bytes and writes are dropped, both counted; with
// `strict` such an access throws BusError instead.

import { PagelabError } from '../errors.js';
import { hex, MAX_PHYS_4G, PAGE_SIZE } from './addr.js';

export interface RamRange {
  readonly base: number;
  readonly length: number;
}

export interface MemoryOptions {
  /** Throw BusError on an access outside RAM instead of floating. */
  readonly strict?: boolean;
}

/** What a BusError is: a read or a write of a physical address no RAM backs. */
export type BusErrorKind = 'unbacked-read' | 'unbacked-write';

/** An access to a physical address that no RAM backs (only with `strict`). */
export class BusError extends PagelabError {
  readonly kind: BusErrorKind;
  constructor(
    readonly address: number,
    readonly write: boolean,
  ) {
    super(
      `bus error: ${write ? 'write to' : 'read from'} ${hex(address, address > 0xffffffff ? 9 : 8)}, which is not RAM`,
    );
    this.kind = write ? 'unbacked-write' : 'unbacked-read';
  }
}

const CHUNK_SHIFT = 16;
const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;
const CHUNK_COUNT = MAX_PHYS_4G / CHUNK_SIZE;
/** MAX_PHYS_4G as this module's own constant: V8 folds it into the fast paths (an import is reloaded on every use). */
const PHYS_LIMIT = MAX_PHYS_4G;
const PAGES_PER_CHUNK = CHUNK_SIZE / PAGE_SIZE;
const KIND_NONE = 0;
const KIND_FULL = 1;
const KIND_PARTIAL = 2;

/**
 * pcLayout is a PC's RAM for `size` bytes: 0..640 KiB, then 1 MiB..size (the
 * legacy VGA/BIOS hole in between).
 */
export function pcLayout(size: number): RamRange[] {
  if (size < 0x100000 || size > MAX_PHYS_4G || size % PAGE_SIZE !== 0) {
    throw new PagelabError(`RAM size must be a multiple of 4 KiB from 1 MiB to 4 GiB, got ${size}`);
  }
  const ranges: RamRange[] = [{ base: 0, length: 0xa0000 }];
  if (size > 0x100000) ranges.push({ base: 0x100000, length: size - 0x100000 });
  return ranges;
}

export class PhysicalMemory {
  readonly ranges: readonly RamRange[];
  /** One past the highest RAM byte. */
  readonly top: number;
  readonly strict: boolean;
  unbackedReads = 0;
  unbackedWrites = 0;
  /**
   * Fast path: buffers of fully-RAM chunks that have been written. Filled
   * with undefined from the start, so the arrays' element kind (V8's map) is
   * the same before and after the first chunk is stored: code optimized on
   * one machine is not thrown away when it meets a fresh machine's memory.
   */
  private readonly u8: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CHUNK_COUNT).fill(undefined);
  private readonly i32: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(CHUNK_COUNT).fill(undefined);
  private readonly kind = new Uint8Array(CHUNK_COUNT);
  /** Chunks only partly RAM: their buffer and a per-page RAM flag. */
  private readonly partial = new Map<number, { bytes: Uint8Array | undefined; ram: Uint8Array }>();
  private allocated = 0;

  constructor(ranges: readonly RamRange[], options: MemoryOptions = {}) {
    this.ranges = normalizeRanges(ranges);
    this.top = this.ranges.reduce((t, r) => Math.max(t, r.base + r.length), 0);
    this.strict = options.strict ?? false;
    for (const r of this.ranges) this.markRam(r);
  }

  /** Bytes of host memory actually allocated for contents. */
  get bytesAllocated(): number {
    return this.allocated * CHUNK_SIZE;
  }

  /** Total RAM bytes described. */
  get ramSize(): number {
    return this.ranges.reduce((s, r) => s + r.length, 0);
  }

  /** isRam tells whether a physical byte address is backed by RAM. */
  isRam(p: number): boolean {
    if (p < 0 || p >= MAX_PHYS_4G) return false;
    const c = Math.floor(p / CHUNK_SIZE);
    const k = this.kind[c];
    if (k === KIND_FULL) return true;
    if (k === KIND_NONE) return false;
    return this.partial.get(c)!.ram[(p & CHUNK_MASK) >>> 12] === 1;
  }

  /** read32 reads a little-endian unsigned dword. */
  read32(p: number): number {
    if ((p & 3) === 0 && p < PHYS_LIMIT) {
      const a = this.i32[p >>> CHUNK_SHIFT];
      if (a !== undefined) return a[(p & CHUNK_MASK) >>> 2] >>> 0;
    }
    return this.slowRead(p, 4);
  }

  /**
   * readEntry reads the aligned dword at p as a signed int32: the page walk's
   * entry read. p may be given as the int32 bit pattern of an address below
   * 4 GiB; what lies outside written RAM reads as read32() says.
   */
  readEntry(p: number): number {
    const a = this.i32[p >>> CHUNK_SHIFT];
    if (a !== undefined) return a[(p & CHUNK_MASK) >>> 2];
    return this.read32(p >>> 0) | 0;
  }

  /** write32 writes a little-endian dword (the low 32 bits of v). */
  write32(p: number, v: number): void {
    if ((p & 3) === 0 && p < PHYS_LIMIT) {
      const a = this.i32[p >>> CHUNK_SHIFT];
      if (a !== undefined) {
        a[(p & CHUNK_MASK) >>> 2] = v;
        return;
      }
    }
    this.slowWrite(p, v, 4);
  }

  /** read16 reads a little-endian unsigned word. */
  read16(p: number): number {
    return this.slowRead(p, 2);
  }

  write16(p: number, v: number): void {
    this.slowWrite(p, v, 2);
  }

  /** read8 reads one byte. */
  read8(p: number): number {
    if (p < PHYS_LIMIT) {
      const a = this.u8[p >>> CHUNK_SHIFT];
      if (a !== undefined) return a[p & CHUNK_MASK];
    }
    return this.readByte(p);
  }

  /** write8 writes one byte (the low 8 bits of v). */
  write8(p: number, v: number): void {
    if (p < PHYS_LIMIT) {
      const a = this.u8[p >>> CHUNK_SHIFT];
      if (a !== undefined) {
        a[p & CHUNK_MASK] = v; // a Uint8Array keeps the low 8 bits
        return;
      }
    }
    this.writeByte(p, v & 0xff);
  }

  /** read reads a little-endian unsigned value of 1, 2 or 4 bytes. */
  read(p: number, size: 1 | 2 | 4): number {
    return size === 4 ? this.read32(p) : size === 1 ? this.read8(p) : this.read16(p);
  }

  /** write writes a little-endian value of 1, 2 or 4 bytes. */
  write(p: number, v: number, size: 1 | 2 | 4): void {
    if (size === 4) this.write32(p, v);
    else if (size === 1) this.write8(p, v);
    else this.slowWrite(p, v, size);
  }

  /** readBytes copies `length` bytes starting at p (holes read as 0xFF). */
  readBytes(p: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(p + i);
    return out;
  }

  /** writeBytes stores bytes starting at p (one copy when they lie in one RAM chunk). */
  writeBytes(p: number, bytes: Uint8Array): void {
    const a = this.inOneChunk(p, bytes.length) ? this.bufferFor(p, true) : null;
    if (a) {
      a.set(bytes, p & CHUNK_MASK);
      return;
    }
    for (let i = 0; i < bytes.length; i++) this.writeByte(p + i, bytes[i]);
  }

  /** fill sets `length` bytes from p to `value`; zero-filling untouched chunks allocates nothing. */
  fill(p: number, length: number, value: number): void {
    if (this.inOneChunk(p, length)) {
      if (value === 0 && this.untouchedFullChunk(p)) return;
      const a = this.bufferFor(p, true);
      if (a) {
        a.fill(value, p & CHUNK_MASK, (p & CHUNK_MASK) + length);
        return;
      }
    }
    for (let i = 0; i < length; i++) {
      const q = p + i;
      if (value === 0 && (q & CHUNK_MASK) === 0 && length - i >= CHUNK_SIZE && this.untouchedFullChunk(q)) {
        i += CHUNK_SIZE - 1;
        continue;
      }
      this.writeByte(q, value);
    }
  }

  /** forEachPage calls fn for each 4 KiB page of [0, top) that holds written contents, in order. */
  forEachWrittenChunk(fn: (base: number, bytes: Uint8Array) => void): void {
    for (let c = 0; c < CHUNK_COUNT; c++) {
      const bytes = this.u8[c] ?? this.partial.get(c)?.bytes;
      if (bytes !== undefined) fn(c * CHUNK_SIZE, bytes);
    }
  }

  /** inOneChunk: [p, p + length) is a non-empty range inside one chunk that is all RAM. */
  private inOneChunk(p: number, length: number): boolean {
    if (!(p >= 0 && length > 0 && p + length <= PHYS_LIMIT)) return false;
    return p >>> CHUNK_SHIFT === (p + length - 1) >>> CHUNK_SHIFT && this.kind[p >>> CHUNK_SHIFT] === KIND_FULL;
  }

  private untouchedFullChunk(p: number): boolean {
    const c = p >>> CHUNK_SHIFT;
    return this.kind[c] === KIND_FULL && this.u8[c] === undefined;
  }

  /** markRam records a RAM range: whole chunks directly, partial ones page by page. */
  private markRam(r: RamRange): void {
    for (let page = r.base; page < r.base + r.length;) {
      const c = Math.floor(page / CHUNK_SIZE);
      if (page % CHUNK_SIZE === 0 && page + CHUNK_SIZE <= r.base + r.length && this.kind[c] === KIND_NONE) {
        this.kind[c] = KIND_FULL;
        page += CHUNK_SIZE;
        continue;
      }
      this.markPage(c, page);
      page += PAGE_SIZE;
    }
  }

  /** markPage records one RAM page of chunk c; a chunk whose pages are all RAM becomes full. */
  private markPage(c: number, page: number): void {
    let part = this.partial.get(c);
    if (part === undefined) {
      part = { bytes: undefined, ram: new Uint8Array(PAGES_PER_CHUNK) };
      this.partial.set(c, part);
      this.kind[c] = KIND_PARTIAL;
    }
    part.ram[(page % CHUNK_SIZE) / PAGE_SIZE] = 1;
    if (part.ram.every((x) => x === 1)) {
      this.partial.delete(c);
      this.kind[c] = KIND_FULL;
    }
  }

  private slowRead(p: number, size: number): number {
    // Untouched RAM reads as zeros without per-byte work.
    if (p < MAX_PHYS_4G - 4 && (p + size - 1) >>> CHUNK_SHIFT === p >>> CHUNK_SHIFT && this.untouchedFullChunk(p))
      return 0;
    let v = 0; // bytes read lowest first, so that a BusError names the access's first unbacked byte
    for (let i = 0, scale = 1; i < size; i++, scale *= 256) v += this.readByte(p + i) * scale;
    return v;
  }

  private slowWrite(p: number, v: number, size: number): void {
    for (let i = 0; i < size; i++) this.writeByte(p + i, (v >>> (8 * i)) & 0xff);
  }

  private readByte(p: number): number {
    const bytes = this.bufferFor(p, false);
    if (bytes === null) {
      if (this.strict) throw new BusError(p, false);
      this.unbackedReads++;
      return 0xff;
    }
    return bytes === undefined ? 0 : bytes[p & CHUNK_MASK];
  }

  private writeByte(p: number, v: number): void {
    const bytes = this.bufferFor(p, true);
    if (bytes === null) {
      if (this.strict) throw new BusError(p, true);
      this.unbackedWrites++;
      return;
    }
    bytes![p & CHUNK_MASK] = v;
  }

  /**
   * bufferFor returns the chunk buffer for a RAM byte (allocating on write),
   * undefined for untouched RAM on a read, and null where there is no RAM.
   */
  private bufferFor(p: number, allocate: boolean): Uint8Array | undefined | null {
    if (!this.isRam(p)) return null;
    const c = Math.floor(p / CHUNK_SIZE);
    if (this.kind[c] === KIND_FULL) {
      let a = this.u8[c];
      if (a === undefined && allocate) {
        a = new Uint8Array(CHUNK_SIZE);
        this.u8[c] = a;
        this.i32[c] = new Int32Array(a.buffer);
        this.allocated++;
      }
      return a;
    }
    const part = this.partial.get(c)!;
    if (part.bytes === undefined && allocate) {
      part.bytes = new Uint8Array(CHUNK_SIZE);
      this.allocated++;
    }
    return part.bytes;
  }
}

/** normalizeRanges checks that ranges are page-aligned, inside 4 GiB and disjoint, and sorts them. */
function normalizeRanges(ranges: readonly RamRange[]): RamRange[] {
  const sorted = [...ranges].sort((a, b) => a.base - b.base);
  let end = 0;
  for (const r of sorted) {
    const aligned = r.base % PAGE_SIZE === 0 && r.length % PAGE_SIZE === 0;
    if (!aligned || r.length <= 0 || r.base < 0 || r.base + r.length > MAX_PHYS_4G) {
      throw new PagelabError(
        `RAM range ${hex(r.base)}+${hex(r.length)} must be 4 KiB-aligned, non-empty and below 4 GiB`,
      );
    }
    if (r.base < end) throw new PagelabError(`RAM range at ${hex(r.base)} overlaps the previous one`);
    end = r.base + r.length;
  }
  return sorted;
}
