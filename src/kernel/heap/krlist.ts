// The K&R free list: address-ordered and circular through the base block, each link followed only after its
// check (forward in address order, inside the mapped arena, a header that passes its check word), so that a walk
// is bounded and never faults; and the coalescing of a freed block with its free neighbours (K&R's free).

import { hex, lin } from '../../hw/addr.js';
import { HeapError } from './errors.js';
import { poison, readFree, writeFree, type FreeHeader } from './header.js';
import { PAGE, UNIT, pageDown, pageUp } from './layout.js';
import { KrControl } from './krcontrol.js';

/** The header unit as a module constant: follow and head use it at every block (see krblock.ts). */
const U = UNIT;

/** The free block just below an address: p <= addr < p.next (or p is the last free block). */
export interface Slot {
  readonly p: number;
  readonly pf: FreeHeader;
}

/** A free block after coalescing, with the part of its interior that may still be mapped. */
export interface Merged {
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

/** The free list of a K&R heap: walking it, checking it, and merging a block into it. */
export class KrFreeList extends KrControl {
  /**
   * slotOf finds the free block at or below bp whose successor lies above bp (K&R free's search,
   * which starts at freep; when bp lies below freep, starting at base saves the walk round the top).
   */
  protected slotOf(bp: number): Slot {
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
  protected follow(p: number, pf: FreeHeader): Slot {
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
  protected head(p: number): Slot {
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
  protected walkAll(): void {
    for (let s = this.follow(this.base, this.head(this.base).pf); s.p !== this.base;) s = this.follow(s.p, s.pf);
  }

  /** readable says whether the page of `addr` (below the break) is mapped: always, unless the heap has holes. */
  protected readable(addr: number): boolean {
    return !this.holes || this.backend.isMapped(lin(addr - (addr % PAGE)));
  }

  /** freeHeader reads the free-list header at p, which must pass its check. */
  protected freeHeader(p: number): FreeHeader {
    const h = readFree(this.machine, p);
    if (h === null) throw new HeapError('corrupt-header', p, 'a free-list block header fails its check (overwritten?)');
    return h;
  }

  /** relink points free block p's next at `next`. */
  protected relink(p: number, next: number): void {
    const h = this.freeHeader(p);
    writeFree(this.machine, p, next, h.size, h.holed);
  }

  /**
   * merge plans linking block [bp, bp + units) after slot.p, joined with a free neighbour above and
   * below (K&R free); it only reads: the links the merged block and its predecessor will carry are checked first.
   */
  protected merge({ p, pf }: Slot, bp: number, units: number): Merged {
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
  protected link({ p, pf }: Slot, bp: number, b: Merged): void {
    const m = this.machine;
    if (b.upper !== null) poison(m, b.addr + b.size * UNIT - b.upper.size * UNIT);
    if (b.lower) poison(m, bp);
    writeFree(m, b.addr, b.next, b.size, b.holed);
    if (!b.lower) writeFree(m, p, bp, pf.size, pf.holed);
  }
}
