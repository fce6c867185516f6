// The kernel heap, Kernighan and Ritchie's malloc (TCPL 8.7) moved into the
// kernel: an address-ordered circular free list of blocks with headers in
// simulated RAM, first fit from a roving pointer (freep), blocks split on
// allocation (the tail of a free block is handed out) and coalesced with both
// neighbours on free. sbrk becomes morecore: frames from the frame allocator
// mapped at the break. Unlike K&R, free gives frames back (release): see
// TRIM_PAGES in layout.ts. Every variable of the heap (freep, the break, the
// statistics) lives in its control block at `base`, read and written through
// the MMU like all kernel data; this object holds only constant addresses
// (and, during a call, the break and whether the arena has holes, read from
// the control block when the call enters).
//
// Misuse and damage are rejected with HeapError before anything is written:
// freep, the break and the frame count are sealed by a check word in the
// control block, every free-list link is followed only forward in address
// order inside the mapped arena (so a walk is bounded and never faults), and
// each call validates everything it will touch before its first write.
//
// One idea per file, each layer a class extending the one below: krcontrol.ts (the control block and its
// sealed variables), krlist.ts (walking and checking the free list, coalescing), krbreak.ts (the break, giving
// pages back, holes), krlocate.ts (validating a pointer), and here the calls themselves and first fit.
// The consistency check (krcheck.ts) reads the heap through KrView and imports none of them but the layouts.

import { hex, lin, type LinAddr } from '../../hw/addr.js';
import type { HeapStats, KernelHeap } from './api.js';
import type { HeapBackend } from './backend.js';
import { HeapError } from './errors.js';
import { poison, writeFree, writeUsed, type FreeHeader, type UsedHeader } from './header.js';
import { KR_BASE, KR_LIMIT, PAGE, UNIT, pageDown, pageUp } from './layout.js';
import { copyBytes, zeroBytes } from './memops.js';
import { checkKrHeap } from './krcheck.js';
import { fit, hasInterior, interior } from './krblock.js';
import { CB, CONTROL_SIZE, HEAP_MAGIC } from './krcontrol.js';
import type { Slot } from './krlist.js';
import { KrLocate } from './krlocate.js';

/** The K&R kernel heap: kmalloc, kfree, krealloc and the rest over the layers below. */
export class KrHeap extends KrLocate implements KernelHeap {
  readonly kind = 'kr' as const;

  /** create maps the control page at `base` and writes an empty heap there. */
  static create(backend: HeapBackend, base = KR_BASE, limit = KR_LIMIT): KrHeap {
    const frame = backend.allocFrame();
    if (frame === null) throw new HeapError('no-memory', base, 'kernel heap: no frame for its control page');
    if (!backend.mapPage(lin(base), frame)) {
      backend.freeFrame(frame);
      throw new HeapError('no-memory', base, `kernel heap: cannot map its control page at ${hex(base)}`);
    }
    const heap = new KrHeap(backend, base, limit);
    heap.init();
    return heap;
  }

  /** attach returns a handle on the heap whose state is already in memory at `base`. */
  static attach(backend: HeapBackend, base = KR_BASE, limit = KR_LIMIT): KrHeap {
    const heap = new KrHeap(backend, base, limit);
    if (heap.get(CB.MAGIC) !== HEAP_MAGIC)
      throw new HeapError('no-heap', base, `kernel heap: no heap control block at ${hex(base)}`);
    return heap;
  }

  /** init writes K&R's base block, one free block over the rest of the control page, and zeroed statistics. */
  private init(): void {
    const m = this.machine;
    for (let off = 0; off < CONTROL_SIZE; off += 4) m.write32(this.base + off, 0);
    writeFree(m, this.base, this.arena, 0, false);
    writeFree(m, this.arena, this.base, (this.base + PAGE - this.arena) / UNIT, false);
    this.cb.set(CB.FRAMES, 1);
    this.freep = this.base;
    this.brk = this.base + PAGE;
    this.cb.set(CB.PEAK_FRAMES, 1);
    this.cb.set(CB.MAPPED, 1);
    this.cb.set(CB.MAGIC, HEAP_MAGIC);
  }

  /** kmalloc is K&R's malloc: n units from the first free block that fits, after freep. */
  kmalloc(size: number): LinAddr | null {
    const n = this.unitsFor(size, 'kmalloc');
    if (n === null) return null;
    this.enter();
    return this.allocate(n, UNIT, size);
  }

