// The size-class layer (a slab allocator in the manner of Bonwick's, kept
// small): requests up to 512 bytes are served from whole pages, each page a
// slab of equal objects of one class (16, 32, 64, 128, 256 or 512 bytes),
// tracked by a bitmap in the slab's header at the page's end. Larger requests
// go to the K&R heap underneath. Slab pages live in their own part of the heap
// region, so kfree tells the two apart by address. Per class, the slabs with a
// free object form a doubly linked "partial" list; a slab that becomes empty is
// unmapped and its frame returned, except one empty slab kept per class so
// that an alloc/free pair at a slab's edge does not map and unmap each time.
//
// All the layer's state is in simulated RAM: a control page at SLAB_BASE
// (class descriptors, counters, the bitmap of slab pages in use) and each
// slab's header. Objects carry no header of their own.

import { ControlBlock } from './cblock.js';
import { hex, lin, type LinAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { PagelabError } from '../../errors.js';
import type { HeapStats, KernelHeap } from './api.js';
import type { HeapBackend } from './backend.js';
import { HeapError } from './errors.js';
import { checkWord } from './header.js';
import { CB, type KrHeap } from './kr.js';
import { PAGE, SLAB_BASE, SLAB_LIMIT } from './layout.js';
import { copyBytes, zeroBytes } from './memops.js';
import { checkSlabs } from './slabcheck.js';

/** The size classes, in bytes; objects of a class are aligned to its size. */
export const SLAB_CLASSES: readonly number[] = [16, 32, 64, 128, 256, 512];
/** Empty slabs kept per class rather than given back. */
export const SLAB_KEEP_EMPTY = 1;
/** The slab header: the last 64 bytes of the page. */
export const SLAB_HDR = PAGE - 64;
export const SH = { CHECK: 0, CLASS: 4, INUSE: 8, NEXT: 12, PREV: 16, BITMAP: 32 } as const;
const SLAB_MAGIC = 0x534c4142; // 'SLAB'

/** Control page: a 32-byte descriptor per class, counters, then the page bitmap. */
export const SC = {
  PARTIAL: 0, EMPTY: 4, SLABS: 8, OBJECTS: 12, MAGIC: 0x100, FRAMES: 0x104, PEAK_FRAMES: 0x108,
  MALLOCS: 0x10c, FREES: 0x110, MAPPED: 0x114, UNMAPPED: 0x118, HINT: 0x11c, PEAK_BYTES: 0x120, BYTES: 0x124, PAGEMAP: 0x800,
} as const;
const CONTROL_MAGIC = 0x4b534c42; // 'KSLB'

// capacity is how many objects of class `cls` one slab holds.
export function capacity(cls: number): number {
  return Math.floor(SLAB_HDR / SLAB_CLASSES[cls]!);
}

// classOf gives the smallest class holding `size` bytes, or -1 when it is too big for a slab.
export function classOf(size: number): number {
  return SLAB_CLASSES.findIndex((c) => c >= size);
}

// slabCheck is the check word of a slab header: it depends only on the page and its class.
export function slabCheck(page: number, cls: number): number {
  return checkWord(SLAB_MAGIC, page, cls, 0, 0);
}

export class SlabHeap implements KernelHeap {
  readonly kind = 'slab' as const;
  readonly machine: Machine;
  private readonly cb: ControlBlock;

  // The constructor only records addresses: create() sets the layer up in memory.
  private constructor(readonly kr: KrHeap, readonly backend: HeapBackend, readonly base: number, readonly limit: number) {
    this.machine = backend.machine;
    this.cb = new ControlBlock(backend.machine, base);
  }

  // create maps the layer's control page and sets up empty classes over the K&R heap `kr`.
  static create(backend: HeapBackend, kr: KrHeap, base = SLAB_BASE, limit = SLAB_LIMIT): SlabHeap {
    const frame = backend.allocFrame();
    if (frame === null || !backend.mapPage(lin(base), frame)) {
      if (frame !== null) backend.freeFrame(frame);
      throw new PagelabError(`slab layer: cannot map its control page at ${hex(base)}`);
    }
    const heap = new SlabHeap(kr, backend, base, limit);
    zeroBytes(heap.machine, base, PAGE);
    heap.cb.set(SC.PAGEMAP, 1);
    heap.cb.set(SC.FRAMES, 1);
    heap.cb.set(SC.PEAK_FRAMES, 1);
    heap.cb.set(SC.MAPPED, 1);
    heap.cb.set(SC.MAGIC, CONTROL_MAGIC);
    return heap;
  }

  // kmalloc takes an object of the smallest class that fits, or a K&R block above 512 bytes.
  kmalloc(size: number): LinAddr | null {
    const cls = size > 0 && Number.isInteger(size) ? classOf(size) : -1;
    const ptr = cls < 0 ? this.kr.kmalloc(size) : this.allocObject(cls);
    this.notePeak();
    return ptr;
  }

  // kmallocAligned uses a class at least `align` bytes big (its objects are aligned to it), else K&R.
  kmallocAligned(size: number, align: number): LinAddr | null {
    const cls = size > 0 && Number.isInteger(size) ? classOf(Math.max(size, align)) : -1;
    if (cls < 0 || (align & (align - 1)) !== 0) return this.kr.kmallocAligned(size, align);
    const ptr = this.allocObject(cls);
    this.notePeak();
    return ptr;
  }

  // kcalloc is kmalloc(count * size) zeroed.
  kcalloc(count: number, size: number): LinAddr | null {
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(size) || size < 0) return this.kr.kcalloc(count, size);
    const ptr = this.kmalloc(count * size);
    if (ptr !== null) zeroBytes(this.machine, ptr, count * size);
    return ptr;
  }

  // kfree sends a pointer to its part of the region: slab objects here, the rest to K&R.
  kfree(ptr: LinAddr | null): void {
    if (ptr === null || ptr === 0) return;
    if (!this.owns(ptr)) return this.kr.kfree(ptr);
    this.freeObject(ptr, this.locate(ptr, 'kfree'));
  }

  // krealloc keeps an object that still fits its class, else moves it; K&R blocks stay with K&R.
  krealloc(ptr: LinAddr | null, size: number): LinAddr | null {
    if (ptr === null || ptr === 0 || !this.owns(ptr)) {
      const moved = this.kr.krealloc(ptr, size);
      this.notePeak();
      return moved;
    }
    const cls = this.locate(ptr, 'krealloc');
    if (size === 0) {
      this.freeObject(ptr, cls);
      return null;
    }
    if (Number.isInteger(size) && size > 0 && size <= SLAB_CLASSES[cls]!) return ptr;
    const moved = this.kmalloc(size);
    if (moved === null) return null;
    copyBytes(this.machine, moved, ptr, Math.min(SLAB_CLASSES[cls]!, size));
    this.freeObject(ptr, cls);
    return moved;
  }

  // stats combines the K&R heap's statistics with the slab classes'.
  stats(): HeapStats {
    const k = this.kr.stats();
    const bytes = this.get(SC.BYTES);
    let objects = 0, slots = 0;
    for (let cls = 0; cls < SLAB_CLASSES.length; cls++) {
      objects += this.classField(cls, SC.OBJECTS);
      slots += this.classField(cls, SC.SLABS) * capacity(cls) * SLAB_CLASSES[cls]!;
    }
    const free = k.bytesFree + k.bytesUnmapped + slots - bytes;
    const largest = Math.max(k.largestFree, slots > bytes ? SLAB_CLASSES[SLAB_CLASSES.length - 1]! : 0);
    return {
      ...k, kind: 'slab', bytesInUse: k.bytesInUse + bytes, blocksInUse: k.blocksInUse + objects,
      bytesAllocated: k.bytesAllocated + bytes, bytesFree: k.bytesFree + slots - bytes,
      framesHeld: k.framesHeld + this.get(SC.FRAMES), peakFrames: this.get(SC.PEAK_FRAMES), peakBytesInUse: this.get(SC.PEAK_BYTES),
      fragmentation: free === 0 ? 0 : 1 - largest / free,
      mallocs: k.mallocs + this.get(SC.MALLOCS), frees: k.frees + this.get(SC.FREES),
      pagesMapped: k.pagesMapped + this.get(SC.MAPPED), pagesUnmapped: k.pagesUnmapped + this.get(SC.UNMAPPED),
    };
  }

  // check runs both consistency walks.
  check(): string[] {
    return [...this.kr.check(), ...checkSlabs(this)];
  }

  // owns says whether ptr lies in the slab layer's part of the heap region.
  owns(ptr: number): boolean {
    return ptr >= this.base && ptr < this.limit;
  }

  // desc is the linear address of class `cls`'s descriptor.
  desc(cls: number): number {
    return this.base + cls * 32;
  }

  // classField reads a field of class `cls`'s descriptor.
  classField(cls: number, field: number): number {
    return this.machine.read32(this.desc(cls) + field);
  }

  // get reads a variable of the control block (for the checkers too).
  get(off: number): number {
    return this.cb.get(off);
  }

  // pageInUse says whether the slab page at `page` is in use (its bit in the control page's bitmap).
  pageInUse(page: number): boolean {
    const n = (page - this.base) / PAGE;
    return ((this.get(SC.PAGEMAP + (n >>> 5) * 4) >>> (n & 31)) & 1) === 1;
  }

  // allocObject takes a free object of class `cls` from the first partial slab, making a slab if there is none.
  private allocObject(cls: number): LinAddr | null {
    const m = this.machine;
    const d = this.desc(cls);
    let page = m.read32(d + SC.PARTIAL);
    if (page === 0) page = this.newSlab(cls);
    if (page === 0) return null;
    this.header(page, cls);
    const idx = this.takeBit(page, cls);
    const inuse = m.read32(page + SLAB_HDR + SH.INUSE) + 1;
    m.write32(page + SLAB_HDR + SH.INUSE, inuse);
    if (inuse === 1) m.write32(d + SC.EMPTY, m.read32(d + SC.EMPTY) - 1);
    if (inuse === capacity(cls)) this.unlink(cls, page);
    m.write32(d + SC.OBJECTS, m.read32(d + SC.OBJECTS) + 1);
    this.cb.add(SC.BYTES, SLAB_CLASSES[cls]!);
    this.cb.add(SC.MALLOCS, 1);
    return lin(page + idx * SLAB_CLASSES[cls]!);
  }

  // takeBit sets the first clear bit of the slab's object bitmap and returns its index.
  private takeBit(page: number, cls: number): number {
    const m = this.machine;
    for (let w = 0; w * 32 < capacity(cls); w++) {
      const at = page + SLAB_HDR + SH.BITMAP + w * 4;
      const bits = m.read32(at);
      if (bits === 0xffffffff) continue;
      const bit = 31 - Math.clz32(~bits & (bits + 1));
      m.write32(at, (bits | (1 << bit)) >>> 0);
      return w * 32 + bit;
    }
    throw new HeapError('corrupt-header', page + SLAB_HDR, `slab ${hex(page)} is on the partial list but has no free object`);
  }

  // freeObject returns an object (already validated) to its slab, giving back the slab if it is empty and one is kept already.
  private freeObject(ptr: number, cls: number): void {
    const m = this.machine;
    const page = pageOf(ptr);
    const idx = (ptr - page) / SLAB_CLASSES[cls]!;
    const at = page + SLAB_HDR + SH.BITMAP + (idx >>> 5) * 4;
    m.write32(at, (m.read32(at) & ~(1 << (idx & 31))) >>> 0);
    const inuse = m.read32(page + SLAB_HDR + SH.INUSE) - 1;
    m.write32(page + SLAB_HDR + SH.INUSE, inuse);
    const d = this.desc(cls);
    m.write32(d + SC.OBJECTS, m.read32(d + SC.OBJECTS) - 1);
    this.cb.add(SC.BYTES, -SLAB_CLASSES[cls]!);
    this.cb.add(SC.FREES, 1);
    if (inuse === capacity(cls) - 1) this.push(cls, page);
    if (inuse > 0) return;
    if (m.read32(d + SC.EMPTY) >= SLAB_KEEP_EMPTY) this.dropSlab(cls, page);
    else m.write32(d + SC.EMPTY, m.read32(d + SC.EMPTY) + 1);
  }

  // locate validates a pointer into the slab pages and returns its class; throws HeapError, writing nothing.
  private locate(ptr: number, what: string): number {
    const page = pageOf(ptr);
    if (page === this.base || !this.pageInUse(page)) {
      throw new HeapError('not-allocated', ptr, `${what}: slab page ${hex(page)} is not in use (a stale pointer or a double free)`);
    }
    const cls = this.machine.read32(page + SLAB_HDR + SH.CLASS);
    this.header(page, cls);
    const size = SLAB_CLASSES[cls]!;
    const idx = Math.floor((ptr - page) / size);
    if ((ptr - page) % size !== 0 || idx >= capacity(cls)) {
      throw new HeapError('not-allocated', ptr, `${what}: inside object ${hex(page + idx * size)} of the ${size}-byte slab ${hex(page)}, not a pointer kmalloc returned`);
    }
    const bits = this.machine.read32(page + SLAB_HDR + SH.BITMAP + (idx >>> 5) * 4);
    if (((bits >>> (idx & 31)) & 1) === 0) throw new HeapError('double-free', ptr, `${what}: the ${size}-byte object is already free (slab ${hex(page)})`);
    return cls;
  }

  // header requires a valid slab header of class `cls` at `page`.
  private header(page: number, cls: number): void {
    const m = this.machine;
    if (cls >= SLAB_CLASSES.length || m.read32(page + SLAB_HDR + SH.CHECK) !== slabCheck(page, cls)) {
      throw new HeapError('corrupt-header', page + SLAB_HDR, `the header of slab ${hex(page)} is overwritten (a buffer overrun from its last object?)`);
    }
  }

  // newSlab maps a fresh page for class `cls`, initialises its header and puts it on the partial list; 0 if out of memory.
  private newSlab(cls: number): number {
    const page = this.findPage();
    if (page === 0) return 0;
    const frame = this.backend.allocFrame();
    if (frame === null) return 0;
    if (!this.backend.mapPage(lin(page), frame)) {
      this.backend.freeFrame(frame);
      return 0;
    }
    this.markPage(page, true);
    const m = this.machine;
    zeroBytes(m, page + SLAB_HDR, PAGE - SLAB_HDR);
    m.write32(page + SLAB_HDR + SH.CHECK, slabCheck(page, cls));
    m.write32(page + SLAB_HDR + SH.CLASS, cls);
    this.push(cls, page);
    const d = this.desc(cls);
    m.write32(d + SC.SLABS, m.read32(d + SC.SLABS) + 1);
    m.write32(d + SC.EMPTY, m.read32(d + SC.EMPTY) + 1);
    this.countFrames(1);
    return page;
  }

  // dropSlab unlinks an empty slab, unmaps it (INVLPG by the backend) and returns its frame.
  private dropSlab(cls: number, page: number): void {
    this.unlink(cls, page);
    this.backend.freeFrame(this.backend.unmapPage(lin(page)));
    this.markPage(page, false);
    const d = this.desc(cls);
    this.machine.write32(d + SC.SLABS, this.machine.read32(d + SC.SLABS) - 1);
    this.countFrames(-1);
  }

  // push puts a slab at the head of its class's partial list.
  private push(cls: number, page: number): void {
    const m = this.machine;
    const d = this.desc(cls);
    const head = m.read32(d + SC.PARTIAL);
    m.write32(page + SLAB_HDR + SH.NEXT, head);
    m.write32(page + SLAB_HDR + SH.PREV, 0);
    if (head !== 0) m.write32(head + SLAB_HDR + SH.PREV, page);
    m.write32(d + SC.PARTIAL, page);
  }

  // unlink takes a slab off its class's partial list.
  private unlink(cls: number, page: number): void {
    const m = this.machine;
    const next = m.read32(page + SLAB_HDR + SH.NEXT);
    const prev = m.read32(page + SLAB_HDR + SH.PREV);
    if (prev === 0) m.write32(this.desc(cls) + SC.PARTIAL, next);
    else m.write32(prev + SLAB_HDR + SH.NEXT, next);
    if (next !== 0) m.write32(next + SLAB_HDR + SH.PREV, prev);
    m.write32(page + SLAB_HDR + SH.NEXT, 0);
    m.write32(page + SLAB_HDR + SH.PREV, 0);
  }

  // findPage returns the lowest slab page not in use (searching from the hint), or 0 when the region is full.
  private findPage(): number {
    const words = (this.limit - this.base) / PAGE / 32;
    for (let w = this.get(SC.HINT); w < words; w++) {
      const bits = this.get(SC.PAGEMAP + w * 4);
      if (bits === 0xffffffff) continue;
      this.cb.set(SC.HINT, w);
      return this.base + (w * 32 + 31 - Math.clz32(~bits & (bits + 1))) * PAGE;
    }
    return 0;
  }

  // markPage sets or clears a slab page's bit in the page bitmap (and lowers the search hint).
  private markPage(page: number, used: boolean): void {
    const n = (page - this.base) / PAGE;
    const at = SC.PAGEMAP + (n >>> 5) * 4;
    const bits = this.get(at);
    this.cb.set(at, (used ? bits | (1 << (n & 31)) : bits & ~(1 << (n & 31))) >>> 0);
    if (!used && n >>> 5 < this.get(SC.HINT)) this.cb.set(SC.HINT, n >>> 5);
  }

  // countFrames records slab pages mapped (d > 0) or given back (d < 0).
  private countFrames(d: number): void {
    this.cb.add(SC.FRAMES, d);
    this.cb.add(d > 0 ? SC.MAPPED : SC.UNMAPPED, Math.abs(d));
    this.notePeak();
  }

  // notePeak records the combined peaks (frames held, bytes in use) of the layer and the K&R heap under it.
  private notePeak(): void {
    const frames = this.get(SC.FRAMES) + this.kr.get(CB.FRAMES);
    if (frames > this.get(SC.PEAK_FRAMES)) this.cb.set(SC.PEAK_FRAMES, frames);
    const bytes = this.kr.get(CB.BYTES) + this.get(SC.BYTES);
    if (bytes > this.get(SC.PEAK_BYTES)) this.cb.set(SC.PEAK_BYTES, bytes);
  }
}

// pageOf rounds a linear address down to its page (as an unsigned number).
function pageOf(ptr: number): number {
  return (ptr & ~0xfff) >>> 0;
}
