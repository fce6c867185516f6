// Test doubles for the heap's backend, on a real machine state: fakeBoot()
// plus the kernel core (window, temporary-mapping slot). TestFrameSet stands in
// for the frame allocator (a JS free set over a physical range); the backend
// allocates the heap region's page tables from it, initialises them and writes
// PTEs through the slot, links them into the kernel's page directory through
// the window, and INVLPGs after every unmap, as the kernel VM will.

import { hex, phys, type LinAddr, type PhysAddr } from '../../../src/hw/addr.js';
import type { Machine } from '../../../src/hw/machine.js';
import { FRAME_MASK, PTE_P, PTE_RW, pdIndex, ptIndex } from '../../../src/hw/paging.js';
import type { BootInfo } from '../../../src/boot/handoff.js';
import type { HeapBackend, HeapMapping } from '../../../src/kernel/heap/backend.js';
import { setupKernelCore, type KernelCore } from '../../../src/kernel/vm/core.js';
import { fakeBoot } from '../fakeboot.js';

/** A test double of the frame allocator: frames [lo, hi) in a JS free stack, lowest first. */
export class TestFrameSet {
  private readonly stack: number[] = [];
  private readonly taken = new Set<number>();

  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {
    for (let f = hi - 4096; f >= lo; f -= 4096) this.stack.push(f);
  }

  /** alloc hands out a free frame, or null when none is left. */
  alloc(): PhysAddr | null {
    const f = this.stack.pop();
    if (f === undefined) return null;
    this.taken.add(f);
    return phys(f);
  }

  /** free takes a frame back; a frame it did not hand out is a test failure. */
  free(frame: PhysAddr): void {
    if (!this.taken.delete(frame)) throw new Error(`TestFrameSet: free of ${hex(frame)}, which is not allocated`);
    this.stack.push(frame);
  }

  get freeCount(): number {
    return this.stack.length;
  }

  get usedCount(): number {
    return this.taken.size;
  }

  isTaken(frame: number): boolean {
    return this.taken.has(frame);
  }

  /** state describes the whole allocator (free stack in order, frames taken), for before/after comparisons. */
  state(): string {
    return `${this.stack.join(',')}|${[...this.taken].sort((a, b) => a - b).join(',')}`;
  }
}

export class TestHeapBackend implements HeapBackend {
  readonly machine: Machine;
  tablesAllocated = 0;
  maps = 0;
  unmaps = 0;

  constructor(
    readonly core: KernelCore,
    readonly frames: TestFrameSet,
  ) {
    this.machine = core.machine;
  }

  allocFrame(): PhysAddr | null {
    return this.frames.alloc();
  }

  freeFrame(frame: PhysAddr): void {
    this.frames.free(frame);
  }

  mapPage(page: LinAddr, frame: PhysAddr): boolean {
    const table = this.tableFor(page);
    if (table === null) return false;
    this.editPte(table, page, (old) => {
      if ((old & PTE_P) !== 0) throw new Error(`TestHeapBackend: ${hex(page)} is already mapped`);
      return frame | PTE_P | PTE_RW;
    });
    this.maps++;
    return true;
  }

  unmapPage(page: LinAddr): PhysAddr {
    const pde = this.core.window.read32(this.pdeAddr(page));
    if ((pde & PTE_P) === 0) throw new Error(`TestHeapBackend: unmap of ${hex(page)}: no page table`);
    let frame = 0;
    this.editPte(phys(pde & FRAME_MASK), page, (old) => {
      if ((old & PTE_P) === 0) throw new Error(`TestHeapBackend: unmap of ${hex(page)}, which is not mapped`);
      frame = old & FRAME_MASK;
      return 0;
    });
    this.machine.mmu.invlpg(page);
    this.unmaps++;
    return phys(frame);
  }

  isMapped(page: LinAddr): boolean {
    return (this.pteOf(page) & PTE_P) !== 0;
  }

  mapping(page: LinAddr): HeapMapping | null {
    const pte = this.pteOf(page);
    return (pte & PTE_P) === 0 ? null : { frame: phys(pte & FRAME_MASK), flags: pte & ~FRAME_MASK };
  }

  /** pteOf reads the PTE for `page` through the slot (0 if there is no page table). */
  pteOf(page: number): number {
    const pde = this.core.window.read32(this.pdeAddr(page));
    if ((pde & PTE_P) === 0) return 0;
    const t = this.core.slot.map(phys(pde & FRAME_MASK));
    try {
      return this.machine.read32(t + ptIndex(page) * 4);
    } finally {
      this.core.slot.unmap();
    }
  }

  private pdeAddr(page: number): PhysAddr {
    return phys(this.core.directory + pdIndex(page) * 4);
  }

  /** tableFor returns the page table covering `page`, allocating, zeroing and linking one if needed. */
  private tableFor(page: number): PhysAddr | null {
    const pde = this.core.window.read32(this.pdeAddr(page));
    if ((pde & PTE_P) !== 0) return phys(pde & FRAME_MASK);
    const table = this.frames.alloc();
    if (table === null) return null;
    this.tablesAllocated++;
    this.core.slot.fillFrame(table, 0);
    this.core.window.write32(this.pdeAddr(page), table | PTE_P | PTE_RW);
    return table;
  }

  /** editPte rewrites one PTE of `table` through the temporary-mapping slot. */
  private editPte(table: PhysAddr, page: number, edit: (old: number) => number): void {
    const t = this.core.slot.map(table);
    try {
      const at = t + ptIndex(page) * 4;
      this.machine.write32(at, edit(this.machine.read32(at)));
    } finally {
      this.core.slot.unmap();
    }
  }
}

export interface HeapRig {
  readonly info: BootInfo;
  readonly core: KernelCore;
  readonly machine: Machine;
  readonly frames: TestFrameSet;
  readonly backend: TestHeapBackend;
}

/** heapRig boots a fake machine (64 MiB) and hands the heap frames [8 MiB, 8 MiB + frames*4 KiB). */
export function heapRig(frameCount = 14336, tlb = 'sa:16x4'): HeapRig {
  const info = fakeBoot({ ram: 64 << 20, tlb });
  const core = setupKernelCore(info);
  const frames = new TestFrameSet(8 << 20, (8 << 20) + frameCount * 4096);
  return { info, core, machine: info.machine, frames, backend: new TestHeapBackend(core, frames) };
}