  /** kmallocAligned places the block so its payload falls on a multiple of `align`. */
  kmallocAligned(size: number, align: number): LinAddr | null {
    if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0 || align > PAGE * 1024) {
      throw new HeapError(
        'bad-argument',
        null,
        `kmallocAligned(${size}, ${align}): the alignment must be a power of two up to 4 MiB`,
      );
    }
    const n = this.unitsFor(size, 'kmallocAligned');
    if (n === null) return null;
    this.enter();
    return this.allocate(n, Math.max(align, UNIT), size);
  }

  /** kcalloc is kmalloc(count * size) with the payload zeroed. */
  kcalloc(count: number, size: number): LinAddr | null {
    if (!Number.isInteger(count) || count < 0)
      throw new HeapError('bad-argument', null, `kcalloc(${count}, ${size}): count must be a whole number`);
    this.unitsFor(size, 'kcalloc');
    const total = count * size;
    if (total > this.limit - this.arena) return null;
    const ptr = this.kmalloc(total);
    if (ptr !== null) zeroBytes(this.machine, ptr, total);
    return ptr;
  }

  /** kfree validates ptr, links its block into the free list with its neighbours, then gives back whole pages. */
  kfree(ptr: LinAddr | null): void {
    if (ptr === null || ptr === 0) return;
    this.enter();
    const { slot, used } = this.locate(ptr, 'kfree');
    this.free(slot, ptr - UNIT, used);
  }

  /** free returns the validated block at bp to the free list: plans the merge and the give-back, then writes. */
  private free(slot: Slot, bp: number, used: UsedHeader): void {
    const merged = this.merge(slot, bp, used.size);
    const trim = this.trimPlan(merged);
    this.link(slot, bp, merged);
    this.account(-used.size, -used.requested, -1);
    this.cb.add(CB.FREES, 1);
    this.freep = slot.p;
    this.release(merged, trim);
  }

  /** krealloc shrinks in place, grows into a free block above, or moves the contents to a new block. */
  krealloc(ptr: LinAddr | null, size: number): LinAddr | null {
    if (ptr === null || ptr === 0) return this.kmalloc(size);
    const n = this.unitsFor(size, 'krealloc');
    this.enter();
    const { slot, used } = this.locate(ptr, 'krealloc');
    if (size === 0) {
      this.free(slot, ptr - UNIT, used);
      return null;
    }
    if (n === null) return null;
    if (n <= used.size) return this.shrink(ptr, slot, used, n, size);
    if (this.growInPlace(ptr, slot, used, n, size)) return ptr;
    this.walkAll();
    this.trimPlan(this.merge(slot, ptr - UNIT, used.size));
    const moved = this.kmalloc(size);
    if (moved === null) return null;
    copyBytes(this.machine, moved, ptr, Math.min(used.requested, size));
    this.kfree(ptr);
    return moved;
  }

  /** usableSize gives the payload bytes of the block kmalloc returned at ptr (validated like kfree). */
  usableSize(ptr: LinAddr): number {
    this.enter();
    return (this.locate(ptr, 'usableSize').used.size - 1) * UNIT;
  }

  /** stats reads the counters from the control block and walks the free list for the rest. */
  stats(): HeapStats {
    this.enter();
    let freeBlocks = 0,
      total = 0,
      holes = 0,
      largest = 0;
    for (let s = this.follow(this.base, this.head(this.base).pf); s.p !== this.base; s = this.follow(s.p, s.pf)) {
      const h = s.pf;
      const [i0, i1] = interior(s.p, s.p + h.size * UNIT);
      freeBlocks++;
      total += h.size * UNIT;
      if (h.holed) holes += i1 - i0;
      largest = Math.max(largest, h.size * UNIT);
    }
    return {
      kind: 'kr',
      bytesInUse: this.get(CB.BYTES),
      blocksInUse: this.get(CB.BLOCKS),
      bytesAllocated: this.get(CB.UNITS) * UNIT,
      bytesFree: total - holes,
      bytesUnmapped: holes,
      freeBlocks,
      largestFree: largest,
      framesHeld: this.get(CB.FRAMES),
      peakFrames: this.get(CB.PEAK_FRAMES),
      peakBytesInUse: this.get(CB.PEAK_BYTES),
      fragmentation: total === 0 ? 0 : 1 - largest / total,
      mallocs: this.get(CB.MALLOCS),
      frees: this.get(CB.FREES),
      pagesMapped: this.get(CB.MAPPED),
      pagesUnmapped: this.get(CB.UNMAPPED),
    };
  }

  /** check runs the consistency walk of krcheck.ts. */
  check(): string[] {
    return checkKrHeap(this);
  }

  /** unitsFor converts a byte count to header units (header included); null if the heap could never hold it. */
  private unitsFor(size: number, what: string): number | null {
    if (!Number.isInteger(size) || size < 0)
      throw new HeapError('bad-argument', null, `${what}(${size}): the size must be a whole number of bytes`);
    const units = Math.ceil(Math.max(size, 1) / UNIT) + 1;
    return units * UNIT > this.limit - this.arena ? null : units;
  }

  /**
   * allocate is K&R's malloc loop: first fit from the block after freep, growing the heap once round the list.
   * The walk only moves up in address order but for one wrap through base, so it ends; meeting base twice
   * without reaching freep means freep is not on the list (corruption).
   */
  private allocate(n: number, align: number, requested: number): LinAddr | null {
    let start = this.freep;
    let prev = this.head(start);
    let wraps = 0;
    for (;;) {
      const { p, pf } = this.follow(prev.p, prev.pf);
      const lo = fit(p, pf.size, n, align);
      if (lo >= 0 && this.take(prev.p, p, pf, lo, lo + n * UNIT)) {
        this.freep = prev.p;
        writeUsed(this.machine, lo, n, requested);
        this.account(n, requested, 1);
        this.cb.add(CB.MALLOCS, 1);
        return lin(lo + UNIT);
      }
      prev = { p, pf };
      if (p === start) {
        const grown = this.morecore(n * UNIT + (align > UNIT ? align : 0));
        if (grown === null) return null;
        prev = grown;
        start = grown.p;
        wraps = 0;
      } else if (p === this.base && ++wraps > 1) {
        throw new HeapError(
          'corrupt-header',
          start,
          `freep ${hex(start)} is not on the free list (a forged or overwritten link)`,
        );
      }
    }
  }

  /**
   * take carves [lo, hi) out of free block p (listed after prevp); the pieces below and
   * above stay free. Maps the hole pages the carve needs; false (nothing changed) if it cannot.
   */
  private take(prevp: number, p: number, pf: FreeHeader, lo: number, hi: number): boolean {
    const m = this.machine;
    const end = p + pf.size * UNIT;
    const [a, b] = pf.holed ? this.holeFill(p, end, lo, hi) : [0, 0];
    this.requireMapped(p, pageDown(lo), Math.min(end, pageUp(hi + UNIT)), a, b);
    if (a < b && !this.mapRange(a, b)) return false;
    let after = pf.next;
    if (hi < end) {
      writeFree(m, hi, after, (end - hi) / UNIT, pf.holed && hasInterior(hi, end));
      after = hi;
    }
    if (lo > p) writeFree(m, p, after, (lo - p) / UNIT, pf.holed && hasInterior(p, lo));
    else this.relink(prevp, after);
    return true;
  }

  /** shrink gives the tail of the block at ptr beyond n units back to the free list. */
  private shrink(ptr: number, slot: Slot, used: UsedHeader, n: number, size: number): LinAddr {
    const bp = ptr - UNIT;
    const merged = n < used.size ? this.merge(slot, bp + n * UNIT, used.size - n) : null;
    const trim = merged === null ? null : this.trimPlan(merged);
    if (merged !== null) this.link(slot, bp + n * UNIT, merged);
    writeUsed(this.machine, bp, n, size);
    this.account(n - used.size, size - used.requested, 0);
    if (merged !== null && trim !== null) {
      this.freep = slot.p;
      this.release(merged, trim);
    }
    return lin(ptr);
  }

  /** growInPlace extends the block at ptr to n units from a free block right above it, if there is one big enough. */
  private growInPlace(ptr: number, slot: Slot, used: UsedHeader, n: number, size: number): boolean {
    const bp = ptr - UNIT;
    const q = slot.pf.next;
    if (q !== bp + used.size * UNIT) return false;
    const qf = this.follow(slot.p, slot.pf).pf;
    const extra = n - used.size;
    if (qf.size < extra || !this.take(slot.p, q, qf, q, q + extra * UNIT)) return false;
    poison(this.machine, q);
    if (this.freep === q) this.freep = slot.p;
    writeUsed(this.machine, bp, n, size);
    this.account(extra, size - used.requested, 0);
    return true;
  }
}
