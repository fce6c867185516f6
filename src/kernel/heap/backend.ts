// What the kernel heap needs from the rest of the memory manager, and no more:
// frames from the frame allocator, and kernel mappings in the heap's region.
// The heap is the kernel's sbrk: it asks for frames, maps them at its break,
// and hands them back when frees leave whole pages unused. The real adapter
// (kernel VM + frame allocator) and the tests' double both implement this.

import type { LinAddr, PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';

export interface HeapBackend {
  /** The machine whose memory the heap lives in; the heap reads and writes it at kernel linear addresses. */
  readonly machine: Machine;
  /** One free 4 KiB frame, or null when physical memory is exhausted. */
  allocFrame(): PhysAddr | null;
  /** Gives a frame the heap no longer maps back to the frame allocator. */
  freeFrame(frame: PhysAddr): void;
  /**
   * Maps the 4 KiB page at `page` (not mapped before) to `frame`, kernel-only and
   * writable (P|RW, no U/S), in the kernel half shared by every address space.
   * Any page table it needs is allocated by the backend; returns false, mapping
   * nothing, when it cannot get one. Any flush the mapping needs is the backend's.
   */
  mapPage(page: LinAddr, frame: PhysAddr): boolean;
  /** Unmaps the mapped page at `page`, applies INVLPG, and returns the frame it mapped (not freed). */
  unmapPage(page: LinAddr): PhysAddr;
  /** Whether the kernel's page tables map `page` (the kernel's own walk, the seeds' vmem_get_phys_addr). */
  isMapped(page: LinAddr): boolean;
  /** The entry the kernel's own walk of its page tables finds mapping `page` (PTE, or PDE of a 4 MiB page), or null. */
  mapping(page: LinAddr): HeapMapping | null;
}

/** What the page tables say of one mapped heap page: its frame and the flags of the entry that maps it. */
export interface HeapMapping {
  readonly frame: PhysAddr;
  /** The leaf entry's flag bits (P, RW, US, A, D, ...): the PTE's, or the PDE's for a 4 MiB page. */
  readonly flags: number;
}
