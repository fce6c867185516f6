// xv6's kalloc: free frames linked through their own first word. The frames
// are not mapped anywhere, and the kernel window covers only the first 4 MiB
// (a 4 GiB machine could not be mapped whole into the 1 GiB kernel half
// anyway), so each link is read and written through the temporary-mapping
// slot. Two additions over xv6:
//   - a frontier: frames never handed out are not threaded at boot (that
//     would touch every frame); the allocator takes them in order from the
//     usable-range table, so the first allocation costs the same on 1 MiB
//     and 4 GiB. Freed frames go on the list, which is used first.
//   - an allocation bitmap (1 = allocated), so free() can reject a double
//     free or a never-allocated frame exactly: the list alone cannot tell.
// Header words: head (physical, 0 = empty: frame 0 is never usable), the
// frontier's range index and its next pfn. JS keeps write-through copies of
// the three, of the head frame's link word after a free (so an allocation
// right after a free needs no slot mapping) and of the allocation-bitmap word
// last used (so an alloc/free pair reads it once); audit() compares them with
// RAM. Every write still goes to RAM.

import type { PhysAddr } from '../../hw/addr.js';
import { PagelabError } from '../../errors.js';
import type { AllocOptions, FrameAllocator, FrameAllocatorOptions } from './allocator.js';
import { FrameAllocatorBase, POISON_BYTE } from './base.js';
import { FrameError } from './error.js';
import { findRange } from './regions.js';
import { H_STRATEGY, type FrameSetup } from './setup.js';

export const H_HEAD = H_STRATEGY;
export const H_FRONT_INDEX = H_STRATEGY + 4;
export const H_FRONT_NEXT = H_STRATEGY + 8;

export class FreeListAllocator extends FrameAllocatorBase implements FrameAllocator {
  readonly strategy = 'list';
  /** Write-through copies of the three header words (the RAM copy is the state; audit() compares). */
  private head = 0;
  private frontIndex = 0;
  private frontNext = 0;
  /** The link word stored in the head frame, when known (-1: read it through the slot). */
  private headLink = -1;
  /** A write-through copy of the allocation-bitmap word last read or written (-1: none). */
  private cachedWord = -1;
  private cachedValue = 0;

  /** mapBytes: one allocation bit per frame below maxPfn. */
  static mapBytes(maxPfn: number): number {
    return Math.ceil(maxPfn / 32) * 4;
  }

  constructor(setup: FrameSetup, options: Required<FrameAllocatorOptions>) {
    super(setup, options);
    this.stamp('list');
    for (let w = 0; w < Math.ceil(setup.regions.maxPfn / 32); w++) this.machine.write32(this.map + w * 4, 0);
    this.setHead(0);
    this.setFrontier(0, this.ranges.length > 0 ? this.ranges[0].start : 0);
  }

  /** setHead sets the list head, in RAM and in its JS copy. */
  private setHead(frame: number): void {
    this.head = frame;
    this.machine.write32(this.header + H_HEAD, frame);
  }

  /** setFrontier moves the frontier to pfn `next` of range `index`, in RAM and in the JS copies. */
  private setFrontier(index: number, next: number): void {
    this.frontIndex = index;
    this.frontNext = next;
    this.machine.write32(this.header + H_FRONT_INDEX, index);
    this.machine.write32(this.header + H_FRONT_NEXT, next);
  }

  /** alloc pops the list head, or else takes the frontier's next frame; null when both are empty. */
  alloc(opts?: AllocOptions): PhysAddr | null {
    let frame: number;
    if (this.head !== 0) {
      frame = this.head;
      this.setHead(this.headLink >= 0 ? this.headLink : this.nextLink(frame));
      this.headLink = -1;
    } else if (this.frontIndex < this.ranges.length) {
      frame = this.frontNext * 4096;
      this.advanceFrontier();
    } else return null;
    this.markAllocated(frame / 4096);
    this.nfree--;
    return this.handOut(frame, 0, opts);
  }

  /** nextLink reads a free frame's link through the slot and checks it points at a usable frame or is 0. */
  private nextLink(frame: number): number {
    const next = this.slot.read32(frame as PhysAddr);
    if (next !== 0 && (next % 4096 !== 0 || findRange(this.ranges, next / 4096) < 0)) {
      throw new FrameError(
        'alloc',
        frame,
        `free-list link corrupted (${next}): was the frame written after it was freed?`,
      );
    }
    return next;
  }

  /** advanceFrontier moves past the frame just taken, to the next range when this one is used up. */
  private advanceFrontier(): void {
    const next = this.frontNext + 1;
    if (next < this.ranges[this.frontIndex].end) {
      this.frontNext = next;
      this.machine.write32(this.header + H_FRONT_NEXT, next);
      return;
    }
    const index = this.frontIndex + 1;
    this.setFrontier(index, index < this.ranges.length ? this.ranges[index].start : 0);
  }

  /** allocatedWord reads the allocation-bitmap word holding pfn's bit (from the one-word cache when it holds that word). */
  private allocatedWord(pfn: number): number {
    const w = pfn >>> 5;
    if (w === this.cachedWord) return this.cachedValue;
    const v = this.machine.read32(this.map + w * 4);
    this.cachedWord = w;
    this.cachedValue = v;
    return v;
  }

