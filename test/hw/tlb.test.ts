// The TLB as the architecture permits it (SDM 4.10): stale entries after an
// edit without INVLPG, what each invalidation drops, global pages, geometry.
import { describe, expect, it } from 'vitest';
import {
  CR0_PE,
  CR0_PG,
  CR4_PGE,
  CR4_PSE,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_RW,
  PTE_US,
} from '../../src/hw/paging.js';
import { hex } from '../../src/hw/addr.js';
import { formatTlb, parseTlb } from '../../src/hw/tlb.js';
import { URW, faultOf, map4k, map4m, paged, pteAddr, pdeAddr } from './util.js';

describe('SDM 4.10.2: TLB entries may outlive the paging-structure entries they came from', () => {
  it('a PTE retargeted without INVLPG keeps translating to the old frame; INVLPG shows the new one', () => {
    const m = paged();
    m.mem.write32(0x300000, 111);
    m.mem.write32(0x301000, 222);
    map4k(m, 0x40000000, 0x300000);
    expect(m.read32(0x40000000)).toBe(111);
    map4k(m, 0x40000000, 0x301000);
    expect(m.read32(0x40000000)).toBe(111); // stale
    m.mmu.invlpg(0x40000000);
    expect(m.read32(0x40000000)).toBe(222);
  });

  it('a PTE cleared without INVLPG still translates; after INVLPG the access faults', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    m.read32(0x40000000);
    m.mem.write32(pteAddr(0x40000000), 0);
    expect(faultOf(() => m.read32(0x40000000))).toBeNull();
    m.mmu.invlpg(0x40000000);
    expect(faultOf(() => m.read32(0x40000000))).toEqual([0x40000000, 0]);
  });

  it('with TLB none every access walks, so edits show at once', () => {
    const m = paged({ tlb: 'none' });
    map4k(m, 0x40000000, 0x300000);
    m.read32(0x40000000);
    m.mem.write32(pteAddr(0x40000000), 0);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
    expect(m.mmu.counters().hits).toBe(0);
  });
});

describe('SDM 4.8/4.10.2: dirty state in the TLB', () => {
  it('a translation cached by a read does not let a later write skip setting D in memory', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    m.read32(0x40000000);
    expect(m.mem.read32(pteAddr(0x40000000)) & PTE_D).toBe(0);
    m.write32(0x40000000, 5);
    expect(m.mem.read32(pteAddr(0x40000000)) & PTE_D).toBe(PTE_D);
    expect(m.mmu.counters().dirtySets).toBe(1);
    m.write32(0x40000004, 6); // now dirty in the TLB: a plain hit
    expect(m.mmu.counters().dirtySets).toBe(1);
  });

  it('the first write walks again: a PTE made not-present since the read faults, and gets no A or D', () => {
    for (const tlb of ['sa:16x4', 'fa:8', 'dm:4'] as const) {
      const m = paged({ tlb });
      map4k(m, 0x40000000, 0x300000);
      m.read32(0x40000000);
      m.mem.write32(pteAddr(0x40000000), 0x12340000); // swapped out: the OS keeps its own bits there; no INVLPG
      expect(
        faultOf(() => m.write32(0x40000000, 5)),
        tlb,
      ).toEqual([0x40000000, PF_W]); // not present, write, supervisor
      expect(m.mem.read32(pteAddr(0x40000000))).toBe(0x12340000);
      expect(m.mem.read32(0x300000)).toBe(0);
    }
  });

  it('the first write walks again: D is set in the entry that maps the page now, and the data goes there', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    m.read32(0x40000000);
    map4k(m, 0x40000000, 0x600000); // retargeted without INVLPG
    m.write32(0x40000000, 5);
    expect(m.mem.read32(0x600000)).toBe(5);
    expect(m.mem.read32(0x300000)).toBe(0);
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D | 0xfffff000)).toBe(0x600000 | PTE_A | PTE_D);
    // the re-walk is a dirty set, not a miss
    expect(m.mmu.counters()).toMatchObject({ dirtySets: 1, walks: 1, misses: 1 });
    expect(m.read32(0x40000000)).toBe(5); // the TLB now holds the new translation
  });

  it('the same holds for a 4 MiB page (D in its PDE)', () => {
    const m = paged();
    map4m(m, 0x40000000, 0x800000);
    m.read32(0x40100000);
    m.write32(0x40100000, 5);
    expect(m.mem.read32(pdeAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it('cached rights that forbid an access lead to a fresh walk before a fault', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000, PTE_P | PTE_US, URW); // read-only
    m.read32(0x40000000);
    map4k(m, 0x40000000, 0x300000, URW, URW); // made writable, no INVLPG
    expect(faultOf(() => m.write32(0x40000000, 1))).toBeNull();
  });

  it('SDM 4.10.4.1: a page fault invalidates the TLB entries for the faulting page', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000, PTE_P | PTE_RW, URW); // supervisor-only
    m.mem.write32(0x300000, 1);
    m.read32(0x40000000); // cached
    map4k(m, 0x40000000, 0x301000, PTE_P | PTE_RW, URW); // retarget without INVLPG
    m.mmu.setCpl(3);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull(); // user access faults...
    m.mmu.setCpl(0);
    expect(m.read32(0x40000000)).toBe(0); // ...and took the stale entry with it: the new frame is read
  });
});

