// One test per rule of 32-bit paging the machine implements, each naming its
// section of the Intel SDM Vol. 3A, chapter 4.
import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, GeneralProtection, type AccessKind } from '../../src/hw/fault.js';
import { Machine } from '../../src/hw/machine.js';
import { PhysicalMemory, pcLayout } from '../../src/hw/memory.js';
import { loadPdptes } from '../../src/hw/pae.js';
import {
  CR0_PE,
  CR0_PG,
  PDE_PS,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_P,
  PTE_RW,
  PTE_US,
} from '../../src/hw/paging.js';
import { DIR, URW, faultOf, map4k, map4m, paged, pdeAddr, pteAddr, tableFor } from './util.js';

describe('SDM 4.1/2.5: paging off', () => {
  it('linear addresses are physical while CR0.PG=0', () => {
    const m = new Machine({ ram: 16 << 20 });
    m.mem.write32(0x123450, 0xfeedface);
    expect(m.read32(0x123450)).toBe(0xfeedface);
    expect(m.mmu.counters().walks).toBe(0);
  });

  it('MOV to CR0 with PG=1 and PE=0 is #GP; EFER bits other than NXE are refused until modelled', () => {
    const m = new Machine({ ram: 16 << 20 });
    expect(() => m.mmu.writeCr0(CR0_PG)).toThrow(GeneralProtection);
    expect(() => m.mmu.writeEfer(1 << 8)).toThrow(/NXE/);
    for (const [write, kind, value] of [
      [() => m.mmu.writeCr0(CR0_PG), 'pg-without-pe', CR0_PG >>> 0],
      [() => m.mmu.writeEfer(1 << 8), 'efer-unmodelled', 1 << 8],
    ] as const) {
      const e = (() => {
        try {
          write();
        } catch (err) {
          return err as GeneralProtection;
        }
        return null;
      })();
      expect([e?.kind, e?.value]).toEqual([kind, value]);
    }
    const mem = new PhysicalMemory(pcLayout(2 << 20));
    mem.write32(0x3000, 0x5000 | PTE_P | PTE_RW); // PDPTE 0 with reserved bit 1 (RW) set
    const gp = (() => {
      try {
        loadPdptes(mem, 0x3000, 36, { lo: new Uint32Array(4), hi: new Uint32Array(4) });
      } catch (err) {
        return err as GeneralProtection;
      }
      return null;
    })();
    expect([gp?.kind, gp?.value]).toEqual(['pdpte-reserved', 0x3000]);
    m.mmu.writeCr0(CR0_PE | CR0_PG);
    expect(m.mmu.pagingEnabled).toBe(true);
  });
});

