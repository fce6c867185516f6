// What the three strategies share: the usable-range table and the free count
// (both read from the header in RAM where they are used), argument checks
// that name the address and the reason a frame cannot be freed, poison and
// zero fills through the temporary-mapping slot, and the statistics.

import { PAGE_SIZE, hex, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import type { ReservedRange } from '../../boot/handoff.js';
import type { TempSlot } from '../vm/slot.js';
import type { AllocOptions, FrameAllocatorOptions, FrameMetadata, FrameStats, FrameStrategy } from './api.js';
import { FrameError, corrupted } from './error.js';
import { findRange, type FrameRegions, type PfnRange } from './regions.js';
import { H_NFREE, H_NRANGES, H_NUSABLE, H_RANGES, H_KIND, type FrameSetup } from './setup.js';

/** Linux's PAGE_POISON: freed frames are filled with it when poisoning is on. */
export const POISON_BYTE = 0xaa;
export const MAX_ORDER = 10;
const KINDS: Record<FrameStrategy, number> = { bitmap: 1, list: 2, buddy: 3 };

export abstract class FrameAllocatorBase {
  abstract readonly strategy: FrameStrategy;
  readonly regions: FrameRegions;
  readonly metadata: FrameMetadata;
  protected readonly machine: Machine;
  protected readonly slot: TempSlot;
  protected readonly header: number;
  protected readonly map: number;
  /** The boot-time ranges (the report's copy); decisions read the table in RAM. */
  protected readonly ranges: readonly PfnRange[];
  /** Room in the header's range table (a C kernel's compile-time bound). */
  private readonly rangeCapacity: number;
  /** Index of the range the last checkFrame hit: a search hint, its bounds read from RAM on use. */
  private lastRange = 0;
  private readonly early: ReservedRange[];
  private readonly earlyAtStart: number;

  constructor(
    setup: FrameSetup,
    readonly options: Required<FrameAllocatorOptions>,
  ) {
    this.regions = setup.regions;
    this.metadata = setup.metadata;
    this.machine = setup.machine;
    this.slot = setup.core.slot;
    this.header = setup.headerLinear;
    this.map = setup.mapLinear;
    this.ranges = setup.regions.usable;
    this.rangeCapacity = setup.rangeCapacity;
    this.early = setup.core.early.taken;
    this.earlyAtStart = this.early.length;
  }

  /** stamp records the strategy in the header (called by each constructor). */
  protected stamp(strategy: FrameStrategy): void {
    this.machine.write32(this.header + H_KIND, KINDS[strategy]);
  }

  /** stats reports the totals: frames in RAM, usable, free, used and reserved by reason. */
  stats(): FrameStats {
    const r = this.regions;
    const usable = this.usableCount();
    const free = this.freeCount();
    return { total: r.total, usable, free, used: usable - free, reserved: { ...r.reservedByReason } };
  }

  /** freeCount reads the header's free-frame count. */
  protected freeCount(): number {
    return this.machine.read32(this.header + H_NFREE);
  }

  /** usableCount reads the header's count of managed frames. */
  protected usableCount(): number {
    return this.machine.read32(this.header + H_NUSABLE);
  }

  /**
   * takeFree checks that the free count in RAM has n frames to give (else the
   * count is corrupted: it says fewer than the map holds) and returns it; nothing is written.
   */
  protected checkTake(op: string, n: number, frame: number | null = null): number {
    const free = this.freeCount();
    if (free < n) throw corrupted(op, frame, 'free count', `${free} free in RAM, but a free block of ${n} was found`);
    return free;
  }

  /** checkGive checks that n more free frames stay within the usable count; returns the free count. */
  protected checkGive(op: string, n: number, frame: number): number {
    const free = this.freeCount();
    const usable = this.usableCount();
    if (free + n > usable)
      throw corrupted(op, frame, 'free count', `${free} free + ${n} freed exceeds the ${usable} usable frames`);
    return free;
  }

  /** setFreeCount writes the header's free count. */
  protected setFreeCount(n: number): void {
    this.machine.write32(this.header + H_NFREE, n);
  }

  /** rangeCount reads nranges from the header; beyond the table's room it is corrupted. */
  protected rangeCount(op: string): number {
    const n = this.machine.read32(this.header + H_NRANGES);
    if (n > this.rangeCapacity)
      throw corrupted(op, null, 'range table', `${n} ranges in RAM, room for ${this.rangeCapacity}`);
    return n;
  }

  /** rangeTableReadable: nranges in RAM fits the table (else audits stop at the range check). */
  protected rangeTableReadable(): boolean {
    return this.machine.read32(this.header + H_NRANGES) <= this.rangeCapacity;
  }

  /** rangeStart reads the first pfn of range i from RAM. */
  protected rangeStart(i: number): number {
    return this.machine.read32(this.header + H_RANGES + 8 * i);
  }

  /** rangeEnd reads one past the last pfn of range i from RAM. */
  protected rangeEnd(i: number): number {
    return this.machine.read32(this.header + H_RANGES + 8 * i + 4);
  }

  /** findRangeInRam binary-searches the range table in RAM for pfn; -1 when no range holds it. */
  protected findRangeInRam(op: string, pfn: number): number {
    let lo = 0;
    let hi = this.rangeCount(op) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pfn < this.rangeStart(mid)) hi = mid - 1;
      else if (pfn >= this.rangeEnd(mid)) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /**
   * checkFrame validates an address handed back to the allocator and returns its pfn;
   * throws FrameError naming the address if it is not a usable frame aligned to 2^order frames.
   * The common case (one frame, in the range the last call hit) reads that range's two words from RAM.
   */
  protected checkFrame(op: string, frame: number, order = 0): number {
    if (order === 0 && frame >= 0 && frame < 0x1_0000_0000 && frame % PAGE_SIZE === 0) {
      const pfn = frame / PAGE_SIZE;
      const last = this.lastRange;
      if (pfn >= this.rangeStart(last) && pfn < this.rangeEnd(last)) return pfn;
      const i = this.findRangeInRam(op, pfn);
      if (i >= 0) {
        this.lastRange = i;
        return pfn;
      }
    }
    return this.checkBlock(op, frame, order);
  }

  /** checkBlock is checkFrame's general case: any order, and every error. */
  private checkBlock(op: string, frame: number, order: number): number {
    if (!Number.isInteger(frame) || frame < 0 || frame >= 0x1_0000_0000)
      throw new FrameError('bad-address', op, frame, 'not a 32-bit physical address');
    const bytes = PAGE_SIZE * 2 ** order;
    if (frame % bytes !== 0) {
      throw new FrameError(
        'misaligned',
        op,
        frame,
        order === 0
          ? `not frame-aligned (offset ${hex(frame % PAGE_SIZE, 3)} into its frame)`
          : `not aligned to a ${2 ** order}-frame block (order ${order})`,
      );
    }
    const pfn = frame / PAGE_SIZE;
    for (let p = pfn; p < pfn + 2 ** order; p++) if (this.findRangeInRam(op, p) < 0) throw this.unusable(op, p);
    return pfn;
  }

  /** unusable explains why a pfn is not managed: its reservation reason, or no RAM there. */
  private unusable(op: string, pfn: number): FrameError {
    const r = this.regions.reserved.find((x) => x.start <= pfn && pfn < x.end);
    if (r !== undefined)
      return new FrameError('reserved', op, pfn * PAGE_SIZE, `reserved frame (${r.reason}), never handed out`);
    return new FrameError(
      'not-ram',
      op,
      pfn * PAGE_SIZE,
      'not usable RAM (outside the type-1 regions of the memory map)',
    );
  }

  /** checkOrder rejects an order outside 0..MAX_ORDER. */
  protected checkOrder(op: string, order: number, frame: number | null = null): void {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
      throw new FrameError('bad-order', op, frame, `order ${order} is outside 0..${MAX_ORDER}`);
    }
  }

  /** isUsable tells whether a pfn is one the allocator manages (from the range table in RAM). */
  protected isUsable(pfn: number): boolean {
    return this.findRangeInRam('isFree', pfn) >= 0;
  }

  /** fill writes one byte value over 2^order frames from `frame`, each through the slot. */
  protected fill(frame: number, order: number, byte: number): void {
    for (let i = 0; i < 2 ** order; i++) this.slot.fillFrame((frame + i * PAGE_SIZE) as PhysAddr, byte);
  }

  /** handOut zeroes a fresh block if asked and returns its address. */
  protected handOut(frame: number, order: number, opts: AllocOptions | undefined): PhysAddr {
    if (opts?.zero === true) this.fill(frame, order, 0);
    return frame as PhysAddr;
  }

  /**
   * auditRanges compares the range table in RAM with the JS copy, and flags
   * early allocations made after the allocator started (they overlap its frames).
   */
  protected auditRanges(): string[] {
    const m = this.machine;
    const out: string[] = [];
    for (const r of this.early.slice(this.earlyAtStart)) {
      const first = Math.floor(r.base / PAGE_SIZE);
      if (findRange(this.ranges, first) >= 0)
        out.push(
          `early allocation '${r.what}' at ${hex(r.base)} was made after the frame allocator started: it owns those frames`,
        );
    }
    if (m.read32(this.header + H_NRANGES) !== this.ranges.length)
      return [...out, `range count in RAM is ${m.read32(this.header + H_NRANGES)}, JS copy ${this.ranges.length}`];
    const usable = this.ranges.reduce((n, r) => n + r.end - r.start, 0);
    if (this.usableCount() !== usable)
      out.push(`usable count in RAM is ${this.usableCount()}, the ranges hold ${usable}`);
    if (this.freeCount() > this.usableCount())
      out.push(`free count ${this.freeCount()} exceeds the ${this.usableCount()} usable frames`);
    this.ranges.forEach((r, i) => {
      const s = m.read32(this.header + H_RANGES + 8 * i);
      const e = m.read32(this.header + H_RANGES + 8 * i + 4);
      if (s !== r.start || e !== r.end) out.push(`range ${i} in RAM is [${s}, ${e}), JS copy [${r.start}, ${r.end})`);
    });
    return out;
  }
}
