// kernelMain on the real boot path, for every frame allocator and both
// page-table access strategies: each stage comes up and leaves consistent state.
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/boot/boot.js';
import { kernelMain } from '../../src/kernel/main.js';
import { PF_P, PF_U } from '../../src/hw/paging.js';
import { freeFramesInRam } from './frames/helpers.js';

describe('kernelMain after the real boot', () => {
  for (const frames of ['bitmap', 'list', 'buddy'] as const) {
    for (const ptAccess of ['slot', 'recursive'] as const) {
      for (const pse of [false, true]) {
        it(`frames=${frames} pt-access=${ptAccess} ${pse ? 'pse' : 'no-pse'}`, () => {
          const { info } = boot({ ram: 32 << 20, pse });
          const r = kernelMain(info, {
            frames,
            ptAccess,
            heap: frames === 'buddy' ? 'slab' : 'kr',
            tlbMissCounter: () => info.machine.mmu.counters().misses,
          });
          const k = r.kernel;
          expect(r.sections.map((s) => s.title)).toEqual([
            'physical memory: frame allocator (at bring-up)',
            'kernel virtual memory',
            'kernel heap',
            'segmentation',
            'page-fault test',
            'at the end',
          ]);
          const j = r.json as {
            frames: { total: number; free: number; reserved: number };
            pageFault: { cr2: number; errorCode: number };
            vm: { switchCost: { kernelMisses: number; userMisses: number } };
          };
          expect(j.frames.total).toBe(k.frames.stats().total);
          expect(j.frames.free).toBeLessThan(j.frames.total);
          expect(j.frames.free).toBe(k.frames.stats().free); // the JSON's figures are those of the end of the run
          expect(j.frames.free).toBe(freeFramesInRam(info.machine.mem, k.frames)); // and what the map in RAM says
          expect(k.vm.audit()).toEqual([]);
          expect(j.pageFault).toMatchObject({ cr2: 0xd8000000, errorCode: 0 });
          expect(j.vm.switchCost).toEqual({ kernelMisses: 0, userMisses: 1 });
          expect(k.frames.audit()).toEqual([]);
          expect(k.heap.check()).toEqual([]);
          expect(k.vm.tracker.outstanding).toBe(0);
          expect(k.vm.all.length).toBe(1); // the demo's user space was destroyed
          /** the kernel is still usable: its image reads through the MMU, user access is refused */
          const m = info.machine;
          expect(m.read32(0xc0100000)).toBe(m.mem.read32(0x100000));
          m.mmu.setCpl(3);
          expect(() => m.read32(0xc0100000)).toThrow(new RegExp(`error code 0x${(PF_P | PF_U).toString(16)}`));
          m.mmu.setCpl(0);
        });
      }
    }
  }
});

describe('kernel image permissions', () => {
  it('the kernel cannot write its own .text (read-only, CR0.WP) but can write .data/.bss', () => {
    const { info } = boot({ ram: 16 << 20 });
    kernelMain(info, { quiet: true });
    const m = info.machine;
    const text = info.segments.find((s) => (s.flags & 2) === 0)!;
    const data = info.segments.find((s) => (s.flags & 2) !== 0)!;
    expect(() => m.write32(text.virtualStart, 0)).toThrow(/protection violation, write, supervisor/);
    expect(m.read32(text.virtualStart)).toBe(m.mem.read32(text.virtualStart - 0xc0000000));
    m.write32(data.virtualStart, 0x1234);
    expect(m.read32(data.virtualStart)).toBe(0x1234);
  });
});

describe('--low-memory', () => {
  it("'reserve' hands out no frame below 1 MiB; 'use' does", () => {
    for (const lowMemory of ['use', 'reserve'] as const) {
      const { info } = boot({ ram: 8 << 20 });
      const { kernel } = kernelMain(info, { lowMemory, quiet: true });
      const got: number[] = [];
      for (let f = kernel.frames.alloc(); f !== null; f = kernel.frames.alloc()) got.push(f);
      expect(got.some((f) => f < 0x100000)).toBe(lowMemory === 'use');
    }
  });
});
