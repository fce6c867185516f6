// Linear accesses of 1, 2 and 4 bytes, pages straddled, faults delivered.
import { describe, expect, it } from 'vitest';
import { PageFault } from '../../src/hw/fault.js';
import { PF_P, PF_W, PTE_A, PTE_D, PTE_P, PTE_US } from '../../src/hw/paging.js';
import { URW, faultOf, map4k, paged, pteAddr } from './util.js';

describe('accesses that straddle two pages', () => {
  it('a read combines bytes from both frames, little-endian', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    map4k(m, 0x40001000, 0x500000);
    m.mem.write16(0x300ffe, 0x2211);
    m.mem.write16(0x500000, 0x4433);
    expect(m.read32(0x40000ffe)).toBe(0x44332211);
    expect(m.read16(0x40000fff)).toBe(0x3322);
  });

  it('a fault on the first page reports the access address; on the second, the second page start (as QEMU)', () => {
    const m = paged();
    map4k(m, 0x40001000, 0x500000);
    expect(faultOf(() => m.read32(0x40000ffe))).toEqual([0x40000ffe, 0]);
    const m2 = paged();
    map4k(m2, 0x40000000, 0x300000);
    expect(faultOf(() => m2.read32(0x40000ffd))).toEqual([0x40001000, 0]);
    expect(faultOf(() => m2.write16(0x40000fff, 1))).toEqual([0x40001000, PF_W]);
  });

  it('a write whose second page faults writes nothing; the first page walk already set A/D', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    map4k(m, 0x40001000, 0x500000, PTE_P | PTE_US, URW); // read-only with WP=1
    m.mem.write32(0x300ffc, 0xaaaaaaaa);
    expect(faultOf(() => m.write32(0x40000ffe, 0x12345678))).toEqual([0x40001000, PF_P | PF_W]);
    expect(m.mem.read32(0x300ffc)).toBe(0xaaaaaaaa);
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(m.mem.read32(pteAddr(0x40001000)) & (PTE_A | PTE_D)).toBe(0);
  });

  it('wraps around at 4 GiB: the second page is linear 0', () => {
    const m = paged();
    map4k(m, 0xfffff000, 0x300000);
    map4k(m, 0x00000000, 0x500000);
    m.mem.write8(0x300fff, 0x11);
    m.mem.write8(0x500000, 0x22);
    expect(m.read16(0xffffffff)).toBe(0x2211);
  });
});

describe('page-fault delivery (vector 14)', () => {
  it('sets CR2 and throws PageFault when no handler resolves it', () => {
    const m = paged();
    let err: unknown;
    try {
      m.write8(0x70000123, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PageFault);
    expect((err as PageFault).message).toMatch(
      /page fault at 0x70000123: error code 0x2 \(not present, write, supervisor\)/,
    );
    expect(m.mmu.cr2).toBe(0x70000123);
  });

  it('a handler that maps the page gets the access retried; one that declines lets it propagate', () => {
    const m = paged();
    const seen: number[] = [];
    m.pageFaultHandler = (f, mach) => {
      seen.push(f.linear);
      if (f.linear >= 0x80000000) return false;
      map4k(mach, f.linear, 0x600000);
      return true;
    };
    m.write32(0x40000010, 42);
    expect(m.read32(0x40000010)).toBe(42);
    expect(m.mem.read32(0x600010)).toBe(42);
    expect(() => m.read32(0x90000000)).toThrow(PageFault);
    expect(seen).toEqual([0x40000010, 0x90000000]);
  });

  it('a handler that never resolves the fault is not called forever', () => {
    const m = paged();
    let calls = 0;
    m.pageFaultHandler = () => ++calls > 0;
    expect(() => m.read32(0x40000000)).toThrow(PageFault);
    expect(calls).toBeLessThanOrEqual(5);
  });

  it('readBytes/writeBytes go through the MMU byte by byte', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    map4k(m, 0x40001000, 0x700000);
    m.writeBytes(0x40000ffe, Uint8Array.from([1, 2, 3, 4]));
    expect([...m.mem.readBytes(0x300ffe, 2), ...m.mem.readBytes(0x700000, 2)]).toEqual([1, 2, 3, 4]);
    expect([...m.readBytes(0x40000ffe, 4)]).toEqual([1, 2, 3, 4]);
  });

  it('writeBytes and fill translate once per page, in order: a fault on a later page leaves the earlier written', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    map4k(m, 0x40001000, 0x500000, PTE_P | PTE_US, URW); // read-only with WP=1
    expect(faultOf(() => m.writeBytes(0x40000ffe, Uint8Array.from([1, 2, 3])))).toEqual([0x40001000, PF_P | PF_W]);
    expect([m.mem.read8(0x300ffe), m.mem.read8(0x300fff), m.mem.read8(0x500000)]).toEqual([1, 2, 0]);
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(faultOf(() => m.fill(0x40000ff0, 0x20, 0x1ee))).toEqual([0x40001000, PF_P | PF_W]);
    expect(m.mem.read32(0x300ffc)).toBe(0xeeeeeeee);
    expect(m.mem.read32(pteAddr(0x40001000)) & PTE_D).toBe(0);
    map4k(m, 0x40002000, 0x600000);
    m.fill(0x40001ffe, 0, 9); // nothing: no translation, no fault
    m.fill(0x40002000, 0x1000, 0x5a);
    expect([m.mem.read8(0x600000), m.mem.read8(0x600fff), m.mem.read8(0x601000)]).toEqual([0x5a, 0x5a, 0]);
  });
});

describe('counters', () => {
  it('a faulting read32/write32 is one miss, one walk, one fault, as read()/write() count it', () => {
    for (const [name, access] of [
      ['read32', (m: ReturnType<typeof paged>) => m.read32(0x400000)],
      ['read', (m: ReturnType<typeof paged>) => m.read(0x400000, 4)],
      ['write32', (m: ReturnType<typeof paged>) => m.write32(0x400000, 1)],
    ] as const) {
      const m = paged();
      expect(
        faultOf(() => access(m)),
        name,
      ).not.toBeNull();
      expect(m.mmu.counters(), name).toMatchObject({ misses: 1, walks: 1, faults: 1, hits: 0 });
    }
  });

  it('a write to a read-only page cached by a read walks again (a second miss) before its one protection fault', () => {
    const m = paged();
    map4k(m, 0x400000, 0x300000, PTE_P | PTE_US);
    m.read32(0x400000);
    expect(faultOf(() => m.write32(0x400000, 1))).toEqual([0x400000, PF_P | PF_W]);
    expect(m.mmu.counters()).toMatchObject({ misses: 2, walks: 2, faults: 1 });
  });
});
