// The K&R heap's break and holes: morecore grows the break by whole pages mapped from fresh frames (K&R's
// sbrk); after a free, the whole pages inside a large free block are given back, lowering the break at the top
// or leaving a hole in the block (re-mapped when an allocation takes them). See TRIM_PAGES in layout.ts.

import { hex, lin } from '../../hw/addr.js';
import { HeapError } from './errors.js';
import { writeFree } from './header.js';
import { NALLOC_PAGES, PAGE, TRIM_PAGES, UNIT, pageDown, pageUp } from './layout.js';
import { interior } from './krblock.js';
import { CB } from './krcontrol.js';
import { KrFreeList, type Merged, type Slot } from './krlist.js';

/** The break and the holes of a K&R heap: growing it, giving pages back, mapping hole pages again. */
export class KrBreak extends KrFreeList {
  /**
   * morecore is K&R's: grow the break by whole pages (at least NALLOC_PAGES, enough for `bytes`),
   * mapped kernel-only, and free the new block into the list. Returns the new freep, or null.
   * The walk to the top block and its checks come first: nothing is mapped unless the growth can complete.
   */
  protected morecore(bytes: number): Slot | null {
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

  /** mapRange maps fresh frames at pages [a, b), which must be unmapped; on failure it undoes its work, false. */
  protected mapRange(a: number, b: number): boolean {
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
  protected unmapRange(a: number, b: number): void {
    if (a >= b) return;
    this.unmapPages(a, b);
    this.cb.add(CB.FRAMES, -(b - a) / PAGE);
    this.reseal();
    this.cb.add(CB.UNMAPPED, (b - a) / PAGE);
  }

  /** unmapPages unmaps pages [a, b) and frees their frames, without counting. */
  protected unmapPages(a: number, b: number): void {
    for (let page = a; page < b; page += PAGE) this.backend.freeFrame(this.backend.unmapPage(lin(page)));
  }

  /** trimPlan gives the pages [lo, hi) release will unmap after a free (lo >= hi: none); they must be mapped. */
  protected trimPlan(b: Merged): [number, number] {
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
  protected release(b: Merged, [lo, hi]: [number, number]): void {
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

  /** holeFill gives the hole pages of free block [p, end) to map when carving [lo, hi): those outside the pieces. */
  protected holeFill(p: number, end: number, lo: number, hi: number): [number, number] {
    const [i0, i1] = interior(p, end);
    const a = lo > p ? Math.max(i0, pageDown(lo)) : i0;
    const b = hi < end ? Math.min(i1, pageUp(hi + UNIT)) : i1;
    return [a, b];
  }

  /**
   * requireMapped checks, when the heap has holes, that block p's header page and the pages [lo, hi) outside
   * [a, b) (about to be mapped) are mapped: a header whose size or hole flag lies could otherwise send writes there.
   */
  protected requireMapped(p: number, lo: number, hi: number, a: number, b: number): void {
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
}
