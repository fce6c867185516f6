// The real HeapBackend: frames from the frame allocator, mappings in the
// kernel address space (shared kernel half), flushes applied at once.

import { pageAlignDown, phys, type LinAddr, type PhysAddr } from '../hw/addr.js';
import { FRAME_MASK, PTE_RW } from '../hw/paging.js';
import type { FrameAllocator } from './frames/api.js';
import type { HeapBackend, HeapMapping } from './heap/backend.js';
import type { KernelVm } from './vm/kvm.js';
import { VmError } from './vm/error.js';

export class KernelHeapBackend implements HeapBackend {
  constructor(
    private readonly vm: KernelVm,
    private readonly frames: FrameAllocator,
  ) {}

  get machine() {
    return this.vm.core.machine;
  }

  allocFrame(): PhysAddr | null {
    return this.frames.alloc();
  }

  freeFrame(frame: PhysAddr): void {
    this.frames.free(frame);
  }

  /** mapPage maps kernel-only RW; false (nothing mapped) when no page table can be had. */
  mapPage(page: LinAddr, frame: PhysAddr): boolean {
    try {
      this.vm.kernel.map(page, frame, PTE_RW).flush();
      return true;
    } catch (e) {
      if (e instanceof VmError && e.kind === 'out-of-memory') return false;
      throw e;
    }
  }

  unmapPage(page: LinAddr): PhysAddr {
    const u = this.vm.kernel.unmap(page);
    u.flush.flush();
    return u.frame;
  }

  /** isMapped walks the kernel's page tables through its page-table access (slot or recursive). */
  isMapped(page: LinAddr): boolean {
    return this.vm.kernel.translate(page) !== null;
  }

  /** mapping reads the leaf entry of `page` from the kernel's page tables (the same walk as isMapped). */
  mapping(page: LinAddr): HeapMapping | null {
    const w = this.vm.kernel.walk(page);
    if (w.physical === null) return null;
    const entry = w.pte === null ? w.pde.value : w.pte.value;
    return { frame: phys(pageAlignDown(w.physical)), flags: entry & ~FRAME_MASK };
  }
}
