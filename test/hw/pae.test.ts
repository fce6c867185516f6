// One test per rule of PAE paging (SDM 4.4) in src/hw/pae.ts, under both profiles where they differ.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, GeneralProtection } from '../../src/hw/fault.js';
import { PhysicalMemory, pcLayout } from '../../src/hw/memory.js';
import {
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
  PTE_US,
} from '../../src/hw/paging.js';
import {
  PAE_XD_HI,
  PaeWalkState,
  PdpteRegs,
  checkMaxPhysAddr,
  loadPdptes,
  paeReservedHi,
  paeWalk,
  pdpteReservedHi,
  type PaeMode,
  type PagingProfile,
} from '../../src/hw/pae.js';

const PDPT = 0x1000;
const URW = PTE_P | PTE_RW | PTE_US;
/** The page directory of PDPT slot i and the page table of PD slot j in it. */
const pdOf = (i: number): number => 0x10000 + i * 0x1000;
const ptOf = (i: number, j: number): number => 0x100000 + (i * 512 + j) * 0x1000;

interface Setup {
  profile?: PagingProfile;
  nx?: boolean;
  smep?: boolean;
  smap?: boolean;
  wp?: boolean;
  maxPhysAddr?: number;
}

/** machineOf returns memory with a PDPT at PDPT whose four entries each point at pdOf(i), and a walk mode. */
function machineOf(s: Setup = {}): { mem: PhysicalMemory; mode: PaeMode & { pdptes: PdpteRegs } } {
  const mem = new PhysicalMemory(pcLayout(64 << 20));
  for (let i = 0; i < 4; i++) mem.write32(PDPT + i * 8, pdOf(i) | PTE_P);
  const pdptes = new PdpteRegs();
  const maxPhysAddr = s.maxPhysAddr ?? 36;
  loadPdptes(mem, PDPT, maxPhysAddr, pdptes);
  const mode = {
    cr3: PDPT,
    pdptes,
    profile: s.profile ?? 'sdm',
    maxPhysAddr,
    wp: s.wp ?? true,
    nx: s.nx ?? false,
    smep: s.smep ?? false,
    smap: s.smap ?? false,
    ac: false,
  };
  return { mem, mode };
}

/** write64 stores an entry as its two dwords. */
function write64(mem: PhysicalMemory, at: number, lo: number, hi = 0): void {
  mem.write32(at, lo);
  mem.write32(at + 4, hi);
}

/** map4k maps `linear` to the 4 KiB frame `frame` (a number up to 2^52) with PDE and PTE flags. */
function map4k(mem: PhysicalMemory, linear: number, frame: number, pte = URW, pde = URW, pteHi = 0, pdeHi = 0): void {
  const i = linear >>> 30;
  const j = (linear >>> 21) & 0x1ff;
  write64(mem, pdOf(i) + j * 8, ptOf(i, j) | pde, pdeHi);
  const hi = Math.floor(frame / 2 ** 32);
  write64(mem, ptOf(i, j) + ((linear >>> 12) & 0x1ff) * 8, ((frame & 0xfffff000) | pte) >>> 0, hi | pteHi);
}

const pteAt = (linear: number): number => ptOf(linear >>> 30, (linear >>> 21) & 0x1ff) + ((linear >>> 12) & 0x1ff) * 8;
const pdeAt = (linear: number): number => pdOf(linear >>> 30) + ((linear >>> 21) & 0x1ff) * 8;

