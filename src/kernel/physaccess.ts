// How kernel code reaches a physical frame's bytes once paging is on: never
// directly, always through some linear mapping (rule 1). Implementations:
// KernelWindow (the boot-time mapping of low memory at 0xC0000000) and
// TempSlot (the temporary-mapping slot at 0xC03FF000).

import type { PhysAddr } from '../hw/addr.js';

export interface PhysAccess {
  /** Reads a little-endian dword at a physical address (4-byte aligned). */
  read32(p: PhysAddr): number;
  /** Writes a little-endian dword at a physical address (4-byte aligned). */
  write32(p: PhysAddr, v: number): void;
  /** Fills the 4 KiB frame at `frame` with a byte value. */
  fillFrame(frame: PhysAddr, byte: number): void;
}
