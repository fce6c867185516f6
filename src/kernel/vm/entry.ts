// Physical addresses read out of paging-structure entries and the addresses of the entries themselves: the
// few places where a number from RAM becomes a PhysAddr, so that the code walking the tables needs no casts.

import type { PhysAddr } from '../../hw/addr.js';
import { FRAME_MASK, LARGE_FRAME_MASK } from '../../hw/paging.js';

/** entryFrame is the 4 KiB frame a PTE, or a PDE pointing at a page table, names (bits 31:12). */
export function entryFrame(entry: number): PhysAddr {
  return ((entry & FRAME_MASK) >>> 0) as PhysAddr;
}

/** largeFrame is the 4 MiB frame a PDE with PS names (bits 31:22; this kernel maps no PSE-36 frame). */
export function largeFrame(entry: number): PhysAddr {
  return ((entry & LARGE_FRAME_MASK) >>> 0) as PhysAddr;
}

/** entryAddr is the physical address of entry `index` (4 bytes each) of the table or directory at `table`. */
export function entryAddr(table: PhysAddr, index: number): PhysAddr {
  return (table + index * 4) as PhysAddr;
}
