// The buddy allocator (Linux's zone free areas, in miniature): blocks of 2^k
// frames for orders 0..10, aligned to their size; one doubly-linked free list
// per order; allocation splits a larger block, freeing merges a block with its
// buddy (pfn XOR 2^k) while the buddy is free at the same order.
//
// Metadata in RAM: the list heads in the header (physical address of the first
// block, 0 = empty), and one state byte per frame (the order map, reached
// through the kernel window): FREE|k or ALLOC|k for the first frame of a
// block, TAIL for the others, RESERVED for frames never managed. The list
// links {next, prev} live in the first frame of each free block and are
// reached through the temporary-mapping slot. The map is written once at boot
// (one byte per frame); the first allocation after that splits at most ten
// times, whatever the machine's size.

import type { PhysAddr } from '../../hw/addr.js';
import { hex } from '../../hw/addr.js';
import type { AllocOptions, FrameAllocator, FrameAllocatorOptions } from './allocator.js';
import { FrameAllocatorBase, MAX_ORDER, POISON_BYTE } from './base.js';
import { FrameError } from './error.js';
import { findRange } from './regions.js';
import { H_STRATEGY, type FrameSetup } from './setup.js';

export const H_HEADS = H_STRATEGY; // u32 heads[MAX_ORDER + 1]
export const STATE_TAIL = 0x00;
export const STATE_ALLOC = 0x40;
export const STATE_FREE = 0x80;
export const STATE_RESERVED = 0xff;

export class BuddyAllocator extends FrameAllocatorBase implements FrameAllocator {
  readonly strategy = 'buddy';
  /** Write-through copies of the list heads (audit() compares them with RAM). */
  private readonly heads = new Array<number>(MAX_ORDER + 1).fill(0);
  private readonly maxPfn: number;

  /** mapBytes: one state byte per frame below maxPfn. */
  static mapBytes(maxPfn: number): number {
    return maxPfn;
  }

  constructor(setup: FrameSetup, options: Required<FrameAllocatorOptions>) {
    super(setup, options);
    this.maxPfn = setup.regions.maxPfn;
    this.stamp('buddy');
    const blocks = this.carve();
    this.writeInitialMap();
    for (let k = 0; k <= MAX_ORDER; k++) this.setHead(k, 0);
    for (let i = blocks.length - 1; i >= 0; i--) this.pushFree(blocks[i].pfn, blocks[i].order);
  }

  /** carve cuts each usable range into the largest aligned blocks that fit, in address order. */
  private carve(): { pfn: number; order: number }[] {
    const out: { pfn: number; order: number }[] = [];
    for (const r of this.ranges) {
      for (let p = r.start; p < r.end;) {
        let k = MAX_ORDER;
        while (k > 0 && (p % 2 ** k !== 0 || p + 2 ** k > r.end)) k--;
        out.push({ pfn: p, order: k });
        p += 2 ** k;
      }
    }
    return out;
  }

  /** writeInitialMap writes the order map: RESERVED outside usable ranges, TAIL inside (heads are set by pushFree). */
  private writeInitialMap(): void {
    const bytes = new Uint8Array(Math.ceil(this.maxPfn / 4) * 4).fill(STATE_RESERVED);
    for (const r of this.ranges) bytes.fill(STATE_TAIL, r.start, r.end);
    const words = new Uint32Array(bytes.buffer);
    for (let w = 0; w < words.length; w++) this.machine.write32(this.map + w * 4, words[w]);
  }

  /** state reads a frame's byte of the order map (through its aligned dword). */
  private state(pfn: number): number {
    return (this.machine.read32(this.map + (pfn & ~3)) >>> ((pfn & 3) * 8)) & 0xff;
  }

  /** setState writes a frame's state byte (read-modify-write of its dword). */
  private setState(pfn: number, s: number): void {
    const at = this.map + (pfn & ~3);
    const shift = (pfn & 3) * 8;
    this.machine.write32(at, (this.machine.read32(at) & ~(0xff << shift)) | (s << shift));
  }

