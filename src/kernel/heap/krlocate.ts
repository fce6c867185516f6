// Which block a pointer passed to kfree, krealloc or usableSize is: validated against the free list and the
// allocated headers, and, when it is not one kmalloc returned, a HeapError saying what it is instead (a double
// free, a pointer into free memory or into a block, an overwritten header), before anything is written.

import { hex } from '../../hw/addr.js';
import { HeapError } from './errors.js';
import { isDead, readUsed, type UsedHeader } from './header.js';
import { UNIT } from './layout.js';
import { interior } from './krblock.js';
import type { Slot } from './krlist.js';
import { KrBreak } from './krbreak.js';

/** Pointer validation for a K&R heap. */
export class KrLocate extends KrBreak {
  /** locate validates a pointer kmalloc should have returned and finds its block; throws HeapError, writing nothing. */
  protected locate(ptr: number, what: string): { slot: Slot; used: UsedHeader } {
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
  protected outside(ptr: number, what: string, brk: number): HeapError {
    const where =
      ptr >= this.base && ptr < this.limit
        ? `not inside the heap's blocks ${hex(this.arena)}-${hex(brk)} (the break)`
        : `not a heap address (the heap is ${hex(this.base)}-${hex(this.limit)})`;
    return new HeapError('outside-heap', ptr, `${what}: ${where}`);
  }

  /** inFree describes a pointer into free block slot.p: a double free, or a pointer into free memory. */
  protected inFree(ptr: number, { p, pf }: Slot, what: string): HeapError {
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

  /** diagnose walks the allocated blocks in [from, to) to say what ptr is: in a block, or behind a broken header. */
  protected diagnose(ptr: number, from: number, to: number, what: string): HeapError {
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
}
