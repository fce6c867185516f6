import { describe, expect, it } from 'vitest';
import { FRAME_STRATEGIES } from '../../../src/kernel/frames/api.js';
import { checkFrameAllocator } from '../../../src/kernel/frames/check.js';
import { MACHINES, bootWith } from './helpers.js';

describe('frame allocators: JOS-style self-checks', () => {
  const small = ['1 MiB (640 KiB + 384 KiB)', '16 MiB', 'holes (0-640K, 1-20M, 24-25M, 64-96M)'];
  for (const strategy of FRAME_STRATEGIES) {
    for (const name of small) {
      it(`${strategy} on ${name}: allocate everything, all distinct and usable, free everything`, () => {
        const b = bootWith(MACHINES[name], strategy);
        const r = checkFrameAllocator(b.alloc, b.core.slot);
        expect(r.problems).toEqual([]);
        expect(r.allocated).toBe(b.alloc.stats().usable);
        expect(r.allocated).toBeGreaterThan(0);
      });
    }
    it(`${strategy} with the low 1 MiB reserved and a PSE boot: nothing below 1 MiB is handed out`, () => {
      const b = bootWith(16 << 20, strategy, { lowMemory: 'reserve' }, true);
      const r = checkFrameAllocator(b.alloc, b.core.slot);
      expect(r.problems).toEqual([]);
      expect(b.alloc.regions.usable[0].start).toBeGreaterThanOrEqual(0x100);
      /** the PSE split took a page table from the early allocator: withheld under its own reason */
      expect(b.alloc.stats().reserved['kernel page table (PDE 768)']).toBe(1);
    });
    it(`${strategy} with poisoning on: freed frames hold the poison pattern`, () => {
      const b = bootWith(MACHINES['1 MiB (640 KiB + 384 KiB)'], strategy, { poison: true });
      expect(checkFrameAllocator(b.alloc, b.core.slot).problems).toEqual([]);
    });
  }

  it('the check reports a corrupted bitmap (it can fail)', () => {
    const b = bootWith(16 << 20, 'bitmap');
    const map = b.machine.mem.read32(b.alloc.metadata.base + 0x10);
    b.machine.mem.write32(map + 64, 0xffffffff); // 32 frames silently marked in use
    const r = checkFrameAllocator(b.alloc, b.core.slot);
    expect(r.problems.join('\n')).toMatch(/free count/);
  });

  it('the check reports a free list linking to a reserved frame (it can fail)', () => {
    const b = bootWith(16 << 20, 'list');
    const f = b.alloc.alloc()!;
    b.alloc.free(f);
    b.machine.mem.write32(f, 0x100000); // the kernel image
    expect(b.alloc.audit().join('\n')).toMatch(/non-usable/);
  });

  it('audit reads the header words from RAM: a head, a bitmap word, an order head or a range changed there is reported', () => {
    const list = bootWith(16 << 20, 'list');
    list.alloc.free(list.alloc.alloc()!);
    list.machine.mem.write32(list.alloc.metadata.base + 0x20, 0); // the list head in RAM: the freed frame is lost
    expect(list.alloc.audit().join('\n')).toMatch(/free count \d+ but 0 listed \+ \d+ beyond the frontier/);
    const f = list.alloc.alloc()!;
    const word = list.alloc.metadata.base + 4096 + Math.floor(f / 4096 / 32) * 4;
    list.machine.mem.write32(word, 0); // the allocation-bitmap word of f
    expect(list.alloc.audit().join('\n')).toMatch(/\d+ allocation bits set, expected \d+/);
    const buddy = bootWith(16 << 20, 'buddy');
    buddy.machine.mem.write32(buddy.alloc.metadata.base + 0x20 + 4 * 10, 0); // heads[10]
    expect(buddy.alloc.audit().join('\n')).toMatch(/free block 0x[0-9A-F]+ of order 10 is on no free list/);
    const bitmap = bootWith(16 << 20, 'bitmap');
    bitmap.machine.mem.write32(bitmap.alloc.metadata.base + 0x80, 7); // the first usable range's start
    expect(bitmap.alloc.audit().join('\n')).toMatch(/range 0 in RAM/);
  });

  it('audit flags an early allocation made after the frame allocator started', () => {
    const b = bootWith(16 << 20, 'bitmap');
    expect(b.alloc.audit()).toEqual([]);
    b.core.early.alloc(1, 'too late');
    expect(b.alloc.audit().join('\n')).toMatch(/'too late' .* after the frame allocator started/);
  });
});
