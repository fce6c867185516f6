// Which frames are free at boot. From the hand-off: only type-1 memory-map
// regions, cut to whole frames (start rounded up, end rounded down), minus
// frame 0, any non-type-1 entry overlapping a type-1 one, the kernel image
// (from the linker labels), the multiboot structure
// and its memory map, the modules, everything else the loader reserved, the
// frames the early allocator gave out (the allocator's own metadata among
// them) and, by policy, the low 1 MiB. Each withheld frame is counted once,
// under the first reason that claims it, in the order above.

import { PAGE_SIZE } from '../../hw/addr.js';
import type { BootInfo, ReservedRange } from '../../boot/handoff.js';
import { MMAP_AVAILABLE } from '../../boot/handoff.js';

/** Frames [start, end) by frame number (pfn = physical address / 4096). */
export interface PfnRange {
  readonly start: number;
  readonly end: number;
}

export interface ReservedPfnRange extends PfnRange {
  readonly reason: string;
}

/** The low 1 MiB: 'use' hands out its type-1 frames (frame 0 excepted); 'reserve' withholds them (Linux 5.13+). */
export type LowMemoryPolicy = 'use' | 'reserve';

export interface FrameRegions {
  /** Whole frames inside type-1 memory-map regions (below 4 GiB). */
  readonly total: number;
  /** One past the highest such frame: the maps cover pfns [0, maxPfn). */
  readonly maxPfn: number;
  /** The frames the allocator manages: sorted, disjoint, non-adjacent. */
  readonly usable: readonly PfnRange[];
  /** Type-1 frames withheld, each under one reason: sorted, disjoint. */
  readonly reserved: readonly ReservedPfnRange[];
  /** Withheld frames per reason. */
  readonly reservedByReason: Readonly<Record<string, number>>;
}

export const REASON_FRAME0 = 'frame 0';
export const REASON_LOW_MEMORY = 'low memory (below 1 MiB, policy)';
export const REASON_MODULE = 'boot module';
export const REASON_KERNEL = 'kernel image';
const PFN_LIMIT = 0x100000; // 4 GiB: 32-bit paging without PAE cannot map frames above
const LOW_MEMORY_END = 0x100; // pfn of 1 MiB

/** computeRegions splits the type-1 frames into usable and reserved-by-reason. */
export function computeRegions(info: BootInfo, taken: readonly ReservedRange[], low: LowMemoryPolicy): FrameRegions {
  let usable = availableFrames(info);
  const total = countFrames(usable);
  const maxPfn = usable.length === 0 ? 0 : usable[usable.length - 1].end;
  const reserved: ReservedPfnRange[] = [];
  for (const claim of claims(info, taken, low)) {
    const cut = subtract(usable, claim);
    for (const r of cut.removed) reserved.push({ ...r, reason: claim.reason });
    usable = cut.kept;
  }
  reserved.sort((a, b) => a.start - b.start);
  return { total, maxPfn, usable, reserved, reservedByReason: tally(reserved) };
}

/** availableFrames gives the whole frames of type-1 entries below 4 GiB, merged and sorted. */
function availableFrames(info: BootInfo): PfnRange[] {
  const out: PfnRange[] = [];
  for (const e of info.memoryMap) {
    if (e.type !== MMAP_AVAILABLE) continue;
    const start = Math.ceil(e.base / PAGE_SIZE);
    const end = Math.min(Math.floor((e.base + e.length) / PAGE_SIZE), PFN_LIMIT);
    if (end > start) out.push({ start, end });
  }
  return merge(out);
}

/** claims lists every range withheld from the allocator, in priority order, as pfn ranges (partial frames whole). */
function claims(info: BootInfo, taken: readonly ReservedRange[], low: LowMemoryPolicy): ReservedPfnRange[] {
  const k = info.kernel;
  const out: ReservedPfnRange[] = [{ start: 0, end: 1, reason: REASON_FRAME0 }];
  for (const e of info.memoryMap) {
    if (e.type !== MMAP_AVAILABLE) out.push(byteClaim(e.base, e.length, `memory map type ${e.type} (overlapping RAM)`));
  }
  out.push(byteClaim(k.physicalStart, k.physicalEnd - k.physicalStart, REASON_KERNEL));
  for (const r of info.multiboot.ranges) out.push(byteClaim(r.base, r.length, r.what));
  for (const m of info.modules) out.push(byteClaim(m.start, m.end - m.start, REASON_MODULE));
  for (const r of info.reserved) out.push(byteClaim(r.base, r.length, r.what));
  for (const r of taken) out.push(byteClaim(r.base, r.length, r.what));
  if (low === 'reserve') out.push({ start: 0, end: LOW_MEMORY_END, reason: REASON_LOW_MEMORY });
  return out.filter((c) => c.end > c.start);
}

/** byteClaim turns a byte range into the frames it touches. */
function byteClaim(base: number, length: number, reason: string): ReservedPfnRange {
  if (length <= 0) return { start: 0, end: 0, reason };
  return { start: Math.floor(base / PAGE_SIZE), end: Math.ceil((base + length) / PAGE_SIZE), reason };
}

/** subtract removes `cut` from sorted ranges; returns what is kept and what was removed. */
export function subtract(ranges: readonly PfnRange[], cut: PfnRange): { kept: PfnRange[]; removed: PfnRange[] } {
  const kept: PfnRange[] = [];
  const removed: PfnRange[] = [];
  for (const r of ranges) {
    const lo = Math.max(r.start, cut.start);
    const hi = Math.min(r.end, cut.end);
    if (lo >= hi) {
      kept.push(r);
      continue;
    }
    if (r.start < lo) kept.push({ start: r.start, end: lo });
    removed.push({ start: lo, end: hi });
    if (hi < r.end) kept.push({ start: hi, end: r.end });
  }
  return { kept, removed };
}

/** merge sorts ranges and joins overlapping or adjacent ones. */
export function merge(ranges: readonly PfnRange[]): PfnRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: PfnRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last !== undefined && r.start <= last.end)
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push(r);
  }
  return out;
}

/** countFrames sums the lengths of ranges. */
export function countFrames(ranges: readonly PfnRange[]): number {
  return ranges.reduce((n, r) => n + r.end - r.start, 0);
}

/** tally counts reserved frames per reason. */
function tally(reserved: readonly ReservedPfnRange[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reserved) out[r.reason] = (out[r.reason] ?? 0) + r.end - r.start;
  return out;
}

/** findRange returns the index of the range holding pfn, or -1 (binary search). */
export function findRange(ranges: readonly PfnRange[], pfn: number): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (pfn < r.start) hi = mid - 1;
    else if (pfn >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}