describe('SDM 4.3: 32-bit paging translation', () => {
  it('a 4 KiB page: PDE bits 31:12 locate the table, PTE bits 31:12 the frame, bits 11:0 the offset', () => {
    const m = paged();
    map4k(m, 0x40001000, 0x00345000);
    m.mem.write32(0x00345abc, 0x0badf00d);
    expect(m.read32(0x40001abc)).toBe(0x0badf00d);
    expect(m.mmu.probe(0x40001abc, ACCESS_READ, false).phys).toBe(0x345abc);
  });

  it('a 4 MiB page: PDE.PS=1 with CR4.PSE=1 maps bits 21:0 as the offset', () => {
    const m = paged({ pse: true });
    map4m(m, 0x80000000, 0x00c00000);
    m.mem.write32(0x00c12344, 77);
    expect(m.read32(0x80012344)).toBe(77);
    expect(m.mmu.probe(0x80012344, ACCESS_READ, false).large).toBe(true);
  });

  it('with CR4.PSE=0, PDE.PS is ignored and the PDE references a page table', () => {
    const m = paged({ pse: false });
    m.mem.write32(DIR + 4, 0x00200000 | URW | PDE_PS); // PS set, PSE off: 0x200000 is a page table
    m.mem.write32(0x00200000 + 3 * 4, 0x00300000 | URW);
    m.mem.write32(0x00300010, 5);
    expect(m.read32(0x00403010)).toBe(5);
    expect(m.mmu.probe(0x00403010, ACCESS_READ, false).large).toBe(false);
  });

  it('PSE-36: bits 20:13 of a 4 MiB PDE are physical-address bits 39:32 (no RAM there: all-ones)', () => {
    const m = paged({ pse: true });
    m.mem.write32(DIR + 2 * 4, 0x00400000 | (1 << 13) | URW | PDE_PS);
    expect(m.mmu.probe(0x00800010, ACCESS_READ, false).phys).toBe(0x1_0040_0010);
    expect(m.read32(0x00800010)).toBe(0xffffffff);
  });

  it('bit 21 of a 4 MiB PDE is reserved: the walk faults with RSVD=1 and P=1', () => {
    const m = paged({ pse: true });
    m.mem.write32(DIR + 2 * 4, 0x00400000 | (1 << 21) | URW | PDE_PS);
    expect(faultOf(() => m.read32(0x00800000))).toEqual([0x00800000, PF_RSVD | PF_P]);
    expect(faultOf(() => m.write32(0x00800004, 1))).toEqual([0x00800004, PF_RSVD | PF_P | PF_W]);
  });

  it('SDM 4.3 Table 4-4: with MAXPHYADDR M, bits (M-20):13 of a 4 MiB PDE are address bits (M-1):32 and bits 21:(M-19) reserved', () => {
    for (const [maxPhysAddr, highest] of [
      [40, 20],
      [36, 16],
      [32, 12],
    ] as const) {
      for (let bit = 13; bit <= 21; bit++) {
        const m = paged({ pse: true, maxPhysAddr });
        m.mem.write32(DIR + 2 * 4, 0x00400000 | (1 << bit) | URW | PDE_PS);
        const w = m.mmu.probe(0x00800010, ACCESS_READ, false);
        if (bit <= highest) {
          expect(w.phys, `M=${maxPhysAddr} bit ${bit}`).toBe(2 ** (bit - 13 + 32) + 0x00400010);
        } else {
          expect(
            faultOf(() => m.read32(0x00800010)),
            `M=${maxPhysAddr} bit ${bit}`,
          ).toEqual([0x00800010, PF_RSVD | PF_P]);
          expect(m.mem.read32(DIR + 2 * 4) & PTE_A).toBe(0); // a reserved-bit fault sets no A (SDM 4.8)
        }
      }
    }
  });

  it('4 KiB PDEs and PTEs have no reserved bits: bits 11:7 and 31:12 anything are fine', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x00345000, URW | 0xf80, URW | 0xf40);
    expect(faultOf(() => m.read32(0x40000000))).toBeNull();
  });
});

describe('SDM 4.7: page-fault error codes', () => {
  it('a not-present PDE or PTE gives P=0 with W/R and U/S of the access', () => {
    const m = paged();
    expect(faultOf(() => m.read32(0x50000000))).toEqual([0x50000000, 0]);
    expect(faultOf(() => m.write8(0x50000001, 1))).toEqual([0x50000001, PF_W]);
    map4k(m, 0x50000000, 0x300000, 0); // table present, PTE not present
    m.mmu.setCpl(3);
    expect(faultOf(() => m.read16(0x50000002))).toEqual([0x50000002, PF_U]);
    expect(faultOf(() => m.write32(0x50000004, 1))).toEqual([0x50000004, PF_U | PF_W]);
    expect(m.mmu.cr2).toBe(0x50000004);
  });

  it('instruction fetches set neither W nor I/D (no SMEP, no PAE+NXE in this mode)', () => {
    const m = paged();
    expect(faultOf(() => m.fetch(0x60000000))).toEqual([0x60000000, 0]);
    map4k(m, 0x60000000, 0x300000, PTE_P | PTE_RW, URW);
    m.mmu.setCpl(3);
    expect(faultOf(() => m.fetch(0x60000000, 4))).toEqual([0x60000000, PF_P | PF_U]);
  });
});

