// info mem / info tlb against QEMU's own output for the same guest state.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BufferImage, openImage } from '../../../src/tools/inspect/image.js';
import { infoMem, infoTlb } from '../../../src/tools/inspect/qemu.js';
import { parseQemuRegisters } from '../../../src/tools/inspect/regs.js';
import { runInspect } from '../../../src/tools/commands/inspect.js';
import { LAYOUTS, capture } from './fixtures.js';

const lf = (s: string): string => s.replace(/\r\n/g, '\n');

describe('info mem and info tlb match QEMU 7.2 on captured dumps', () => {
  for (const layout of LAYOUTS) {
    it(`layout ${layout}: byte for byte (with --crlf, as the monitor writes)`, () => {
      const c = capture(layout);
      const mem = runInspect(c.dump, { regs: c.registers, format: 'info-mem', crlf: true });
      const tlb = runInspect(c.dump, { regs: c.registers, format: 'info-tlb', crlf: true });
      expect(mem.text).toBe(c.infoMem);
      expect(tlb.text).toBe(c.infoTlb);
      expect(c.infoMem.length).toBeGreaterThan(100);
    });

    it(`layout ${layout}: the same text with LF line ends by default`, () => {
      const c = capture(layout);
      const img = openImage(c.dump);
      const regs = parseQemuRegisters(readFileSync(c.registers, 'utf8'));
      expect(infoMem(img, regs)).toBe(lf(c.infoMem));
      expect(infoTlb(img, regs)).toBe(lf(c.infoTlb));
    });
  }

  it("the layouts are different and the higher-half one has the seeds' shape", () => {
    const texts = LAYOUTS.map((l) => capture(l).infoMem);
    expect(new Set(texts).size).toBe(LAYOUTS.length);
    const seeds = lf(capture(2).infoMem);
    expect(seeds).toContain('00000000c0101000-00000000c0400000 00000000002ff000 -rw');
    expect(seeds).not.toMatch(/^0000000000[0-3]/m); // identity map removed
  });

  it('a walk through a page table past the end of the image shows nothing, as QEMU shows for one past RAM', () => {
    const c = capture(3);
    expect(lf(c.infoTlb)).not.toMatch(/^00000000020/m);
    const r = runInspect(c.dump, { regs: c.registers, format: 'info-tlb' });
    expect(r.warnings.join('\n')).toContain("PDE 8's page table at 0x10000000 is past the end of the 8 MiB image");
  });

  it('answers "PG disabled" without CR0.PG, as QEMU does', () => {
    const img = new BufferImage(new Uint8Array(8192));
    expect(infoMem(img, { cr0: 0x11, cr3: 0, cr4: 0 })).toBe('PG disabled\n');
    expect(infoTlb(img, { cr0: 0x11, cr3: 0, cr4: 0 })).toBe('PG disabled\n');
  });

  it('merges by permission, closes the last range at 4 GiB, and prints 4 MiB pages with bit 21', () => {
    const bytes = new Uint8Array(0x3000);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0x1000 + 1023 * 4, 0x00200000 | 0x83 | 0x200000, true); // 4 MiB page, bit 21 set
    dv.setUint32(0x1000 + 1022 * 4, 0x00400000 | 0x87, true);
    const img = new BufferImage(bytes);
    const regs = { cr0: 0x80000011, cr3: 0x1000, cr4: 0x10 };
    expect(infoMem(img, regs)).toBe(
      '00000000ff800000-00000000ffc00000 0000000000400000 urw\n' +
        '00000000ffc00000-0000000100000000 0000000000400000 -rw\n',
    );
    expect(infoTlb(img, regs)).toBe(
      '00000000ff800000: 0000000000400000 --P----UW\n' + '00000000ffc00000: 0000000000200000 --P-----W\n',
    );
  });
});
