// The seeds' bitmap allocator: one bit per frame (1 = in use or not usable,
// 0 = free), stored in frames the allocator reserved for itself and reached
// through the kernel window. Allocation searches a 32-bit word at a time from
// a hint, the lowest word that may hold a free bit (every word below it is
// full), so it does not rescan from frame 0. The hint and the free count are
// header words in RAM (0x20 hint, 0x18 nfree), read on every allocation: a C
// kernel keeps them in its struct, and so a cleared bit below the hint is not
// found (audit() reports the hint past a free word), and a free count of 0
// makes alloc() return null without scanning, as the C code would.

import { PAGE_SIZE, type PhysAddr } from '../../hw/addr.js';
import type { AllocOptions, FrameAllocator, FrameAllocatorOptions } from './api.js';
import { FrameAllocatorBase, POISON_BYTE } from './base.js';
import { FrameError, corrupted } from './error.js';
import { H_STRATEGY, type FrameSetup } from './setup.js';

const FULL = 0xffffffff;
/** Header word: the index of the lowest bitmap word that may hold a clear bit. */
export const H_HINT = H_STRATEGY;

export class BitmapAllocator extends FrameAllocatorBase implements FrameAllocator {
  readonly strategy = 'bitmap';
  /** Words in the map: fixed at boot from max_pfn (the map's size). */
  private readonly words: number;

  /** mapBytes: one bit per frame below maxPfn. */
  static mapBytes(maxPfn: number): number {
    return Math.ceil(maxPfn / 32) * 4;
  }

  constructor(setup: FrameSetup, options: Required<FrameAllocatorOptions>) {
    super(setup, options);
    this.words = Math.ceil(setup.regions.maxPfn / 32);
    this.stamp('bitmap');
    this.writeInitialMap();
    let hint = 0;
    while (hint < this.words && this.word(hint) === FULL) hint++;
    this.setHint(hint);
  }

  /** hint reads the search hint from the header. */
  private hint(): number {
    return this.machine.read32(this.header + H_HINT);
  }

  /** setHint writes the search hint to the header. */
  private setHint(w: number): void {
    this.machine.write32(this.header + H_HINT, w);
  }

  /** writeInitialMap marks usable frames free and everything else in use. */
  private writeInitialMap(): void {
    const init = new Uint32Array(this.words).fill(FULL);
    for (const r of this.ranges) for (let p = r.start; p < r.end; p++) init[p >>> 5] &= ~(1 << (p & 31));
    for (let w = 0; w < this.words; w++) this.setWord(w, init[w]);
  }

  /** word reads bitmap word w through the kernel window. */
  private word(w: number): number {
    return this.machine.read32(this.map + w * 4);
  }

  /** setWord writes bitmap word w through the kernel window. */
  private setWord(w: number, v: number): void {
    this.machine.write32(this.map + w * 4, v);
  }

  /** alloc takes the lowest free frame at or after the hint word. */
  alloc(opts?: AllocOptions): PhysAddr | null {
    const free = this.freeCount();
    if (free === 0) return null;
    const hint = this.hint();
    for (let w = hint; w < this.words; w++) {
      const v = this.word(w);
      if (v === FULL) continue;
      const bit = 31 - Math.clz32(~v & (v + 1));
      this.setWord(w, v | (1 << bit));
      if (w !== hint) this.setHint(w);
      this.setFreeCount(free - 1);
      return this.handOut((w * 32 + bit) * PAGE_SIZE, 0, opts);
    }
    throw this.lost('alloc', free, hint);
  }

  /**
   * lost names what is corrupted when the count says frames are free but no clear
   * bit lies at or after the hint: the hint, if a clear bit lies below it, else the count.
   */
  private lost(op: string, free: number, hint: number): FrameError {
    for (let w = 0; w < Math.min(hint, this.words); w++) {
      if (this.word(w) !== FULL)
        return corrupted(op, null, 'bitmap hint', `hint word ${hint} in RAM, but word ${w} below it has a clear bit`);
    }
    return corrupted(op, null, 'free count', `${free} free in RAM, but no clear bit in the bitmap`);
  }

  /** free clears a frame's bit; rejects anything that is not an allocated usable frame. */
  free(frame: PhysAddr): void {
    const pfn = this.checkFrame('free', frame);
    const w = pfn >>> 5;
    const v = this.word(w);
    const bit = 1 << (pfn & 31);
    if ((v & bit) === 0)
      throw new FrameError(
        'not-allocated',
        'free',
        frame,
        'not allocated (already free: a double free, or never handed out)',
      );
    const free = this.checkGive('free', 1, frame);
    if (this.options.poison) this.fill(frame, 0, POISON_BYTE);
    this.setWord(w, v & ~bit);
    this.setFreeCount(free + 1);
    if (w < this.hint()) this.setHint(w);
  }

