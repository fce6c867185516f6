import { describe, expect, it } from 'vitest';
import { boot } from '../../src/boot/boot.js';
import { KERNEL_VIRTUAL_BASE } from '../../src/boot/handoff.js';
import { PageFault } from '../../src/hw/fault.js';
import { CR0_PG, CR0_WP, CR4_PSE, PDE_PS, PTE_A, PTE_D, PTE_P, PTE_RW } from '../../src/hw/paging.js';
import { allFixtures, CAPTURE_APPEND, CAPTURE_MODULES } from './qemu-fixtures.js';

const AD = PTE_A | PTE_D;

describe('the higher-half bootstrap', () => {
  for (const pse of [false, true]) {
    describe(pse ? 'one 4 MiB page (CR4.PSE)' : 'a 4 KiB page table', () => {
      const r = boot({ pse });
      const m = r.info.machine;

      it('ends with paging on, CR3 at the boot directory and the identity PDE gone', () => {
        expect(m.mmu.cr0 & (CR0_PG | CR0_WP)).toBe(CR0_PG | CR0_WP);
        expect(m.mmu.cr3).toBe(r.info.bootDirectory);
        expect((m.mmu.cr4 & CR4_PSE) !== 0).toBe(pse);
        expect(m.mem.read32(r.info.bootDirectory)).toBe(0);
        expect(r.directory.map((e) => e.index)).toEqual([768]);
        expect(r.info.bootPageTable === null).toBe(pse);
        const pde = m.mem.read32(r.info.bootDirectory + 768 * 4) & ~AD;
        expect(pde).toBe(pse ? PDE_PS | PTE_P | PTE_RW : r.info.bootPageTable! | PTE_P | PTE_RW);
      });

      it('faults on 0x00100000 and reads the kernel at 0xC0100000', () => {
        expect(m.read32(0xc0100000)).toBe(0x1badb002);
        expect(() => m.read32(0x00100000)).toThrow(PageFault);
        expect(m.mmu.cr2).toBe(0x00100000);
      });

      it('reaches the boot tables at their higher-half addresses', () => {
        expect(r.info.bootDirectoryVirtual).toBe(r.info.bootDirectory + KERNEL_VIRTUAL_BASE);
        expect(m.read32(r.info.bootDirectoryVirtual + 768 * 4)).toBe(m.mem.read32(r.info.bootDirectory + 768 * 4));
      });

      it('records each step with the control registers', () => {
        expect(r.steps.map((s) => s.cr0)).toEqual([0x11, 0x11, 0x80010011, 0x80010011, 0x80010011]);
        expect(r.steps[2].cr3).toBe(r.info.bootDirectory);
      });
    });
  }

  it('with INVLPG 0 alone, the 4 KiB form leaves the entry page cached (a stale identity translation)', () => {
    const stale = boot({ pse: false, identityFlush: 'invlpg0' }).info.machine;
    expect(stale.read32(0x00100000)).toBe(0x1badb002);
    stale.mmu.invlpg(0x00100000);
    expect(() => stale.read32(0x00100000)).toThrow(PageFault);
    /** One 4 MiB page is one TLB page: INVLPG 0 drops it all. */
    const large = boot({ pse: true, identityFlush: 'invlpg0' }).info.machine;
    expect(() => large.read32(0x00100000)).toThrow(PageFault);
  });

  it('reports the kernel extents from the ELF symbols and reserves the multiboot data', () => {
    const r = boot();
    expect(r.info.kernel).toEqual({
      virtualStart: 0xc0100000,
      virtualEnd: 0xc0108010,
      physicalStart: 0x100000,
      physicalEnd: 0x108010,
    });
    expect(r.info.bootDirectory).toBe(r.info.symbols.get('boot_page_directory')! - KERNEL_VIRTUAL_BASE);
    const whats = r.info.reserved.map((x) => x.what);
    expect(whats).toEqual(
      expect.arrayContaining(['kernel image', 'multiboot info', 'multiboot memory map', 'kernel command line']),
    );
    expect(whats).not.toContain('boot page directory'); // inside the image's .bss
  });

  it('loads modules after the multiboot data and reserves them', () => {
    const r = boot({ modules: CAPTURE_MODULES.map((x) => ({ ...x, name: x.cmdline })), cmdline: CAPTURE_APPEND });
    expect(r.info.modules.map((x) => x.cmdline)).toEqual(['mod1.bin one two', 'mod2.bin']);
    const mod = r.info.modules[1];
    expect(new TextDecoder().decode(r.info.machine.mem.readBytes(mod.start, mod.end - mod.start))).toBe(
      'the second module, a little longer\n',
    );
    expect(r.info.reserved.some((x) => x.base === mod.start && x.what.startsWith('module 1'))).toBe(true);
    expect(r.info.cmdline).toBe(`pagelab-kernel.elf ${CAPTURE_APPEND}`);
  });
});

describe('against QEMU running the same kernel', () => {
  for (const fx of allFixtures()) {
    it(`${fx.file}: same control registers and boot page directory and table (A/D aside)`, () => {
      const r = boot({ pse: fx.pse, multiboot: fx.capture });
      const c = fx.capture;
      const last = r.steps.at(-1)!;
      expect({ cr0: last.cr0, cr3: last.cr3, cr4: last.cr4 }).toEqual(c.control);
      expect(r.ram).toBe(
        fx.megabytes * 1024 * 1024 > 0xe0000000 ? fx.megabytes * 1024 * 1024 : fx.megabytes * 1024 * 1024,
      );
      const m = r.info.machine;
      for (const region of c.linear) {
        for (let i = 0; i < 4096; i += 4) {
          const theirs = new DataView(region.bytes.buffer).getUint32(i, true);
          expect([region.addr + i, m.read32(region.addr + i) & ~AD]).toEqual([region.addr + i, theirs & ~AD]);
        }
      }
      expect(r.info.cmdline).toBe(`${fx.kernelName} ${CAPTURE_APPEND}`);
      expect(r.info.modules).toHaveLength(2);
    });
  }
});
