// The kernel's GDT: a flat table in a kernel-heap object, GDTR pointing at it,
// every segment register reloaded from it; the segmentation unit reads the
// table from RAM, so what is written there is what later loads see.
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/boot/boot.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../src/hw/fault.js';
import { CS, DS, ES, FS, GS, SS, SegmentFault } from '../../src/hw/segments.js';
import { decodeDescriptor, effectiveLimit } from '../../src/hw/segdesc.js';
import { GDT_BYTES, GDT_ENTRIES, SEL_KCODE, SEL_KDATA, SEL_UCODE, SEL_UDATA } from '../../src/kernel/gdt.js';
import { kernelInit } from '../../src/kernel/main.js';

/** bootKernel boots the default kernel on 16 MiB and brings up the memory manager. */
function bootKernel(heap: 'kr' | 'slab' = 'kr') {
  const { info } = boot({ ram: 16 << 20 });
  return { m: info.machine, k: kernelInit(info, { heap }) };
}

describe('the kernel GDT', () => {
  for (const heap of ['kr', 'slab'] as const) {
    it(`GDTR names a heap object holding null + four flat descriptors (heap ${heap})`, () => {
      const { m, k } = bootKernel(heap);
      expect(m.seg.gdtr).toEqual({ base: k.gdt.base, limit: GDT_BYTES - 1 });
      expect(k.gdt.base).toBeGreaterThanOrEqual(0xc0000000); // a kernel-half linear address
      expect([m.read32(k.gdt.base), m.read32(k.gdt.base + 4)]).toEqual([0, 0]);
      GDT_ENTRIES.forEach((e, i) => {
        const d = decodeDescriptor(m.read32(k.gdt.base + 8 * (i + 1)), m.read32(k.gdt.base + 8 * (i + 1) + 4));
        expect(d, e.name).toMatchObject({ base: 0, dpl: e.dpl, present: true, big: true, codeOrData: true });
        expect(effectiveLimit(d)).toBe(0xffffffff);
        expect((d.type & 0x8) !== 0, e.name).toBe(e.code);
      });
      expect(k.heap.check()).toEqual([]); // the table is an ordinary live block
    });
  }

  it('reloads CS by a far jump and the data registers by moves, at CPL 0', () => {
    const { m } = bootKernel();
    expect(m.seg.selector(CS)).toBe(SEL_KCODE);
    for (const r of [DS, ES, FS, GS, SS] as const) expect(m.seg.selector(r)).toBe(SEL_KDATA);
    expect(m.seg.cpl).toBe(0);
    expect(m.seg.toLinear(DS, 0xc0100000, 4, ACCESS_WRITE)).toBe(0xc0100000); // flat: linear = offset
  });

  it('the loads mark each descriptor accessed in RAM (SDM 3.4.5.1)', () => {
    const { m, k } = bootKernel();
    const hi = (sel: number) => m.read32(k.gdt.base + (sel & ~7) + 4);
    expect((hi(SEL_KCODE) >>> 8) & 1).toBe(1);
    expect((hi(SEL_KDATA) >>> 8) & 1).toBe(1);
    expect((hi(SEL_UCODE) >>> 8) & 1).toBe(0); // not loaded yet
  });

  it('an IRET to user mode takes the user segments from the table, and CPL becomes 3', () => {
    const { m } = bootKernel();
    m.seg.iretToOuter(SEL_UCODE, SEL_UDATA);
    expect(m.seg.cpl).toBe(3);
    expect(m.seg.selector(SS)).toBe(SEL_UDATA);
    expect(m.seg.selector(DS)).toBe(0); // DS held a DPL-0 segment: nulled (SDM 5.8.6)
    expect(() => m.seg.load(DS, SEL_KDATA)).toThrow(SegmentFault); // CPL 3 may not load a DPL-0 segment
    m.seg.load(DS, SEL_UDATA);
    expect(m.seg.toLinear(DS, 0x08048000, 4, ACCESS_READ)).toBe(0x08048000);
  });

  it('the unit reads the table from RAM: a user code descriptor marked not present faults the IRET', () => {
    const { m, k } = bootKernel();
    const at = k.gdt.base + (SEL_UCODE & ~7) + 4;
    m.write32(at, m.read32(at) & ~0x8000); // a stray write clears P
    let caught: unknown = null;
    try {
      m.seg.iretToOuter(SEL_UCODE, SEL_UDATA);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SegmentFault);
    expect(caught).toMatchObject({ kind: 'np', errorCode: SEL_UCODE & ~3 });
    expect(m.seg.cpl).toBe(0);
  });
});