describe('SDM 4.4.2: PAE translation', () => {
  it('a 4 KiB page: PDPT index 31:30, PD index 29:21, PT index 20:12, offset 11:0', () => {
    const { mem, mode } = machineOf();
    map4k(mem, 0xc0403abc, 0x00345000);
    const out = new PaeWalkState();
    expect(paeWalk(mem, mode, 0xc0403abc, ACCESS_READ, false, true, out)).toBe(0x345abc);
    expect(out.pdpteAddr).toBe(PDPT + 3 * 8);
    expect(out.pdeAddr).toBe(pdOf(3) + 2 * 8);
    expect(out.pteAddr).toBe(pteAt(0xc0403abc));
  });

  it('a frame above 4 GiB: PTE bits (M-1):32 in the high dword', () => {
    const { mem, mode } = machineOf({ maxPhysAddr: 40 });
    map4k(mem, 0x00001000, 0xab_1234_5000);
    expect(paeWalk(mem, mode, 0x00001010, ACCESS_READ, false, false, new PaeWalkState())).toBe(0xab_1234_5010);
  });

  it('a 2 MiB page: PDE.PS=1 maps bits 20:0 as the offset, with or without CR4.PSE', () => {
    const { mem, mode } = machineOf();
    write64(mem, pdeAt(0x40200000), 0x00c00000 | URW | PDE_PS);
    const out = new PaeWalkState();
    expect(paeWalk(mem, mode, 0x403fffff, ACCESS_READ, false, true, out)).toBe(0x00dfffff);
    expect(out.large).toBe(true);
    expect(out.pteAddr).toBe(-1);
  });

  it('a not-present PDPTE, PDE or PTE is a not-present fault (P=0 in the error code)', () => {
    const { mem, mode } = machineOf();
    mem.write32(PDPT + 8, 0);
    loadPdptes(mem, PDPT, 36, mode.pdptes);
    const out = new PaeWalkState();
    expect(paeWalk(mem, mode, 0x40000000, ACCESS_WRITE, true, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_W | PF_U);
    expect(paeWalk(mem, mode, 0x00000000, ACCESS_READ, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(0);
    map4k(mem, 0x00001000, 0x5000, PTE_RW);
    expect(paeWalk(mem, mode, 0x00001000, ACCESS_READ, true, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_U);
  });
});

describe('SDM 4.4.1: the PDPTE registers (sdm profile)', () => {
  it('MOV CR3 with a present PDPTE setting bits 2:1, 8:5 or 63:M is #GP and loads nothing', () => {
    const { mem, mode } = machineOf();
    for (const [lo, hi] of [
      [PTE_P | PTE_RW, 0],
      [PTE_P | PTE_A, 0],
      [PTE_P | 0x100, 0],
      [PTE_P, 0x10],
      [PTE_P, PAE_XD_HI],
    ] as const) {
      write64(mem, PDPT + 16, pdOf(2) | lo, hi);
      expect(() => loadPdptes(mem, PDPT, 36, mode.pdptes)).toThrow(GeneralProtection);
      expect(mode.pdptes.lo[2]).toBe(pdOf(2) | PTE_P);
    }
  });

  it('reserved bits in a PDPTE with P=0 are not checked', () => {
    const { mem, mode } = machineOf();
    write64(mem, PDPT + 16, 0xffe, 0xffffffff);
    loadPdptes(mem, PDPT, 36, mode.pdptes);
    expect(mode.pdptes.hi[2]).toBe(0xffffffff);
  });

  it('the walk uses the registers, not memory: a PDPTE changed after MOV CR3 has no effect', () => {
    const { mem, mode } = machineOf();
    map4k(mem, 0x1000, 0x7000);
    mem.write32(PDPT, 0);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, true, new PaeWalkState())).toBe(0x7000);
    expect(mem.read32(PDPT) & PTE_A).toBe(0); // nor does the walk write A into a PDPTE
  });

  it('CR3 bits 4:0 are ignored: the PDPT is 32-byte aligned', () => {
    const { mem } = machineOf();
    const regs = new PdpteRegs();
    loadPdptes(mem, PDPT | 0x18, 36, regs);
    expect(regs.lo[0]).toBe(pdOf(0) | PTE_P);
  });
});

describe('QEMU 7.2 PDPTEs (qemu profile)', () => {
  it('re-reads the PDPTE from memory on every walk and sets its A bit', () => {
    const { mem, mode } = machineOf({ profile: 'qemu' });
    map4k(mem, 0x1000, 0x7000);
    const out = new PaeWalkState();
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, true, out)).toBe(0x7000);
    expect(mem.read32(PDPT)).toBe(pdOf(0) | PTE_P | PTE_A);
    mem.write32(PDPT, 0);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, true, out)).toBe(-1);
  });

  it('ignores PDPTE bits 2:1 and 8:5, and faults RSVD without P on bits 63:M', () => {
    const { mem, mode } = machineOf({ profile: 'qemu' });
    map4k(mem, 0x1000, 0x7000);
    write64(mem, PDPT, pdOf(0) | PTE_P | PTE_RW | PTE_US | 0x1c0);
    const out = new PaeWalkState();
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, false, out)).toBe(0x7000);
    write64(mem, PDPT, pdOf(0) | PTE_P, PAE_XD_HI);
    expect(paeWalk(mem, { ...mode, nx: true }, 0x1000, ACCESS_WRITE, false, false, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_RSVD | PF_W);
  });
});

