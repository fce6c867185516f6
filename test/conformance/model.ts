// The model's side of the comparison: one case on a fresh Machine, set up as
// the test kernel sets it up (tables zeroed, entries written, data frames
// filled), then the same ops, recording values, faults and final entries.

import { Machine } from '../../src/hw/machine.js';
import { PageFault } from '../../src/hw/fault.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, PTE_A } from '../../src/hw/paging.js';
import { EFER_NXE } from '../../src/hw/protect.js';
import type { AccessedOrder, RsvdErrorCode } from '../../src/hw/walk.js';
import {
  FETCH_OFFSET,
  HEAD_BYTES,
  MOV_EAX,
  QEMU_RAM_MIB,
  RET,
  RET_BYTES,
  TAIL_BYTES,
  fillFrames,
  fillWord,
  reportAddrs,
  type AccessOp,
  type AccessOutcome,
  type Case,
  type CaseOutcome,
} from './case.js';

export interface ModelOptions {
  readonly accessedOrder?: AccessedOrder;
  readonly tlb?: string;
  /** Default 'qemu': compare with QEMU 7.2's reserved-bit error code (the SDM's is tested in sdm.test.ts). */
  readonly rsvdErrorCode?: RsvdErrorCode;
  /** A machine for PAE cases: the `qemu` paging profile and QEMU's MAXPHYADDR (36 for qemu32,+pse36). */
  readonly pae?: boolean;
}

/** newMachine builds a machine with QEMU's RAM size (costly: reuse it across cases). */
export function newMachine(options: ModelOptions = {}): Machine {
  return new Machine({
    ram: QEMU_RAM_MIB * 1024 * 1024,
    accessedOrder: options.accessedOrder ?? 'qemu',
    rsvdErrorCode: options.rsvdErrorCode ?? 'qemu',
    tlb: options.tlb ?? 'sa:16x4',
    ...(options.pae === true ? { pagingProfile: 'qemu', maxPhysAddr: 36 } : {}),
  });
}

/** cr4Of is the CR4 the test kernel loads: PSE and PGE as given, PAE for a PAE case. */
function cr4Of(c: Case, pse: boolean, pge: boolean): number {
  return (pse ? CR4_PSE : 0) | (pge ? CR4_PGE : 0) | (c.pae === true ? CR4_PAE : 0);
}

/**
 * setUp does what the test kernel does at the start of a case: paging off
 * (which flushes the whole TLB), tables zeroed, entries written, data filled,
 * then CR4, CR3 and CR0 loaded.
 */
function setUp(m: Machine, c: Case): void {
  m.mmu.setCpl(0);
  m.mmu.writeCr0(CR0_PE);
  for (const t of c.tables) m.mem.fill(t, 4096, 0);
  for (const [a, v] of c.entries) m.mem.write32(a, v);
  for (const f of fillFrames(c)) {
    for (let o = 0; o < 4096; o += 4) m.mem.write32(f + o, fillWord(f + o, c.salt));
    m.mem.fill(f + FETCH_OFFSET, RET_BYTES, RET);
    m.mem.fill(f, HEAD_BYTES, RET);
    m.mem.fill(f + 4096 - TAIL_BYTES, TAIL_BYTES, MOV_EAX);
  }
  m.mmu.writeCr4(cr4Of(c, c.pse, c.pge));
  if (c.pae === true) m.mmu.writeEfer(c.nxe === true ? EFER_NXE : 0);
  m.mmu.writeCr3(c.cr3);
  m.mmu.writeCr0(CR0_PE | CR0_PG | (c.wp ? CR0_WP : 0));
  // The test kernel's own code runs through PDPTE 0 (present in every PAE case) once paging is on, and QEMU's
  // walk sets its A bit; the model has no kernel tables, so it sets the bit as that walk does.
  if (c.pae === true) {
    const pdpte0 = (c.cr3 & ~0x1f) >>> 0;
    m.mem.write32(pdpte0, m.mem.read32(pdpte0) | PTE_A);
  }
}

/**
 * access performs one access at its CPL and returns to CPL 0. A fetch of size 4
 * at page offset 0xFFD-0xFFF is the straddling `mov eax, imm32; ret`: the
 * machine's fetch translates its first page at its address, then the next page.
 */
function access(m: Machine, op: AccessOp): AccessOutcome {
  m.mmu.setCpl(op.cpl);
  try {
    if (op.kind === 1) {
      m.write(op.lin, op.value, op.size);
      return { fault: false, value: 0 };
    }
    const value = m.read(op.lin, op.size, op.kind);
    return { fault: false, value: op.kind === 2 || op.discard === true ? 0 : value };
  } catch (e) {
    if (e instanceof PageFault) return { fault: true, cr2: e.linear, code: e.errorCode };
    throw e;
  } finally {
    m.mmu.setCpl(0);
  }
}

/** runOnModel runs one case on the model, on `machine` if given (reset first) or a new one. */
export function runOnModel(c: Case, machine?: Machine): CaseOutcome {
  const m = machine ?? newMachine();
  setUp(m, c);
  const accesses: AccessOutcome[] = [];
  for (const op of c.ops) {
    switch (op.op) {
      case 'access':
        accesses.push(access(m, op));
        break;
      case 'edit':
        m.mem.write32(op.addr, op.value);
        break;
      case 'invlpg':
        m.mmu.invlpg(op.lin);
        break;
      case 'reload-cr3':
        m.mmu.writeCr3(m.mmu.cr3);
        break;
      case 'load-cr3':
        m.mmu.writeCr3(op.cr3);
        break;
      case 'set-wp':
        m.mmu.writeCr0(op.on ? m.mmu.cr0 | CR0_WP : m.mmu.cr0 & ~CR0_WP);
        break;
      case 'set-cr4':
        m.mmu.writeCr4(cr4Of(c, op.pse, op.pge));
        break;
    }
  }
  return { accesses, entries: reportAddrs(c).map((a) => m.mem.read32(a)) };
}
