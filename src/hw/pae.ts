// PAE paging (SDM 4.4): the four PDPTE registers loaded at MOV CR3, 64-bit PDEs and PTEs read as two
// little-endian dwords (no BigInt), 2 MiB pages, MAXPHYADDR reserved bits, the XD bit with EFER.NXE,
// SMEP/SMAP through protect.ts, and the 'sdm' / 'qemu' profiles where QEMU 7.2 departs from the SDM.

import type { PhysicalMemory } from './memory.js';
import { ACCESS_WRITE, GeneralProtection, type AccessKind } from './fault.js';
import { PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US } from './paging.js';
import { faultCode, protNeed, protRights, type ProtectMode } from './protect.js';

/**
 * Where the model follows the SDM and where QEMU 7.2. 'sdm': PDPTEs live in registers loaded (and checked,
 * #GP) at MOV CR3; RSVD faults set P. 'qemu': no check at MOV CR3, the PDPTE is re-read from memory on every
 * walk with only bits 63:M reserved (bits 2:1 and 8:5 ignored), the walk writes A into it, and RSVD faults
 * leave P clear.
 */
export type PagingProfile = 'sdm' | 'qemu';

/** Bit 63 (XD) as bit 31 of an entry's high dword (SDM 4.4.2, Tables 4-9 to 4-11). */
export const PAE_XD_HI = 0x80000000;
/** Reserved bits 2:1 and 8:5 of a PDPTE's low dword (SDM 4.4.1, Table 4-8). */
export const PDPTE_RSVD_LO = 0x1e6;
/** Reserved bits 20:13 of a 2 MiB PDE (SDM 4.4.2, Table 4-9); bit 12 is PAT. */
export const PDE2M_RSVD_LO = 0x1fe000;
/** CR3 bits 31:5 hold the PDPT's physical address under PAE paging (SDM 4.4, Table 4-7). */
export const PAE_CR3_MASK = 0xffffffe0;
/** Low-dword address bits of a 4 KiB frame and of a 2 MiB page (SDM 4.4.2). */
export const PAE_FRAME_LO = 0xfffff000;
export const PAE_LARGE_FRAME_LO = 0xffe00000;
export const PAE_LARGE_PAGE_SIZE = 0x200000;
/** The most MAXPHYADDR can be (SDM 4.1.4). */
export const MAX_PHYS_ADDR_LIMIT = 52;

const TWO32 = 0x1_0000_0000;

/** paeAddrHiMask gives the high-dword bits that hold physical-address bits (M-1):32 (SDM 4.1.4). */
export function paeAddrHiMask(maxPhysAddr: number): number {
  checkMaxPhysAddr(maxPhysAddr);
  return 2 ** (maxPhysAddr - 32) - 1;
}

/** paeReservedHi gives the reserved high-dword bits of a PDE or PTE: 62:M, and 63 unless NXE (SDM 4.4.2). */
export function paeReservedHi(maxPhysAddr: number, nxe: boolean): number {
  const above = (0x7fffffff & ~paeAddrHiMask(maxPhysAddr)) >>> 0;
  return (nxe ? above : above | PAE_XD_HI) >>> 0;
}

/** pdpteReservedHi gives the reserved high-dword bits of a PDPTE: 63:M, NXE or not (SDM 4.4.1, Table 4-8). */
export function pdpteReservedHi(maxPhysAddr: number): number {
  return paeReservedHi(maxPhysAddr, false);
}

/** checkMaxPhysAddr refuses a MAXPHYADDR outside 32..52 (SDM 4.1.4: at most 52; PAE needs at least 32). */
export function checkMaxPhysAddr(maxPhysAddr: number): void {
  if (!Number.isInteger(maxPhysAddr) || maxPhysAddr < 32 || maxPhysAddr > MAX_PHYS_ADDR_LIMIT) {
    throw new RangeError(`MAXPHYADDR must be a whole number from 32 to 52, not ${maxPhysAddr}`);
  }
}

/** entryFrame gives the physical address an entry's bits (M-1):12 name, from its two dwords. */
export function entryFrame(lo: number, hi: number, addrHi: number, loMask: number): number {
  return (hi & addrHi) * TWO32 + ((lo & loMask) >>> 0);
}

/** The four PDPTE registers (SDM 4.4.1), each as low and high dwords. */
export class PdpteRegs {
  readonly lo = new Uint32Array(4);
  readonly hi = new Uint32Array(4);
}

/**
 * loadPdptes reads the four PDPTEs at CR3 bits 31:5 into `out`, as MOV CR3 does under PAE paging (SDM 4.4.1).
 * A PDPTE with P=1 and a reserved bit set is a #GP(0), and then no PDPTE is loaded.
 */
