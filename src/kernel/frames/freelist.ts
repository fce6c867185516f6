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
// Header words: 0x20 head (physical, 0 = empty: frame 0 is never usable),
// 0x24 the frontier's range index and 0x28 its next pfn, and the common free
// count. Every one is read from RAM where the C code would read it, and so is
// each link (through the slot). A link, head or frontier that points nowhere a
// free frame can be (misaligned, not usable, allocated) is reported by name
// ("free-list link corrupted", ...) before anything changes; a link that
// points at another free frame is followed, as C would.

import { PAGE_SIZE, hex, type PhysAddr } from '../../hw/addr.js';
import type { AllocOptions, FrameAllocator, FrameAllocatorOptions } from './api.js';
import { FrameAllocatorBase, POISON_BYTE } from './base.js';
import { FrameError, corrupted } from './error.js';
import { H_STRATEGY, type FrameSetup } from './setup.js';

export const H_HEAD = H_STRATEGY;
export const H_FRONT_INDEX = H_STRATEGY + 4;
export const H_FRONT_NEXT = H_STRATEGY + 8;

export class FreeListAllocator extends FrameAllocatorBase implements FrameAllocator {
  readonly strategy = 'list';
  /** Words in the allocation bitmap: fixed at boot from max_pfn. */
  private readonly words: number;

  /** mapBytes: one allocation bit per frame below maxPfn. */
  static mapBytes(maxPfn: number): number {
    return Math.ceil(maxPfn / 32) * 4;
  }

  constructor(setup: FrameSetup, options: Required<FrameAllocatorOptions>) {
    super(setup, options);
    this.words = Math.ceil(setup.regions.maxPfn / 32);
    this.stamp('list');
    for (let w = 0; w < this.words; w++) this.machine.write32(this.map + w * 4, 0);
    this.setHead(0);
    this.setFrontier(0, this.ranges.length > 0 ? this.ranges[0].start : 0);
  }

  /** head reads the list head from the header. */
  private head(): number {
    return this.machine.read32(this.header + H_HEAD);
  }

  /** setHead writes the list head to the header. */
  private setHead(frame: number): void {
    this.machine.write32(this.header + H_HEAD, frame);
  }

  /** setFrontier moves the frontier to pfn `next` of range `index`, in the header. */
  private setFrontier(index: number, next: number): void {
    this.machine.write32(this.header + H_FRONT_INDEX, index);
    this.machine.write32(this.header + H_FRONT_NEXT, next);
  }

  /** alloc pops the list head, or else takes the frontier's next frame; null when both are empty. */
  alloc(opts?: AllocOptions): PhysAddr | null {
    const head = this.head();
    if (head !== 0) return this.popHead(head, opts);
    const front = this.frontier('alloc');
    if (front === null) return null;
    if ((this.allocatedWord(front.pfn) & (1 << (front.pfn & 31))) !== 0)
      throw corrupted(
        'alloc',
        front.pfn * PAGE_SIZE,
        'frontier',
        'the frame at the frontier is marked allocated: handed out already, through a corrupted free-list link?',
      );
    const free = this.checkTake('alloc', 1, front.pfn * PAGE_SIZE);
    this.advanceFrontier(front.index, front.pfn);
    this.markAllocated(front.pfn);
    this.setFreeCount(free - 1);
    return this.handOut(front.pfn * PAGE_SIZE, 0, opts);
  }

  /** popHead takes the head frame: checks it and its link first, so a corrupted list changes nothing. */
  private popHead(head: number, opts?: AllocOptions): PhysAddr {
    if (!this.canBeListed(head)) throw corrupted('alloc', head, 'free-list head', this.whyNotListed(head));
    const next = this.slot.read32(head as PhysAddr);
    if (next !== 0 && !this.canBeListed(next))
      throw corrupted(
        'alloc',
        head,
        'free-list link',
        `link ${next} ${this.whyNotListed(next)}: was the frame written after it was freed?`,
      );
    const free = this.checkTake('alloc', 1, head);
    this.setHead(next);
    this.markAllocated(head / PAGE_SIZE);
    this.setFreeCount(free - 1);
    return this.handOut(head, 0, opts);
  }

  /** canBeListed: a frame-aligned usable frame whose allocation bit is clear (what a list entry must be). */
  private canBeListed(frame: number): boolean {
    if (frame % PAGE_SIZE !== 0 || !this.isUsable(frame / PAGE_SIZE)) return false;
    return (this.allocatedWord(frame / PAGE_SIZE) & (1 << ((frame / PAGE_SIZE) & 31))) === 0;
  }

  /** whyNotListed says why a frame cannot be on the free list. */
  private whyNotListed(frame: number): string {
    if (frame % PAGE_SIZE !== 0) return `${hex(frame)} is not frame-aligned`;
    if (!this.isUsable(frame / PAGE_SIZE)) return `${hex(frame)} is not a usable frame`;
    return `${hex(frame)} is marked allocated`;
  }

  /**
   * frontier reads the frontier from the header: the range index and the next pfn,
   * null when every range is used up; a frontier outside the range table is corrupted.
   */
  private frontier(op: string): { index: number; pfn: number } | null {
    const index = this.machine.read32(this.header + H_FRONT_INDEX);
    const pfn = this.machine.read32(this.header + H_FRONT_NEXT);
    const n = this.rangeCount(op);
    if (index === n) return null;
    if (index > n || pfn < this.rangeStart(index) || pfn >= this.rangeEnd(index))
      throw corrupted(op, null, 'frontier', `range ${index}, pfn ${pfn}: outside the ${n} usable ranges`);
    return { index, pfn };
  }

