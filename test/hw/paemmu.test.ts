// PAE paging, NX, SMEP and SMAP in the machine (Mmu, TLB): one test per rule, with its SDM section.
import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, GeneralProtection } from '../../src/hw/fault.js';
import { Machine } from '../../src/hw/machine.js';
import type { PagingProfile } from '../../src/hw/pae.js';
import {
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  CR4_PGE,
  PDE_PS,
  PF_ID,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_RW,
} from '../../src/hw/paging.js';
import { CR4_SMAP, CR4_SMEP, EFER_NXE } from '../../src/hw/protect.js';
import { encodeDescriptor } from '../../src/hw/segdesc.js';
import { DS } from '../../src/hw/segments.js';
import { URW, faultOf, map4k, paged } from './util.js';

const PDPT = 0x1000;
const XD = 0x80000000;
/** The page directory of PDPT slot i, and the page table of PD slot j in it. */
const pdOf = (i: number): number => 0x10000 + i * 0x1000;
const ptOf = (i: number, j: number): number => 0x100000 + (i * 512 + j) * 0x1000;
const pdeAt = (lin: number): number => pdOf(lin >>> 30) + ((lin >>> 21) & 0x1ff) * 8;
const pteAt = (lin: number): number => ptOf(lin >>> 30, (lin >>> 21) & 0x1ff) + ((lin >>> 12) & 0x1ff) * 8;

interface Setup {
  profile?: PagingProfile;
  nxe?: boolean;
  cr4?: number;
}

/** paeMachine gives a machine with four present PDPTEs at PDPT, empty directories, PAE paging on. */
function paeMachine(s: Setup = {}): Machine {
  const m = new Machine({ ram: 64 << 20, pagingProfile: s.profile ?? 'sdm', efer: s.nxe ? EFER_NXE : 0 });
  for (let i = 0; i < 4; i++) m.mem.write32(PDPT + i * 8, pdOf(i) | PTE_P);
  m.mmu.writeCr3(PDPT);
  m.mmu.writeCr4(CR4_PAE | (s.cr4 ?? 0));
  m.mmu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
  return m;
}

/** map writes a PDE (pdeLo) and a PTE (pteLo, pteHi) so `lin` maps the 4 KiB frame `phys`. */
function map(m: Machine, lin: number, phys: number, pteLo = URW, pteHi = 0, pdeLo = URW, pdeHi = 0): void {
  m.mem.write32(pdeAt(lin), ptOf(lin >>> 30, (lin >>> 21) & 0x1ff) | pdeLo);
  m.mem.write32(pdeAt(lin) + 4, pdeHi);
  m.mem.write32(pteAt(lin), (phys & 0xfffff000) | pteLo);
  m.mem.write32(pteAt(lin) + 4, pteHi);
}

/** map2m writes a 2 MiB PDE for `lin` to the 2 MiB page at hi:lo. */
function map2m(m: Machine, lin: number, lo: number, hi = 0, flags = URW): void {
  m.mem.write32(pdeAt(lin), (lo & 0xffe00000) | flags | PDE_PS);
  m.mem.write32(pdeAt(lin) + 4, hi);
}

/** gpKind runs fn and gives the kind of the GeneralProtection it throws, or null. */
function gpKind(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof GeneralProtection) return e.kind;
    throw e;
  }
}

