import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PF_W, PF_X, PT_LOAD, SHT_NOBITS, parseElf32, symbolMap } from '../../src/boot/elf.js';
import { findMultibootHeader, loadKernel } from '../../src/boot/kernel-image.js';
import { ParseError } from '../../src/errors.js';
import { PhysicalMemory, pcLayout } from '../../src/hw/memory.js';
import { defaultKernelBytes } from './qemu-fixtures.js';

const kernel = defaultKernelBytes();

/** withU32 returns a copy of bytes with a little-endian dword replaced. */
function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}

describe('the committed kernel ELF (kernel/pagelab-kernel.elf)', () => {
  const elf = parseElf32(kernel);
  const syms = symbolMap(elf);

  it('has higher-half PT_LOAD segments: p_vaddr at 0xC0100000, p_paddr at 0x00100000', () => {
    const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
    expect(loads[0]).toMatchObject({ vaddr: 0xc0100000, paddr: 0x00100000 });
    for (const p of loads) {
      expect(p.vaddr - p.paddr).toBe(0xc0000000);
      expect(p.vaddr % 0x1000).toBe(0);
    }
    expect(loads[0].flags & PF_X).toBe(PF_X);
    expect(loads.some((p) => (p.flags & PF_W) !== 0 && p.memsz > p.filesz)).toBe(true); // .data + .bss
  });

  it('has 4 KiB-aligned .text, .data and .bss with load addresses 3 GiB below', () => {
    const byName = new Map(elf.sections.map((s) => [s.name, s]));
    for (const n of ['.text', '.data', '.bss']) expect(byName.get(n)!.addr % 0x1000).toBe(0);
    expect(byName.get('.text')!.addr).toBe(0xc0100000);
    expect(byName.get('.bss')!.type).toBe(SHT_NOBITS);
  });

  it('exports the linker-script labels and the boot tables in .bss', () => {
    expect(syms.get('kernel_virtual_start')).toBe(0xc0100000);
    expect(syms.get('kernel_physical_start')).toBe(0x00100000);
    expect(syms.get('kernel_virtual_end')! - syms.get('kernel_physical_end')!).toBe(0xc0000000);
    const bss = elf.sections.find((s) => s.name === '.bss')!;
    for (const n of ['boot_page_directory', 'boot_page_table']) {
      const v = syms.get(n)!;
      expect(v % 4096).toBe(0);
      expect(v >= bss.addr && v + 4096 <= bss.addr + bss.size).toBe(true);
    }
    expect(syms.get('kernel_virtual_end')).toBe(bss.addr + bss.size);
    expect(elf.entry).toBe(syms.get('loader'));
  });

  it('has a multiboot header in its first 8 KiB', () => {
    const h = findMultibootHeader(kernel, 'kernel');
    expect(h.offset).toBe(elf.programHeaders[0].offset);
    expect(h.flags).toBe(3);
  });

  it('loads to its physical addresses and zero-fills .bss', () => {
    const mem = new PhysicalMemory(pcLayout(8 * 1024 * 1024));
    mem.fill(0x100000, 0x10000, 0xaa);
    const k = loadKernel(mem, kernel);
    expect(k.extentsFrom).toBe('symbols');
    expect(mem.read32(0x100000)).toBe(0x1badb002);
    const text = elf.programHeaders[0];
    expect(mem.readBytes(0x100000, text.filesz)).toEqual(kernel.subarray(text.offset, text.offset + text.filesz));
    const bssStart = syms.get('boot_page_directory')! - 0xc0000000;
    expect(mem.readBytes(bssStart, k.extents.physicalEnd - bssStart).every((b) => b === 0)).toBe(true);
    expect(k.entryPhysical).toBe(elf.entry - 0xc0000000);
  });
});

describe('malformed ELF images', () => {
  const mem = (): PhysicalMemory => new PhysicalMemory(pcLayout(8 * 1024 * 1024));

  it('rejects a wrong magic, a truncated header and an ELF64 at their offsets', () => {
    expect(() => parseElf32(withU32(kernel, 0, 0x464c457e))).toThrow(/offset 0x0 .*ELF magic/);
    expect(() => parseElf32(kernel.subarray(0, 40))).toThrow(/offset 0x0 .*an ELF header \(52 bytes\)/);
    const elf64 = kernel.slice();
    elf64[4] = 2;
    expect(() => parseElf32(elf64)).toThrow(/offset 0x4 .*EI_CLASS 1/);
    const arm = kernel.slice();
    arm[18] = 40;
    expect(() => parseElf32(arm)).toThrow(/offset 0x12 .*EM_386/);
  });

  it('rejects program headers past the end of the file and a segment past the file', () => {
    /** the error names the header field whose value points past the end */
    expect(() => parseElf32(kernel.subarray(0, 60))).toThrow(
      'at offset 0x1c (28): expected e_phoff: 2 program headers (64 bytes at 0x34) inside the 60-byte file',
    );
    const shoff = kernel.slice();
    new DataView(shoff.buffer).setUint32(32, 0xfffffff0, true);
    expect(() => parseElf32(shoff)).toThrow(
      /at offset 0x20 \(32\): expected e_shoff: \d+ section headers \(\d+ bytes at 0xfffffff0\)/,
    );
    expect(() => parseElf32(kernel.subarray(0, 30))).toThrow(
      'at offset 0x0 (0): expected an ELF header (52 bytes), but the data is 30 bytes long',
    );
    const big = withU32(kernel, 52 + 16, 0x100000);
    expect(() => parseElf32(big)).toThrow(ParseError);
  });

  it('rejects a segment outside RAM, naming the program header', () => {
    const moved = withU32(withU32(kernel, 52 + 12, 0x00a0000), 52 + 8, 0xc00a0000);
    expect(() => loadKernel(mem(), moved)).toThrow(
      /offset 0x40 .*program header 0's segment \[0xa0000, 0xa021d\) inside RAM/,
    );
  });

  it('rejects a segment that is not higher-half and one past the 4 MiB boot mapping', () => {
    expect(() => loadKernel(mem(), withU32(kernel, 52 + 8, 0x00100000))).toThrow(/offset 0x3c .*higher-half segment/);
    const high = withU32(withU32(kernel, 52 + 12, 0x00500000), 52 + 8, 0xc0500000);
    expect(() => loadKernel(mem(), high)).toThrow(/end by 4 MiB/);
  });

  it('rejects a kernel without a multiboot header', () => {
    const off = findMultibootHeader(kernel, 'k').offset;
    expect(() => loadKernel(mem(), withU32(kernel, off, 0))).toThrow(/offset 0x0 .*a multiboot header/);
  });

  it('fuzz: random bytes give an ELF or a ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const b = bytes.slice();
        if (b.length >= 4) b.set([0x7f, 0x45, 0x4c, 0x46]);
        try {
          parseElf32(b);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: the kernel with corrupted bytes or cut short loads or gives a ParseError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: kernel.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: kernel.length }),
        (edits, cut) => {
          const b = kernel.slice(0, Math.max(cut, kernel.length - 64 * edits.length));
          for (const [at, v] of edits) if (at < b.length) b[at] = v;
          // Hit the headers more often than chance would.
          for (const [at, v] of edits) if (at % 120 < b.length) b[at % 120] = v;
          try {
            loadKernel(mem(), b);
          } catch (e) {
            if (!(e instanceof ParseError)) throw e;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
