// The page walk of 32-bit paging (SDM 4.3): PDE, then PTE or a 4 MiB page,
// permission checks (SDM 4.6), accessed/dirty updates (SDM 4.8) and the
// page-fault error code (SDM 4.7). Results go into a reused WalkState.

import type { PhysicalMemory } from './memory.js';
import { ACCESS_WRITE, type AccessKind } from './fault.js';
import {
  FRAME_MASK,
  LARGE_FRAME_MASK,
  PDE_PS,
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
} from './paging.js';
import { RIGHT_SUP_READ, RIGHT_SUP_WRITE, RIGHT_USER_READ, RIGHT_USER_WRITE } from './tlb.js';

/**
 * When the walk sets the accessed flag of a PDE that references a page table.
 * 'qemu': during the descent, before the PTE is read, so a walk that then
 * faults leaves PDE.A set (QEMU's order, the default). 'after-checks': only
 * once the whole walk succeeds (Bochs' and v86's order). The SDM (4.8) allows both.
 */
export type AccessedOrder = 'qemu' | 'after-checks';

/**
 * The error code of a reserved-bit fault. 'sdm': RSVD=1 with P=1, as SDM 4.7
 * states (reserved bits are only checked in present entries). 'qemu': RSVD=1
 * with P=0, as QEMU 7.2's mmu_translate reports it; for differential testing only.
 */
export type RsvdErrorCode = 'sdm' | 'qemu';

export interface PagingMode {
  readonly cr3: number;
  readonly pse: boolean;
  readonly wp: boolean;
  readonly accessedOrder: AccessedOrder;
  readonly rsvdErrorCode: RsvdErrorCode;
  /** Bits of a 4 MiB PDE that are reserved for this MAXPHYADDR (largeReservedMask). */
  readonly largeReserved: number;
}

/** MAXPHYADDR with PSE-36: 32 (no PSE-36), 36 or 40 (SDM 4.1.4; 40 is the most 32-bit paging can use). */
export type MaxPhysAddr = 32 | 36 | 40;

/**
 * largeReservedMask gives the reserved bits of a 4 MiB PDE (SDM 4.3, Table 4-4):
 * bits (M-20):13 are physical-address bits (M-1):32 and bits 21:(M-19) are
 * reserved, so bit 21 alone at M=40, bits 21:17 at 36, bits 21:13 at 32.
 */
export function largeReservedMask(maxPhysAddr: MaxPhysAddr): number {
  return (1 << 22) - (1 << (maxPhysAddr - 19));
}

/** Everything one walk saw and decided. pteAddr is -1 when no PTE was read. */
export class WalkState {
  pdeAddr = 0;
  pde = 0;
  pteAddr = -1;
  pte = 0;
  large = false;
  /** Physical address, or -1 on a fault. */
  phys = -1;
  errorCode = 0;
  /** RIGHT_* bits the translation allows (before the dirty rule). */
  allowed = 0;
  leafAddr = 0;
  /** The leaf's D flag after this walk. */
  dirty = false;
  /** The leaf's G flag (whether it counts depends on CR4.PGE). */
  global = false;
}

/**
 * rightsOf combines the R/W and U/S flags of all entries used (`both` is
 * their AND) into RIGHT_* bits. SDM 4.6.1: supervisor reads are always
 * allowed; supervisor writes need R/W=1 only when CR0.WP=1; user accesses
 * need U/S=1, user writes also R/W=1. No SMAP/SMEP/NX in this mode.
 */
export function rightsOf(both: number, wp: boolean): number {
  const rw = (both & PTE_RW) !== 0;
  const us = (both & PTE_US) !== 0;
  return (
    RIGHT_SUP_READ | (rw || !wp ? RIGHT_SUP_WRITE : 0) | (us ? RIGHT_USER_READ : 0) | (us && rw ? RIGHT_USER_WRITE : 0)
  );
}