  /** advanceFrontier moves past the frame just taken, to the next range when this one is used up. */
  private advanceFrontier(index: number, pfn: number): void {
    if (pfn + 1 < this.rangeEnd(index)) {
      this.machine.write32(this.header + H_FRONT_NEXT, pfn + 1);
      return;
    }
    const next = index + 1;
    this.setFrontier(next, next < this.rangeCount('alloc') ? this.rangeStart(next) : 0);
  }

  /** allocatedWord reads the allocation-bitmap word holding pfn's bit. */
  private allocatedWord(pfn: number): number {
    return this.machine.read32(this.map + (pfn >>> 5) * 4);
  }

  /** setAllocatedWord writes the allocation-bitmap word holding pfn's bit. */
  private setAllocatedWord(pfn: number, v: number): void {
    this.machine.write32(this.map + (pfn >>> 5) * 4, v);
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
      if (this.beyondFrontier(pfn))
        throw new FrameError(
          'never-allocated',
          'free',
          frame,
          'never allocated (the allocator has not handed it out yet)',
        );
      throw new FrameError('double-free', 'free', frame, 'already free (double free)');
    }
    const free = this.checkGive('free', 1, frame);
    this.setAllocatedWord(pfn, v & ~bit);
    if (this.options.poison) this.slot.fillFrame(frame, POISON_BYTE);
    this.slot.write32(frame, this.head());
    this.setHead(frame);
    this.setFreeCount(free + 1);
  }

  /** beyondFrontier tells whether a usable pfn has never been handed out. */
  private beyondFrontier(pfn: number): boolean {
    const r = this.findRangeInRam('free', pfn);
    const index = this.machine.read32(this.header + H_FRONT_INDEX);
    return r > index || (r === index && pfn >= this.machine.read32(this.header + H_FRONT_NEXT));
  }

  /** allocContiguous: the list keeps no order among frames, so only order 0 is offered. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null {
    this.checkOrder('allocContiguous', order);
    if (order === 0) return this.alloc(opts);
    throw new FrameError(
      'unsupported',
      'allocContiguous',
      null,
      `order ${order}: the free-list allocator hands out single frames; contiguous blocks need --frames buddy (or bitmap)`,
    );
  }

  /** freeContiguous: order 0 only, as allocContiguous. */
  freeContiguous(frame: PhysAddr, order: number): void {
    this.checkOrder('freeContiguous', order, frame);
    if (order === 0) return this.free(frame);
    throw new FrameError(
      'unsupported',
      'freeContiguous',
      frame,
      `order ${order}: the free-list allocator hands out single frames only`,
    );
  }

  /** isFree: usable and its allocation bit clear. */
  isFree(frame: PhysAddr): boolean {
    const pfn = frame / PAGE_SIZE;
    if (!Number.isInteger(pfn) || !this.isUsable(pfn)) return false;
    return (this.allocatedWord(pfn) & (1 << (pfn & 31))) === 0;
  }

  /** audit walks the list in RAM: each link a usable, unallocated frame behind the frontier, no cycle; counts. */
  audit(): string[] {
    const out = this.auditRanges();
    if (!this.rangeTableReadable()) return out;
    let front: { index: number; pfn: number } | null;
    try {
      front = this.frontier('audit');
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      return [...out, e.why];
    }
    const listed = this.auditList(out);
    const fresh = this.freshCount(front);
    const free = this.freeCount();
    if (listed >= 0 && listed + fresh !== free)
      out.push(`free count ${free} but ${listed} listed + ${fresh} beyond the frontier`);
    const allocated = this.countAllocatedBits();
    const usable = this.usableCount();
    if (allocated !== usable - free) out.push(`${allocated} allocation bits set, expected ${usable - free}`);
    return out;
  }

  /** auditList walks the list from the head in RAM, reporting into `out`; returns its length (-1 if cut short). */
  private auditList(out: string[]): number {
    const seen = new Set<number>();
    const usable = this.usableCount();
    for (let f = this.head(); f !== 0; f = this.slot.read32(f as PhysAddr)) {
      const pfn = f / PAGE_SIZE;
      if (seen.has(f) || seen.size > usable) {
        out.push(`free list loops at ${f}`);
        return -1;
      }
      if (!Number.isInteger(pfn) || !this.isUsable(pfn)) {
        out.push(`free list links to non-usable ${f}`);
        return -1;
      }
      if (!this.isFree(f as PhysAddr)) out.push(`listed frame ${f} is marked allocated`);
      if (this.beyondFrontier(pfn)) out.push(`listed frame ${f} lies beyond the frontier`);
      seen.add(f);
    }
    return seen.size;
  }

  /** freshCount counts frames never handed out (beyond the frontier). */
  private freshCount(front: { index: number; pfn: number } | null): number {
    if (front === null) return 0;
    let n = this.rangeEnd(front.index) - front.pfn;
    for (let i = front.index + 1; i < this.rangeCount('audit'); i++) n += this.rangeEnd(i) - this.rangeStart(i);
    return n;
  }

  /** countAllocatedBits counts the set bits of the allocation bitmap in RAM. */
  private countAllocatedBits(): number {
    let n = 0;
    for (let w = 0; w < this.words; w++) {
      let v = this.machine.read32(this.map + w * 4);
      while (v !== 0) {
        v &= v - 1;
        n++;
      }
    }
    return n;
  }
}
