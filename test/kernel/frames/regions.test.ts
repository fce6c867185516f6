import { describe, expect, it } from 'vitest';
import { phys } from '../../../src/hw/addr.js';
import { MMAP_AVAILABLE, MMAP_RESERVED, type BootInfo } from '../../../src/boot/handoff.js';
import { computeRegions, countFrames, merge, subtract, REASON_LOW_MEMORY } from '../../../src/kernel/frames/regions.js';
import { fakeBoot } from '../fakeboot.js';

/** withMap replaces a fake boot's memory map, modules and reserved ranges. */
function withMap(info: BootInfo, patch: Partial<BootInfo>): BootInfo {
  return { ...info, ...patch };
}

describe('frame regions: which frames are free at boot', () => {
  it('cuts type-1 entries to whole frames: start rounded up, end rounded down', () => {
    const info = withMap(fakeBoot(), {
      memoryMap: [
        { base: 0, length: 0x9fc00, type: MMAP_AVAILABLE }, // 159 whole frames, the last 1 KiB dropped
        { base: 0x100800, length: 0x2000, type: MMAP_AVAILABLE }, // 0x100800..0x102800: only frame 0x101 is whole
        { base: 0x200000, length: 0x10000, type: MMAP_RESERVED },
      ],
      reserved: [],
      modules: [],
      multiboot: { infoAddr: phys(0x9000), ranges: [] },
      kernel: { ...fakeBoot().kernel, physicalStart: phys(0x300000), physicalEnd: phys(0x300000) },
    });
    const r = computeRegions(info, [], 'use');
    expect(r.total).toBe(159 + 1);
    expect(r.usable).toEqual([
      { start: 1, end: 0x9f },
      { start: 0x101, end: 0x102 },
    ]);
    expect(r.reservedByReason).toEqual({ 'frame 0': 1 });
    expect(r.maxPfn).toBe(0x102);
  });

  it('withholds frame 0, the kernel, multiboot ranges, modules, reserved and early frames, each frame once', () => {
    const base = fakeBoot({ ram: 16 << 20, kernelEnd: 0x120800 });
    const info = withMap(base, {
      modules: [{ start: phys(0x200000), end: phys(0x201001), cmdline: 'initrd' }],
      multiboot: {
        infoAddr: phys(0x9000),
        ranges: [
          { base: 0x9000, length: 0x100, what: 'multiboot info' },
          { base: 0x9100, length: 0x1000, what: 'multiboot memory map' },
        ],
      },
    });
    const r = computeRegions(info, [{ base: 0x121000, length: 0x3000, what: 'frame allocator metadata' }], 'use');
    expect(r.reservedByReason).toEqual({
      'frame 0': 1,
      'kernel image': 0x21, // 0x100000..0x120800 touches 0x21 frames
      'multiboot info': 1,
      'multiboot memory map': 1, // 0x9100..0xa100: frame 9 is already counted, frame 10 is new
      'boot module': 2, // 0x200000..0x201001 touches two frames
      'frame allocator metadata': 3,
    });
    const withheld = Object.values(r.reservedByReason).reduce((a, b) => a + b, 0);
    expect(countFrames(r.usable) + withheld).toBe(r.total);
    expect(countFrames(r.reserved)).toBe(withheld);
  });

  it("the low-1-MiB policy: 'reserve' withholds every frame below 1 MiB", () => {
    const info = fakeBoot({ ram: 16 << 20 });
    const use = computeRegions(info, [], 'use');
    const reserve = computeRegions(info, [], 'reserve');
    expect(use.usable[0].start).toBe(1);
    expect(reserve.usable[0].start).toBeGreaterThanOrEqual(0x100);
    // 159 low frames minus frame 0 and the multiboot info
    expect(reserve.reservedByReason[REASON_LOW_MEMORY]).toBe(0x9f - 2);
  });

  it('ignores memory above 4 GiB and non-type-1 entries overlapping RAM are withheld', () => {
    const info = withMap(fakeBoot(), {
      memoryMap: [
        { base: 0x100000, length: 0x1_0000_0000, type: MMAP_AVAILABLE },
        { base: 0x400000, length: 0x1000, type: MMAP_RESERVED },
      ],
    });
    const r = computeRegions(info, [], 'use');
    expect(r.maxPfn).toBe(0x100000);
    expect(r.reservedByReason['memory map type 2 (overlapping RAM)']).toBe(1);
  });

  it('subtract and merge behave as interval arithmetic', () => {
    expect(subtract([{ start: 0, end: 10 }], { start: 3, end: 5 })).toEqual({
      kept: [
        { start: 0, end: 3 },
        { start: 5, end: 10 },
      ],
      removed: [{ start: 3, end: 5 }],
    });
    expect(
      merge([
        { start: 5, end: 7 },
        { start: 0, end: 5 },
        { start: 9, end: 10 },
      ]),
    ).toEqual([
      { start: 0, end: 7 },
      { start: 9, end: 10 },
    ]);
  });
});
