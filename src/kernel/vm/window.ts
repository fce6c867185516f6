// KernelWindow: physical memory below KERNEL_WINDOW_LIMIT, reached at
// KERNEL_BASE + phys through the kernel's first page table, as a higher-half
// C kernel reaches its own image and early data (P2V in xv6).

import { PAGE_SIZE, hex, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { VmError } from './error.js';
import type { PhysAccess } from '../physaccess.js';
import { KERNEL_BASE, KERNEL_WINDOW_LIMIT } from './layout.js';

export class KernelWindow implements PhysAccess {
  constructor(
    private readonly machine: Machine,
    readonly limit = KERNEL_WINDOW_LIMIT,
  ) {}

  /** p2v gives the linear address of a physical address inside the window. */
  p2v(p: PhysAddr): number {
    if (p < 0 || p >= this.limit)
      throw new VmError(
        'outside-window',
        `physical ${hex(p)} is outside the kernel window (below ${hex(this.limit)})`,
        { frame: p },
      );
    return KERNEL_BASE + p;
  }

  read32(p: PhysAddr): number {
    return this.machine.read32(this.p2v(p));
  }

  write32(p: PhysAddr, v: number): void {
    this.machine.write32(this.p2v(p), v);
  }

  fillFrame(frame: PhysAddr, byte: number): void {
    fillLinearPage(this.machine, this.p2v(frame), byte);
  }
}

/** fillLinearPage writes one byte value over the 4 KiB page at linear `page`. */
export function fillLinearPage(machine: Machine, page: number, byte: number): void {
  machine.fill(page, PAGE_SIZE, byte); // memset: one translation, then the frame's bytes
}