describe('SDM 4.10.4.1: invalidation', () => {
  it('INVLPG of any address inside a 4 MiB page drops the whole translation', () => {
    const m = paged({ tlb: 'fa:64' });
    map4m(m, 0x40000000, 0x800000);
    for (let a = 0x40000000; a < 0x40400000; a += 0x80000) m.read32(a); // several 4 KiB pieces cached
    expect(m.mmu.tlb.occupancy()).toBe(8);
    map4m(m, 0x40000000, 0xc00000);
    m.mem.write32(0xc80000, 9);
    m.mmu.invlpg(0x40123456);
    expect(m.read32(0x40080000)).toBe(9);
  });

  it('INVLPG drops only its page among 4 KiB pages', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    map4k(m, 0x40001000, 0x301000);
    m.read32(0x40000000);
    m.read32(0x40001000);
    m.mem.write32(pteAddr(0x40000000), 0);
    m.mem.write32(pteAddr(0x40001000), 0);
    m.mmu.invlpg(0x40000fff);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
    expect(faultOf(() => m.read32(0x40001000))).toBeNull();
  });

  function globalSetup(pge: boolean) {
    const m = paged({ pge });
    map4k(m, 0x40000000, 0x300000, URW | PTE_G);
    map4k(m, 0x40001000, 0x301000, URW);
    m.read32(0x40000000);
    m.read32(0x40001000);
    m.mem.write32(pteAddr(0x40000000), 0);
    m.mem.write32(pteAddr(0x40001000), 0);
    return m;
  }

  it('MOV to CR3 flushes non-global entries and keeps global ones when CR4.PGE=1 (SDM 4.10.2.4)', () => {
    const m = globalSetup(true);
    m.mmu.writeCr3(m.mmu.cr3);
    expect(faultOf(() => m.read32(0x40000000))).toBeNull();
    expect(faultOf(() => m.read32(0x40001000))).not.toBeNull();
  });

  it('without CR4.PGE the G flag is ignored: MOV to CR3 flushes everything', () => {
    const m = globalSetup(false);
    m.mmu.writeCr3(m.mmu.cr3);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
  });

  it('changing CR4.PGE flushes global entries too', () => {
    const m = globalSetup(true);
    m.mmu.writeCr4(CR4_PSE);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
  });

  it('changing CR0.WP or CR4.PSE flushes everything; rewriting the same value does not', () => {
    const m = globalSetup(true);
    m.mmu.writeCr4(CR4_PSE | CR4_PGE);
    m.mmu.writeCr0(m.mmu.cr0);
    expect(faultOf(() => m.read32(0x40000000))).toBeNull();
    m.mmu.writeCr0(CR0_PE | CR0_PG); // WP 1 -> 0
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
    const m2 = globalSetup(true);
    m2.mmu.writeCr4(CR4_PGE);
    expect(faultOf(() => m2.read32(0x40000000))).not.toBeNull();
  });
});

