// The kernel's virtual memory: the kernel address space (the boot directory),
// the registry of all address spaces, and how the kernel half stays the same
// in each of them.
//
// Kernel half policy: kernel page tables are created on demand and never
// freed; a new kernel PDE is written into every existing directory at once
// ("sync on change"), and a new directory copies the kernel PDEs when it is
// created. Pre-allocating all 255 kernel tables would cost 1 MiB up front,
// more than a small machine has; lazy sync on fault (i386 Linux's vmalloc
// faults) would need a fault path in every kernel access.
// With global kernel pages on (the default), CR4.PGE is set and kernel
// leaves carry G, so a CR3 switch keeps their TLB entries.

import { hex, type PhysAddr } from '../../hw/addr.js';
import { CR4_PGE, FRAME_MASK, PTE_G, PTE_P } from '../../hw/paging.js';
import type { FrameAllocator } from '../frames/allocator.js';
import type { KernelCore } from './core.js';
import { FlushTracker } from './flush.js';
import { createPtAccess, type PtAccess, type PtAccessKind } from './ptaccess.js';
import { AddressSpace, VmError, type SpaceContext } from './space.js';
import { KERNEL_PDE_FIRST, TEMP_SLOT_DEPTH } from './layout.js';

export interface KernelVmOptions {
  readonly ptAccess?: PtAccessKind;
  /** Mark kernel pages global and set CR4.PGE. Default true. */
  readonly globalKernel?: boolean;
}

export class KernelVm {
  readonly pt: PtAccess;
  readonly tracker: FlushTracker;
  readonly kernel: AddressSpace;
  private readonly spaces = new Set<AddressSpace>();
  private readonly ctx: SpaceContext;
  tablesAllocated = 0;
  tablesFreed = 0;

  constructor(
    readonly core: KernelCore,
    readonly frames: FrameAllocator,
    options: KernelVmOptions = {},
  ) {
    const machine = core.machine;
    this.pt = createPtAccess(options.ptAccess ?? 'slot', machine, core.slot);
    this.tracker = new FlushTracker(machine);
    const global = options.globalKernel ?? true;
    this.ctx = {
      pt: this.pt,
      tracker: this.tracker,
      pse: () => machine.mmu.pse,
      newTable: () => this.newTable(),
      freeTable: (f) => this.freeTable(f),
      linkKernelPde: (pdi, pde) => this.linkKernelPde(pdi, pde),
      kernelLeafFlags: global ? PTE_G : 0,
    };
    this.pt.initDirectory(core.directory);
    this.kernel = new AddressSpace(this.ctx, core.directory, this.mustAlloc('kernel page-table counts'), core.slot);
    this.spaces.add(this.kernel);
    if (global) this.makeKernelGlobal();
  }

  /** Every live address space, the kernel's first. */
  get all(): readonly AddressSpace[] {
    return [...this.spaces];
  }

  /** The address space whose directory is in CR3. */
  get current(): AddressSpace {
    const dir = (this.core.machine.mmu.cr3 & FRAME_MASK) >>> 0;
    const s = [...this.spaces].find((x) => x.directory === dir);
    if (s === undefined) throw new VmError(`CR3 ${hex(dir)} is no known address space`);
    return s;
  }

  /** createSpace makes a new address space: an empty user half and the shared kernel half. */
  createSpace(): AddressSpace {
    this.tracker.check();
    const dir = this.mustAlloc('page directory');
    let counts: PhysAddr;
    try {
      counts = this.mustAlloc('page-table count frame');
    } catch (e) {
      this.frames.free(dir); // all or nothing
      throw e;
    }
    this.pt.initDirectory(dir); // first: the recursive strategy reaches the directory through it
    for (let pdi = KERNEL_PDE_FIRST; pdi <= this.pt.lastMappablePde; pdi++) {
      const pde = this.pt.readPde(this.core.directory, pdi);
      if (pde & PTE_P) this.pt.writePde(dir, pdi, pde);
    }
    const space = new AddressSpace(this.ctx, dir, counts, this.core.slot);
    this.spaces.add(space);
    return space;
  }

  /** destroySpace frees a space that holds no user mappings and is not current. */
  destroySpace(space: AddressSpace): void {
    this.tracker.check();
    if (!this.spaces.has(space)) throw new VmError(`address space ${hex(space.directory)} was destroyed already`);
    if (space === this.kernel) throw new VmError('the kernel address space cannot be destroyed');
    if (space === this.current)
      throw new VmError(`address space ${hex(space.directory)} is current: switch away first`);
    const held = space.userPdes();
    if (held !== 0)
      throw new VmError(
        `address space ${hex(space.directory)} still has ${held} user mapping(s) in its directory (page tables or 4 MiB pages): unmap first`,
      );
    this.spaces.delete(space);
    space.markDestroyed();
    this.pt.forget(
      space.directory,
      [...this.spaces].map((s) => s.directory),
    );
    this.frames.free(space.directory);
    this.frames.free(space.counts);
  }

  /** switchTo loads CR3 with a space's directory (SDM 4.10.4.1: non-global entries are flushed). */
  switchTo(space: AddressSpace): void {
    this.tracker.check();
    if (!this.spaces.has(space)) throw new VmError(`address space ${hex(space.directory)} was destroyed`);
    this.core.machine.mmu.writeCr3(space.directory);
  }

  private linkKernelPde(pdi: number, pde: number): void {
    for (const s of this.spaces) this.pt.writePde(s.directory, pdi, pde);
  }

  private newTable(): PhysAddr | null {
    const t = this.frames.alloc();
    if (t === null) return null;
    this.core.slot.fillFrame(t, 0); // initialised through the slot before it is linked in
    this.tablesAllocated++;
    return t;
  }

  private freeTable(frame: PhysAddr): void {
    this.frames.free(frame);
    this.tablesFreed++;
  }

  private mustAlloc(what: string): PhysAddr {
    const f = this.newTable();
    if (f === null) throw new VmError(`out of memory for a ${what}`);
    this.tablesAllocated--;
    return f;
  }

  /** makeKernelGlobal sets G on the kernel's first table (not the slots) and turns on CR4.PGE. */
  private makeKernelGlobal(): void {
    const first = this.core.firstTable;
    const slots = 1024 - TEMP_SLOT_DEPTH;
    for (let pti = 0; pti < slots; pti++) {
      const pte = this.pt.readPte(this.core.directory, KERNEL_PDE_FIRST, first, pti);
      if (pte & PTE_P) this.pt.writePte(this.core.directory, KERNEL_PDE_FIRST, first, pti, pte | PTE_G);
    }
    const mmu = this.core.machine.mmu;
    mmu.writeCr4(mmu.cr4 | CR4_PGE); // changing PGE flushes the whole TLB (SDM 4.10.4.1)
  }
}
