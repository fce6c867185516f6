// What `pagelab boot` prints about physical memory: the strategy, the
// totals (frames in RAM, usable, free, used), the reserved frames by reason,
// where the metadata lives and the low-1-MiB policy. The JSON keeps the boot
// contract's `frames: {total, free, reserved}` and adds the details.

import { PAGE_SIZE, hex } from '../../hw/addr.js';
import type { FrameAllocator, FrameStrategy } from './api.js';

export interface FrameReportJson {
  readonly strategy: FrameStrategy;
  readonly total: number;
  readonly usable: number;
  readonly free: number;
  readonly used: number;
  /** Frames withheld, all reasons together. */
  readonly reserved: number;
  readonly reservedByReason: Record<string, number>;
  readonly metadata: {
    readonly base: number;
    readonly frames: number;
    readonly bytes: number;
    readonly bytesPerFrame: number;
  };
  readonly lowMemory: 'use' | 'reserve';
  readonly poison: boolean;
}

const DESCRIPTIONS: Record<FrameStrategy, string> = {
  bitmap: 'one bit per frame, searched a 32-bit word at a time from a hint',
  list: 'free frames linked through their first word (reached through the temporary-mapping slot), plus a frontier',
  buddy: 'blocks of 2^0..2^10 frames, a free list per order, split on allocation, merged with the buddy on free',
};

/** frameReport describes an allocator for the boot log (lines) and the boot JSON (json). */
export function frameReport(alloc: FrameAllocator): { lines: string[]; json: FrameReportJson } {
  const s = alloc.stats();
  const reserved = Object.values(s.reserved).reduce((a, b) => a + b, 0);
  const m = alloc.metadata;
  const bytesPerFrame = s.total === 0 ? 0 : m.bytes / s.total;
  const reasons = Object.entries(s.reserved)
    .map(([why, n]) => `${why} ${n}`)
    .join(', ');
  const lines = [
    `strategy: ${alloc.strategy} (${DESCRIPTIONS[alloc.strategy]})`,
    `frames: ${s.total} in available RAM (${mib(s.total)}), ${s.usable} usable, ${s.free} free, ${s.used} used`,
    `reserved: ${reserved} frames${reasons === '' ? '' : ': ' + reasons}`,
    `metadata: ${m.frames} frame(s) at ${hex(m.base)}, ${m.bytes} bytes used (${bytesPerFrame.toFixed(3)} bytes per frame)`,
    `low 1 MiB: ${alloc.options.lowMemory === 'use' ? 'handed out (frame 0 and firmware areas excepted)' : 'reserved whole'}${alloc.options.poison ? '; freed frames are poisoned' : ''}`,
  ];
  const json: FrameReportJson = {
    strategy: alloc.strategy,
    total: s.total,
    usable: s.usable,
    free: s.free,
    used: s.used,
    reserved,
    reservedByReason: { ...s.reserved },
    metadata: { base: m.base, frames: m.frames, bytes: m.bytes, bytesPerFrame },
    lowMemory: alloc.options.lowMemory,
    poison: alloc.options.poison,
  };
  return { lines, json };
}

/** mib formats a frame count as MiB. */
function mib(frames: number): string {
  return `${((frames * PAGE_SIZE) / 0x100000).toFixed(1)} MiB`;
}