describe('SDM 4.4.2: reserved bits (RSVD faults)', () => {
  it('PDE and PTE bits 62:M are reserved; the error code has P under sdm and not under qemu', () => {
    for (const profile of ['sdm', 'qemu'] as const) {
      const { mem, mode } = machineOf({ profile });
      const out = new PaeWalkState();
      map4k(mem, 0x1000, 0x7000, URW, URW, 0x10); // bit 36 with M=36
      expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, true, true, out)).toBe(-1);
      expect(out.errorCode).toBe((profile === 'sdm' ? PF_P : 0) | PF_RSVD | PF_U);
      expect(mem.read32(pdeAt(0x1000)) & PTE_A).toBe(PTE_A); // the PDE got A before the PTE was read
      map4k(mem, 0x1000, 0x7000, URW, URW, 0, 0x40000000); // bit 62 in the PDE
      expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, true, out)).toBe(-1);
      expect(out.errorCode & PF_RSVD).toBe(PF_RSVD);
    }
  });

  it('bit 63 is reserved without NXE and is XD with it', () => {
    const { mem, mode } = machineOf();
    const out = new PaeWalkState();
    map4k(mem, 0x1000, 0x7000, URW, URW, PAE_XD_HI);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_P | PF_RSVD);
    expect(paeWalk(mem, { ...mode, nx: true }, 0x1000, ACCESS_READ, false, true, out)).toBe(0x7000);
  });

  it('a 2 MiB PDE has bits 20:13 reserved; bit 12 (PAT) is not', () => {
    const { mem, mode } = machineOf();
    const out = new PaeWalkState();
    write64(mem, pdeAt(0), 0x00200000 | URW | PDE_PS | 0x1000);
    expect(paeWalk(mem, mode, 0x10, ACCESS_READ, false, true, out)).toBe(0x200010);
    write64(mem, pdeAt(0), 0x00200000 | URW | PDE_PS | 0x2000);
    expect(paeWalk(mem, mode, 0x10, ACCESS_READ, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_P | PF_RSVD);
  });

  it('a reserved bit wins over a not-permitted access; P=0 wins over a reserved bit', () => {
    const { mem, mode } = machineOf();
    const out = new PaeWalkState();
    map4k(mem, 0x1000, 0x7000, PTE_P, PTE_P, 0x100);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_WRITE, true, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_P | PF_RSVD | PF_W | PF_U);
    map4k(mem, 0x1000, 0x7000, 0, PTE_P, 0x100);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_WRITE, true, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_W | PF_U);
  });

  it('the reserved masks follow MAXPHYADDR from 32 to 52', () => {
    expect(paeReservedHi(36, true)).toBe(0x7ffffff0);
    expect(paeReservedHi(52, true)).toBe(0x7ff00000);
    expect(paeReservedHi(32, false)).toBe(0xffffffff);
    expect(pdpteReservedHi(40)).toBe(0xffffff00);
    expect(() => checkMaxPhysAddr(53)).toThrow(RangeError);
    expect(() => checkMaxPhysAddr(31)).toThrow(RangeError);
  });
});

