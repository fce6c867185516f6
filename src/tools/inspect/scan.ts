// One pass over a page directory in a memory image: the present PDEs, for
// each a 4 MiB page or a page table (its 1024 entries, when the image holds
// it). Tree, JSON and lint all work from this view.

import { FRAME_MASK, LARGE_FRAME_MASK, PTE_P, PTE_RW, PTE_US } from '../../hw/paging.js';
import { contains, type PhysReader } from './image.js';
import { isLarge } from './qemu.js';
import type { Registers } from './regs.js';
import { PAGE_SIZE as PAGE, LARGE_PAGE_SIZE as LARGE_PAGE } from '../../hw/addr.js';

export { PAGE, LARGE_PAGE };

/** A present page-directory entry. */
export interface PdeView {
  readonly index: number;
  /** Physical address of the entry itself. */
  readonly entryAddr: number;
  readonly value: number;
  /** First linear address it covers. */
  readonly linear: number;
  /** Maps a 4 MiB page (PS with CR4.PSE). */
  readonly large: boolean;
  /** The page table's physical address, for a table PDE. */
  readonly table: number | null;
  /** The table's 1024 entries, or null when it lies past the end of the image. */
  readonly ptes: Uint32Array | null;
}

export interface DirectoryView {
  readonly regs: Registers;
  readonly dirAddr: number;
  /** Whether the image holds the whole directory. */
  readonly dirInImage: boolean;
  readonly imageSize: number;
  readonly pdes: readonly PdeView[];
}

/** One mapped page: a 4 KiB PTE, or a 4 MiB PDE. */
export interface Leaf {
  readonly linear: number;
  readonly size: number;
  /** Physical address of the page (above 4 GiB possible with PSE-36). */
  readonly phys: number;
  /** The leaf entry and where it is. */
  readonly value: number;
  readonly entryAddr: number;
  readonly pde: PdeView;
  readonly ptIndex: number | null;
  /** Effective U/S and R/W: the AND over the PDE and PTE. */
  readonly user: boolean;
  readonly writable: boolean;
}

/** scanDirectory reads CR3's directory and the page tables its present entries name. */
export function scanDirectory(img: PhysReader, regs: Registers): DirectoryView {
  const dirAddr = (regs.cr3 & FRAME_MASK) >>> 0;
  const pdes: PdeView[] = [];
  for (let i = 0; i < 1024; i++) {
    const entryAddr = dirAddr + i * 4;
    const value = img.read32(entryAddr);
    if ((value & PTE_P) === 0) continue;
    const large = isLarge(value, regs);
    const table = large ? null : (value & FRAME_MASK) >>> 0;
    const ptes = table !== null && contains(img, table, PAGE) ? readTable(img, table) : null;
    pdes.push({ index: i, entryAddr, value, linear: i * LARGE_PAGE, large, table, ptes });
  }
  return { regs, dirAddr, dirInImage: contains(img, dirAddr, PAGE), imageSize: img.size, pdes };
}

/** readTable copies a page table's 1024 entries. */
function readTable(img: PhysReader, table: number): Uint32Array {
  const out = new Uint32Array(1024);
  for (let j = 0; j < 1024; j++) out[j] = img.read32(table + j * 4);
  return out;
}

/** largePhys is the physical address a 4 MiB PDE maps, PSE-36 bits 20:13 included. */
export function largePhys(pde: number): number {
  return ((pde >>> 13) & 0xff) * 0x1_0000_0000 + ((pde & LARGE_FRAME_MASK) >>> 0);
}

/** forEachLeaf calls fn for every present mapping, in linear order. */
export function forEachLeaf(view: DirectoryView, fn: (leaf: Leaf) => void): void {
  for (const pde of view.pdes) {
    if (pde.large) {
      fn({
        linear: pde.linear,
        size: LARGE_PAGE,
        phys: largePhys(pde.value),
        value: pde.value,
        entryAddr: pde.entryAddr,
        pde,
        ptIndex: null,
        user: (pde.value & PTE_US) !== 0,
        writable: (pde.value & PTE_RW) !== 0,
      });
      continue;
    }
    if (pde.ptes === null) continue;
    for (let j = 0; j < 1024; j++) {
      const pte = pde.ptes[j];
      if ((pte & PTE_P) === 0) continue;
      const both = pte & pde.value;
      fn({
        linear: pde.linear + j * PAGE,
        size: PAGE,
        phys: (pte & FRAME_MASK) >>> 0,
        value: pte,
        entryAddr: pde.table! + j * 4,
        pde,
        ptIndex: j,
        user: (both & PTE_US) !== 0,
        writable: (both & PTE_RW) !== 0,
      });
    }
  }
}

/** Consecutive present PTEs of one table with the same flags and consecutive frames. */
export interface PteRun {
  readonly first: number;
  readonly count: number;
  /** The first entry; the others differ only in their frame. */
  readonly value: number;
}

/** pteRuns groups a table's present entries into runs. */
export function pteRuns(ptes: Uint32Array): PteRun[] {
  const runs: PteRun[] = [];
  let cur: { first: number; count: number; value: number } | null = null;
  for (let j = 0; j < 1024; j++) {
    const pte = ptes[j];
    if ((pte & PTE_P) === 0) {
      cur = null;
      continue;
    }
    const follows =
      cur !== null &&
      (pte & 0xfff) === (cur.value & 0xfff) &&
      (pte & FRAME_MASK) >>> 0 === ((cur.value & FRAME_MASK) >>> 0) + cur.count * PAGE;
    if (follows) cur!.count++;
    else {
      cur = { first: j, count: 1, value: pte };
      runs.push(cur);
    }
  }
  return runs;
}
