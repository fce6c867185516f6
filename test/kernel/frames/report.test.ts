import { describe, expect, it } from 'vitest';
import { phys } from '../../../src/hw/addr.js';
import { boot } from '../../../src/boot/boot.js';
import { setupKernelCore } from '../../../src/kernel/vm/core.js';
import { createFrameAllocator } from '../../../src/kernel/frames/allocator.js';
import { FRAME_STRATEGIES } from '../../../src/kernel/frames/api.js';
import { checkFrameAllocator } from '../../../src/kernel/frames/check.js';
import { frameReport } from '../../../src/kernel/frames/report.js';
import { bootWith } from './helpers.js';

describe('frame report and the real boot hand-off', () => {
  it('reports totals, reserved frames by reason and the metadata; the JSON keeps {total, free, reserved}', () => {
    const b = bootWith(16 << 20, 'bitmap');
    b.alloc.alloc();
    const r = frameReport(b.alloc);
    const s = b.alloc.stats();
    expect(r.json.total).toBe(s.total);
    expect(r.json.free).toBe(s.usable - 1);
    expect(r.json.used).toBe(1);
    expect(r.json.reserved).toBe(s.total - s.usable);
    expect(r.json.reservedByReason['kernel image']).toBe(16);
    expect(r.json.metadata.frames).toBe(b.alloc.metadata.frames);
    expect(r.lines[0]).toMatch(/^strategy: bitmap/);
    expect(r.lines[1]).toBe(
      `frames: ${s.total} in available RAM (15.6 MiB), ${s.usable} usable, ${s.usable - 1} free, 1 used`,
    );
    expect(r.lines.join('\n')).toMatch(
      /reserved: \d+ frames: frame 0 1, multiboot info 1, kernel image 16, frame allocator metadata \d/,
    );
  });

  for (const strategy of FRAME_STRATEGIES) {
    it(`${strategy} on the real boot path (default kernel, 32 MiB): self-checks hold, boot ranges withheld`, () => {
      const booted = boot({ ram: 32 << 20 });
      const core = setupKernelCore(booted.info);
      const alloc = createFrameAllocator(core, strategy);
      const k = booted.info.kernel;
      for (let f = Math.floor(k.physicalStart / 4096); f * 4096 < k.physicalEnd; f++)
        expect(alloc.isFree(phys(f * 4096))).toBe(false);
      for (const range of booted.info.reserved)
        expect(alloc.isFree(phys(Math.floor(range.base / 4096) * 4096))).toBe(false);
      expect(checkFrameAllocator(alloc, core.slot).problems).toEqual([]);
      expect(frameReport(alloc).json.reserved).toBeGreaterThan(0);
    });
  }
});
