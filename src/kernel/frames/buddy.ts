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
// Every decision reads RAM: the order heads (allocation scans them), the
// state bytes (free and merge), the links and the free count. As Linux's
// CONFIG_DEBUG_LIST, a list head whose state byte is not FREE|k, or a link
// whose neighbour does not link back, is reported by name ("buddy list
// corrupted") before anything changes.

import { PAGE_SIZE, type PhysAddr } from '../../hw/addr.js';
import { hex } from '../../hw/addr.js';
import type { AllocOptions, FrameAllocator, FrameAllocatorOptions } from './api.js';
import { FrameAllocatorBase, MAX_ORDER, POISON_BYTE } from './base.js';
import { FrameError, corrupted } from './error.js';
import { findRange } from './regions.js';
import { H_STRATEGY, type FrameSetup } from './setup.js';

export const H_HEADS = H_STRATEGY; // u32 heads[MAX_ORDER + 1]
export const STATE_TAIL = 0x00;
export const STATE_ALLOC = 0x40;
export const STATE_FREE = 0x80;
export const STATE_RESERVED = 0xff;

export class BuddyAllocator extends FrameAllocatorBase implements FrameAllocator {
  readonly strategy = 'buddy';
  /** One past the last frame the order map covers (fixed at boot, as the map's size). */
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

  /** head reads the head of an order's list from the header. */
  private head(order: number): number {
    return this.machine.read32(this.header + H_HEADS + order * 4);
  }

  /** setHead writes the head of an order's list to the header. */
  private setHead(order: number, frame: number): void {
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
    const frame = pfn * PAGE_SIZE;
    const head = this.head(order);
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
    const frame = pfn * PAGE_SIZE;
    const [next, prev] = this.links(frame);
    if (prev !== 0) this.setLink(prev, 0, next);
    else this.setHead(order, next);
    if (next !== 0) this.setLink(next, 1, prev);
  }

  /**
   * checkUnlink verifies, before unlink writes anything, that a free block's
   * neighbours link back to it (CONFIG_DEBUG_LIST's check) and that it is
   * the list head when it has no prev.
   */
  private checkUnlink(op: string, pfn: number, order: number): void {
    const frame = pfn * PAGE_SIZE;
    const [next, prev] = this.links(frame);
    const broken = (why: string): FrameError => corrupted(op, frame, 'buddy list', `order ${order}: ${why}`);
    if (prev === 0 && this.head(order) !== frame) throw broken('a block with no prev link is not the list head');
    if (prev !== 0 && (prev % PAGE_SIZE !== 0 || prev / PAGE_SIZE >= this.maxPfn || this.links(prev)[0] !== frame))
      throw broken(`prev ${hex(prev)} does not link back`);
    if (next !== 0 && (next % PAGE_SIZE !== 0 || next / PAGE_SIZE >= this.maxPfn || this.links(next)[1] !== frame))
      throw broken(`next ${hex(next)} does not link back`);
  }

  /** listHead reads an order's head and checks it is a free block of that order (its state byte says so). */
  private listHead(op: string, k: number): number {
    const frame = this.head(k);
    if (frame === 0) return 0;
    const pfn = frame / PAGE_SIZE;
    if (frame % (PAGE_SIZE * 2 ** k) !== 0 || pfn >= this.maxPfn)
      throw corrupted(op, frame, 'buddy list', `head of order ${k} is not an aligned frame of the map`);
    if (this.state(pfn) !== (STATE_FREE | k))
      throw corrupted(op, frame, 'buddy list', `head of order ${k} has state ${hex(this.state(pfn), 2)}`);
    return frame;
  }

