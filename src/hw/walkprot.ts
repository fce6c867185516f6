// The 32-bit page walk (walk.ts, SDM 4.3) with the rights of protect.ts: SMEP and SMAP (CR4 bits 20 and 21,
// EFLAGS.AC) and the I/D bit of the error code. The MMU takes this path only while SMEP or SMAP is on, so the
// plain 32-bit walk keeps its fast path. Results go into a PaeWalkState (entries in the *Lo fields).

import type { PhysicalMemory } from './memory.js';
import { ACCESS_FETCH, type AccessKind } from './fault.js';
import { PF_ID, PTE_A, PTE_RW, PTE_US } from './paging.js';
import type { PaeWalkState } from './pae.js';
import { faultCode, idBitApplies, protNeed, protRights, type ProtectMode } from './protect.js';
import { walk, WalkState, type PagingMode } from './walk.js';

type Mem = Pick<PhysicalMemory, 'read32' | 'write32'>;

/** The 32-bit walk's own state, reused (protWalk32 copies what it needs into its caller's PaeWalkState). */
const scratch = new WalkState();

/**
 * protWalk32 translates `linear` for one access under 32-bit paging with SMEP/SMAP rights (SDM 4.3, 4.6.1,
 * 4.7). With `commit` it sets A/D as walk() does. Returns the physical address, or -1 with out.errorCode set.
 */
export function protWalk32(
  mem: Mem,
  mode: PagingMode & ProtectMode,
  linear: number,
  kind: AccessKind,
  user: boolean,
  commit: boolean,
  out: PaeWalkState,
): number {
  const w = scratch;
  // walk()'s rights are a superset of protRights' (it knows no SMEP/SMAP): a fault there is a fault here too.
  if (walk(mem, mode, linear, kind, user, false, w) < 0) {
    walk(mem, mode, linear, kind, user, commit, w); // the same fault, now with its A side effect
    return failWith(out, w, w.errorCode | fetchId(kind, mode));
  }
  const flags = w.large ? w.pde : w.pde & w.pte;
  // SDM 4.6.1: 32-bit paging has no XD bit; SMEP and SMAP apply as in every paging mode.
  const allowed = protRights((flags & PTE_RW) !== 0, (flags & PTE_US) !== 0, false, mode);
  if ((allowed & protNeed(kind, user)) === 0) {
    // SDM 4.8 allows a PDE's A to be set before the rights are checked (QEMU's order, walk.ts 'qemu').
    if (commit && !w.large && mode.accessedOrder === 'qemu' && (w.pde & PTE_A) === 0) {
      mem.write32(w.pdeAddr, w.pde | PTE_A);
    }
    return failWith(out, w, faultCode(kind, user, true, false, mode));
  }
  const phys = walk(mem, mode, linear, kind, user, commit, w);
  copyState(out, w);
  out.allowed = allowed;
  return phys;
}

/** fetchId is the I/D bit a 32-bit walk's own fault gets for a fetch under SMEP (SDM 4.7). */
function fetchId(kind: AccessKind, mode: Pick<ProtectMode, 'nx' | 'smep'>): number {
  return kind === ACCESS_FETCH && idBitApplies(mode) ? PF_ID : 0;
}

/** failWith records the fault `code` of the walk `w` in `out`. */
function failWith(out: PaeWalkState, w: WalkState, code: number): number {
  copyState(out, w);
  out.phys = -1;
  out.errorCode = code;
  out.allowed = 0;
  return -1;
}

/** copyState copies a 32-bit walk's entries and leaf facts into a PaeWalkState (high dwords zero). */
function copyState(out: PaeWalkState, w: WalkState): void {
  out.pdpteAddr = out.pdpteLo = out.pdpteHi = out.pdeHi = out.pteHi = 0;
  out.pdeAddr = w.pdeAddr;
  out.pdeLo = w.pde;
  out.pteAddr = w.pteAddr;
  out.pteLo = w.pte;
  out.large = w.large;
  out.phys = w.phys;
  out.errorCode = w.errorCode;
  out.leafAddr = w.leafAddr;
  out.dirty = w.dirty;
  out.global = w.global;
}