  /** setHead sets the head of an order's list, in RAM and in its JS copy. */
  private setHead(order: number, frame: number): void {
    this.heads[order] = frame;
    this.machine.write32(this.header + H_HEADS + order * 4, frame);
  }

  /** links reads a free block's {next, prev} through the slot. */
  private links(frame: number): [number, number] {
    const l = this.slot.map(frame as PhysAddr);
    try {
      return [this.machine.read32(l), this.machine.read32(l + 4)];
    } finally {
      this.slot.unmap();
    }
  }

  /** setLink writes word 0 (next) or 1 (prev) of a free block's links. */
  private setLink(frame: number, which: 0 | 1, value: number): void {
    this.slot.write32((frame + which * 4) as PhysAddr, value);
  }

  /** pushFree puts a block at the head of its order's list and marks it FREE|order. */
  private pushFree(pfn: number, order: number): void {
    const frame = pfn * 4096;
    const head = this.heads[order];
    const l = this.slot.map(frame as PhysAddr);
    try {
      this.machine.write32(l, head);
      this.machine.write32(l + 4, 0);
    } finally {
      this.slot.unmap();
    }
    if (head !== 0) this.setLink(head, 1, frame);
    this.setHead(order, frame);
    this.setState(pfn, STATE_FREE | order);
  }

  /** unlink removes a free block from its order's list (its state byte is the caller's business). */
  private unlink(pfn: number, order: number): void {
    const frame = pfn * 4096;
    const [next, prev] = this.links(frame);
    if (prev !== 0) this.setLink(prev, 0, next);
    else this.setHead(order, next);
    if (next !== 0) this.setLink(next, 1, prev);
  }

  /** allocContiguous takes the smallest free block of order >= `order` and splits it down. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null {
    this.checkOrder('allocContiguous', order);
    let k = order;
    while (k <= MAX_ORDER && this.heads[k] === 0) k++;
    if (k > MAX_ORDER) return null;
    const pfn = this.heads[k] / 4096;
    this.unlink(pfn, k);
    while (k > order) {
      k--;
      this.pushFree(pfn + 2 ** k, k);
    }
    this.setState(pfn, STATE_ALLOC | order);
    this.nfree -= 2 ** order;
    return this.handOut(pfn * 4096, order, opts);
  }

  /** alloc is an order-0 allocContiguous. */
  alloc(opts?: AllocOptions): PhysAddr | null {
    return this.allocContiguous(0, opts);
  }

  /** free returns one frame allocated by alloc(). */
  free(frame: PhysAddr): void {
    this.release('free', frame, 0);
  }

  /** freeContiguous returns a block allocated by allocContiguous(order). */
  freeContiguous(frame: PhysAddr, order: number): void {
    this.checkOrder('freeContiguous', order, frame);
    this.release('freeContiguous', frame, order);
  }

  /** release returns an allocated block and merges it with free buddies as far as it goes. */
  private release(op: string, frame: number, order: number): void {
    let pfn = this.checkFrame(op, frame, order);
    const s = this.state(pfn);
    if (s !== (STATE_ALLOC | order)) throw new FrameError(op, frame, this.whyNotAllocated(pfn, s, order));
    if (this.options.poison) this.fill(frame, order, POISON_BYTE);
    this.setState(pfn, STATE_TAIL);
    let k = order;
    for (; k < MAX_ORDER; k++) {
      const buddy = pfn ^ (2 ** k);
      if (buddy >= this.maxPfn || this.state(buddy) !== (STATE_FREE | k)) break;
      this.unlink(buddy, k);
      this.setState(buddy, STATE_TAIL);
      pfn = Math.min(pfn, buddy);
    }
    this.pushFree(pfn, k);
    this.nfree += 2 ** order;
  }

  /** whyNotAllocated explains a rejected free from the frame's state byte (and its enclosing block's). */
  private whyNotAllocated(pfn: number, s: number, order: number): string {
    if ((s & STATE_ALLOC) !== 0 && s !== STATE_RESERVED)
      return `allocated as an order-${s & 0x3f} block, freed as order ${order}`;
    if ((s & STATE_FREE) !== 0 && s !== STATE_RESERVED) return 'already free (double free)';
    const head = this.enclosingHead(pfn);
    if (head === null) return 'not the start of any block';
    const hs = this.state(head);
    if ((hs & STATE_FREE) !== 0)
      return `already free (double free): inside the free order-${hs & 0x3f} block at ${hex(head * 4096)}`;
    return `inside the allocated order-${hs & 0x3f} block at ${hex(head * 4096)}, not its start`;
  }