describe('SDM 4.4: PAE paging in the machine', () => {
  it('4.4.2: a 4 KiB page through PDPTE, PDE and PTE (64-bit entries)', () => {
    const m = paeMachine();
    map(m, 0x40403000, 0x234000);
    m.mem.write32(0x234abc, 0xcafef00d);
    expect(m.read32(0x40403abc)).toBe(0xcafef00d);
    expect(m.mmu.translate(0x40403abc, ACCESS_READ)).toBe(0x234abc);
  });

  it('4.4.2: PDE.PS=1 maps a 2 MiB page, physical bits above 4 GiB from the high dword', () => {
    const m = paeMachine();
    map2m(m, 0x00600000, 0x00a00000);
    m.mem.write32(0x00a12344, 0x5a5a5a5a);
    expect(m.read32(0x00612344)).toBe(0x5a5a5a5a);
    map2m(m, 0x80000000, 0x00400000, 0x3);
    expect(m.mmu.translate(0x801fffff, ACCESS_READ)).toBe(0x3_0000_0000 + 0x005fffff);
  });

  it('4.8: A in the PDE and PTE, D in the PTE on a write, the high dwords untouched', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000, URW, 0x00000007, URW, 0);
    m.mmu.writeCr3(PDPT); // the PTE's high dword names frame 7_0030_0000: physical only, not read
    expect(m.mmu.translate(0x1004, ACCESS_READ)).toBe(0x7_0030_0004);
    expect(m.mem.read32(pdeAt(0x1000)) & PTE_A).toBe(PTE_A);
    expect(m.mem.read32(pteAt(0x1000)) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(m.mmu.translate(0x1004, ACCESS_WRITE)).toBe(0x7_0030_0004);
    expect(m.mem.read32(pteAt(0x1000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(m.mem.read32(pteAt(0x1000) + 4)).toBe(7);
    expect(m.mmu.dirtySets).toBe(1);
  });

  it('4.8: a write to a 2 MiB page sets A and D in its PDE', () => {
    const m = paeMachine();
    map2m(m, 0x00200000, 0x00800000);
    m.write32(0x00200010, 1);
    expect(m.mem.read32(pdeAt(0x00200000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it('4.4.1 (sdm): MOV CR3 with a reserved bit in a present PDPTE is #GP and changes nothing', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000);
    const other = 0x2000;
    for (let i = 0; i < 4; i++) m.mem.write32(other + i * 8, pdOf(i) | PTE_P);
    m.mem.write32(other + 8, pdOf(1) | PTE_P | 0x2); // bit 1 is reserved
    m.mmu.translate(0x1000, ACCESS_READ);
    expect(gpKind(() => m.mmu.writeCr3(other))).toBe('pdpte-reserved');
    expect(m.mmu.cr3).toBe(PDPT);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x300000);
    m.mem.write32(other + 8 + 4, 0x100); // bits 63:M (M = 40) too
    m.mem.write32(other + 8, pdOf(1) | PTE_P);
    expect(gpKind(() => m.mmu.writeCr3(other))).toBe('pdpte-reserved');
    m.mem.write32(other + 8, pdOf(1)); // not present: not checked
    expect(gpKind(() => m.mmu.writeCr3(other))).toBe(null);
  });

  it('4.4.1 (sdm): MOV to CR0 setting PG loads the PDPTEs (#GP: paging stays off)', () => {
    const m = new Machine({ ram: 16 << 20 });
    m.mem.write32(PDPT, pdOf(0) | PTE_P | 0x20); // bit 5 reserved
    m.mmu.writeCr3(PDPT);
    m.mmu.writeCr4(CR4_PAE);
    expect(gpKind(() => m.mmu.writeCr0(CR0_PE | CR0_PG))).toBe('pdpte-reserved');
    expect(m.mmu.pagingEnabled).toBe(false);
  });

  it('4.4.1 (sdm): the walk uses the PDPTE registers; MOV CR3 or a CR4.PGE change reloads them', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000);
    m.mem.write32(PDPT, 0); // PDPTE 0 now not present in memory, still present in its register
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x300000);
    m.mmu.invlpg(0x1000);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x300000);
    m.mmu.writeCr4(CR4_PAE | CR4_PGE);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(-1);
    expect(m.mmu.faultCode).toBe(0);
    m.mem.write32(PDPT, pdOf(0) | PTE_P);
    m.mmu.writeCr3(PDPT);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x300000);
  });

  it('qemu profile: no #GP at MOV CR3, the PDPTE is re-read per walk, bits 2:1 ignored, 63:M a RSVD fault', () => {
    const m = paeMachine({ profile: 'qemu' });
    map(m, 0x1000, 0x300000);
    m.mem.write32(PDPT, pdOf(0) | PTE_P | 0x6);
    expect(gpKind(() => m.mmu.writeCr3(PDPT))).toBe(null);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x300000);
    expect(m.mem.read32(PDPT) & PTE_A).toBe(PTE_A); // QEMU writes A into the PDPTE
    m.mem.write32(PDPT + 4, 0x100);
    m.mmu.invlpg(0x1000);
    expect(m.mmu.translate(0x1000, ACCESS_WRITE)).toBe(-1);
    expect(m.mmu.faultCode).toBe(PF_RSVD | PF_W);
  });

  it('4.7: reserved bits give RSVD with P (sdm): PDE bit 63 without NXE, 2 MiB bits 20:13, PTE 62:M', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000, URW, 0, URW, XD);
    expect(faultOf(() => m.read32(0x1000))).toEqual([0x1000, PF_RSVD | PF_P]);
    map2m(m, 0x00400000, 0x00800000, 0, URW | 0x2000); // bit 13
    expect(faultOf(() => m.write32(0x00400000, 0))).toEqual([0x00400000, PF_RSVD | PF_P | PF_W]);
    map(m, 0x40000000, 0x300000, URW, 0x00800000);
    m.mmu.setCpl(3);
    expect(faultOf(() => m.read32(0x40000000))).toEqual([0x40000000, PF_RSVD | PF_P | PF_U]);
  });

  it('4.6.1/4.7: with EFER.NXE, XD forbids fetches (I/D set), not reads; without NXE it is reserved', () => {
    const m = paeMachine({ nxe: true });
    map(m, 0x5000, 0x300000, URW, XD);
    expect(m.read32(0x5000)).toBe(0);
    expect(faultOf(() => m.fetch(0x5000))).toEqual([0x5000, PF_P | PF_ID]);
    m.mmu.setCpl(3);
    expect(faultOf(() => m.fetch(0x5000))).toEqual([0x5000, PF_P | PF_ID | PF_U]);
    m.mmu.setCpl(0);
    m.mmu.writeEfer(0);
    expect(m.mmu.nx).toBe(false);
    expect(faultOf(() => m.fetch(0x5000))).toEqual([0x5000, PF_P | PF_RSVD]);
  });

  it('4.6.1: XD in the PDE applies to every page under it (the OR over the entries)', () => {
    const m = paeMachine({ nxe: true });
    map(m, 0x6000, 0x300000, URW, 0, URW, XD);
    expect(faultOf(() => m.fetch(0x6000))).toEqual([0x6000, PF_P | PF_ID]);
  });

  it('4.7: under NXE a not-present fetch fault has I/D set, a data fault never', () => {
    const m = paeMachine({ nxe: true });
    expect(faultOf(() => m.fetch(0x7000))).toEqual([0x7000, PF_ID]);
    expect(faultOf(() => m.read32(0x7000))).toEqual([0x7000, 0]);
    const off = paeMachine();
    expect(faultOf(() => off.fetch(0x7000))).toEqual([0x7000, 0]);
  });

  it('4.10.2.3/4.10.4.1: a 2 MiB page is cached as pieces; INVLPG of any piece drops them all', () => {
    const m = paeMachine();
    map2m(m, 0x00200000, 0x00800000);
    expect(m.mmu.translate(0x00200000, ACCESS_READ)).toBe(0x00800000);
    const walks = m.mmu.walks;
    expect(m.mmu.translate(0x00200004, ACCESS_READ)).toBe(0x00800004);
    expect(m.mmu.walks).toBe(walks); // a hit
    map2m(m, 0x00200000, 0x00c00000);
    expect(m.mmu.translate(0x00200000, ACCESS_READ)).toBe(0x00800000); // still the cached piece
    m.mmu.invlpg(0x003ff000);
    expect(m.mmu.translate(0x00200000, ACCESS_READ)).toBe(0x00c00000);
  });

  it('4.10.4.1: MOV CR3 keeps global PAE entries with CR4.PGE, a fault drops the page', () => {
    const m = paeMachine({ cr4: CR4_PGE });
    map(m, 0x1000, 0x300000, URW | PTE_G);
    map(m, 0x2000, 0x301000, PTE_P); // supervisor read-only
    m.mmu.translate(0x1000, ACCESS_READ);
    m.mmu.translate(0x2000, ACCESS_READ);
    map(m, 0x1000, 0x302000, URW | PTE_G);
    map(m, 0x2000, 0x303000, PTE_P);
    m.mmu.writeCr3(PDPT);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x300000);
    expect(m.mmu.translate(0x2000, ACCESS_READ)).toBe(0x303000);
    expect(m.mmu.translate(0x2000, ACCESS_WRITE)).toBe(-1);
    expect([m.mmu.cr2, m.mmu.faultCode]).toEqual([0x2000, PF_P | PF_W]);
  });

  it('leaving PAE (MOV to CR4 clearing PAE) flushes the TLB and 32-bit paging resumes its own walk', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000);
    m.mmu.translate(0x1000, ACCESS_READ);
    const flushes = m.mmu.counters().flushes;
    m.mmu.writeCr3(0x200000);
    m.mmu.writeCr4(0);
    expect(m.mmu.counters().flushes).toBe(flushes + 2);
    m.mem.write32(0x200000, 0x201000 | URW);
    m.mem.write32(0x201004, 0x305000 | URW);
    expect(m.mmu.translate(0x1000, ACCESS_READ)).toBe(0x305000);
  });

  it('translateDigest leaves PAE accesses to translate() (returns where it started)', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000);
    m.mmu.translate(0x1000, ACCESS_READ);
    expect(m.mmu.translateDigest(Uint32Array.of(0x1000), Uint8Array.of(0), 0, 1, 7)).toBe(0);
  });

  it('probeExt walks without A/D or TLB', () => {
    const m = paeMachine();
    map(m, 0x1000, 0x300000, URW);
    const w = m.mmu.probeExt(0x1008, ACCESS_WRITE, false);
    expect([w.phys, w.pteAddr, w.large]).toEqual([0x300008, pteAt(0x1000), false]);
    expect(m.mem.read32(pteAt(0x1000)) & PTE_A).toBe(0);
    expect(m.mmu.counters().fills).toBe(0);
  });
});