describe('SDM 4.6: access rights', () => {
  /**
   * expected states the SDM's rules directly: supervisor reads and fetches always; supervisor
   * writes need R/W=1 in both levels only when CR0.WP=1; user accesses need U/S=1 in both; user
   * writes also R/W=1 in both.
   */
  function expected(pde: number, pte: number, wp: boolean, user: boolean, kind: AccessKind): boolean {
    const rw = (pde & pte & PTE_RW) !== 0;
    const us = (pde & pte & PTE_US) !== 0;
    if (user && !us) return false;
    if (kind !== ACCESS_WRITE) return true;
    return user ? rw : rw || !wp;
  }

  it('every combination of PDE/PTE R/W and U/S, CR0.WP, CPL and access kind, 4 KiB and 4 MiB', () => {
    let checked = 0;
    for (const large of [false, true]) {
      for (let bits = 0; bits < 16; bits++) {
        const pde = PTE_P | (bits & 1 ? PTE_RW : 0) | (bits & 2 ? PTE_US : 0);
        const pte = large ? pde : PTE_P | (bits & 4 ? PTE_RW : 0) | (bits & 8 ? PTE_US : 0);
        if (large && bits >= 4) continue;
        for (const wp of [false, true]) {
          for (const user of [false, true]) {
            for (const kind of [ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH] as const) {
              const m = paged({ wp });
              if (large) map4m(m, 0x40000000, 0x800000, pde);
              else map4k(m, 0x40000000, 0x300000, pte, pde);
              m.mmu.setCpl(user ? 3 : 0);
              const f = faultOf(() => (kind === ACCESS_WRITE ? m.write32(0x40000010, 1) : m.read(0x40000010, 4, kind)));
              const ok = expected(pde, pte, wp, user, kind);
              const code = PF_P | (kind === ACCESS_WRITE ? PF_W : 0) | (user ? PF_U : 0);
              expect(f, `large=${large} pde=${pde} pte=${pte} wp=${wp} user=${user} kind=${kind}`).toEqual(
                ok ? null : [0x40000010, code],
              );
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe((16 + 4) * 2 * 2 * 3);
  });
});

describe('SDM 4.8: accessed and dirty flags', () => {
  it('a read sets A in the PDE and the PTE, not D', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    m.read32(0x40000000);
    expect(m.mem.read32(pdeAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A);
  });

  it('a write sets D in the PTE only (D is not defined for a PDE that references a table)', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    m.write32(0x40000000, 1);
    expect(m.mem.read32(pdeAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it('a 4 MiB page gets A and D in its PDE', () => {
    const m = paged();
    map4m(m, 0x40000000, 0x400000);
    m.read32(0x40000000);
    expect(m.mem.read32(pdeAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A);
    m.write32(0x40000000, 1);
    expect(m.mem.read32(pdeAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it('a faulting write sets no D and no A in the leaf', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000, PTE_P | PTE_US, URW); // read-only, WP=1
    expect(faultOf(() => m.write32(0x40000000, 1))).not.toBeNull();
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(0);
    expect(m.mem.read32(0x300000)).toBe(0);
  });

  it("QEMU's order (default): the PDE's A is set during the descent even when the PTE then faults", () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000, 0);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
    expect(m.mem.read32(pdeAddr(0x40000000)) & PTE_A).toBe(PTE_A);
  });

  it("Bochs' order ('after-checks'): the PDE's A is set only when the walk succeeds", () => {
    const m = paged({ accessedOrder: 'after-checks' });
    map4k(m, 0x40000000, 0x300000, 0);
    map4k(m, 0x40001000, 0x301000);
    expect(faultOf(() => m.read32(0x40000000))).not.toBeNull();
    expect(m.mem.read32(pdeAddr(0x40000000)) & PTE_A).toBe(0);
    m.read32(0x40001000);
    expect(m.mem.read32(pdeAddr(0x40000000)) & PTE_A).toBe(PTE_A);
  });

  it('probe walks without side effects: no A/D written, no TLB fill', () => {
    const m = paged();
    map4k(m, 0x40000000, 0x300000);
    const w = m.mmu.probe(0x40000123, ACCESS_WRITE, true);
    expect(w.phys).toBe(0x300123);
    expect(w.pteAddr).toBe(pteAddr(0x40000000));
    expect(m.mem.read32(pteAddr(0x40000000)) & (PTE_A | PTE_D)).toBe(0);
    expect(m.mmu.tlb.occupancy()).toBe(0);
    expect(tableFor(256)).toBe(0x200000);
  });
});

describe("SDM 4.7 vs QEMU 7.2: the reserved-bit fault's P flag", () => {
  it("rsvdErrorCode 'qemu' reproduces QEMU 7.2 (RSVD without P) for differential testing; the default is the SDM's", () => {
    const q = paged({ pse: true, rsvdErrorCode: 'qemu' });
    q.mem.write32(DIR + 2 * 4, 0x00400000 | (1 << 21) | URW | PDE_PS);
    expect(faultOf(() => q.read32(0x00800000))).toEqual([0x00800000, PF_RSVD]);
  });
});
