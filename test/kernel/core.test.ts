import { describe, expect, it } from 'vitest';
import { phys } from '../../src/hw/addr.js';
import { PageFault } from '../../src/hw/fault.js';
import { setupKernelCore } from '../../src/kernel/vm/core.js';
import { TEMP_SLOT } from '../../src/kernel/vm/layout.js';
import { fakeBoot } from './fakeboot.js';

describe('kernel core: window, slot, early allocator', () => {
  for (const pse of [false, true]) {
    it(`reaches any frame through the slot (boot ${pse ? 'with a 4 MiB page' : 'with a 4 KiB table'})`, () => {
      const info = fakeBoot({ ram: 64 << 20, pse });
      const core = setupKernelCore(info);
      const m = info.machine;
      m.mem.write32(0x3000000, 0xdeadbeef);
      expect(core.slot.read32(phys(0x3000000))).toBe(0xdeadbeef);
      core.slot.write32(phys(0x3000004), 0x1234);
      expect(m.mem.read32(0x3000004)).toBe(0x1234);
      /** unmap leaves the PTE (lazy); quiesce clears it: then a fresh walk faults */
      expect(m.mmu.probe(TEMP_SLOT, 0, false).phys).toBe(0x3000000);
      core.slot.quiesce();
      expect(core.slot.audit()).toEqual([]);
      m.mmu.invlpg(TEMP_SLOT);
      expect(() => m.read32(TEMP_SLOT)).toThrow(PageFault);
    });
  }

  for (const pse of [false, true]) {
    it(`on a 2 MiB machine the window stops at the top of RAM: no kernel address leads past it (${pse ? 'PSE' : '4 KiB'} boot)`, () => {
      const info = fakeBoot({ ram: 2 << 20, pse });
      const core = setupKernelCore(info);
      const m = info.machine;
      expect(core.window.limit).toBe(2 << 20);
      expect(m.read32(0xc01ffffc)).toBe(m.mem.read32(0x1ffffc));
      expect(() => m.read32(0xc0200000)).toThrow(PageFault);
      expect(() => m.read32(0xc03fb000)).toThrow(PageFault);
      expect(() => core.window.read32(phys(0x200000))).toThrow(/outside the kernel window/);
    });
  }

  it('splits the PSE boot page into a 4 KiB table that maps the same memory', () => {
    const info = fakeBoot({ pse: true });
    const core = setupKernelCore(info);
    const m = info.machine;
    expect(info.bootPageTable).toBeNull();
    expect(core.firstTable).toBeGreaterThanOrEqual(info.kernel.physicalEnd);
    m.mem.write32(0x200000, 0x55aa55aa);
    expect(m.read32(0xc0200000)).toBe(0x55aa55aa);
    expect(m.mmu.probe(0xc0200000, 0, false).large).toBe(false);
  });

  it('nests up to four slots and refuses a fifth; each maps its own frame', () => {
    const info = fakeBoot();
    const core = setupKernelCore(info);
    const m = info.machine;
    const pages = [0x400000, 0x401000, 0x402000, 0x403000].map((f, i) => {
      m.mem.write32(f, i + 1);
      return core.slot.map(phys(f));
    });
    expect(pages).toEqual([0xc03ff000, 0xc03fe000, 0xc03fd000, 0xc03fc000]);
    expect(pages.map((p) => m.read32(p))).toEqual([1, 2, 3, 4]);
    expect(() => core.slot.map(phys(0x404000))).toThrow(/nested too deep/);
    for (let i = 0; i < 4; i++) core.slot.unmap();
    expect(() => core.slot.unmap()).toThrow(/without a matching map/);
  });

  it('keeps a JS copy of each slot PTE that matches RAM (audit), and catches a PTE changed behind it', () => {
    const info = fakeBoot();
    const core = setupKernelCore(info);
    core.slot.read32(phys(0x400000));
    expect(core.slot.audit()).toEqual([]);
    info.machine.write32(core.firstTable + 0xc0000000 + 1023 * 4, 0);
    expect(core.slot.audit()).toEqual(['slot 0: PTE maps nothing, JS copy says 0x00400000']);
  });

  it('re-targets the slot with INVLPG so the new frame is read, never a stale one', () => {
    const info = fakeBoot();
    const core = setupKernelCore(info);
    const m = info.machine;
    for (let i = 0; i < 50; i++) m.mem.write32(0x500000 + i * 4096, i * 7);
    for (let i = 0; i < 50; i++) expect(core.slot.read32(phys(0x500000 + (i % 13) * 4096))).toBe((i % 13) * 7);
    expect(core.slot.inUse).toBe(0);
  });

  it('early allocations avoid reserved ranges and are recorded', () => {
    const info = fakeBoot({ kernelEnd: 0x120000 });
    const core = setupKernelCore(info);
    const a = core.early.alloc(2, 'test');
    expect(a).toBeGreaterThanOrEqual(0x120000);
    expect(core.early.taken.at(-1)).toEqual({ base: a, length: 0x2000, what: 'test' });
    expect(() => core.early.alloc(2000, 'too big')).toThrow(/no room/);
  });
});

describe('early allocator sealing', () => {
  it('refuses early allocations once the frame allocator owns memory', () => {
    const core = setupKernelCore(fakeBoot());
    core.early.alloc(1, 'before');
    core.early.seal('the frame allocator');
    expect(() => core.early.alloc(1, 'too late')).toThrow(
      /early allocation for too late after the frame allocator took over/,
    );
  });
});