  /** setAllocatedWord writes a bitmap word to RAM and keeps the cache in step. */
  private setAllocatedWord(pfn: number, v: number): void {
    const w = pfn >>> 5;
    this.machine.write32(this.map + w * 4, v);
    this.cachedWord = w;
    this.cachedValue = v >>> 0;
  }

  /** markAllocated sets a frame's allocation bit. */
  private markAllocated(pfn: number): void {
    this.setAllocatedWord(pfn, this.allocatedWord(pfn) | (1 << (pfn & 31)));
  }

  /** free pushes an allocated frame on the list (poisoned first if asked). */
  free(frame: PhysAddr): void {
    const pfn = this.checkFrame('free', frame);
    const v = this.allocatedWord(pfn);
    const bit = 1 << (pfn & 31);
    if ((v & bit) === 0) {
      const why = this.beyondFrontier(pfn)
        ? 'never allocated (the allocator has not handed it out yet)'
        : 'already free (double free)';
      throw new FrameError('free', frame, why);
    }
    this.setAllocatedWord(pfn, v & ~bit);
    if (this.options.poison) this.slot.fillFrame(frame, POISON_BYTE);
    this.slot.write32(frame, this.head);
    this.headLink = this.head;
    this.setHead(frame);
    this.nfree++;
  }

  /** beyondFrontier tells whether a usable pfn has never been handed out. */
  private beyondFrontier(pfn: number): boolean {
    const r = findRange(this.ranges, pfn);
    return r > this.frontIndex || (r === this.frontIndex && pfn >= this.frontNext);
  }

  /** allocContiguous: the list keeps no order among frames, so only order 0 is offered. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null {
    this.checkOrder('allocContiguous', order);
    if (order === 0) return this.alloc(opts);
    throw new PagelabError(
      `allocContiguous(order ${order}): the free-list allocator hands out single frames; contiguous blocks need --frames buddy (or bitmap)`,
    );
  }

  /** freeContiguous: order 0 only, as allocContiguous. */
  freeContiguous(frame: PhysAddr, order: number): void {
    this.checkOrder('freeContiguous', order, frame);
    if (order === 0) return this.free(frame);
    throw new PagelabError(`freeContiguous(order ${order}): the free-list allocator hands out single frames only`);
  }

  /** isFree: usable and its allocation bit clear. */
  isFree(frame: PhysAddr): boolean {
    const pfn = frame / 4096;
    if (!Number.isInteger(pfn) || !this.isUsable(pfn)) return false;
    return (this.allocatedWord(pfn) & (1 << (pfn & 31))) === 0;
  }

  /** audit walks the list in RAM: every link a usable, unallocated frame behind the frontier, no cycle; counts add up. */
  audit(): string[] {
    const out = this.auditRanges();
    const m = this.machine;
    if (m.read32(this.header + H_HEAD) !== this.head) out.push('list head in RAM differs from the JS copy');
    if (this.headLink >= 0 && this.slot.read32(this.head as PhysAddr) !== this.headLink)
      out.push('cached link of the head frame differs from RAM');
    if (this.cachedWord >= 0 && m.read32(this.map + this.cachedWord * 4) !== this.cachedValue)
      out.push(`cached allocation-bitmap word ${this.cachedWord} differs from RAM`);
    if (
      m.read32(this.header + H_FRONT_INDEX) !== this.frontIndex ||
      m.read32(this.header + H_FRONT_NEXT) !== this.frontNext
    )
      out.push('frontier in RAM differs from the JS copy');
    const seen = new Set<number>();
    for (let f = this.head; f !== 0; f = this.slot.read32(f as PhysAddr)) {
      const pfn = f / 4096;
      if (seen.has(f) || seen.size > this.usableCount) return [...out, `free list loops at ${f}`];
      if (!Number.isInteger(pfn) || !this.isUsable(pfn)) return [...out, `free list links to non-usable ${f}`];
      if (!this.isFree(f as PhysAddr)) out.push(`listed frame ${f} is marked allocated`);
      if (this.beyondFrontier(pfn)) out.push(`listed frame ${f} lies beyond the frontier`);
      seen.add(f);
    }
    const fresh = this.freshCount();
    if (seen.size + fresh !== this.nfree)
      out.push(`free count ${this.nfree} but ${seen.size} listed + ${fresh} beyond the frontier`);
    const allocated = this.countAllocatedBits();
    if (allocated !== this.usableCount - this.nfree)
      out.push(`${allocated} allocation bits set, expected ${this.usableCount - this.nfree}`);
    return out;
  }

  /** freshCount counts frames never handed out (beyond the frontier). */
  private freshCount(): number {
    let n = 0;
    for (let i = this.frontIndex; i < this.ranges.length; i++)
      n += this.ranges[i].end - (i === this.frontIndex ? this.frontNext : this.ranges[i].start);
    return n;
  }

  /** countAllocatedBits counts the set bits of the allocation bitmap in RAM. */
  private countAllocatedBits(): number {
    let n = 0;
    for (let w = 0; w < Math.ceil(this.regions.maxPfn / 32); w++) {
      let v = this.machine.read32(this.map + w * 4);
      while (v !== 0) {
        v &= v - 1;
        n++;
      }
    }
    return n;
  }
}