  /** allocContiguous takes the smallest free block of order >= `order` and splits it down. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null {
    this.checkOrder('allocContiguous', order);
    let k = order;
    let frame = 0;
    for (; k <= MAX_ORDER; k++) {
      frame = this.listHead('allocContiguous', k);
      if (frame !== 0) break;
    }
    if (k > MAX_ORDER) return null;
    const pfn = frame / PAGE_SIZE;
    this.checkUnlink('allocContiguous', pfn, k);
    const free = this.checkTake('allocContiguous', 2 ** order, frame);
    this.unlink(pfn, k);
    while (k > order) {
      k--;
      this.pushFree(pfn + 2 ** k, k);
    }
    this.setState(pfn, STATE_ALLOC | order);
    this.setFreeCount(free - 2 ** order);
    return this.handOut(pfn * PAGE_SIZE, order, opts);
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
    if (s !== (STATE_ALLOC | order)) throw this.notAllocated(op, frame, pfn, s, order);
    const free = this.checkGive(op, 2 ** order, frame);
    const merges = this.mergeOrder(op, pfn, order);
    if (this.options.poison) this.fill(frame, order, POISON_BYTE);
    this.setState(pfn, STATE_TAIL);
    let k = order;
    for (; k < merges; k++) {
      const buddy = pfn ^ (2 ** k);
      this.unlink(buddy, k);
      this.setState(buddy, STATE_TAIL);
      pfn = Math.min(pfn, buddy);
    }
    this.pushFree(pfn, k);
    this.setFreeCount(free + 2 ** order);
  }

  /** mergeOrder finds how far a freed block merges, checking each buddy's links before any write. */
  private mergeOrder(op: string, pfn: number, order: number): number {
    let k = order;
    for (; k < MAX_ORDER; k++) {
      const buddy = pfn ^ (2 ** k);
      if (buddy >= this.maxPfn || this.state(buddy) !== (STATE_FREE | k)) break;
      this.checkUnlink(op, buddy, k);
      pfn = Math.min(pfn, buddy);
    }
    return k;
  }

  /** notAllocated explains a rejected free from the frame's state byte (and its enclosing block's). */
  private notAllocated(op: string, frame: number, pfn: number, s: number, order: number): FrameError {
    if ((s & STATE_ALLOC) !== 0 && s !== STATE_RESERVED)
      return new FrameError(
        'wrong-order',
        op,
        frame,
        `allocated as an order-${s & 0x3f} block, freed as order ${order}`,
      );
    if ((s & STATE_FREE) !== 0 && s !== STATE_RESERVED)
      return new FrameError('double-free', op, frame, 'already free (double free)');
    const head = this.enclosingHead(pfn);
    if (head === null) return corrupted(op, frame, 'buddy state', 'not the start of any block: no block holds it');
    const hs = this.state(head);
    if ((hs & STATE_FREE) !== 0)
      return new FrameError(
        'double-free',
        op,
        frame,
        `already free (double free): inside the free order-${hs & 0x3f} block at ${hex(head * PAGE_SIZE)}`,
      );
    return new FrameError(
      'inside-block',
      op,
      frame,
      `inside the allocated order-${hs & 0x3f} block at ${hex(head * PAGE_SIZE)}, not its start`,
    );
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
    const pfn = frame / PAGE_SIZE;
    if (!Number.isInteger(pfn) || !this.isUsable(pfn)) return false;
    const s = this.state(pfn);
    if (s !== STATE_TAIL) return (s & STATE_FREE) !== 0;
    const head = this.enclosingHead(pfn);
    return head !== null && (this.state(head) & STATE_FREE) !== 0;
  }

  /** The largest order with a free block, or -1 when nothing is free. */
  largestFreeOrder(): number {
    for (let k = MAX_ORDER; k >= 0; k--) if (this.head(k) !== 0) return k;
    return -1;
  }

  /** freeBlocks walks every list in RAM: per order, the pfns of its free blocks. */
  freeBlocks(): number[][] {
    const out: number[][] = [];
    for (let k = 0; k <= MAX_ORDER; k++) {
      const list: number[] = [];
      for (
        let f = this.machine.read32(this.header + H_HEADS + k * 4);
        f !== 0 && list.length <= this.usableCount();
        f = this.links(f)[0]
      )
        list.push(f / PAGE_SIZE);
      out.push(list);
    }
    return out;
  }