  /** allocContiguous finds 2^order free frames aligned to their size, scanning from the hint. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null {
    this.checkOrder('allocContiguous', order);
    if (order === 0) return this.alloc(opts);
    const n = 2 ** order;
    const free = this.freeCount();
    if (free < n) return null;
    const pfn = n < 32 ? this.findInWord(n) : this.findWords(n / 32);
    if (pfn < 0) return null;
    this.setBits(pfn, n, true);
    this.setFreeCount(free - n);
    return this.handOut(pfn * PAGE_SIZE, order, opts);
  }

  /** findInWord looks for n (< 32) aligned clear bits inside one word, from the hint. */
  private findInWord(n: number): number {
    const mask = (1 << n) - 1;
    for (let w = this.hint(); w < this.words; w++) {
      const v = this.word(w);
      if (v === FULL) continue;
      for (let s = 0; s < 32; s += n) if (((v >>> s) & mask) === 0) return w * 32 + s;
    }
    return -1;
  }

  /** findWords looks for k aligned, consecutive all-clear words. */
  private findWords(k: number): number {
    for (let w = Math.floor(this.hint() / k) * k; w + k <= this.words; w += k) {
      let clear = 0;
      while (clear < k && this.word(w + clear) === 0) clear++;
      if (clear === k) return w * 32;
    }
    return -1;
  }

  /** setBits sets or clears n bits from pfn. */
  private setBits(pfn: number, n: number, used: boolean): void {
    for (let p = pfn; p < pfn + n;) {
      const w = p >>> 5;
      const take = Math.min(32 - (p & 31), pfn + n - p);
      const mask = take === 32 ? FULL : ((1 << take) - 1) << (p & 31);
      const v = this.word(w);
      this.setWord(w, used ? v | mask : v & ~mask);
      p += take;
    }
  }

  /** freeContiguous frees a block from allocContiguous: every frame must be allocated, else nothing changes. */
  freeContiguous(frame: PhysAddr, order: number): void {
    this.checkOrder('freeContiguous', order, frame);
    const pfn = this.checkFrame('freeContiguous', frame, order);
    const n = 2 ** order;
    for (let p = pfn; p < pfn + n; p++) {
      if ((this.word(p >>> 5) & (1 << (p & 31))) === 0)
        throw new FrameError(
          'not-allocated',
          'freeContiguous',
          p * PAGE_SIZE,
          'not allocated (already free: a double free, or never handed out)',
        );
    }
    const free = this.checkGive('freeContiguous', n, frame);
    if (this.options.poison) this.fill(frame, order, POISON_BYTE);
    this.setBits(pfn, n, false);
    this.setFreeCount(free + n);
    if (pfn >>> 5 < this.hint()) this.setHint(pfn >>> 5);
  }

  /** isFree tells whether a usable frame's bit is clear. */
  isFree(frame: PhysAddr): boolean {
    const pfn = frame / PAGE_SIZE;
    if (!Number.isInteger(pfn) || !this.isUsable(pfn)) return false;
    return (this.word(pfn >>> 5) & (1 << (pfn & 31))) === 0;
  }

  /** audit recounts the free bits in RAM and checks the hint and the non-usable bits. */
  audit(): string[] {
    const out = this.auditRanges();
    if (!this.rangeTableReadable()) return out;
    let free = 0;
    let firstFree = -1;
    for (let w = 0; w < this.words; w++) {
      const v = this.word(w);
      for (let b = 0; b < 32; b++) {
        const pfn = w * 32 + b;
        if ((v & (1 << b)) !== 0) continue;
        if (!this.isUsable(pfn)) out.push(`bit of non-usable frame ${pfn} is clear`);
        free++;
        if (firstFree < 0) firstFree = w;
      }
    }
    if (free !== this.freeCount()) out.push(`free count ${this.freeCount()} but ${free} clear bits in RAM`);
    if (firstFree >= 0 && firstFree < this.hint()) out.push(`hint ${this.hint()} is past free word ${firstFree}`);
    if (this.hint() > this.words) out.push(`hint ${this.hint()} is past the map's ${this.words} words`);
    return out;
  }
}
