import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { capturedBytes } from '../../src/boot/capture.js';
import { MMAP_AVAILABLE, MMAP_RESERVED } from '../../src/boot/handoff.js';
import { qemuMemoryMap, ramFromMap } from '../../src/boot/memmap.js';
import { MBI_SIZE, parseMultiboot } from '../../src/boot/multiboot.js';
import { memLowerUpper, qemuLayout, writeMultiboot } from '../../src/boot/multiboot-build.js';
import { ParseError } from '../../src/errors.js';
import { PhysicalMemory } from '../../src/hw/memory.js';
import { allFixtures, CAPTURE_APPEND, CAPTURE_MODULES } from './qemu-fixtures.js';

const MiB = 1024 * 1024;
const KERNEL_PHYSICAL_END = 0x108010; // kernel_physical_end of kernel/pagelab-kernel.elf

describe('the QEMU-captured multiboot structures', () => {
  for (const fx of allFixtures()) {
    describe(`${fx.file} (-m ${fx.megabytes})`, () => {
      const mbi = parseMultiboot(capturedBytes(fx.capture), fx.capture.ebx);

      it('parses: flags, memory, command line, modules, boot loader name', () => {
        expect(fx.capture.eax).toBe(0x2badb002);
        expect(mbi.flags).toBe(0x24f);
        expect(mbi.memLower).toBe(639);
        expect(mbi.bootDevice).toBe(0x8000ffff);
        expect(mbi.cmdline?.text).toBe(`${fx.kernelName} ${CAPTURE_APPEND}`);
        expect(mbi.loaderName?.text).toBe('qemu');
        expect(mbi.modules.map((m) => m.string.text)).toEqual(CAPTURE_MODULES.map((m) => m.cmdline));
        expect(mbi.modules.map((m) => m.end - m.start)).toEqual(CAPTURE_MODULES.map((m) => m.bytes.length));
        for (const m of mbi.modules) expect(m.start % 4096).toBe(0);
      });

      it('has the memory map our model of QEMU predicts, with 20-byte entries', () => {
        const ram = fx.megabytes * MiB;
        expect(mbi.mmap.map(({ base, length, type }) => ({ base, length, type }))).toEqual(qemuMemoryMap(ram));
        expect(mbi.mmap.every((e) => e.size === 20)).toBe(true);
        expect(mbi.memUpper).toBe(memLowerUpper(mbi.mmap).upper);
        expect(ramFromMap(mbi.mmap)).toBe(ram);
      });

      it('is reproduced byte for byte by our builder with QEMU layout', () => {
        const ram = fx.megabytes * MiB;
        const layout = qemuLayout(
          KERNEL_PHYSICAL_END,
          qemuMemoryMap(ram),
          `${fx.kernelName} ${CAPTURE_APPEND}`,
          CAPTURE_MODULES,
        );
        const mem = new PhysicalMemory([
          { base: 0, length: 0xa0000 },
          { base: MiB, length: 8 * MiB },
        ]);
        writeMultiboot(mem, layout.spec);
        expect(layout.spec.infoAddr).toBe(fx.capture.ebx);
        expect(fx.capture.physical.length).toBe(7);
        for (const r of fx.capture.physical) {
          expect([r.addr, Buffer.from(mem.readBytes(r.addr, r.bytes.length)).toString('hex')]).toEqual([
            r.addr,
            Buffer.from(r.bytes).toString('hex'),
          ]);
        }
        expect(layout.spec.modules.map((m) => [m.start, m.end])).toEqual(mbi.modules.map((m) => [m.start, m.end]));
      });
    });
  }

  it('-m 3584 puts the RAM past 3 GiB above 4 GiB', () => {
    const fx = allFixtures().find((f) => f.megabytes === 3584)!;
    const mbi = parseMultiboot(capturedBytes(fx.capture), fx.capture.ebx);
    expect(mbi.mmap.at(-1)).toMatchObject({ base: 2 ** 32, length: 512 * MiB, type: MMAP_AVAILABLE });
    expect(mbi.mmap.find((e) => e.base === MiB)?.length).toBe(0xc0000000 - MiB - 0x20000);
  });
});