  /** audit checks the lists against the order map (every state byte, allocated blocks too), buddy pairs, counts. */
  audit(): string[] {
    const out = this.auditRanges();
    if (!this.rangeTableReadable()) return out;
    const blocks = this.freeBlocks();
    const free = new Set<number>();
    let frames = 0;
    blocks.forEach((list, k) => {
      let prev = 0;
      for (const pfn of list) {
        out.push(...this.auditBlock(pfn, k, prev, free));
        free.add(pfn * 64 + k);
        prev = pfn * PAGE_SIZE;
        frames += 2 ** k;
      }
    });
    blocks.forEach((list, k) => {
      for (const pfn of list)
        if (k < MAX_ORDER && free.has((pfn ^ (2 ** k)) * 64 + k))
          out.push(`free blocks ${hex(pfn * PAGE_SIZE)} and its buddy are both free at order ${k}`);
    });
    if (frames !== this.freeCount()) out.push(`free count ${this.freeCount()} but the lists hold ${frames} frames`);
    out.push(...this.auditMap(free));
    return out;
  }

  /**
   * auditMap walks the whole order map: outside the usable ranges every byte is RESERVED; inside, blocks
   * tile each range (a FREE|k or ALLOC|k head, aligned, inside the range, then 2^k - 1 TAIL bytes),
   * and every FREE head is on its order's list (`listed`: pfn * 64 + order).
   */
  private auditMap(listed: ReadonlySet<number>): string[] {
    const out: string[] = [];
    let p = 0;
    for (const r of this.ranges) {
      for (; p < r.start; p++)
        if (this.state(p) !== STATE_RESERVED)
          out.push(`frame ${hex(p * PAGE_SIZE)} is not managed but has state ${hex(this.state(p), 2)}`);
      while (p < r.end && out.length < 16) p = this.auditMapBlock(p, r.end, listed, out);
      p = r.end;
    }
    for (; p < this.maxPfn; p++)
      if (this.state(p) !== STATE_RESERVED)
        out.push(`frame ${hex(p * PAGE_SIZE)} is not managed but has state ${hex(this.state(p), 2)}`);
    return out.slice(0, 16);
  }

  /** auditMapBlock checks the block whose head should be at pfn; returns the pfn after it. */
  private auditMapBlock(pfn: number, end: number, listed: ReadonlySet<number>, out: string[]): number {
    const s = this.state(pfn);
    const at = hex(pfn * PAGE_SIZE);
    if (s === STATE_TAIL || s === STATE_RESERVED || (s & 0x3f) > MAX_ORDER) {
      out.push(`frame ${at} starts no block but has state ${hex(s, 2)}`);
      return pfn + 1;
    }
    const k = s & 0x3f;
    if (pfn % 2 ** k !== 0 || pfn + 2 ** k > end)
      out.push(`block ${at} of order ${k} is misaligned or leaves its range`);
    if ((s & STATE_FREE) !== 0 && !listed.has(pfn * 64 + k))
      out.push(`free block ${at} of order ${k} is on no free list`);
    const last = Math.min(pfn + 2 ** k, end);
    for (let t = pfn + 1; t < last; t++)
      if (this.state(t) !== STATE_TAIL) {
        out.push(`frame ${hex(t * PAGE_SIZE)} inside block ${at} has state ${hex(this.state(t), 2)}`);
        return t;
      }
    return last;
  }

  /** auditBlock checks one listed block: alignment, usable frames, state byte, back link, no duplicate. */
  private auditBlock(pfn: number, k: number, prev: number, seen: Set<number>): string[] {
    const out: string[] = [];
    const at = hex(pfn * PAGE_SIZE);
    if (seen.has(pfn * 64 + k)) out.push(`block ${at} listed twice at order ${k}`);
    if (pfn % 2 ** k !== 0) out.push(`block ${at} of order ${k} is misaligned`);
    const range = findRange(this.ranges, pfn);
    if (range < 0 || findRange(this.ranges, pfn + 2 ** k - 1) !== range)
      out.push(`block ${at} of order ${k} holds non-usable frames`);
    if (this.state(pfn) !== (STATE_FREE | k))
      out.push(`block ${at} listed at order ${k} has state ${hex(this.state(pfn), 2)}`);
    if (this.links(pfn * PAGE_SIZE)[1] !== prev) out.push(`block ${at} has a wrong prev link`);
    return out;
  }
}