export function loadPdptes(
  mem: Pick<PhysicalMemory, 'read32'>,
  cr3: number,
  maxPhysAddr: number,
  out: PdpteRegs,
): void {
  const base = (cr3 & PAE_CR3_MASK) >>> 0;
  const rsvdHi = pdpteReservedHi(maxPhysAddr);
  const lo = new Uint32Array(4);
  const hi = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    lo[i] = mem.read32(base + i * 8);
    hi[i] = mem.read32(base + i * 8 + 4);
    // SDM 4.4.1: reserved bits are checked only in present PDPTEs.
    if ((lo[i] & PTE_P) !== 0 && ((lo[i] & PDPTE_RSVD_LO) !== 0 || (hi[i] & rsvdHi) !== 0)) {
      const at = (base + i * 8).toString(16);
      throw new GeneralProtection('pdpte-reserved', cr3, `MOV to CR3: PDPTE ${i} at 0x${at} sets reserved bits`);
    }
  }
  out.lo.set(lo);
  out.hi.set(hi);
}

/** What the PAE walk needs besides memory. */
export interface PaeMode extends ProtectMode {
  readonly cr3: number;
  /** The PDPTE registers ('sdm' profile); the 'qemu' profile reads memory instead. */
  readonly pdptes: PdpteRegs;
  readonly profile: PagingProfile;
  /** 32..52 (SDM 4.1.4). */
  readonly maxPhysAddr: number;
}

/** Everything one PAE walk saw and decided. pteAddr is -1 when no PTE was read. Entries as two dwords. */
export class PaeWalkState {
  pdpteAddr = 0;
  pdpteLo = 0;
  pdpteHi = 0;
  pdeAddr = -1;
  pdeLo = 0;
  pdeHi = 0;
  pteAddr = -1;
  pteLo = 0;
  pteHi = 0;
  large = false;
  /** Physical address, or -1 on a fault. */
  phys = -1;
  errorCode = 0;
  /** PROT_* bits the translation allows (write rights even when clean). */
  allowed = 0;
  leafAddr = -1;
  dirty = false;
  global = false;
}

type Mem = Pick<PhysicalMemory, 'read32' | 'write32'>;

/** fail records a page fault's error code and ends the walk. */
function fail(out: PaeWalkState, code: number): number {
  out.errorCode = code;
  out.phys = -1;
  return -1;
}

/** failed is fail() for a step that answers whether the walk goes on. */
function failed(out: PaeWalkState, code: number): false {
  fail(out, code);
  return false;
}

/** resetState clears what a previous walk left in `out`. */
function resetState(out: PaeWalkState): void {
  out.pdeAddr = -1;
  out.pdeLo = out.pdeHi = out.pteLo = out.pteHi = 0;
  out.pteAddr = out.leafAddr = out.phys = -1;
  out.large = out.dirty = out.global = false;
  out.errorCode = out.allowed = 0;
}

/** rsvdFault is the error code of a reserved-bit fault: P=1 under the SDM (4.7), P=0 as QEMU 7.2 reports. */
function rsvdFault(mode: PaeMode, kind: AccessKind, user: boolean): number {
  return faultCode(kind, user, mode.profile === 'sdm', true, mode);
}

/**
 * readPdpte fills out.pdpte* for `linear` (PDPT index: bits 31:30, SDM 4.4.1) from the registers ('sdm') or
 * from memory ('qemu', with its own checks and its A write). Returns false after recording a fault.
 */
function readPdpte(
  mem: Mem,
  mode: PaeMode,
  linear: number,
  kind: AccessKind,
  user: boolean,
  commit: boolean,
  out: PaeWalkState,
): boolean {
  const i = linear >>> 30;
  out.pdpteAddr = ((mode.cr3 & PAE_CR3_MASK) >>> 0) + i * 8;
  const fromRegs = mode.profile === 'sdm';
  out.pdpteLo = fromRegs ? mode.pdptes.lo[i] : mem.read32(out.pdpteAddr);
  out.pdpteHi = fromRegs ? mode.pdptes.hi[i] : mem.read32(out.pdpteAddr + 4);
  // SDM 4.4.1: a PDPTE with P=0 maps nothing: a not-present page fault.
  if ((out.pdpteLo & PTE_P) === 0) return failed(out, faultCode(kind, user, false, false, mode));
  if (fromRegs) return true; // SDM 4.4.1: reserved bits were checked when the register was loaded.
  // QEMU 7.2: bits 63:M of the PDPTE read at walk time give a RSVD fault; bits 2:1 and 8:5 are ignored.
  if ((out.pdpteHi & pdpteReservedHi(mode.maxPhysAddr)) !== 0) return failed(out, rsvdFault(mode, kind, user));
  // QEMU 7.2 sets A (bit 5, reserved in the SDM's PDPTE) during the walk.
  if (commit && (out.pdpteLo & PTE_A) === 0) mem.write32(out.pdpteAddr, out.pdpteLo | PTE_A);
  return true;
}

/**
 * paeWalk translates `linear` for one access under PAE paging (SDM 4.4). With `commit` it sets A/D as the
 * processor does; without, it only looks. Returns the physical address, or -1 with out.errorCode set.
 */
