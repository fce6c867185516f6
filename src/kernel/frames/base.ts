// What the three strategies share: the usable-range table (a JS copy of the
// one in RAM, read-only after boot), argument checks that name the address
// and the reason a frame cannot be freed, poison and zero fills through the
// temporary-mapping slot, and the statistics.

import { hex, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import type { ReservedRange } from '../../boot/handoff.js';
import type { TempSlot } from '../vm/slot.js';
import type { AllocOptions, FrameAllocatorOptions, FrameMetadata, FrameStats, FrameStrategy } from './allocator.js';
import { FrameError } from './error.js';
import { findRange, type FrameRegions, type PfnRange } from './regions.js';
import { H_NRANGES, H_RANGES, H_KIND, type FrameSetup } from './setup.js';

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
  protected readonly ranges: readonly PfnRange[];
  protected readonly usableCount: number;
  /** Free frames: an accelerator, derived from the state in RAM (audit() recounts it). */
  protected nfree: number;
  /** Index of the usable range the last checkFrame hit (an accelerator over a read-only table). */
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
    this.usableCount = this.ranges.reduce((n, r) => n + r.end - r.start, 0);
    this.nfree = this.usableCount;
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
    return {
      total: r.total,
      usable: this.usableCount,
      free: this.nfree,
      used: this.usableCount - this.nfree,
      reserved: { ...r.reservedByReason },
    };
  }

  /**
   * checkFrame validates an address handed back to the allocator and returns its pfn;
   * throws FrameError naming the address if it is not a usable frame aligned to 2^order frames.
   * The common case (one frame, in the range the last call hit) touches no array but that range.
   */
  protected checkFrame(op: string, frame: number, order = 0): number {
    if (order === 0 && frame >= 0 && frame < 0x1_0000_0000 && frame % 4096 === 0) {
      const pfn = frame / 4096;
      const r = this.ranges[this.lastRange];
      if (r !== undefined && pfn >= r.start && pfn < r.end) return pfn;
      const i = findRange(this.ranges, pfn);
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
      throw new FrameError(op, frame, 'not a 32-bit physical address');
    const bytes = 4096 * 2 ** order;
    if (frame % bytes !== 0) {
      throw new FrameError(
        op,
        frame,
        order === 0
          ? `not frame-aligned (offset ${hex(frame % 4096, 3)} into its frame)`
          : `not aligned to a ${2 ** order}-frame block (order ${order})`,
      );
    }
    const pfn = frame / 4096;
    for (let p = pfn; p < pfn + 2 ** order; p++) {
      if (findRange(this.ranges, p) < 0) throw new FrameError(op, p * 4096, this.whyUnusable(p));
    }
    return pfn;
  }

  /** whyUnusable explains why a pfn is not managed: its reservation reason, or no RAM there. */
  protected whyUnusable(pfn: number): string {
    const r = this.regions.reserved.find((x) => x.start <= pfn && pfn < x.end);
    if (r !== undefined) return `reserved frame (${r.reason}), never handed out`;
    return 'not usable RAM (outside the type-1 regions of the memory map)';
  }

  /** checkOrder rejects an order outside 0..MAX_ORDER. */
  protected checkOrder(op: string, order: number, frame: number | null = null): void {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
      throw new FrameError(op, frame, `order ${order} is outside 0..${MAX_ORDER}`);
    }
  }

  /** isUsable tells whether a pfn is one the allocator manages. */
  protected isUsable(pfn: number): boolean {
    return findRange(this.ranges, pfn) >= 0;
  }

  /** fill writes one byte value over 2^order frames from `frame`, each through the slot. */
  protected fill(frame: number, order: number, byte: number): void {
    for (let i = 0; i < 2 ** order; i++) this.slot.fillFrame((frame + i * 4096) as PhysAddr, byte);
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
      const first = Math.floor(r.base / 4096);
      if (findRange(this.ranges, first) >= 0)
        out.push(
          `early allocation '${r.what}' at ${hex(r.base)} was made after the frame allocator started: it owns those frames`,
        );
    }
    if (m.read32(this.header + H_NRANGES) !== this.ranges.length)
      out.push('range count in RAM differs from the JS copy');
    this.ranges.forEach((r, i) => {
      const s = m.read32(this.header + H_RANGES + 8 * i);
      const e = m.read32(this.header + H_RANGES + 8 * i + 4);
      if (s !== r.start || e !== r.end) out.push(`range ${i} in RAM is [${s}, ${e}), JS copy [${r.start}, ${r.end})`);
    });
    return out;
  }
}
