// The PAE cases on the model: a Machine set up as kernel.asm sets QEMU up, the same ops, the same reports.

import { GeneralProtection, PageFault } from '../../../src/hw/fault.js';
import { Machine } from '../../../src/hw/machine.js';
import type { PagingProfile } from '../../../src/hw/pae.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE } from '../../../src/hw/paging.js';
import { PD, PDPT, type PaeCase, type PaeOp, type PaeOpOutcome, type PaeOutcome } from './case.js';

/** QEMU's RAM for the PAE kernel, MiB; the model's RAM too. */
export const PAE_RAM_MIB = 32;

/** setUp fills the data area and writes the case's entries and the kernel's PDEs, as kernel.asm does. */
function setUp(c: PaeCase, profile: PagingProfile): Machine {
  const m = new Machine({ ram: PAE_RAM_MIB << 20, maxPhysAddr: 36, pagingProfile: profile, efer: c.efer });
  for (let p = 0x600000; p < 0x800000; p += 4) m.mem.write32(p, ((p & 0xffffff00) | 0xc3) >>> 0);
  for (const [addr, lo, hi] of c.entries) {
    m.mem.write32(addr, lo);
    m.mem.write32(addr + 4, hi);
  }
  m.mem.write32(PDPT, PD[0] | 1);
  m.mem.write32(PDPT + 4, 0);
  for (let j = 0; j < 4; j++) m.mem.write32(PD[0] + j * 8, (j * 0x200000) | 0xe3);
  return m;
}

/**
 * enable loads CR4, CR3 and CR0 as kernel.asm does; false when that is a #GP (the 'sdm' profile's PDPTE check
 * at MOV CR0), which QEMU never raises: the model then reports every op of the case as that #GP.
 */
function enable(m: Machine, c: PaeCase): boolean {
  try {
    m.mmu.writeCr4(CR4_PAE | c.cr4);
    m.mmu.writeCr3(PDPT);
    m.mmu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
    return true;
  } catch (e) {
    if (e instanceof GeneralProtection) return false;
    throw e;
  }
}

/** runOp does one op and reports it as the kernel does (a #PF or #GP ends the op). */
function runOp(m: Machine, o: PaeOp): PaeOpOutcome {
  const out = { vector: 0, code: 0, cr2: 0, value: 0 };
  try {
    if (o.kind === 1) out.value = m.read32(o.arg);
    else if (o.kind === 2 || o.kind === 5) m.write32(o.arg, o.value);
    else if (o.kind === 3) m.fetch(o.arg, 1);
    else if (o.kind === 4) m.mmu.writeCr3(o.arg);
    else m.mmu.invlpg(o.arg);
  } catch (e) {
    if (e instanceof PageFault) Object.assign(out, { vector: 14, code: e.errorCode, cr2: e.linear });
    else if (e instanceof GeneralProtection) out.vector = 13;
    else throw e;
  }
  return out;
}

/** runPaeOnModel runs each case on a fresh machine with the given profile. */
export function runPaeOnModel(cases: readonly PaeCase[], profile: PagingProfile): PaeOutcome[] {
  return cases.map((c) => {
    const m = setUp(c, profile);
    const on = enable(m, c);
    const ops = c.ops.map((o) => (on ? runOp(m, o) : { vector: 13, code: 0, cr2: 0, value: 0 }));
    const finals = c.entries.map(([addr]): [number, number] => [m.mem.read32(addr), m.mem.read32(addr + 4)]);
    return { ops, finals };
  });
}