export function paeWalk(
  mem: Mem,
  mode: PaeMode,
  linear: number,
  kind: AccessKind,
  user: boolean,
  commit: boolean,
  out: PaeWalkState,
): number {
  resetState(out);
  if (!readPdpte(mem, mode, linear, kind, user, commit, out)) return -1;
  const addrHi = paeAddrHiMask(mode.maxPhysAddr);
  // SDM 4.4.2: the PDE is at PDPTE bits (M-1):12 plus linear bits 29:21 times 8.
  out.pdeAddr = entryFrame(out.pdpteLo, out.pdpteHi, addrHi, PAE_FRAME_LO) + ((linear >>> 21) & 0x1ff) * 8;
  const lo = (out.pdeLo = mem.read32(out.pdeAddr));
  const hi = (out.pdeHi = mem.read32(out.pdeAddr + 4));
  // SDM 4.4.2 Tables 4-9/4-10: P=0 is not present; then bits 62:M (and 63 without NXE) are reserved.
  if ((lo & PTE_P) === 0) return fail(out, faultCode(kind, user, false, false, mode));
  if ((hi & paeReservedHi(mode.maxPhysAddr, mode.nx)) !== 0) return fail(out, rsvdFault(mode, kind, user));
  // SDM 4.4.2: PDE.PS=1 maps a 2 MiB page whatever CR4.PSE; its bits 20:13 are reserved (Table 4-9).
  if ((lo & PDE_PS) !== 0) {
    if ((lo & PDE2M_RSVD_LO) !== 0) return fail(out, rsvdFault(mode, kind, user));
    return finishLeaf(mem, mode, linear, kind, user, commit, out, lo, hi, true);
  }
  // SDM 4.8 allows A in a PDE to be set before the PTE is checked; both profiles do so (QEMU's order).
  if (commit && (lo & PTE_A) === 0) mem.write32(out.pdeAddr, lo | PTE_A);
  return walkPte(mem, mode, linear, kind, user, commit, out, addrHi);
}

/** walkPte reads and checks the PTE of a PDE that references a page table (SDM 4.4.2, Table 4-11). */
function walkPte(
  mem: Mem,
  mode: PaeMode,
  linear: number,
  kind: AccessKind,
  user: boolean,
  commit: boolean,
  out: PaeWalkState,
  addrHi: number,
): number {
  out.pteAddr = entryFrame(out.pdeLo, out.pdeHi, addrHi, PAE_FRAME_LO) + ((linear >>> 12) & 0x1ff) * 8;
  const lo = (out.pteLo = mem.read32(out.pteAddr));
  const hi = (out.pteHi = mem.read32(out.pteAddr + 4));
  // SDM 4.4.2 Table 4-11: P=0 is not present; bits 62:M (and 63 without NXE) are reserved; bit 7 is PAT.
  if ((lo & PTE_P) === 0) return fail(out, faultCode(kind, user, false, false, mode));
  if ((hi & paeReservedHi(mode.maxPhysAddr, mode.nx)) !== 0) return fail(out, rsvdFault(mode, kind, user));
  return finishLeaf(mem, mode, linear, kind, user, commit, out, lo, hi, false);
}

/**
 * finishLeaf checks rights over the PDE and (for 4 KiB) the PTE, sets A/D in the leaf and computes the
 * physical address (SDM 4.4.2, 4.6, 4.8). The PDPTE carries no R/W, U/S or XD under PAE (SDM 4.4.1).
 */
function finishLeaf(
  mem: Mem,
  mode: PaeMode,
  linear: number,
  kind: AccessKind,
  user: boolean,
  commit: boolean,
  out: PaeWalkState,
  lo: number,
  hi: number,
  large: boolean,
): number {
  const flags = large ? lo : out.pdeLo & lo;
  const xd = ((large ? hi : out.pdeHi | hi) & PAE_XD_HI) !== 0;
  out.large = large;
  out.allowed = protRights((flags & PTE_RW) !== 0, (flags & PTE_US) !== 0, xd, mode);
  if ((out.allowed & protNeed(kind, user)) === 0) return fail(out, faultCode(kind, user, true, false, mode));
  out.leafAddr = large ? out.pdeAddr : out.pteAddr;
  out.global = (lo & PTE_G) !== 0;
  // SDM 4.8: the leaf gets A, and D on a write, once the access is allowed.
  const want = kind === ACCESS_WRITE ? PTE_A | PTE_D : PTE_A;
  if (commit && (lo & want) !== want) mem.write32(out.leafAddr, lo | want);
  out.dirty = (lo & PTE_D) !== 0 || (commit && kind === ACCESS_WRITE);
  const frame = entryFrame(lo, hi, paeAddrHiMask(mode.maxPhysAddr), large ? PAE_LARGE_FRAME_LO : PAE_FRAME_LO);
  out.phys = frame + (linear & (large ? PAE_LARGE_PAGE_SIZE - 1 : 0xfff));
  return out.phys;
}
