// Access rights of a translation (SDM 4.6) with the execute-disable bit (EFER.NXE, PAE and 4-level only),
// SMEP and SMAP (CR4 bits 20 and 21, EFLAGS.AC), and the page-fault error code they give (SDM 4.7).
// Used by the PAE walk and usable by the 32-bit one (which has no XD bit).

import { ACCESS_FETCH, ACCESS_WRITE, type AccessKind } from './fault.js';
import { PF_ID, PF_P, PF_RSVD, PF_U, PF_W } from './paging.js';

/** CR4.SMEP and CR4.SMAP (SDM 2.5), EFLAGS.AC (SDM 2.3), IA32_EFER.NXE (SDM 2.2.1, MSR 0xC0000080 bit 11). */
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;
export const EFLAGS_AC = 1 << 18;
export const EFER_NXE = 1 << 11;

/** Rights bits: the first four equal tlb.ts's RIGHT_* values; fetch rights are new. */
export const PROT_SUP_READ = 1;
export const PROT_SUP_WRITE = 2;
export const PROT_USER_READ = 4;
export const PROT_USER_WRITE = 8;
export const PROT_SUP_FETCH = 16;
export const PROT_USER_FETCH = 32;

/** The control bits that decide rights, besides the entries. */
export interface ProtectMode {
  /** CR0.WP. */
  readonly wp: boolean;
  /** XD is honoured: IA32_EFER.NXE=1 with PAE or 4-level paging (SDM 4.1.3; 32-bit paging has no XD bit). */
  readonly nx: boolean;
  /** CR4.SMEP. */
  readonly smep: boolean;
  /** CR4.SMAP. */
  readonly smap: boolean;
  /** EFLAGS.AC for explicit supervisor accesses; pass false for implicit ones (SDM 4.6: AC does not apply). */
  readonly ac: boolean;
}

/**
 * supervisorRights gives the PROT_SUP_* bits for a translation whose entries have R/W AND `rw`, U/S AND `us`
 * (a user-mode address: U/S=1 at every level) and XD OR `xd`.
 */
function supervisorRights(rw: boolean, us: boolean, xd: boolean, m: ProtectMode): number {
  // SDM 4.6.1: SMAP forbids supervisor data accesses to user-mode addresses unless EFLAGS.AC=1 (explicit ones).
  const dataOk = !us || !m.smap || m.ac;
  // SDM 4.6.1: with CR0.WP=0 supervisor writes ignore R/W; with WP=1 they need R/W=1 at every level.
  const writeOk = dataOk && (rw || !m.wp);
  // SDM 4.6.1: supervisor fetches need XD=0 (with NXE) and, under SMEP, a supervisor-mode address.
  const fetchOk = !(m.nx && xd) && !(us && m.smep);
  return (dataOk ? PROT_SUP_READ : 0) | (writeOk ? PROT_SUP_WRITE : 0) | (fetchOk ? PROT_SUP_FETCH : 0);
}

/** userRights gives the PROT_USER_* bits for the same combined flags (SDM 4.6.1, user-mode accesses). */
function userRights(rw: boolean, us: boolean, xd: boolean, m: ProtectMode): number {
  // SDM 4.6.1: user accesses to supervisor-mode addresses are never allowed.
  if (!us) return 0;
  // SDM 4.6.1: user writes need R/W=1 at every level whatever CR0.WP; user fetches need XD=0 when NXE=1.
  return PROT_USER_READ | (rw ? PROT_USER_WRITE : 0) | (m.nx && xd ? 0 : PROT_USER_FETCH);
}

/** protRights gives every PROT_* bit a translation allows, from R/W AND, U/S AND and XD OR of its entries. */
export function protRights(rw: boolean, us: boolean, xd: boolean, m: ProtectMode): number {
  return supervisorRights(rw, us, xd, m) | userRights(rw, us, xd, m);
}

/** protNeed is the PROT_* bit one access needs: its kind at CPL 3 (`user`) or CPL 0. */
export function protNeed(kind: AccessKind, user: boolean): number {
  if (kind === ACCESS_WRITE) return user ? PROT_USER_WRITE : PROT_SUP_WRITE;
  if (kind === ACCESS_FETCH) return user ? PROT_USER_FETCH : PROT_SUP_FETCH;
  return user ? PROT_USER_READ : PROT_SUP_READ;
}

/**
 * idBitApplies says whether fetch faults set the I/D bit: SDM 4.7, only with CR4.SMEP=1 or with PAE or 4-level
 * paging and IA32_EFER.NXE=1 (`nx`), for every page fault of a fetch (not-present ones too).
 */
export function idBitApplies(m: Pick<ProtectMode, 'nx' | 'smep'>): boolean {
  return m.nx || m.smep;
}

/**
 * faultCode builds a page-fault error code (SDM 4.7, Figure 4-12): P for a protection or (under the SDM)
 * reserved-bit fault, W/R, U/S, RSVD, and I/D for a fetch when idBitApplies().
 */
export function faultCode(
  kind: AccessKind,
  user: boolean,
  present: boolean,
  rsvd: boolean,
  m: Pick<ProtectMode, 'nx' | 'smep'>,
): number {
  let code = (present ? PF_P : 0) | (rsvd ? PF_RSVD : 0) | (user ? PF_U : 0);
  if (kind === ACCESS_WRITE) code |= PF_W;
  if (kind === ACCESS_FETCH && idBitApplies(m)) code |= PF_ID;
  return code;
}
