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
// slab's header. Objects carry no header of their own. With the red-zone
// option each object is followed by 16 bytes of a known pattern, checked when
// it is freed and by check(), so an overrun into the next object is caught.
//
// Damage is caught before anything is written: each slab header (class,
// count, links, bitmap), each class descriptor and the control variables are
// sealed by check words, pages are looked up in the page tables before they
// are read, and every header a call will change is validated first.
//
// One idea per file: slabclass.ts (the size classes), slabpage.ts (a slab page's header and red zones),
// slabctl.ts (the control page and class descriptors), slabcheck.ts (the consistency check, reading the layer
// through SlabView), and here the calls, the partial lists and the page map.

import { hex, lin, type LinAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import type { HeapStats, KernelHeap } from './api.js';
import type { HeapBackend } from './backend.js';
import { ControlBlock } from './cblock.js';
import { HeapError } from './errors.js';
import type { KrHeap } from './kr.js';
import { CB } from './krcontrol.js';
import { PAGE, SLAB_BASE, SLAB_LIMIT, UNIT } from './layout.js';
import { copyBytes, zeroBytes } from './memops.js';
import { checkSlabs, type SlabView } from './slabcheck.js';
import { SLAB_CLASSES, SLAB_HDR, SLAB_KEEP_EMPTY, bitmapWords, capacity, classOf, stride } from './slabclass.js';
import { CONTROL_MAGIC, FLAG_RED_ZONE, SC, controlSeal, readClassDesc, writeClassDesc, type Desc } from './slabctl.js';
import {
  SH,
  SH_RED_ZONE,
  firstClear,
  paintRedZones,
  readSlabHeader,
  redZoneDamage,
  storeSlab,
  type Slab,
} from './slabpage.js';

export interface SlabOptions {
  /** Put a 16-byte red zone after each object, checked on kfree and by check() (default off). */
  readonly redZone?: boolean;
}

/** What a free will touch besides the object's slab, read and validated before any write. */
interface FreePlan {
  /** The class descriptor, read only when the free changes it (the slab leaves the full state or empties). */
  readonly d: Desc | null;
  readonly head: Slab | null;
  readonly prev: Slab | null;
  readonly next: Slab | null;
  readonly drop: boolean;
}

/** The size-class layer over a K&R heap. */
export class SlabHeap implements KernelHeap, SlabView {
  readonly kind = 'slab' as const;

  readonly machine: Machine;

  private readonly cb: ControlBlock;

  /** The constructor only records addresses: create() sets the layer up in memory. */
  private constructor(
    readonly kr: KrHeap,
    readonly backend: HeapBackend,
    readonly base: number,
    readonly limit: number,
  ) {
    this.machine = backend.machine;
    this.cb = new ControlBlock(backend.machine, base);
  }

  /** create maps the layer's control page and sets up empty classes over the K&R heap `kr`. */
  static create(
    backend: HeapBackend,
    kr: KrHeap,
    options: SlabOptions = {},
    base = SLAB_BASE,
    limit = SLAB_LIMIT,
  ): SlabHeap {
    const frame = backend.allocFrame();
    if (frame === null || !backend.mapPage(lin(base), frame)) {
      if (frame !== null) backend.freeFrame(frame);
      throw new HeapError('no-memory', base, `slab layer: cannot map its control page at ${hex(base)}`);
    }
    const heap = new SlabHeap(kr, backend, base, limit);
    zeroBytes(heap.machine, base, PAGE);
    heap.cb.set(SC.PAGEMAP, 1);
    heap.cb.set(SC.FRAMES, 1);
    heap.cb.set(SC.PEAK_FRAMES, 1);
    heap.cb.set(SC.MAPPED, 1);
    heap.cb.set(SC.MAGIC, CONTROL_MAGIC);
    heap.cb.set(SC.FLAGS, options.redZone === true ? FLAG_RED_ZONE : 0);
    for (let cls = 0; cls < SLAB_CLASSES.length; cls++) heap.writeDesc(cls, { partial: 0, empty: 0, slabs: 0 });
    heap.reseal();
    return heap;
  }

  /** Whether objects carry red zones (the option given to create). */
  get redZone(): boolean {
    return (this.get(SC.FLAGS) & FLAG_RED_ZONE) !== 0;
  }

  /** kmalloc takes an object of the smallest class that fits, or a K&R block above 512 bytes. */
  kmalloc(size: number): LinAddr | null {
    const cls = size > 0 && Number.isInteger(size) ? classOf(size) : -1;
    if (cls < 0) return this.large(this.kr.kmalloc(size));
    const ptr = this.allocObject(cls);
    this.notePeak();
    return ptr;
  }

  /** kmallocAligned uses a class whose objects fall on multiples of `align` (its size, without red zones), else K&R. */
  kmallocAligned(size: number, align: number): LinAddr | null {
    const pow2 = Number.isInteger(align) && align > 0 && (align & (align - 1)) === 0;
    const fits = pow2 && size > 0 && Number.isInteger(size);
    if (fits) this.enter();
    const cls = fits ? classOf(this.redZone ? (align <= UNIT ? size : Infinity) : Math.max(size, align)) : -1;
    if (cls < 0) return this.large(this.kr.kmallocAligned(size, align));
    const ptr = this.allocObject(cls);
    this.notePeak();
    return ptr;
  }

  /** kcalloc is kmalloc(count * size) zeroed. */
  kcalloc(count: number, size: number): LinAddr | null {
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(size) || size < 0)
      return this.kr.kcalloc(count, size);
    const ptr = this.kmalloc(count * size);
    if (ptr !== null) zeroBytes(this.machine, ptr, count * size);
    return ptr;
  }

  /** kfree sends a pointer to its part of the region: slab objects here, the rest to K&R. */
  kfree(ptr: LinAddr | null): void {
    if (ptr === null || ptr === 0) return;
    if (!this.owns(ptr)) return this.kr.kfree(ptr);
    const s = this.locate(ptr, 'kfree');
    this.freeObject(ptr, s, this.planFree(s));
  }

  /** krealloc keeps an object that still fits its class, else moves it; K&R blocks stay with K&R. */
  krealloc(ptr: LinAddr | null, size: number): LinAddr | null {
    if (ptr === null || ptr === 0 || !this.owns(ptr)) return this.large(this.kr.krealloc(ptr, size));
    const s = this.locate(ptr, 'krealloc');
    if (size === 0) {
      this.freeObject(ptr, s, this.planFree(s));
      return null;
    }
    if (Number.isInteger(size) && size > 0 && size <= SLAB_CLASSES[s.cls]) return ptr;
    this.planFree(s);
    const moved = this.kmalloc(size);
    if (moved === null) return null;
    copyBytes(this.machine, moved, ptr, Math.min(SLAB_CLASSES[s.cls], size));
    const again = this.locate(ptr, 'krealloc');
    this.freeObject(ptr, again, this.planFree(again));
    return moved;
  }

  /** stats combines the K&R heap's statistics with the slab classes'. */
  stats(): HeapStats {
    const k = this.kr.stats();
    const bytes = this.get(SC.BYTES);
    const rz = this.redZone;
    let objects = 0,
      slots = 0;
    for (let cls = 0; cls < SLAB_CLASSES.length; cls++) {
      objects += this.classField(cls, SC.OBJECTS);
      slots += this.classField(cls, SC.SLABS) * capacity(cls, rz) * SLAB_CLASSES[cls];
    }
    const free = k.bytesFree + k.bytesUnmapped + slots - bytes;
    const largest = Math.max(k.largestFree, slots > bytes ? SLAB_CLASSES[SLAB_CLASSES.length - 1] : 0);
    return {
      ...k,
      kind: 'slab',
      bytesInUse: k.bytesInUse + bytes,
      blocksInUse: k.blocksInUse + objects,
      bytesAllocated: k.bytesAllocated + bytes,
      bytesFree: k.bytesFree + slots - bytes,
      framesHeld: k.framesHeld + this.get(SC.FRAMES),
      peakFrames: this.get(SC.PEAK_FRAMES),
      peakBytesInUse: this.get(SC.PEAK_BYTES),
      fragmentation: free === 0 ? 0 : 1 - largest / free,
      mallocs: k.mallocs + this.get(SC.MALLOCS),
      frees: k.frees + this.get(SC.FREES),
      pagesMapped: k.pagesMapped + this.get(SC.MAPPED),
      pagesUnmapped: k.pagesUnmapped + this.get(SC.UNMAPPED),
    };
  }

  /** check runs both consistency walks. */
  check(): string[] {
    return [...this.kr.check(), ...checkSlabs(this)];
  }

  /** owns says whether ptr lies in the slab layer's part of the heap region. */
  owns(ptr: number): boolean {
    return ptr >= this.base && ptr < this.limit;
  }

  /** desc is the linear address of class `cls`'s descriptor. */
  desc(cls: number): number {
    return this.base + cls * 32;
  }

  /** classField reads a field of class `cls`'s descriptor. */
  classField(cls: number, field: number): number {
    return this.machine.read32(this.desc(cls) + field);
  }

  /** get reads a variable of the control block (for the checkers too). */
  get(off: number): number {
    return this.cb.get(off);
  }

  /** pageInUse says whether the slab page at `page` is in use (its bit in the control page's bitmap). */
  pageInUse(page: number): boolean {
    const n = (page - this.base) / PAGE;
    return ((this.get(SC.PAGEMAP + (n >>> 5) * 4) >>> (n & 31)) & 1) === 1;
  }

  /** controlProblem says what is wrong with the sealed control variables (null: nothing). */
  controlProblem(): string | null {
    const hint = this.get(SC.HINT),
      flags = this.get(SC.FLAGS);
    if (this.get(SC.CHECK) === controlSeal(this.base, hint, flags)) return null;
    return `the slab layer's control page ${hex(this.base)} is overwritten (search hint ${hint}, flags ${flags} fail its check)`;
  }

  /** descProblem says what is wrong with class `cls`'s descriptor (null: nothing). */
  descProblem(cls: number): string | null {
    const d = this.descOf(cls);
    return typeof d === 'string' ? d : null;
  }

  /** descOf reads class `cls`'s descriptor, or says what is wrong with it. */
  private descOf(cls: number): Desc | string {
    return readClassDesc(this.machine, this.desc(cls), cls);
  }

  /** inspect reads the header of slab page `page` (in use and mapped), returning it or what is wrong with it. */
  inspect(page: number): Slab | string {
    return readSlabHeader(this.machine, page);
  }

  /** redZoneDamage returns the first overwritten byte of the red zone after object `obj` of class `cls`, or -1. */
  redZoneDamage(obj: number, cls: number): number {
    return redZoneDamage(this.machine, obj, cls);
  }

  /** enter validates the control variables (the search hint, the red-zone flag) before a call relies on them. */
  private enter(): void {
    const bad = this.controlProblem();
    if (bad !== null) throw new HeapError('corrupt-header', this.base, bad);
  }

  /** reseal rewrites the control page's check word after the search hint changed. */
  private reseal(): void {
    this.cb.set(SC.CHECK, controlSeal(this.base, this.get(SC.HINT), this.get(SC.FLAGS)));
  }

  /** large notes the peaks after a request the K&R heap served. */
  private large(ptr: LinAddr | null): LinAddr | null {
    this.notePeak();
    return ptr;
  }

  /** linkOk says whether a partial-list link names a page of the slab area (its header is checked when read). */
  private linkOk(page: number): boolean {
    return page % PAGE === 0 && page > this.base && page < this.limit;
  }

  /** mapped says whether the kernel's page tables map `page` (looked up first, so a bad pointer never faults). */
  private mapped(page: number): boolean {
    return this.backend.isMapped(lin(page));
  }

  /** readSlab reads a slab the layer's own links point at; HeapError if it is not a sound slab of class `cls`. */
  private readSlab(page: number, cls: number): Slab {
    const at = page + SLAB_HDR;
    if (!this.linkOk(page) || !this.mapped(page)) {
      throw new HeapError(
        'corrupt-header',
        at,
        `a slab link points at ${hex(page)}, which is not a slab page in use (a forged header?)`,
      );
    }
    const s = this.inspect(page);
    if (typeof s === 'string') throw new HeapError('corrupt-header', at, s);
    if (s.cls !== cls)
      throw new HeapError(
        'corrupt-header',
        at,
        `slab ${hex(page)} is on the ${SLAB_CLASSES[cls]}-byte list but holds class ${SLAB_CLASSES[s.cls]}`,
      );
    return s;
  }

  /** readDesc reads class `cls`'s descriptor; throws HeapError when it fails its check. */
  private readDesc(cls: number): Desc {
    const d = this.descOf(cls);
    if (typeof d === 'string') throw new HeapError('corrupt-header', this.desc(cls), d);
    return d;
  }

  /** writeDesc writes class `cls`'s descriptor and its check word. */
  private writeDesc(cls: number, d: Desc): void {
    writeClassDesc(this.machine, this.desc(cls), d);
  }

  /** allocObject takes a free object of class `cls` from the first partial slab, making a slab if there is none. */
  private allocObject(cls: number): LinAddr | null {
    const d = this.readDesc(cls);
    const s = d.partial === 0 ? this.newSlab(cls, d) : this.readSlab(d.partial, cls);
    if (s === null) return null;
    const cap = capacity(cls, s.rz);
    if (s.prev !== 0 || s.inuse >= cap) {
      throw new HeapError(
        'corrupt-header',
        s.page + SLAB_HDR,
        `slab ${hex(s.page)} heads the partial list but is full or has a predecessor`,
      );
    }
    const next = s.inuse + 1 === cap && s.next !== 0 ? this.readSlab(s.next, cls) : null;
    if (next !== null && next.prev !== s.page)
      throw new HeapError(
        'corrupt-header',
        next.page + SLAB_HDR,
        `slab ${hex(next.page)}: its prev link does not name ${hex(s.page)}`,
      );
    const idx = firstClear(s.bits);
    s.bits[idx >>> 5] = (s.bits[idx >>> 5] | (1 << (idx & 31))) >>> 0;
    s.inuse++;
    if (s.inuse === 1) d.empty--;
    const full = s.inuse === cap;
    if (full) {
      d.partial = s.next;
      if (next !== null) {
        next.prev = 0;
        storeSlab(this.machine, next, -1, true);
      }
      s.next = 0;
    }
    storeSlab(this.machine, s, idx >>> 5, full);
    if (full || s.inuse === 1) this.writeDesc(cls, d);
    this.countObject(cls, 1);
    return lin(s.page + idx * stride(cls, s.rz));
  }

  /** planFree reads and validates everything freeing an object of slab s will change besides s itself. */
  private planFree(s: Slab): FreePlan {
    const cap = capacity(s.cls, s.rz);
    if (s.inuse !== cap && s.inuse !== 1) return { d: null, head: null, prev: null, next: null, drop: false };
    const d = this.readDesc(s.cls);
    const head = s.inuse === cap && d.partial !== 0 ? this.readSlab(d.partial, s.cls) : null;
    const drop = s.inuse === 1 && d.empty >= SLAB_KEEP_EMPTY;
    const prev = drop && s.prev !== 0 ? this.readSlab(s.prev, s.cls) : null;
    const next = drop && s.next !== 0 ? this.readSlab(s.next, s.cls) : null;
    const onList = s.prev !== 0 || d.partial === s.page;
    if (
      (head !== null && (head.prev !== 0 || head.page === s.page)) ||
      (prev !== null && prev.next !== s.page) ||
      (next !== null && next.prev !== s.page) ||
      (drop && !onList)
    ) {
      throw new HeapError(
        'corrupt-header',
        s.page + SLAB_HDR,
        `the partial list of the ${SLAB_CLASSES[s.cls]}-byte class around slab ${hex(s.page)} is broken`,
      );
    }
    return { d, head, prev, next, drop };
  }

  /**
   * freeObject returns an object (validated, with its plan) to its slab, giving back the slab if it is
   * empty and one is kept already.
   */
  private freeObject(ptr: number, s: Slab, plan: FreePlan): void {
    const d = plan.d ?? { partial: 0, empty: 0, slabs: 0 };
    const idx = (ptr - s.page) / stride(s.cls, s.rz);
    s.bits[idx >>> 5] = (s.bits[idx >>> 5] & ~(1 << (idx & 31))) >>> 0;
    const wasFull = s.inuse === capacity(s.cls, s.rz);
    s.inuse--;
    if (wasFull) {
      s.next = d.partial;
      s.prev = 0;
      if (plan.head !== null) {
        plan.head.prev = s.page;
        storeSlab(this.machine, plan.head, -1, true);
      }
      d.partial = s.page;
    }
    this.countObject(s.cls, -1);
    if (plan.drop) return this.dropSlab(s, plan);
    storeSlab(this.machine, s, idx >>> 5, wasFull);
    if (s.inuse === 0) d.empty++;
    if (wasFull || s.inuse === 0) this.writeDesc(s.cls, d);
  }

  /** countObject counts an object taken (1) or given back (-1). */
  private countObject(cls: number, n: 1 | -1): void {
    const m = this.machine,
      d = this.desc(cls);
    m.write32(d + SC.OBJECTS, m.read32(d + SC.OBJECTS) + n);
    this.cb.add(SC.BYTES, n * SLAB_CLASSES[cls]);
    this.cb.add(n > 0 ? SC.MALLOCS : SC.FREES, 1);
  }

  /** locate validates a pointer into the slab pages and returns its slab; throws HeapError, writing nothing. */
  private locate(ptr: number, what: string): Slab {
    const page = pageOf(ptr);
    if (page === this.base || !this.pageInUse(page)) {
      throw new HeapError(
        'not-allocated',
        ptr,
        `${what}: slab page ${hex(page)} is not in use (a stale pointer or a double free)`,
      );
    }
    if (!this.mapped(page))
      throw new HeapError(
        'corrupt-header',
        this.base + SC.PAGEMAP,
        `${what}(${hex(ptr)}): the slab page map says ${hex(page)} is in use, but it is not mapped`,
      );
    const s = this.inspect(page);
    if (typeof s === 'string') throw new HeapError('corrupt-header', page + SLAB_HDR, `${what}(${hex(ptr)}): ${s}`);
    const size = SLAB_CLASSES[s.cls],
      step = stride(s.cls, s.rz);
    const idx = Math.floor((ptr - page) / step);
    if ((ptr - page) % step !== 0 || idx >= capacity(s.cls, s.rz)) {
      throw new HeapError(
        'not-allocated',
        ptr,
        `${what}: inside object ${hex(page + idx * step)} of the ${size}-byte slab ${hex(page)}, not a pointer kmalloc returned`,
      );
    }
    if (((s.bits[idx >>> 5] >>> (idx & 31)) & 1) === 0)
      throw new HeapError('double-free', ptr, `${what}: the ${size}-byte object is already free (slab ${hex(page)})`);
    const bad = s.rz ? this.redZoneDamage(ptr, s.cls) : -1;
    if (bad >= 0)
      throw new HeapError(
        'overrun',
        ptr,
        `${what}: the red zone after the ${size}-byte object is overwritten at ${hex(bad)} (a buffer overrun from it)`,
      );
    return s;
  }

  /**
   * newSlab maps a fresh page for class `cls` (whose partial list is empty), initialises it and lists it;
   * null if out of memory.
   */
  private newSlab(cls: number, d: Desc): Slab | null {
    this.enter();
    const rz = this.redZone;
    const page = this.findPage();
    if (page === 0) return null;
    if (this.mapped(page))
      throw new HeapError(
        'corrupt-header',
        this.base + SC.PAGEMAP,
        `the slab page map says ${hex(page)} is free, but it is mapped`,
      );
    const frame = this.backend.allocFrame();
    if (frame === null) return null;
    if (!this.backend.mapPage(lin(page), frame)) {
      this.backend.freeFrame(frame);
      return null;
    }
    this.markPage(page, true);
    const m = this.machine;
    zeroBytes(m, page + SLAB_HDR, PAGE - SLAB_HDR);
    const s: Slab = {
      page,
      cls,
      rz,
      inuse: 0,
      next: 0,
      prev: 0,
      bits: new Array<number>(bitmapWords(cls, rz)).fill(0),
    };
    m.write32(page + SLAB_HDR + SH.CLASS, cls | (rz ? SH_RED_ZONE : 0));
    storeSlab(this.machine, s, -1, false);
    if (rz) paintRedZones(this.machine, page, cls);
    d.partial = page;
    d.slabs++;
    d.empty++;
    this.writeDesc(cls, d);
    this.countFrames(1);
    return s;
  }

  /**
   * dropSlab unlinks an empty slab (neighbours validated in the plan), unmaps it (INVLPG by the backend)
   * and returns its frame.
   */
  private dropSlab(s: Slab, plan: FreePlan): void {
    const d = plan.d!;
    if (plan.prev !== null) {
      plan.prev.next = s.next;
      storeSlab(this.machine, plan.prev, -1, true);
    } else {
      d.partial = s.next;
    }
    if (plan.next !== null) {
      plan.next.prev = s.prev;
      storeSlab(this.machine, plan.next, -1, true);
    }
    d.slabs--;
    this.writeDesc(s.cls, d);
    this.backend.freeFrame(this.backend.unmapPage(lin(s.page)));
    this.markPage(s.page, false);
    this.countFrames(-1);
  }

  /** findPage returns the lowest slab page not in use (searching from the hint), or 0 when the region is full. */
  private findPage(): number {
    const words = (this.limit - this.base) / PAGE / 32;
    for (let w = this.get(SC.HINT); w < words; w++) {
      const bits = this.get(SC.PAGEMAP + w * 4);
      if (bits === 0xffffffff) continue;
      return this.base + (w * 32 + 31 - Math.clz32(~bits & (bits + 1))) * PAGE;
    }
    return 0;
  }

  /**
   * markPage sets or clears a slab page's bit in the page bitmap and moves the search hint to the first
   * word with room.
   */
  private markPage(page: number, used: boolean): void {
    const n = (page - this.base) / PAGE;
    const at = SC.PAGEMAP + (n >>> 5) * 4;
    const bits = this.get(at);
    const now = (used ? bits | (1 << (n & 31)) : bits & ~(1 << (n & 31))) >>> 0;
    this.cb.set(at, now);
    const hint = this.get(SC.HINT);
    if (!used && n >>> 5 < hint) this.cb.set(SC.HINT, n >>> 5);
    if (used && n >>> 5 === hint && now === 0xffffffff) this.cb.set(SC.HINT, hint + 1);
    this.reseal();
  }

  /** countFrames records slab pages mapped (d > 0) or given back (d < 0). */
  private countFrames(d: number): void {
    this.cb.add(SC.FRAMES, d);
    this.cb.add(d > 0 ? SC.MAPPED : SC.UNMAPPED, Math.abs(d));
    this.notePeak();
  }

  /** notePeak records the combined peaks (frames held, bytes in use) of the layer and the K&R heap under it. */
  private notePeak(): void {
    const frames = this.get(SC.FRAMES) + this.kr.get(CB.FRAMES);
    if (frames > this.get(SC.PEAK_FRAMES)) this.cb.set(SC.PEAK_FRAMES, frames);
    const bytes = this.kr.get(CB.BYTES) + this.get(SC.BYTES);
    if (bytes > this.get(SC.PEAK_BYTES)) this.cb.set(SC.PEAK_BYTES, bytes);
  }
}

/** pageOf rounds a linear address down to its page (as an unsigned number). */
function pageOf(ptr: number): number {
  return (ptr & ~0xfff) >>> 0;
}