describe('TLB geometry', () => {
  function touch(spec: string, pages: number[]): ReturnType<typeof paged> {
    const m = paged({ tlb: spec });
    for (let i = 0; i < 64; i++) map4k(m, 0x40000000 + i * 4096, 0x300000 + i * 4096, PTE_P | PTE_RW | PTE_US | PTE_A);
    for (const p of pages) m.read32(0x40000000 + p * 4096);
    return m;
  }

  it('direct-mapped: pages whose numbers agree modulo N evict each other', () => {
    const m = touch('dm:4', [0, 4, 0, 4]);
    expect(m.mmu.counters()).toMatchObject({ hits: 0, misses: 4, evictions: 3 });
    const m2 = touch('dm:4', [0, 1, 2, 3, 0, 1, 2, 3]);
    expect(m2.mmu.counters()).toMatchObject({ hits: 4, misses: 4 });
  });

  it('fully associative: true LRU evicts the least recently used page', () => {
    const m = touch('fa:2', [0, 1, 0, 2, 0, 1]); // 2 evicts 1 (LRU), so 0 hits, 1 misses
    expect(m.mmu.counters()).toMatchObject({ hits: 2, misses: 4 });
  });

  it('set-associative: LRU within a set, sets chosen by page number', () => {
    const m = touch('sa:2x2', [0, 2, 4, 0, 1, 3, 1]); // set 0: 0,2 then 4 evicts 0; set 1 untouched by them
    expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 6 });
  });

  it('counts walks, fills and occupancy', () => {
    const m = touch('fa:8', [0, 1, 2, 0]);
    expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 3, walks: 3, fills: 3 });
    expect(m.mmu.tlb.occupancy()).toBe(3);
    m.mmu.resetCounters();
    expect(m.mmu.counters().hits).toBe(0);
  });

  it('parses and formats specs, rejecting bad ones', () => {
    for (const s of ['none', 'dm:64', 'fa:512', 'sa:16x4']) expect(formatTlb(parseTlb(s))).toBe(s);
    for (const s of ['dm:63', 'sa:3x2', 'fa:0', 'xx', 'fa:100000']) expect(() => parseTlb(s)).toThrow(/bad TLB spec/);
  });
});

describe('Mmu.translateDigest: the batched hit path with an FNV-1a digest of physical addresses', () => {
  for (const spec of ['dm:8', 'fa:8', 'sa:2x4']) {
    it(`equals translate() one access at a time, and stops at the first non-hit (${spec})`, () => {
      const m = paged({ tlb: spec });
      for (let i = 0; i < 4; i++) map4k(m, 0x40000000 + i * 4096, 0x300000 + i * 0x3000);
      const lin = Uint32Array.from([0x40000010, 0x40001ffc, 0x40002000, 0x40000abc, 0x40003004, 0x40001000]);
      const kind = Uint8Array.from([0, 1, 0, 1, 0, 0]);
      for (const a of [0x40000000, 0x40001000, 0x40002000]) m.mmu.translate(a, 1); // cached, dirty
      const stop = m.mmu.translateDigest(lin, kind, 0, lin.length, 0x811c9dc5);
      expect(stop).toBe(4); // 0x40003004: not cached
      let h = 0x811c9dc5;
      for (let i = 0; i < stop; i++) h = Math.imul(h ^ m.mmu.translate(lin[i], kind[i] as 0 | 1), 16777619) >>> 0;
      expect(m.mmu.digest).toBe(h);
      expect(m.mmu.translateDigest(lin, kind, 5, 6, 7)).toBe(6); // 0x40001000 hits
    });
  }

  it('stops before a write to a page cached clean, so D gets set by translate()', () => {
    const m = paged({ tlb: 'fa:4' });
    map4k(m, 0x40000000, 0x300000);
    m.mmu.translate(0x40000000, 0);
    expect(m.mmu.translateDigest(Uint32Array.of(0x40000004, 0x40000008), Uint8Array.of(0, 1), 0, 2, 0)).toBe(1);
  });
});

