// Shared by the frame-allocator tests: machines of several shapes (via
// fakeBoot), an allocator on each, and a snapshot of RAM to prove a rejected
// call changed nothing.

import type { RamRange } from '../../../src/hw/memory.js';
import type { Machine } from '../../../src/hw/machine.js';
import { setupKernelCore, type KernelCore } from '../../../src/kernel/vm/core.js';
import { createFrameAllocator } from '../../../src/kernel/frames/allocator.js';
import type { FrameAllocator, FrameAllocatorOptions, FrameStrategy } from '../../../src/kernel/frames/api.js';
import { fakeBoot } from '../fakeboot.js';

const MiB = 0x100000;

/** Machines from 1 MiB to 4 GiB, some with holes (explicit RAM ranges). */
export const MACHINES: Record<string, number | RamRange[]> = {
  '1 MiB (640 KiB + 384 KiB)': [
    { base: 0, length: 0xa0000 },
    { base: MiB, length: 0x60000 },
  ],
  '16 MiB': 16 * MiB,
  'holes (0-640K, 1-20M, 24-25M, 64-96M)': [
    { base: 0, length: 0xa0000 },
    { base: MiB, length: 19 * MiB },
    { base: 24 * MiB, length: MiB },
    { base: 64 * MiB, length: 32 * MiB },
  ],
  '4 GiB with a 3-3.25 GiB hole': [
    { base: 0, length: 0xa0000 },
    { base: MiB, length: 0xc0000000 - MiB },
    { base: 0xd0000000, length: 0x30000000 },
  ],
  '4 GiB': 4096 * MiB,
};

export interface Booted {
  readonly core: KernelCore;
  readonly machine: Machine;
  readonly alloc: FrameAllocator;
}

/** bootWith boots a fake machine and builds an allocator on it. */
export function bootWith(
  ram: number | RamRange[],
  strategy: FrameStrategy,
  options: FrameAllocatorOptions = {},
  pse = false,
): Booted {
  const info = fakeBoot({ ram, pse });
  const core = setupKernelCore(info);
  return { core, machine: info.machine, alloc: createFrameAllocator(core, strategy, options) };
}

/**
 * ramImage copies every written 64 KiB chunk of RAM, with the kernel's page
 * directory and first page table blanked (walks set accessed bits there).
 */
export function ramImage(b: Booted): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const skip = [b.core.directory, b.core.firstTable];
  b.machine.mem.forEachWrittenChunk((base, bytes) => {
    const copy = bytes.slice();
    for (const f of skip) if (f >= base && f < base + copy.length) copy.fill(0, f - base, f - base + 4096);
    out.set(base, copy);
  });
  return out;
}

/** sameImage compares two RAM images; returns the first differing chunk base or null. */
export function imageDiff(a: Map<number, Uint8Array>, b: Map<number, Uint8Array>): number | null {
  for (const [base, bytes] of b) {
    const old = a.get(base);
    if (old === undefined) return base;
    if (Buffer.compare(old, bytes) !== 0) return base;
  }
  return a.size === b.size ? null : -1;
}

/**
 * freeFramesInRam counts the free frames by decoding the allocator's map straight from physical
 * memory (header at metadata.base, map address at +0x10), independently of its code and counters:
 * bitmap and list, the clear bits of usable frames; buddy, 2^k for each FREE|k state byte.
 */
export function freeFramesInRam(
  mem: { read32(p: number): number; read8(p: number): number },
  a: FrameAllocator,
): number {
  const map = mem.read32(a.metadata.base + 0x10);
  let free = 0;
  for (const r of a.regions.usable) {
    for (let pfn = r.start; pfn < r.end; pfn++) {
      if (a.strategy === 'buddy') {
        const s = mem.read8(map + pfn);
        if (s !== 0xff && (s & 0x80) !== 0) free += 2 ** (s & 0x3f);
      } else if ((mem.read32(map + (pfn >>> 5) * 4) & (1 << (pfn & 31))) === 0) free++;
    }
  }
  return free;
}
