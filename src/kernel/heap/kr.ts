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

import { ControlBlock } from './cblock.js';
import { hex, lin, type LinAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { PagelabError } from '../../errors.js';
import type { HeapStats, KernelHeap } from './api.js';
import type { HeapBackend } from './backend.js';
import { checkKrHeap } from './krcheck.js';
import { HeapError } from './errors.js';
import {
  MAGIC_CTRL,
  checkWord,
  isDead,
  poison,
  readFree,
  readUsed,
  writeFree,
  writeUsed,
  type FreeHeader,
  type UsedHeader,
} from './header.js';
import { KR_BASE, KR_LIMIT, NALLOC_PAGES, PAGE, TRIM_PAGES, UNIT, pageDown, pageUp } from './layout.js';
import { copyBytes, zeroBytes } from './memops.js';

/**
 * The walks use the header unit at every step: a module constant (an imported binding may be read
 * through an accessor, which the free-list walk would pay at each block).
 */
const U = UNIT;

/** Control block at `base`: K&R's empty `base` block, then the heap's variables. */
export const CB = {
  FREEP: 0x10,
  BRK: 0x14,
  FRAMES: 0x18,
  PEAK_FRAMES: 0x1c,
  BLOCKS: 0x20,
  BYTES: 0x24,
  UNITS: 0x28,
  PEAK_BYTES: 0x2c,
  MALLOCS: 0x30,
  FREES: 0x34,
  MAPPED: 0x38,
  UNMAPPED: 0x3c,
  MAGIC: 0x40,
  GROWS: 0x44,
  TRIMS: 0x48,
  /** Check word over freep, the break and the frames held (the variables a damaged value of would mislead the heap). */
  CHECK: 0x4c,
} as const;
export const CONTROL_SIZE = 0x50;
const HEAP_MAGIC = 0x4b48454b; // 'KHEK'

/** The free block just below an address: p <= addr < p.next (or p is the last free block). */
interface Slot {
  readonly p: number;
  readonly pf: FreeHeader;
}

/** A free block after coalescing, with the part of its interior that may still be mapped. */
interface Merged {
  /** Whether the block joins the free block above it, and that block's header. */
  readonly upper: FreeHeader | null;
  readonly lower: boolean;
  readonly addr: number;
  readonly size: number;
  readonly next: number;
  readonly mappedLo: number;
  readonly mappedHi: number;
  readonly holed: boolean;
}

/** interior gives the whole pages strictly inside block [a, end): past its header's page, before its last partial page. */
export function interior(a: number, end: number): [number, number] {
  const i0 = pageUp(a + UNIT);
  return [i0, Math.max(i0, pageDown(end))];
}

export class KrHeap implements KernelHeap {
  readonly kind = 'kr' as const;
  readonly machine: Machine;
  private readonly cb: ControlBlock;
  /** The first block's address, just past the control block. */
  readonly arena: number;
  /** Per call (set by enter): the break, and whether some page below it is unmapped (a hole). */
  private top = 0;
  private holes = true;

  /** The constructor only records addresses: create() or attach() give a usable heap. */
  private constructor(
    readonly backend: HeapBackend,
    readonly base: number,
    readonly limit: number,
  ) {
    this.machine = backend.machine;
    this.cb = new ControlBlock(backend.machine, base);
    this.arena = base + CONTROL_SIZE;
  }

  /** create maps the control page at `base` and writes an empty heap there. */
  static create(backend: HeapBackend, base = KR_BASE, limit = KR_LIMIT): KrHeap {
    const frame = backend.allocFrame();
    if (frame === null) throw new PagelabError('kernel heap: no frame for its control page');
    if (!backend.mapPage(lin(base), frame)) {
      backend.freeFrame(frame);
      throw new PagelabError(`kernel heap: cannot map its control page at ${hex(base)}`);
    }
    const heap = new KrHeap(backend, base, limit);
    heap.init();
    return heap;
  }

  /** attach returns a handle on the heap whose state is already in memory at `base`. */
  static attach(backend: HeapBackend, base = KR_BASE, limit = KR_LIMIT): KrHeap {
    const heap = new KrHeap(backend, base, limit);
    if (heap.get(CB.MAGIC) !== HEAP_MAGIC) throw new PagelabError(`kernel heap: no heap control block at ${hex(base)}`);
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

  /** enter validates the control block's sealed variables and notes the break and whether there are holes. */
  private enter(): void {
    const bad = this.controlProblem();
    if (bad !== null) throw new HeapError('corrupt-header', this.base, bad);
    this.top = this.get(CB.BRK);
    this.holes = this.get(CB.FRAMES) !== (this.top - this.base) / PAGE;
  }

  /** controlProblem says what is wrong with the control block's sealed variables (null: nothing). */
  controlProblem(): string | null {
    const freep = this.get(CB.FREEP),
      brk = this.get(CB.BRK),
      frames = this.get(CB.FRAMES);
    const pages = (brk - this.base) / PAGE;
    if (
      this.get(CB.CHECK) === seal(this.base, freep, brk, frames) &&
      brk % PAGE === 0 &&
      brk > this.base &&
      brk <= this.limit &&
      freep % UNIT === 0 &&
      freep >= this.base &&
      freep < brk &&
      frames >= 1 &&
      frames <= pages
    )
      return null;
    return `the heap's control block at ${hex(this.base)} is overwritten (freep ${hex(freep)}, break ${hex(brk)}, ${frames} frames fail its check)`;
  }

  /** reseal rewrites the control block's check word after freep, the break or the frame count changed. */
  private reseal(): void {
    this.cb.set(CB.CHECK, seal(this.base, this.get(CB.FREEP), this.get(CB.BRK), this.get(CB.FRAMES)));
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
      throw new PagelabError(`kmallocAligned(${size}, ${align}): the alignment must be a power of two up to 4 MiB`);
    }
    const n = this.unitsFor(size, 'kmallocAligned');
    if (n === null) return null;
    this.enter();
    return this.allocate(n, Math.max(align, UNIT), size);
  }

  /** kcalloc is kmalloc(count * size) with the payload zeroed. */
  kcalloc(count: number, size: number): LinAddr | null {
    if (!Number.isInteger(count) || count < 0)
      throw new PagelabError(`kcalloc(${count}, ${size}): count must be a whole number`);
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

  /** The break: the end of the heap's mapped arena. */
  get brk(): number {
    return this.get(CB.BRK);
  }

  /** The break lives in the control block (sealed). */
  private set brk(v: number) {
    this.cb.set(CB.BRK, v);
    this.top = v;
    this.reseal();
  }

  /** K&R's roving pointer: where the next first-fit search starts. */
  get freep(): number {
    return this.get(CB.FREEP);
  }

  /** freep lives in the control block (sealed). */
  private set freep(v: number) {
    this.cb.set(CB.FREEP, v);
    this.reseal();
  }

  /** get reads a variable of the control block (for the checkers too). */
  get(off: number): number {
    return this.cb.get(off);
  }

  /** unitsFor converts a byte count to header units (header included); null if the heap could never hold it. */
  private unitsFor(size: number, what: string): number | null {
    if (!Number.isInteger(size) || size < 0)
      throw new PagelabError(`${what}(${size}): the size must be a whole number of bytes`);
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

  /** holeFill gives the pages of free block [p, end)'s hole to map when carving [lo, hi): those outside the pieces' interiors. */
  private holeFill(p: number, end: number, lo: number, hi: number): [number, number] {
    const [i0, i1] = interior(p, end);
    const a = lo > p ? Math.max(i0, pageDown(lo)) : i0;
    const b = hi < end ? Math.min(i1, pageUp(hi + UNIT)) : i1;
    return [a, b];
  }

  /**
   * requireMapped checks, when the heap has holes, that block p's header page and the pages [lo, hi) outside
   * [a, b) (about to be mapped) are mapped: a header whose size or hole flag lies could otherwise send writes there.
   */
  private requireMapped(p: number, lo: number, hi: number, a: number, b: number): void {
    if (!this.holes) return;
    for (let page = lo; page < hi; page += PAGE) {
      if ((page < a || page >= b) && !this.readable(page)) {
        throw new HeapError(
          'corrupt-header',
          p,
          `the free block ${hex(p)} covers page ${hex(page)}, which is not mapped (a forged size or hole flag)`,
        );
      }
    }
  }

  /** relink points free block p's next at `next`. */
  private relink(p: number, next: number): void {
    const h = this.freeHeader(p);
    writeFree(this.machine, p, next, h.size, h.holed);
  }

  /**
   * morecore is K&R's: grow the break by whole pages (at least NALLOC_PAGES, enough for `bytes`),
   * mapped kernel-only, and free the new block into the list. Returns the new freep, or null.
   * The walk to the top block and its checks come first: nothing is mapped unless the growth can complete.
   */
  private morecore(bytes: number): Slot | null {
    const brk = this.top;
    const need = Math.ceil(bytes / PAGE);
    let pages = Math.max(NALLOC_PAGES, need);
    if (brk + pages * PAGE > this.limit) pages = need;
    if (brk + pages * PAGE > this.limit) return null;
    const slot = this.slotOf(brk);
    if (slot.pf.holed && slot.p + slot.pf.size * UNIT === brk) {
      throw new HeapError(
        'corrupt-header',
        slot.p,
        `the top free block ${hex(slot.p)} claims a hole (a forged or overwritten header)`,
      );
    }
    if (!this.mapRange(brk, brk + pages * PAGE)) return null;
    this.brk = brk + pages * PAGE;
    this.cb.add(CB.GROWS, 1);
    const merged = this.merge(slot, brk, (pages * PAGE) / UNIT);
    this.link(slot, brk, merged);
    this.freep = slot.p;
    return { p: slot.p, pf: this.freeHeader(slot.p) };
  }

  /**
   * slotOf finds the free block at or below bp whose successor lies above bp (K&R free's search,
   * which starts at freep; when bp lies below freep, starting at base saves the walk round the top).
   */
  private slotOf(bp: number): Slot {
    let p = this.freep;
    if (bp < p) p = this.base;
    let s = this.head(p);
    while (!(bp >= s.p && (bp < s.pf.next || s.pf.next <= s.p))) s = this.follow(s.p, s.pf);
    return s;
  }

  /**
   * follow reads the free block that p (header pf) links to, after checking the link: back to base, or
   * forward past p's end, 16-aligned, below the break and on a mapped page; its header must pass its check.
   */
  private follow(p: number, pf: FreeHeader): Slot {
    const q = pf.next;
    if (q === this.base) return this.head(q);
    const from = p === this.base ? this.arena : p + pf.size * U;
    if (q % U !== 0 || q < from || q >= this.top || !this.readable(q)) {
      throw new HeapError(
        'corrupt-header',
        p,
        `the free block ${hex(p)} links to ${hex(q)}: not a free block above it inside the heap (a forged or overwritten header)`,
      );
    }
    return this.head(q);
  }

  /** head reads free block p's header, which must pass its check and fit below the break (base: size 0, no hole). */
  private head(p: number): Slot {
    const h = this.freeHeader(p);
    const bad = p === this.base ? h.size !== 0 || h.holed : h.size === 0 || p + h.size * U > this.top;
    if (bad)
      throw new HeapError(
        'corrupt-header',
        p,
        `the free block ${hex(p)} has size ${h.size} units${h.holed ? ' and a hole' : ''}: impossible there (a forged header)`,
      );
    return { p, pf: h };
  }

  /** walkAll follows the whole free list once, so that nothing on it can fail a later walk in this call. */
  private walkAll(): void {
    for (let s = this.follow(this.base, this.head(this.base).pf); s.p !== this.base;) s = this.follow(s.p, s.pf);
  }

  /** readable says whether the page of `addr` (below the break) is mapped: always, unless the heap has holes. */
  private readable(addr: number): boolean {
    return !this.holes || this.backend.isMapped(lin(addr - (addr % PAGE)));
  }

  /**
   * merge plans linking block [bp, bp + units) after slot.p, joined with a free neighbour above and
   * below (K&R free); it only reads: the links the merged block and its predecessor will carry are checked first.
   */
  private merge({ p, pf }: Slot, bp: number, units: number): Merged {
    const after = this.follow(p, pf);
    const upper = bp + units * UNIT === pf.next ? after.pf : null;
    if (upper !== null) this.follow(after.p, upper);
    const lower = p + pf.size * UNIT === bp;
    let end = bp + units * UNIT;
    let next = pf.next;
    let mappedHi = pageDown(end);
    if (upper !== null) {
      mappedHi = upper.holed ? pageUp(end + UNIT) : pageDown(end + upper.size * UNIT);
      end += upper.size * UNIT;
      next = upper.next;
    }
    const addr = lower ? p : bp;
    const mappedLo = lower && pf.holed ? pageDown(bp) : pageUp(addr + UNIT);
    const holed = (upper?.holed ?? false) || (lower && pf.holed);
    return { upper, lower, addr, size: (end - addr) / UNIT, next, mappedLo, mappedHi, holed };
  }

  /** link writes a planned merge: the joined headers poisoned, the merged block's header, its predecessor's link. */
  private link({ p, pf }: Slot, bp: number, b: Merged): void {
    const m = this.machine;
    if (b.upper !== null) poison(m, b.addr + b.size * UNIT - b.upper.size * UNIT);
    if (b.lower) poison(m, bp);
    writeFree(m, b.addr, b.next, b.size, b.holed);
    if (!b.lower) writeFree(m, p, bp, pf.size, pf.holed);
  }

  /** trimPlan gives the pages [lo, hi) release will unmap after a free (lo >= hi: none); they must be mapped. */
  private trimPlan(b: Merged): [number, number] {
    const [i0, i1] = interior(b.addr, b.addr + b.size * UNIT);
    if (i1 - i0 < (b.holed ? 1 : TRIM_PAGES) * PAGE) return [0, 0];
    const lo = Math.max(b.mappedLo, i0),
      hi = Math.min(b.mappedHi, i1);
    for (let page = lo; page < hi; page += PAGE) {
      if (!this.backend.isMapped(lin(page))) {
        throw new HeapError(
          'corrupt-header',
          b.addr,
          `the free block ${hex(b.addr)} would give back page ${hex(page)}, which is not mapped (a forged hole flag?)`,
        );
      }
    }
    return [lo, hi];
  }

  /**
   * release gives back the whole pages inside a just-freed block when it has TRIM_PAGES of them
   * (or a hole already): at the top it lowers the break, elsewhere it leaves a hole.
   */
  private release(b: Merged, [lo, hi]: [number, number]): void {
    const end = b.addr + b.size * UNIT;
    const [i0, i1] = interior(b.addr, end);
    if (i1 - i0 < (b.holed ? 1 : TRIM_PAGES) * PAGE) return;
    this.unmapRange(lo, hi);
    this.cb.add(CB.TRIMS, 1);
    if (end === this.top) {
      this.brk = i0;
      writeFree(this.machine, b.addr, b.next, (i0 - b.addr) / UNIT, false);
    } else {
      writeFree(this.machine, b.addr, b.next, b.size, true);
    }
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

  /** locate validates a pointer kmalloc should have returned and finds its block; throws HeapError, writing nothing. */
  private locate(ptr: number, what: string): { slot: Slot; used: UsedHeader } {
    const bp = ptr - UNIT;
    const brk = this.top;
    if (!Number.isInteger(ptr) || ptr < this.arena + UNIT || ptr >= brk) throw this.outside(ptr, what, brk);
    const slot = this.slotOf(bp);
    const { p, pf } = slot;
    const from = Math.max(p + pf.size * UNIT, this.arena);
    if (bp < from) throw this.inFree(ptr, slot, what);
    const above = pf.next > p ? pf.next : brk;
    const used = ptr % UNIT === 0 && this.readable(bp) ? readUsed(this.machine, bp) : null;
    if (used === null || bp + used.size * UNIT > above) throw this.diagnose(ptr, from, above, what);
    return { slot, used };
  }

  /** outside describes a pointer that is not in the heap's arena. */
  private outside(ptr: number, what: string, brk: number): HeapError {
    const where =
      ptr >= this.base && ptr < this.limit
        ? `not inside the heap's blocks ${hex(this.arena)}-${hex(brk)} (the break)`
        : `not a heap address (the heap is ${hex(this.base)}-${hex(this.limit)})`;
    return new HeapError('outside-heap', ptr, `${what}: ${where}`);
  }

  /** inFree describes a pointer into free block slot.p: a double free, or a pointer into free memory. */
  private inFree(ptr: number, { p, pf }: Slot, what: string): HeapError {
    const bp = ptr - UNIT;
    if (bp === p) return new HeapError('double-free', ptr, `${what}: the block ${hex(bp)} is already free`);
    const [i0, i1] = interior(p, p + pf.size * UNIT);
    const inHole = pf.holed && bp >= i0 && bp < i1;
    if (ptr % UNIT === 0 && !inHole && isDead(this.machine, bp)) {
      return new HeapError(
        'double-free',
        ptr,
        `${what}: the block ${hex(bp)} was already freed and merged into the free block ${hex(p)}`,
      );
    }
    return new HeapError(
      'not-allocated',
      ptr,
      `${what}: a pointer into the free block ${hex(p)} (${pf.size * UNIT} bytes): a double free or a stale pointer`,
    );
  }

  /** diagnose walks the allocated blocks in [from, to) to say what ptr is: inside a block, or behind a broken header. */
  private diagnose(ptr: number, from: number, to: number, what: string): HeapError {
    let prev = -1;
    for (let a = from; a < to;) {
      const h = this.readable(a) ? readUsed(this.machine, a) : null;
      if (h === null || a + h.size * UNIT > to) {
        const culprit = prev < 0 ? '' : ` (a buffer overrun from the block ${hex(prev)}?)`;
        if (a === ptr - UNIT)
          return new HeapError(
            'corrupt-header',
            ptr,
            `${what}: the header of block ${hex(a)} is overwritten${culprit}`,
          );
        return new HeapError(
          'corrupt-header',
          a,
          `${what}(${hex(ptr)}): the header of block ${hex(a)} is overwritten${culprit}`,
        );
      }
      if (ptr > a && ptr < a + h.size * UNIT) {
        return new HeapError(
          'not-allocated',
          ptr,
          `${what}: inside the block ${hex(a)} (payload ${hex(a + UNIT)}, ${(h.size - 1) * UNIT} bytes), not a pointer kmalloc returned`,
        );
      }
      prev = a;
      a += h.size * UNIT;
    }
    return new HeapError('not-allocated', ptr, `${what}: no block there`);
  }

  /** freeHeader reads the free-list header at p, which must pass its check. */
  private freeHeader(p: number): FreeHeader {
    const h = readFree(this.machine, p);
    if (h === null) throw new HeapError('corrupt-header', p, 'a free-list block header fails its check (overwritten?)');
    return h;
  }

  /** mapRange maps fresh frames at pages [a, b), which must be unmapped; on failure it undoes what it did and returns false. */
  private mapRange(a: number, b: number): boolean {
    for (let page = a; page < b; page += PAGE) {
      if (this.backend.isMapped(lin(page))) {
        throw new HeapError(
          'corrupt-header',
          page,
          `page ${hex(page)} should be free for the heap to map, but is mapped (a forged header or break?)`,
        );
      }
    }
    for (let page = a; page < b; page += PAGE) {
      const frame = this.backend.allocFrame();
      if (frame !== null && this.backend.mapPage(lin(page), frame)) continue;
      if (frame !== null) this.backend.freeFrame(frame);
      this.unmapPages(a, page);
      return false;
    }
    const n = (b - a) / PAGE;
    this.cb.add(CB.FRAMES, n);
    this.reseal();
    this.cb.add(CB.MAPPED, n);
    this.cb.set(CB.PEAK_FRAMES, Math.max(this.get(CB.PEAK_FRAMES), this.get(CB.FRAMES)));
    return true;
  }

  /** unmapRange unmaps pages [a, b) and returns their frames, counting them. */
  private unmapRange(a: number, b: number): void {
    if (a >= b) return;
    this.unmapPages(a, b);
    this.cb.add(CB.FRAMES, -(b - a) / PAGE);
    this.reseal();
    this.cb.add(CB.UNMAPPED, (b - a) / PAGE);
  }

  /** unmapPages unmaps pages [a, b) and frees their frames, without counting. */
  private unmapPages(a: number, b: number): void {
    for (let page = a; page < b; page += PAGE) this.backend.freeFrame(this.backend.unmapPage(lin(page)));
  }

  /** account adds to the live-block statistics. */
  private account(dUnits: number, dBytes: number, dBlocks: number): void {
    this.cb.add(CB.UNITS, dUnits);
    this.cb.add(CB.BLOCKS, dBlocks);
    const bytes = this.get(CB.BYTES) + dBytes;
    this.cb.set(CB.BYTES, bytes);
    if (bytes > this.get(CB.PEAK_BYTES)) this.cb.set(CB.PEAK_BYTES, bytes);
  }
}

/** seal is the control block's check word over the variables that steer the heap. */
function seal(base: number, freep: number, brk: number, frames: number): number {
  return checkWord(MAGIC_CTRL, base, freep, brk, frames);
}

/** fit places n units in free block [p, p + size units): as high as possible with the payload aligned; -1 if it does not fit. */
function fit(p: number, size: number, n: number, align: number): number {
  const payload = Math.floor((p + (size - n + 1) * U) / align) * align;
  return payload - U >= p ? payload - U : -1;
}

/** hasInterior says whether block [a, end) has a whole page strictly inside it. */
function hasInterior(a: number, end: number): boolean {
  const [i0, i1] = interior(a, end);
  return i1 > i0;
}