/** needOf is the RIGHT_* bit an access requires. */
export function needOf(kind: AccessKind, user: boolean): number {
  if (kind === ACCESS_WRITE) return user ? RIGHT_USER_WRITE : RIGHT_SUP_WRITE;
  return user ? RIGHT_USER_READ : RIGHT_SUP_READ;
}

/**
 * fastEntryBits is what walkFast() requires in both the PDE and the PTE for
 * an access needing the RIGHT_* bit `need`: P, A (so no A is left to set,
 * SDM 4.8) and the fewest of R/W and U/S with which rightsOf() grants `need`
 * (rights only grow with those flags; both of them grant every right).
 */
export function fastEntryBits(need: number, wp: boolean): number {
  for (const rwUs of [0, PTE_RW, PTE_US]) {
    if ((rightsOf(rwUs, wp) & need) !== 0) return PTE_P | PTE_A | rwUs;
  }
  return PTE_P | PTE_A | PTE_RW | PTE_US;
}

/**
 * Module-local copies of the flags walkFast uses: V8 folds a module's own
 * constants into its code but reloads imported ones on every use.
 */
const PS_BIT = PDE_PS;
const D_BIT = PTE_D;
const FRAME_BITS = FRAME_MASK;

/**
 * walkFast is walk() with commit for its common case only: a present PDE
 * without PS and a present PTE, both with A set and with the bits `bits`
 * (from fastEntryBits(): P, A and the rights the access needs), and D set in
 * the PTE for a write, so that the walk succeeds and changes nothing in
 * memory (SDM 4.3, 4.6, 4.8 as in walk()). Reads the entries straight from
 * memory at the int32 page-directory base `pdBase`. Returns the PTE (never 0:
 * P is set); 0 for anything else, which the caller hands to walk(), the one
 * that decides faults and A/D updates.
 */
export function walkFast(mem: PhysicalMemory, pdBase: number, linear: number, bits: number, write: boolean): number {
  const pde = mem.readEntry(fastPdeAddr(pdBase, linear));
  if ((pde & (bits | PS_BIT)) !== bits) return 0;
  const pte = mem.readEntry(fastPteAddr(pde, linear));
  const leafBits = write === true ? bits | D_BIT : bits;
  return (pte & leafBits) === leafBits ? pte : 0;
}

/** fastPdeAddr is the PDE's address for `linear` (SDM 4.3: CR3 bits 31:12, linear bits 31:22), as an int32. */
export function fastPdeAddr(pdBase: number, linear: number): number {
  return pdBase | ((linear >>> 20) & 0xffc);
}

/** fastPteAddr is the PTE's address for `linear` (SDM 4.3: PDE bits 31:12, linear bits 21:12), as an int32. */
export function fastPteAddr(pde: number, linear: number): number {
  return (pde & FRAME_BITS) | ((linear >>> 10) & 0xffc);
}

/**
 * walk translates `linear` for one access. With `commit`, it sets A/D flags in
 * memory as the processor does; without, it only looks. Returns the physical
 * address, or -1 with out.errorCode set.
 */