/** A small RAM with a hand-written structure at 0x1000 and its map at 0x2000. */
function memoryWith(entries: number[][], mmapLength?: number): PhysicalMemory {
  const mem = new PhysicalMemory([{ base: 0, length: 0x10000 }]);
  mem.write32(0x1000, 1 << 6);
  let p = 0x2000;
  for (const e of entries)
    for (const v of e) {
      mem.write32(p, v);
      p += 4;
    }
  mem.write32(0x1000 + 44, mmapLength ?? p - 0x2000);
  mem.write32(0x1000 + 48, 0x2000);
  return mem;
}

describe('strict multiboot parsing', () => {
  it('reads entries with a larger size field by skipping the extra bytes', () => {
    const mem = memoryWith([
      [24, 0, 0, 0x9fc00, 0, 1, 0xdead],
      [20, 0x100000, 0, 0x100000, 0, 2],
    ]);
    const mbi = parseMultiboot(mem, 0x1000);
    expect(mbi.mmap.map((e) => [e.base, e.length, e.type, e.size])).toEqual([
      [0, 0x9fc00, 1, 24],
      [0x100000, 0x100000, 2, 20],
    ]);
    expect(mbi.mmap[1].type).toBe(MMAP_RESERVED);
  });

  it('rejects an mmap entry that runs past mmap_length, naming its address', () => {
    const mem = memoryWith(
      [
        [20, 0, 0, 0x9fc00, 0, 1],
        [20, 0x100000, 0, 0x100000, 0, 1],
      ],
      40,
    );
    expect(() => parseMultiboot(mem, 0x1000)).toThrow(/at offset 0x2018 .*runs 8 bytes past the map's end at 0x2028/);
  });

  it('rejects a too-small entry size, a structure outside RAM and unknown flags', () => {
    expect(() => parseMultiboot(memoryWith([[16, 0, 0, 0, 0]]), 0x1000)).toThrow(
      /offset 0x2000 .*entry size of at least 20, got 16/,
    );
    expect(() => parseMultiboot(new PhysicalMemory([{ base: 0, length: 0x1000 }]), 0x1000 - MBI_SIZE + 4)).toThrow(
      /information structure in RAM/,
    );
    const mem = memoryWith([]);
    mem.write32(0x1000, 1 << 20);
    expect(() => parseMultiboot(mem, 0x1000)).toThrow(ParseError);
  });

  it('rejects an unterminated command line and a module list outside RAM', () => {
    const mem = new PhysicalMemory([{ base: 0, length: 0x10000 }]);
    mem.write32(0x1000, 1 << 2);
    mem.write32(0x1010, 0xf800);
    mem.fill(0xf800, 0x800, 0x41);
    expect(() => parseMultiboot(mem, 0x1000)).toThrow(/offset 0x10000 .*cmdline: a NUL-terminated string in RAM/);
    mem.write32(0x1000, 1 << 3);
    mem.write32(0x1014, 2);
    mem.write32(0x1018, 0xfff8);
    expect(() => parseMultiboot(mem, 0x1000)).toThrow(/module list .* in RAM/);
  });

  it('fuzz: arbitrary bytes give a structure or a ParseError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), fc.integer({ min: 0, max: 0x3ff }), (bytes, at) => {
        const mem = new PhysicalMemory([{ base: 0, length: 0x10000 }]);
        mem.writeBytes(0x100, bytes);
        // Point the structure's pointers into the random area too, so that they get followed.
        try {
          parseMultiboot(mem, 0x100 + (at & ~3));
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('fuzz: valid structures with mutated fields give a structure or a ParseError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 87 }), fc.integer({ min: 0, max: 0xffffffff }), (field, value) => {
        const mem = new PhysicalMemory([
          { base: 0, length: 0xa0000 },
          { base: MiB, length: 3 * MiB },
        ]);
        const layout = qemuLayout(KERNEL_PHYSICAL_END, qemuMemoryMap(128 * MiB), CAPTURE_APPEND, CAPTURE_MODULES);
        writeMultiboot(mem, layout.spec);
        mem.write32(layout.spec.infoAddr + (field & ~3), value);
        try {
          parseMultiboot(mem, layout.spec.infoAddr);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
