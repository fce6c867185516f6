// User pages of one process: reading a PTE, mapping a frame, unmapping one
// (dropping its reference and freeing the frame at count 0), changing rights,
// and visiting every present PTE of a range. Each change's TLB obligation is
// applied (INVLPG) when the space is current, else dropped (no TLB holds it).

import { PAGE_SIZE, type LinAddr, type PhysAddr } from '../../hw/addr.js';
import { FRAME_MASK, PDE_PS, PTE_P } from '../../hw/paging.js';
import type { Flush } from '../vm/flush.js';
import type { AddressSpace } from '../vm/space.js';
import { kadd, kread, kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import { P_MAX_RESIDENT, P_RESIDENT } from './layout.js';
import { KERNEL_PDE_FIRST } from '../vm/layout.js';

/**
 * fillPage writes src[from, from + n) at byte `at` of the zeroed page mapped at `linear` (n ≤ PAGE_SIZE - at;
 * bytes past src's end stay zero), as a C kernel's memcpy: stores through the MMU, translated once for the page.
 */
export function fillPage(k: ProcCtx, linear: number, at: number, src: Uint8Array, from: number, n: number): void {
  if (from < src.length) k.machine.writeBytes(linear + at, src.subarray(from, Math.min(from + n, src.length)));
}

/** settle applies a flush when the space is current (its TLB may hold the page), else drops it. */
export function settle(k: ProcCtx, space: AddressSpace, f: Flush): void {
  if ((k.machine.mmu.cr3 & FRAME_MASK) >>> 0 === space.directory) f.flush();
  else f.ignore();
}

/** userPte reads the PTE of a user page (0 when its table is absent). */
export function userPte(k: ProcCtx, space: AddressSpace, page: number): number {
  const pdi = page >>> 22;
  const pde = k.vm.pt.readPde(space.directory, pdi);
  if ((pde & (PTE_P | PDE_PS)) !== PTE_P) return 0;
  return k.vm.pt.readPte(space.directory, pdi, ((pde & FRAME_MASK) >>> 0) as PhysAddr, (page >>> 12) & 0x3ff);
}

/** mapUser maps a frame at a user page with the given PTE flags (P implied) and counts it resident. */
export function mapUser(k: ProcCtx, h: ProcHandle, page: number, frame: PhysAddr, flags: number): void {
  settle(k, h.space, h.space.map(page as LinAddr, frame, flags));
  const n = kadd(k, h.desc + P_RESIDENT, 1);
  if (n > kread(k, h.desc + P_MAX_RESIDENT)) kwrite(k, h.desc + P_MAX_RESIDENT, n);
}

/** unmapUser removes a present user page, drops its frame's reference and frees the frame at 0. */
export function unmapUser(k: ProcCtx, h: ProcHandle, page: number): void {
  const u = h.space.unmap(page as LinAddr);
  settle(k, h.space, u.flush);
  kadd(k, h.desc + P_RESIDENT, -1);
  if (k.refs.dec(u.frame) === 0) {
    k.pager?.release(u.frame);
    k.frames.free(u.frame);
  }
}

/** protectUser rewrites a present user page's rights (RW, U/S), keeping its frame and A/D. */
export function protectUser(k: ProcCtx, h: ProcHandle, page: number, flags: number): void {
  settle(k, h.space, h.space.protect(page as LinAddr, flags));
}

/**
 * replaceFrame points a present user PTE at another frame (COW's copy), as Linux's set_pte and
 * flush_tlb_page: the table stays (its present count is unchanged), the old translation is dropped
 * with INVLPG when the space is current (SDM 4.10.4.1). Nothing to allocate, so nothing can fail.
 */
export function replaceFrame(k: ProcCtx, h: ProcHandle, page: number, frame: PhysAddr, flags: number): void {
  const dir = h.space.directory;
  const pdi = page >>> 22;
  const table = ((k.vm.pt.readPde(dir, pdi) & FRAME_MASK) >>> 0) as PhysAddr;
  k.vm.pt.writePte(dir, pdi, table, (page >>> 12) & 0x3ff, frame | PTE_P | flags);
  if ((k.machine.mmu.cr3 & FRAME_MASK) >>> 0 === dir) {
    k.machine.mmu.invlpg(page);
    k.vm.tracker.invlpgs++;
  }
}

/** presentPages lists the present user pages in [start, end) with their PTEs (visiting only present tables). */
export function presentPages(k: ProcCtx, space: AddressSpace, start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  const last = Math.min(KERNEL_PDE_FIRST, Math.ceil(end / 0x400000));
  for (let pdi = Math.floor(start / 0x400000); pdi < last; pdi++) {
    const pde = k.vm.pt.readPde(space.directory, pdi);
    if ((pde & (PTE_P | PDE_PS)) !== PTE_P) continue;
    const table = ((pde & FRAME_MASK) >>> 0) as PhysAddr;
    for (let pti = 0; pti < 1024; pti++) {
      const page = pdi * 0x400000 + pti * PAGE_SIZE;
      if (page < start || page >= end) continue;
      const pte = k.vm.pt.readPte(space.directory, pdi, table, pti);
      if (pte & PTE_P) out.push([page, pte]);
    }
  }
  return out;
}

/** unmapRange unmaps every present page of [start, end). */
export function unmapRange(k: ProcCtx, h: ProcHandle, start: number, end: number): void {
  k.pager?.dropSwap(k, h, start, end); // swapped-out pages: their slots freed
  for (const [page] of presentPages(k, h.space, start, end)) unmapUser(k, h, page);
}