export function walk(
  mem: Pick<PhysicalMemory, 'read32' | 'write32'>,
  mode: PagingMode,
  linear: number,
  kind: AccessKind,
  user: boolean,
  commit: boolean,
  out: WalkState,
): number {
  const write = kind === ACCESS_WRITE;
  /** SDM 4.7: W/R reflects a write, U/S a CPL-3 access; I/D stays 0 without SMEP or PAE+NXE. */
  const errBase = (write ? PF_W : 0) | (user ? PF_U : 0);
  const need = needOf(kind, user);
  out.pdeAddr = ((mode.cr3 & FRAME_MASK) >>> 0) + (linear >>> 22) * 4;
  const pde = mem.read32(out.pdeAddr);
  out.pde = pde;
  out.pteAddr = -1;
  out.pte = 0;
  out.large = false;
  out.phys = -1;
  out.allowed = 0;
  // SDM 4.3 Table 4-4: P=0 in the PDE ends the walk with a not-present fault.
  if ((pde & PTE_P) === 0) return fail(out, errBase);
  // SDM 4.3: PDE.PS=1 maps a 4 MiB page only when CR4.PSE=1; otherwise PS is ignored.
  if ((pde & PDE_PS) !== 0 && mode.pse) return walkLarge(mem, mode, linear, pde, write, need, errBase, commit, out);
  // SDM 4.8 allows A to be set in a PDE before the PTE is checked (QEMU does).
  if (commit && mode.accessedOrder === 'qemu' && (pde & PTE_A) === 0) mem.write32(out.pdeAddr, pde | PTE_A);
  out.pteAddr = ((pde & FRAME_MASK) >>> 0) + ((linear >>> 12) & 0x3ff) * 4;
  const pte = mem.read32(out.pteAddr);
  out.pte = pte;
  // SDM 4.3 Table 4-6: a PTE with P=0 gives a not-present fault. 32-bit paging
  // has no reserved bits in 4 KiB PDEs or PTEs (SDM 4.3, Tables 4-5 and 4-6).
  if ((pte & PTE_P) === 0) return fail(out, errBase);
  out.allowed = rightsOf(pde & pte, mode.wp);
  if ((out.allowed & need) === 0) return fail(out, errBase | PF_P);
  if (commit && mode.accessedOrder === 'after-checks' && (pde & PTE_A) === 0) {
    mem.write32(out.pdeAddr, mem.read32(out.pdeAddr) | PTE_A);
  }
  out.leafAddr = out.pteAddr;
  out.global = (pte & PTE_G) !== 0;
  out.dirty = setLeafFlags(mem, out.pteAddr, pte, write, commit);
  out.phys = ((pte & FRAME_MASK) >>> 0) + (linear & 0xfff);
  return out.phys;
}

/** walkLarge finishes a walk whose PDE maps a 4 MiB page (SDM 4.3, Table 4-5). */
function walkLarge(
  mem: Pick<PhysicalMemory, 'read32' | 'write32'>,
  mode: PagingMode,
  linear: number,
  pde: number,
  write: boolean,
  need: number,
  errBase: number,
  commit: boolean,
  out: WalkState,
): number {
  out.large = true;
  // SDM 4.3 Table 4-4: bits 21:(M-19) are reserved (bit 21 alone with the
  // default MAXPHYADDR of 40, which is how QEMU treats them whatever its CPU);
  // a set reserved bit gives RSVD=1 and P=1 (SDM 4.7).
  if ((pde & mode.largeReserved) !== 0) return fail(out, errBase | PF_RSVD | (mode.rsvdErrorCode === 'sdm' ? PF_P : 0));
  out.allowed = rightsOf(pde, mode.wp);
  if ((out.allowed & need) === 0) return fail(out, errBase | PF_P);
  out.leafAddr = out.pdeAddr;
  out.global = (pde & PTE_G) !== 0;
  out.dirty = setLeafFlags(mem, out.pdeAddr, pde, write, commit);
  const high = ((pde >>> 13) & 0xff) * 0x1_0000_0000;
  out.phys = high + ((pde & LARGE_FRAME_MASK) >>> 0) + (linear & 0x3fffff);
  return out.phys;
}

/**
 * setLeafFlags sets A, and D for a write, in the entry that maps the page (SDM 4.8),
 * only after every check passed. Returns the resulting D flag.
 */
function setLeafFlags(
  mem: Pick<PhysicalMemory, 'read32' | 'write32'>,
  addr: number,
  entry: number,
  write: boolean,
  commit: boolean,
): boolean {
  const want = PTE_A | (write ? PTE_D : 0);
  if (commit && (entry & want) !== want) mem.write32(addr, entry | want);
  return write || (entry & PTE_D) !== 0;
}

function fail(out: WalkState, code: number): number {
  out.errorCode = code;
  out.phys = -1;
  return -1;
}
