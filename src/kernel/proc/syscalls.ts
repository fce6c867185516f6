// The memory system calls a log shows: brk, mmap2 (MAP_FIXED at the address the
// log reports; anonymous or from a file), munmap and mprotect. Regions are
// split where a range cuts them; PTEs change with their INVLPGs (pages.ts).
// Results as Linux's: >= 0, or -errno.

import { PAGE_SIZE, pageAlignUp } from '../../hw/addr.js';
import { FRAME_MASK, PTE_RW, PTE_US } from '../../hw/paging.js';
import { EINVAL, ENOMEM, PROT_WRITE, type MmapFile } from './api.js';
import { kread, kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import { KIND_ANON, KIND_BRK, KIND_FILE, P_BRK, P_BRK_START, USER_BASE, USER_END, V_END, V_PROT } from './layout.js';
import { presentPages, protectUser, unmapRange } from './pages.js';
import {
  findRegion,
  insertRegion,
  overlapping,
  regionList,
  splitRegion,
  unlinkRegion,
  vmaAlloc,
  vmaFree,
} from './vma.js';

/** sysBrk moves the break (0 or below the start: a query); returns the new break, or the old one if refused. */
export function sysBrk(k: ProcCtx, h: ProcHandle, addr: number): number {
  const cur = kread(k, h.desc + P_BRK);
  if (addr === 0 || addr < kread(k, h.desc + P_BRK_START) || addr >= USER_END) return cur;
  const v = regionList(k, h.desc).find((r) => r.kind === KIND_BRK);
  if (v === undefined) return cur;
  const end = Math.max(pageAlignUp(addr), v.start);
  if (end > v.end) {
    if (overlapping(k, h.desc, v.end, end).length > 0) return cur;
  } else if (end < v.end) unmapRange(k, h, end, v.end);
  kwrite(k, v.at + V_END, end);
  kwrite(k, h.desc + P_BRK, addr);
  return addr;
}

/** rangeOk checks a page-aligned, non-empty range inside the user half. */
function rangeOk(addr: number, length: number): boolean {
  return (
    Number.isInteger(addr) &&
    Number.isInteger(length) &&
    addr % PAGE_SIZE === 0 &&
    length > 0 &&
    addr >= USER_BASE &&
    addr + length <= USER_END
  );
}

/** sysMmap2 maps [addr, addr + length) anew (MAP_FIXED); returns addr or -errno. */
export function sysMmap2(
  k: ProcCtx,
  h: ProcHandle,
  addr: number,
  length: number,
  prot: number,
  file?: MmapFile,
): number {
  if (!rangeOk(addr, length) || (prot & ~7) !== 0) return -EINVAL;
  if (file !== undefined && (file.offset % PAGE_SIZE !== 0 || file.offset < 0)) return -EINVAL;
  const end = pageAlignUp(addr + length);
  if (removeRange(k, h, addr, end) !== 0) return -ENOMEM;
  const id = file === undefined ? 0 : fileId(k, file.bytes);
  const fileEnd = file === undefined ? addr : Math.min(end, addr + Math.max(0, file.bytes.length - file.offset));
  const at = vmaAlloc(k, {
    start: addr,
    end,
    prot,
    kind: file === undefined ? KIND_ANON : KIND_FILE,
    fileOffset: file?.offset ?? 0,
    fileEnd,
    file: id,
  });
  if (at === null) return -ENOMEM;
  insertRegion(k, h.desc, at);
  return addr;
}

/** fileId gives a file's id on the disk, adding it the first time. */
export function fileId(k: ProcCtx, bytes: Uint8Array): number {
  const i = k.files.indexOf(bytes);
  return i >= 0 ? i : k.files.push(bytes) - 1;
}

/** sysMunmap removes [addr, addr + length); 0 or -errno. */
export function sysMunmap(k: ProcCtx, h: ProcHandle, addr: number, length: number): number {
  if (!rangeOk(addr, length)) return -EINVAL;
  return removeRange(k, h, addr, pageAlignUp(addr + length));
}

/** removeRange unmaps and unlists everything in [start, end), splitting regions at its ends; 0 or -ENOMEM. */
function removeRange(k: ProcCtx, h: ProcHandle, start: number, end: number): number {
  if (!cutAt(k, h, start) || !cutAt(k, h, end)) return -ENOMEM;
  for (const v of overlapping(k, h.desc, start, end)) {
    unmapRange(k, h, v.start, v.end);
    unlinkRegion(k, h.desc, v.at);
    vmaFree(k, v.at);
  }
  unmapRange(k, h, start, end); // pages of an empty region's neighbourhood: none expected, kept for safety
  return 0;
}

/** cutAt makes addr a region boundary (splitting the region strictly containing it); false on out of memory. */
function cutAt(k: ProcCtx, h: ProcHandle, addr: number): boolean {
  const v = findRegion(k, h.desc, addr);
  return v === null || v.start === addr || splitRegion(k, v, addr);
}

/** sysMprotect sets the rights of [addr, addr + length), which regions must cover wholly; 0 or -errno. */
export function sysMprotect(k: ProcCtx, h: ProcHandle, addr: number, length: number, prot: number): number {
  if (!rangeOk(addr, length) || (prot & ~7) !== 0) return -EINVAL;
  const end = pageAlignUp(addr + length);
  if (!covered(k, h, addr, end)) return -ENOMEM;
  if (!cutAt(k, h, addr) || !cutAt(k, h, end)) return -ENOMEM;
  for (const v of overlapping(k, h.desc, addr, end)) kwrite(k, v.at + V_PROT, prot);
  for (const [page, pte] of presentPages(k, h.space, addr, end)) {
    const shared = k.refs.get((pte & FRAME_MASK) >>> 0) > 1;
    const rw = prot & PROT_WRITE && !shared ? PTE_RW : 0;
    protectUser(k, h, page, prot === 0 ? 0 : PTE_US | rw);
  }
  return 0;
}

/** covered tells whether regions cover [start, end) without a hole. */
function covered(k: ProcCtx, h: ProcHandle, start: number, end: number): boolean {
  let at = start;
  for (const v of overlapping(k, h.desc, start, end)) {
    if (v.start > at) return false;
    at = Math.max(at, v.end);
  }
  return at >= end;
}
