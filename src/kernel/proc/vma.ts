// A process's region list (Linux's vm_area_struct list): struct vma records
// on the kernel heap, linked in order of start address from the descriptor's
// P_REGIONS. Every walk checks each record's magic and that the list ends.

import { hex, type LinAddr } from '../../hw/addr.js';
import { ProcError, type RegionInfo, type RegionKind } from './api.js';
import { kread, kwrite, type ProcCtx } from './ctx.js';
import {
  KIND_ANON,
  KIND_BRK,
  KIND_FILE,
  KIND_STACK,
  P_REGIONS,
  V_END,
  V_FILE,
  V_FILE_END,
  V_FILE_OFFSET,
  V_KIND,
  V_MAGIC,
  V_NEXT,
  V_PROT,
  V_START,
  VMA_MAGIC,
  VMA_SIZE,
} from './layout.js';

/** A region as read from RAM, with where its record is. */
export interface Vma {
  readonly at: number;
  readonly next: number;
  readonly start: number;
  readonly end: number;
  readonly prot: number;
  readonly kind: number;
  readonly fileOffset: number;
  readonly fileEnd: number;
  readonly file: number;
}

/** The fields of a new region. */
export type VmaFields = Omit<Vma, 'at' | 'next'>;

const KIND_NAMES: Readonly<Record<number, RegionKind>> = {
  [KIND_FILE]: 'file',
  [KIND_ANON]: 'anon',
  [KIND_STACK]: 'stack',
  [KIND_BRK]: 'brk',
};
/** No list is longer than this (a loop in corrupted memory stops here). */
const MAX_REGIONS = 65536;

/** vmaCheck throws unless `at` is a record: an aligned kernel address whose magic is 'VMA_'. */
function vmaCheck(k: ProcCtx, at: number): void {
  if (at % 4 !== 0 || at < 0xc0000000) throw new ProcError('corrupted', `region list: link ${hex(at)} is no record`);
  const magic = kread(k, at + V_MAGIC);
  if (magic !== VMA_MAGIC)
    throw new ProcError('corrupted', `region list: record at ${hex(at)} has magic ${hex(magic)}, expected 'VMA_'`);
}

/** vmaRead reads one record, checking its magic. */
export function vmaRead(k: ProcCtx, at: number): Vma {
  vmaCheck(k, at);
  return {
    at,
    next: kread(k, at + V_NEXT),
    start: kread(k, at + V_START),
    end: kread(k, at + V_END),
    prot: kread(k, at + V_PROT),
    kind: kread(k, at + V_KIND),
    fileOffset: kread(k, at + V_FILE_OFFSET),
    fileEnd: kread(k, at + V_FILE_END),
    file: kread(k, at + V_FILE),
  };
}

/** vmaWrite stores a record's fields (not its link). */
export function vmaWrite(k: ProcCtx, at: number, v: VmaFields): void {
  kwrite(k, at + V_MAGIC, VMA_MAGIC);
  kwrite(k, at + V_START, v.start);
  kwrite(k, at + V_END, v.end);
  kwrite(k, at + V_PROT, v.prot);
  kwrite(k, at + V_KIND, v.kind);
  kwrite(k, at + V_FILE_OFFSET, v.fileOffset);
  kwrite(k, at + V_FILE_END, v.fileEnd);
  kwrite(k, at + V_FILE, v.file);
}

/** vmaAlloc makes a record on the kernel heap (unlinked); null when the heap is out of memory. */
export function vmaAlloc(k: ProcCtx, v: VmaFields): number | null {
  const at = k.heap.kmalloc(VMA_SIZE);
  if (at === null) return null;
  vmaWrite(k, at, v);
  kwrite(k, at + V_NEXT, 0);
  return at;
}

/** vmaFree clears a record's magic and gives it back to the heap. */
export function vmaFree(k: ProcCtx, at: number): void {
  kwrite(k, at + V_MAGIC, 0);
  k.heap.kfree(at as LinAddr);
}

/** regionList walks a descriptor's list in order. */
export function regionList(k: ProcCtx, desc: number): Vma[] {
  const out: Vma[] = [];
  for (let at = kread(k, desc + P_REGIONS); at !== 0;) {
    if (out.length === MAX_REGIONS) throw new ProcError('corrupted', `region list of ${hex(desc)} does not end`);
    const v = vmaRead(k, at);
    out.push(v);
    at = v.next;
  }
  return out;
}

/** findRegion gives the region holding addr, or null: it walks the list reading only each record's bounds. */
export function findRegion(k: ProcCtx, desc: number, addr: number): Vma | null {
  let n = 0;
  for (let at = kread(k, desc + P_REGIONS); at !== 0; at = kread(k, at + V_NEXT)) {
    if (n++ === MAX_REGIONS) throw new ProcError('corrupted', `region list of ${hex(desc)} does not end`);
    vmaCheck(k, at);
    if (addr >= kread(k, at + V_START) && addr < kread(k, at + V_END)) return vmaRead(k, at);
  }
  return null;
}

/** insertRegion links a record into the list by its start address. */
export function insertRegion(k: ProcCtx, desc: number, at: number): void {
  const start = kread(k, at + V_START);
  let prevLink = desc + P_REGIONS;
  for (const v of regionList(k, desc)) {
    if (v.start > start) break;
    prevLink = v.at + V_NEXT;
  }
  kwrite(k, at + V_NEXT, kread(k, prevLink));
  kwrite(k, prevLink, at);
}

/** unlinkRegion takes a record out of the list (it stays allocated). */
export function unlinkRegion(k: ProcCtx, desc: number, at: number): void {
  let prevLink = desc + P_REGIONS;
  for (const v of regionList(k, desc)) {
    if (v.at === at) {
      kwrite(k, prevLink, v.next);
      return;
    }
    prevLink = v.at + V_NEXT;
  }
  throw new ProcError('corrupted', `region ${hex(at)} is not in the list of ${hex(desc)}`);
}

/** splitRegion cuts a region at addr (strictly inside) into two records; false when the heap is full. */
export function splitRegion(k: ProcCtx, v: Vma, addr: number): boolean {
  const file = v.kind === KIND_FILE ? v.fileOffset + (addr - v.start) : v.fileOffset;
  const upper = vmaAlloc(k, { ...v, start: addr, fileOffset: file });
  if (upper === null) return false;
  kwrite(k, upper + V_NEXT, v.next);
  kwrite(k, v.at + V_END, addr);
  kwrite(k, v.at + V_NEXT, upper);
  return true;
}

/** overlapping lists the regions meeting [start, end). */
export function overlapping(k: ProcCtx, desc: number, start: number, end: number): Vma[] {
  return regionList(k, desc).filter((v) => v.start < end && v.end > start && v.end > v.start);
}

/** regionInfo turns a record into its public form. */
export function regionInfo(v: Vma): RegionInfo {
  return {
    start: v.start,
    end: v.end,
    prot: v.prot,
    kind: KIND_NAMES[v.kind] ?? 'anon',
    fileOffset: v.fileOffset,
    fileEnd: v.fileEnd,
  };
}

/** describeRegion names a region for a kill report: "0x08048000-0x08049000 r-x file". */
export function describeRegion(v: Vma | null): string {
  if (v === null) return 'no region';
  const r = `${v.prot & 1 ? 'r' : '-'}${v.prot & 2 ? 'w' : '-'}${v.prot & 4 ? 'x' : '-'}`;
  return `${hex(v.start)}-${hex(v.end)} ${r} ${KIND_NAMES[v.kind] ?? `kind ${v.kind}`}`;
}
