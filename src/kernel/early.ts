// The early allocator (Linux's memblock in miniature): before any frame
// allocator exists, hand out whole frames from free memory inside the kernel
// window, just past everything reserved at boot. Each frame it gives is
// recorded as a reserved range so the real allocator never hands it out.

import { PAGE_SIZE, hex, type PhysAddr } from '../hw/addr.js';
import type { BootInfo, ReservedRange } from '../boot/handoff.js';
import { MMAP_AVAILABLE } from '../boot/handoff.js';
import { PagelabError } from '../errors.js';
import { KERNEL_WINDOW_LIMIT } from './vm/layout.js';

export class EarlyAllocator {
  private next: number;
  private sealed: string | null = null;
  readonly taken: ReservedRange[] = [];

  constructor(
    private readonly info: BootInfo,
    private readonly limit = KERNEL_WINDOW_LIMIT,
  ) {
    this.next = Math.ceil(info.kernel.physicalEnd / PAGE_SIZE) * PAGE_SIZE;
  }

  /** alloc returns `count` contiguous free frames inside the window, tagged with `what`. */
  alloc(count: number, what: string): PhysAddr {
    if (this.sealed !== null)
      throw new PagelabError(`early allocation for ${what} after ${this.sealed} took over physical memory`);
    for (;;) {
      const base = this.next;
      const end = base + count * PAGE_SIZE;
      if (end > this.limit) {
        throw new PagelabError(
          `early allocation of ${count} frame(s) for ${what}: no room below ${hex(this.limit)}: the kernel window (the first 4 MiB, which the boot page table maps) is full of the kernel image, the multiboot data and the modules; use smaller modules`,
        );
      }
      const clash = this.clash(base, end);
      if (clash === null) {
        this.next = end;
        this.taken.push({ base, length: end - base, what });
        return base as PhysAddr;
      }
      this.next = Math.ceil(clash / PAGE_SIZE) * PAGE_SIZE;
    }
  }

  /** seal ends early allocation: from now on `owner` hands out frames. */
  seal(owner: string): void {
    this.sealed = owner;
  }

  /** clash returns the end of a reserved or non-RAM range overlapping [base, end), or null. */
  private clash(base: number, end: number): number | null {
    for (const r of [...this.info.reserved, ...this.taken]) {
      if (r.base < end && base < r.base + r.length) return r.base + r.length;
    }
    const inRam = this.info.memoryMap.some(
      (e) => e.type === MMAP_AVAILABLE && e.base <= base && end <= e.base + e.length,
    );
    if (inRam) return null;
    const after = this.info.memoryMap.find((e) => e.type === MMAP_AVAILABLE && e.base + e.length > base);
    return after === undefined ? this.limit : Math.max(after.base, base + PAGE_SIZE);
  }
}