describe('LRU clock', () => {
  it('renumbers the int32 stamps before they overflow, keeping the LRU order', () => {
    const m = paged({ tlb: 'fa:3' });
    for (let i = 0; i < 4; i++) map4k(m, 0x40000000 + i * 4096, 0x300000 + i * 4096);
    for (const p of [0, 1, 2]) m.read32(0x40000000 + p * 4096); // LRU order: 0, 1, 2
    m.mmu.tlb.advanceClock(0x3fffffff); // as after a billion hits
    m.read32(0x40001000); // renumbers; order now 0, 2, 1 (a hit on page 2, the last stamped, would need no stamp)
    expect(m.mmu.tlb.clock).toBeLessThan(10);
    m.mmu.resetCounters();
    m.read32(0x40003000); // evicts page 0, the least recently used
    m.read32(0x40001000);
    expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 1 });
    m.read32(0x40000000);
    expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('a page dropped while it was the last stamped, refilled right after a renumber, gets a fresh stamp', () => {
    const m = paged({ tlb: 'fa:2' });
    for (let i = 0; i < 3; i++) map4k(m, 0x40000000 + i * 4096, 0x300000 + i * 4096);
    m.mmu.tlb.advanceClock(0x3ffffff0);
    m.read32(0x40000000);
    m.read32(0x40001000); // page 1 stamped last, with a huge stamp
    m.mmu.invlpg(0x40001000);
    // the next batch renumbers first: page 0 becomes 1; page 1, not cached, keeps its stamp
    m.mmu.tlb.advanceClock(0x3fffffff);
    const lin = Uint32Array.of(0x40001000);
    expect(m.mmu.translateDigest(lin, Uint8Array.of(0), 0, 1, 0)).toBe(1); // refills page 1 right after the renumber
    m.read32(0x40002000); // fills page 2, evicting page 0: recency 1, 2
    m.read32(0x40000000); // must evict page 1, the least recently used
    m.mmu.resetCounters();
    m.read32(0x40002000);
    expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 0 });
  });
});

describe('the machine state is its own', () => {
  it('CR2, the error code and the counters are read-only outward; resetCounters zeroes the TLB counters too', () => {
    const m = paged({ tlb: 'fa:2' });
    map4k(m, 0x40000000, 0x300000);
    m.read32(0x40000000);
    m.read32(0x40000004);
    expect(() => m.read32(0x40400000)).toThrow();
    m.mmu.invlpg(0x40000000);
    expect([hex(m.mmu.cr2), m.mmu.faultCode]).toEqual(['0x40400000', 0]);
    expect(m.mmu.counters()).toMatchObject({ hits: 1, faults: 1, fills: 1, invlpgs: 1 });
    for (const name of ['cr2', 'faultCode', 'hits', 'misses', 'walks', 'faults', 'digest'])
      expect(() => Reflect.set(m.mmu, name, 7) || assertFail(name), name).toThrow();
    for (const name of ['fills', 'evictions', 'flushes', 'invlpgs', 'clock', 'hitWord'])
      expect(() => Reflect.set(m.mmu.tlb, name, 7) || assertFail(name), name).toThrow();
    m.mmu.resetCounters();
    expect(Object.values(m.mmu.counters()).every((v) => v === 0)).toBe(true);
  });

  it('advanceClock moves the LRU clock forward only', () => {
    const m = paged({ tlb: 'fa:2' });
    m.mmu.tlb.advanceClock(100);
    expect(m.mmu.tlb.clock).toBe(100);
    expect(() => m.mmu.tlb.advanceClock(99)).toThrow(/cannot move from 100 to 99/);
  });
});

/** assertFail throws: Reflect.set returned false, the property refused the write. */
function assertFail(name: string): never {
  throw new Error(`${name} refused the write`);
}
