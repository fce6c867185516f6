import { describe, expect, it } from 'vitest';
import { PagelabError } from '../../src/errors.js';
import { BusError, PhysicalMemory, pcLayout } from '../../src/hw/memory.js';

describe('physical memory', () => {
  it('stores little-endian 8/16/32-bit values at any alignment, across chunk boundaries', () => {
    const m = new PhysicalMemory(pcLayout(4 << 20));
    m.write32(0x200000, 0x11223344);
    expect(m.read8(0x200000)).toBe(0x44);
    expect(m.read16(0x200001)).toBe(0x2233);
    expect(m.read32(0x200000)).toBe(0x11223344);
    m.write32(0x20fffe, 0xaabbccdd); // straddles a 64 KiB chunk boundary
    expect(m.read32(0x20fffe)).toBe(0xaabbccdd);
    expect(m.read16(0x210000)).toBe(0xaabb);
    m.write16(0x300001, 0xbeef);
    expect(m.read(0x300001, 2)).toBe(0xbeef);
    m.write32(0x300004, -1);
    expect(m.read32(0x300004)).toBe(0xffffffff);
  });

  it('is sparse: a 4 GiB machine allocates only the chunks that are written', () => {
    const m = new PhysicalMemory(pcLayout(4 * 1024 ** 3));
    expect(m.bytesAllocated).toBe(0);
    expect(m.read32(0xfffff000)).toBe(0);
    m.fill(0x1000000, 1 << 20, 0); // zero-filling untouched RAM allocates nothing
    expect(m.bytesAllocated).toBe(0);
    m.write8(0xfffffffc, 7);
    m.write8(0x12345678, 1);
    expect(m.bytesAllocated).toBe(2 * 65536);
    expect(m.read8(0xfffffffc)).toBe(7);
  });

  it('outside RAM the bus floats: reads give 0xFF bytes, writes are dropped, both counted', () => {
    const m = new PhysicalMemory(pcLayout(2 << 20));
    m.write32(0xb8000, 0x12345678); // the legacy video hole between 640 KiB and 1 MiB
    expect(m.read32(0xb8000)).toBe(0xffffffff);
    expect(m.read8(0x200000)).toBe(0xff); // past the top
    expect(m.read32(0x1_0000_0000)).toBe(0xffffffff); // above 4 GiB (PSE-36 addresses)
    expect(m.unbackedWrites).toBe(4);
    expect(m.unbackedReads).toBe(9);
    // a dword half in RAM, half in the hole
    m.write32(0x9fffe, 0x11223344);
    expect(m.read32(0x9fffe)).toBe(0xffff3344);
    expect(m.isRam(0x9ffff)).toBe(true);
    expect(m.isRam(0xa0000)).toBe(false);
    expect(m.isRam(0x100000)).toBe(true);
  });

  it('with strict, an access outside RAM throws BusError naming the address', () => {
    const m = new PhysicalMemory(pcLayout(2 << 20), { strict: true });
    expect(() => m.read32(0xa0000)).toThrow(BusError);
    expect(() => m.write8(0x300000, 1)).toThrow(/write to 0x00300000/);
    const caught = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return null;
    };
    const r = caught(() => m.read32(0xa0000)) as BusError;
    const w = caught(() => m.write8(0x300000, 1)) as BusError;
    expect([r.kind, r.address, r.write, w.kind, w.address, w.write]).toEqual([
      'unbacked-read',
      0xa0000,
      false,
      'unbacked-write',
      0x300000,
      true,
    ]);
    expect(r).toBeInstanceOf(PagelabError); // the CLI reports it in one line, as every error it throws on purpose
  });

  it('accepts RAM ranges with arbitrary 4 KiB-aligned holes and rejects bad descriptions', () => {
    const m = new PhysicalMemory([
      { base: 0x5000, length: 0x1000 },
      { base: 0x0, length: 0x2000 },
    ]);
    expect(m.ranges.map((r) => r.base)).toEqual([0, 0x5000]);
    m.write32(0x5ffc, 9);
    m.write32(0x3000, 9);
    expect([m.read32(0x5ffc), m.read32(0x3000)]).toEqual([9, 0xffffffff]);
    expect(m.ramSize).toBe(0x3000);
    expect(() => new PhysicalMemory([{ base: 0x800, length: 0x1000 }])).toThrow(/4 KiB-aligned/);
    expect(
      () =>
        new PhysicalMemory([
          { base: 0, length: 0x2000 },
          { base: 0x1000, length: 0x1000 },
        ]),
    ).toThrow(/overlaps/);
    expect(() => pcLayout(512 * 1024)).toThrow(/1 MiB to 4 GiB/);
    expect(pcLayout(1 << 20)).toEqual([{ base: 0, length: 0xa0000 }]);
  });

  it('copies byte ranges in and out', () => {
    const m = new PhysicalMemory(pcLayout(1 << 20));
    m.writeBytes(0x1ffe, Uint8Array.from([1, 2, 3, 4]));
    expect([...m.readBytes(0x1ffd, 6)]).toEqual([0, 1, 2, 3, 4, 0]);
    m.fill(0x1000, 16, 0xab);
    expect(m.read32(0x100c)).toBe(0xabababab);
  });

  it('copies and fills across a chunk boundary, into a partly-RAM chunk and past RAM as byte stores do', () => {
    const m = new PhysicalMemory(pcLayout(2 << 20));
    m.writeBytes(0x10ffe, Uint8Array.from([1, 2, 3, 4])); // chunks 1 and 2
    expect([...m.readBytes(0x10ffe, 4)]).toEqual([1, 2, 3, 4]);
    m.fill(0x1fffe, 4, 0x1cd); // the low byte
    expect(m.read32(0x1fffe)).toBe(0xcdcdcdcd);
    m.writeBytes(0x9fffe, Uint8Array.from([5, 6, 7, 8])); // the last RAM bytes before the hole, then none
    expect([...m.readBytes(0x9fffe, 4)]).toEqual([5, 6, 0xff, 0xff]);
    expect(m.unbackedWrites).toBe(2);
    const before = m.bytesAllocated;
    m.fill(0x150000, 0x1000, 0); // zero into an untouched chunk: nothing to allocate
    expect(m.bytesAllocated).toBe(before);
    m.fill(0x150000, 0x1000, 7);
    expect([m.read8(0x14ffff), m.read8(0x150000), m.read8(0x150fff), m.read8(0x151000)]).toEqual([0, 7, 7, 0]);
    m.fill(0x150000, 0x1000, 0);
    expect(m.read32(0x150ffc)).toBe(0);
  });
});