describe('SDM 4.6/4.7: rights and error codes through the PAE walk', () => {
  it('with NXE, XD in the PDE or the PTE forbids fetches, with I/D in the error code', () => {
    const { mem, mode } = machineOf({ nx: true });
    const out = new PaeWalkState();
    for (const [pteHi, pdeHi] of [
      [PAE_XD_HI, 0],
      [0, PAE_XD_HI],
    ]) {
      map4k(mem, 0x1000, 0x7000, URW, URW, pteHi, pdeHi);
      expect(paeWalk(mem, mode, 0x1000, ACCESS_FETCH, true, true, out)).toBe(-1);
      expect(out.errorCode).toBe(PF_ID | PF_P | PF_U);
      expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, true, true, out)).toBe(0x7000);
    }
  });

  it('a not-present fetch gets I/D with NXE and not without', () => {
    const out = new PaeWalkState();
    const a = machineOf({ nx: true });
    expect(paeWalk(a.mem, a.mode, 0x1000, ACCESS_FETCH, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_ID);
    const b = machineOf();
    expect(paeWalk(b.mem, b.mode, 0x1000, ACCESS_FETCH, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(0);
  });

  it('U/S and R/W combine over PDE and PTE: a supervisor PDE makes the page supervisor', () => {
    const { mem, mode } = machineOf();
    const out = new PaeWalkState();
    map4k(mem, 0x1000, 0x7000, URW, PTE_P | PTE_RW);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, true, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_P | PF_U);
    map4k(mem, 0x1000, 0x7000, URW, PTE_P | PTE_US);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_WRITE, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_P | PF_W);
  });

  it('SMEP stops a supervisor fetch from a user page; SMAP a supervisor read unless AC', () => {
    const { mem, mode } = machineOf({ smep: true, smap: true });
    const out = new PaeWalkState();
    map4k(mem, 0x1000, 0x7000);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_FETCH, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_ID | PF_P);
    expect(paeWalk(mem, mode, 0x1000, ACCESS_READ, false, true, out)).toBe(-1);
    expect(out.errorCode).toBe(PF_P);
    expect(paeWalk(mem, { ...mode, ac: true }, 0x1000, ACCESS_READ, false, true, out)).toBe(0x7000);
  });
});

describe('SDM 4.8: accessed and dirty flags under PAE', () => {
  it('a write sets A and D in the PTE and A in the PDE; a look (no commit) changes nothing', () => {
    const { mem, mode } = machineOf();
    const out = new PaeWalkState();
    map4k(mem, 0x1000, 0x7000, URW | PTE_G);
    paeWalk(mem, mode, 0x1000, ACCESS_WRITE, true, false, out);
    expect(mem.read32(pteAt(0x1000)) & (PTE_A | PTE_D)).toBe(0);
    paeWalk(mem, mode, 0x1000, ACCESS_WRITE, true, true, out);
    expect(mem.read32(pteAt(0x1000)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(mem.read32(pdeAt(0x1000)) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(out.dirty).toBe(true);
    expect(out.global).toBe(true);
  });

  it('a faulting access sets no A or D in the leaf', () => {
    const { mem, mode } = machineOf();
    map4k(mem, 0x1000, 0x7000, PTE_P | PTE_US);
    paeWalk(mem, mode, 0x1000, ACCESS_WRITE, true, true, new PaeWalkState());
    expect(mem.read32(pteAt(0x1000)) & (PTE_A | PTE_D)).toBe(0);
  });

  it('the high dword of an entry is never written', () => {
    const { mem, mode } = machineOf({ maxPhysAddr: 40, nx: true });
    map4k(mem, 0x1000, 0x12_0000_7000, URW, URW, PAE_XD_HI);
    paeWalk(mem, mode, 0x1000, ACCESS_WRITE, true, true, new PaeWalkState());
    expect(mem.read32(pteAt(0x1000) + 4)).toBe((PAE_XD_HI | 0x12) >>> 0);
  });
});

describe('PAE walk properties (fast-check)', () => {
  it('a look (no commit) writes nothing, and both profiles agree while the PDPTEs are clean', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.constantFrom(0, PAE_XD_HI, 0x10),
        fc.constantFrom(ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH),
        fc.boolean(),
        (linear, pteFlags, pdeFlags, pteHi, kind, user) => {
          const sdm = machineOf({ nx: true });
          const qemu = machineOf({ nx: true, profile: 'qemu' });
          for (const { mem } of [sdm, qemu]) {
            map4k(mem, linear, 0x300000, pteFlags, (pdeFlags & ~PDE_PS) | PTE_P, pteHi);
          }
          const before = [sdm.mem.read32(pteAt(linear)), sdm.mem.read32(pdeAt(linear))];
          const a = new PaeWalkState();
          const b = new PaeWalkState();
          const pa = paeWalk(sdm.mem, sdm.mode, linear, kind, user, false, a);
          const pb = paeWalk(qemu.mem, qemu.mode, linear, kind, user, false, b);
          expect([sdm.mem.read32(pteAt(linear)), sdm.mem.read32(pdeAt(linear))]).toEqual(before);
          expect(pa).toBe(pb);
          expect(a.errorCode & ~PF_P).toBe(b.errorCode & ~PF_P);
          if (pa >= 0) expect(pa).toBe(0x300000 + (linear & 0xfff));
        },
      ),
      { numRuns: 300 },
    );
  });
});