describe('SDM 4.6.1: SMEP and SMAP, in 32-bit and PAE paging', () => {
  /** A 32-bit machine with a user page at 0x1000 and a supervisor page at 0x2000. */
  function flat(cr4: number): Machine {
    const m = paged();
    map4k(m, 0x1000, 0x300000, URW);
    map4k(m, 0x2000, 0x301000, PTE_P | PTE_RW);
    m.mmu.writeCr4(m.mmu.cr4 | cr4);
    return m;
  }

  it('SMEP (32-bit): a supervisor fetch from a user page faults with P and I/D; supervisor pages fetch', () => {
    const m = flat(CR4_SMEP);
    expect(faultOf(() => m.fetch(0x1000))).toEqual([0x1000, PF_P | PF_ID]);
    expect(m.fetch(0x2000)).toBe(0);
    expect(m.read32(0x1000)).toBe(0); // data accesses are not SMEP's
    m.mmu.setCpl(3);
    expect(m.fetch(0x1000)).toBe(0);
  });

  it('4.7: SMEP sets I/D on every fetch fault in 32-bit paging, not-present ones too', () => {
    const m = flat(CR4_SMEP);
    expect(faultOf(() => m.fetch(0x9000))).toEqual([0x9000, PF_ID]);
    expect(faultOf(() => flat(0).fetch(0x9000))).toEqual([0x9000, 0]);
  });

  it('SMEP (32-bit, qemu order): the refused walk still set PDE.A', () => {
    const m = flat(CR4_SMEP);
    m.mem.write32(0x1000, m.mem.read32(0x1000) & ~PTE_A); // the directory is at 0x1000 (util.ts DIR)
    expect(faultOf(() => m.fetch(0x1000))).toEqual([0x1000, PF_P | PF_ID]);
    expect(m.mem.read32(0x1000) & PTE_A).toBe(PTE_A);
  });

  it('SMAP (32-bit): supervisor data access to a user page faults unless EFLAGS.AC, checked at each access', () => {
    const m = flat(CR4_SMAP);
    expect(faultOf(() => m.read32(0x1000))).toEqual([0x1000, PF_P]);
    m.mmu.setAc(true);
    expect(m.read32(0x1000)).toBe(0);
    m.write32(0x1000, 5);
    m.mmu.setAc(false); // CLAC: no flush; the cached translation must not let it through
    expect(faultOf(() => m.read32(0x1000))).toEqual([0x1000, PF_P]);
    expect(faultOf(() => m.write32(0x1000, 1))).toEqual([0x1000, PF_P | PF_W]);
    expect(m.fetch(0x1000)).toBe(5); // fetches are not SMAP's
    m.mmu.setCpl(3);
    expect(m.read32(0x1000)).toBe(5);
  });

  it('SMEP and SMAP under PAE paging', () => {
    const m = paeMachine({ cr4: CR4_SMEP | CR4_SMAP });
    map(m, 0x1000, 0x300000, URW);
    map(m, 0x2000, 0x301000, PTE_P | PTE_RW);
    expect(faultOf(() => m.fetch(0x1000))).toEqual([0x1000, PF_P | PF_ID]);
    expect(faultOf(() => m.read32(0x1000))).toEqual([0x1000, PF_P]);
    m.mmu.setAc(true);
    expect(m.read32(0x1000)).toBe(0);
    expect(m.fetch(0x2000)).toBe(0);
    m.mmu.setCpl(3);
    expect(faultOf(() => m.read32(0x2000))).toEqual([0x2000, PF_P | PF_U]);
  });

  it('SMAP: implicit supervisor accesses (a GDT read) to a user page fault even with EFLAGS.AC=1', () => {
    const m = flat(CR4_SMAP);
    const [lo, hi] = encodeDescriptor({ base: 0, limit: 0xfffff, type: 3, dpl: 0, big: true, granular: true });
    m.mem.write32(0x300010, lo); // the GDT at linear 0x1000 (a user page), selector 0x10
    m.mem.write32(0x300014, hi);
    m.mmu.setAc(true);
    m.seg.lgdt(0x1000, 0x17);
    expect(m.read32(0x1000)).toBe(0); // an explicit access: AC lets it through
    expect(faultOf(() => m.seg.load(DS, 0x10))).toEqual([0x1010, PF_P]);
    expect(m.mmu.ac).toBe(true); // restored after the implicit access
    map4k(m, 0x1000, 0x300000, PTE_P | PTE_RW); // a supervisor page: the load goes through
    m.mmu.invlpg(0x1000);
    m.seg.load(DS, 0x10);
    expect(m.seg.selector(DS)).toBe(0x10);
  });

  it('4.1.3/4.7: EFER.NXE does nothing in 32-bit paging (no XD bit, no I/D); a change of NXE flushes the TLB', () => {
    const m = new Machine({ ram: 64 << 20, efer: EFER_NXE });
    m.mem.write32(0x1000, 0x2000 | URW);
    m.mem.write32(0x2004, 0x300000 | URW);
    m.mmu.writeCr3(0x1000);
    m.mmu.writeCr0(CR0_PE | CR0_PG);
    expect([m.mmu.efer, m.mmu.nx]).toEqual([EFER_NXE, false]);
    expect(m.fetch(0x1000)).toBe(0);
    expect(faultOf(() => m.fetch(0x9000))).toEqual([0x9000, 0]);
    const flushes = m.mmu.counters().flushes;
    m.mmu.writeEfer(0);
    m.mmu.writeEfer(0);
    expect(m.mmu.counters().flushes).toBe(flushes + 1);
  });

  it('32-bit paging without SMEP/SMAP keeps the hit-word path (PAE entries never enter it)', () => {
    const m = flat(0);
    m.read32(0x1000);
    expect(m.mmu.translateHit(0x1000, ACCESS_READ)).toBe(0x300000);
    const p = paeMachine();
    map(p, 0x1000, 0x300000);
    p.read32(0x1000);
    expect(p.mmu.translateHit(0x1000, ACCESS_READ)).toBe(-1);
    expect(p.mmu.translate(0x1000, ACCESS_FETCH)).toBe(0x300000);
  });
});