  /** enclosingHead finds the first frame of the block holding a TAIL frame. */
  private enclosingHead(pfn: number): number | null {
    for (let k = 1; k <= MAX_ORDER; k++) {
      const head = pfn - (pfn % 2 ** k);
      const s = this.state(head);
      if (s !== STATE_TAIL && s !== STATE_RESERVED && (s & 0x3f) >= k) return head;
    }
    return null;
  }

  /** isFree: the frame lies in a free block. */
  isFree(frame: PhysAddr): boolean {
    const pfn = frame / 4096;
    if (!Number.isInteger(pfn) || !this.isUsable(pfn)) return false;
    const s = this.state(pfn);
    if (s !== STATE_TAIL) return (s & STATE_FREE) !== 0;
    const head = this.enclosingHead(pfn);
    return head !== null && (this.state(head) & STATE_FREE) !== 0;
  }

  /** The largest order with a free block, or -1 when nothing is free. */
  largestFreeOrder(): number {
    for (let k = MAX_ORDER; k >= 0; k--) if (this.heads[k] !== 0) return k;
    return -1;
  }

  /** freeBlocks walks every list in RAM: per order, the pfns of its free blocks. */
  freeBlocks(): number[][] {
    const out: number[][] = [];
    for (let k = 0; k <= MAX_ORDER; k++) {
      const list: number[] = [];
      for (
        let f = this.machine.read32(this.header + H_HEADS + k * 4);
        f !== 0 && list.length <= this.usableCount;
        f = this.links(f)[0]
      )
        list.push(f / 4096);
      out.push(list);
    }
    return out;
  }

  /** audit checks the lists against the order map, the buddy invariant and the counts. */
  audit(): string[] {
    const out = this.auditRanges();
    for (let k = 0; k <= MAX_ORDER; k++) {
      if (this.machine.read32(this.header + H_HEADS + k * 4) !== this.heads[k])
        out.push(`head of order ${k} in RAM differs from the JS copy`);
    }
    const blocks = this.freeBlocks();
    const free = new Set<number>();
    let frames = 0;
    blocks.forEach((list, k) => {
      let prev = 0;
      for (const pfn of list) {
        out.push(...this.auditBlock(pfn, k, prev, free));
        free.add(pfn * 64 + k);
        prev = pfn * 4096;
        frames += 2 ** k;
      }
    });
    blocks.forEach((list, k) => {
      for (const pfn of list)
        if (k < MAX_ORDER && free.has((pfn ^ (2 ** k)) * 64 + k))
          out.push(`free blocks ${hex(pfn * 4096)} and its buddy are both free at order ${k}`);
    });
    if (frames !== this.nfree) out.push(`free count ${this.nfree} but the lists hold ${frames} frames`);
    return out;
  }

  /** auditBlock checks one listed block: alignment, usable frames, state byte, back link, no duplicate. */
  private auditBlock(pfn: number, k: number, prev: number, seen: Set<number>): string[] {
    const out: string[] = [];
    const at = hex(pfn * 4096);
    if (seen.has(pfn * 64 + k)) out.push(`block ${at} listed twice at order ${k}`);
    if (pfn % 2 ** k !== 0) out.push(`block ${at} of order ${k} is misaligned`);
    const range = findRange(this.ranges, pfn);
    if (range < 0 || findRange(this.ranges, pfn + 2 ** k - 1) !== range)
      out.push(`block ${at} of order ${k} holds non-usable frames`);
    if (this.state(pfn) !== (STATE_FREE | k))
      out.push(`block ${at} listed at order ${k} has state ${hex(this.state(pfn), 2)}`);
    if (this.links(pfn * 4096)[1] !== prev) out.push(`block ${at} has a wrong prev link`);
    return out;
  }
}
