// The kernel's virtual memory: the kernel address space (the boot directory),
// the registry of all address spaces (a table in RAM, registry.ts), and how
// the kernel half stays the same in each of them.
//
// Kernel half policy: kernel page tables are created on demand and never
// freed; a new kernel PDE is written into every existing directory at once
// ("sync on change"), and a new directory copies the kernel PDEs when it is
// created. Pre-allocating all 255 kernel tables would cost 1 MiB up front,
// more than a small machine has; lazy sync on fault (i386 Linux's vmalloc
// faults) would need a fault path in every kernel access.
// With global kernel pages on (the default), CR4.PGE is set and kernel
// leaves carry G, so a CR3 switch keeps their TLB entries.

import { hex, type PhysAddr, physOffset } from '../../hw/addr.js';
import { CR4_PGE, FRAME_MASK, PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P } from '../../hw/paging.js';
import type { FrameAllocator } from '../frames/api.js';
import type { KernelCore } from './core.js';
import { entryFrame } from './entry.js';
import { VmError } from './error.js';
import { FlushTracker } from './flush.js';
import { createPtAccess, type PtAccess, type PtAccessKind } from './ptaccess.js';
import type { RecordRef } from './ramtable.js';
import { SpaceRegistry, type SpaceDesc } from './registry.js';
import { AddressSpace, type SpaceContext } from './space.js';
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
  /** Every live address space, in RAM: what the kernel decides from. */
  readonly registry: SpaceRegistry;
  /** The JS handle of each registered space, by record id (each checked against its record on use). */
  private readonly handles = new Map<number, AddressSpace>();
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
      registered: (s) => this.registered(s),
    };
    this.pt.initDirectory(core.directory);
    const registry = SpaceRegistry.create(core.slot, frames);
    if (registry === null) throw new VmError('out-of-memory', 'out of memory for the address-space registry');
    this.registry = registry;
    const counts = this.mustAlloc('kernel page-table counts');
    const ref = registry.add(core.directory, counts);
    if (ref === null) throw new VmError('out-of-memory', 'out of memory for the address-space registry');
    this.kernel = new AddressSpace(this.ctx, core.directory, counts, core.slot);
    this.handles.set(ref.id, this.kernel);
    if (global) this.makeKernelGlobal();
  }

  /** Every live address space, as the registry in RAM lists them (the kernel's first). */
  get all(): readonly AddressSpace[] {
    return this.registry.list().map((d) => this.handle(d));
  }

  /** The address space whose directory is in CR3 (looked up in the registry). */
  get current(): AddressSpace {
    const dir = (this.core.machine.mmu.cr3 & FRAME_MASK) >>> 0;
    const d = this.registry.byDirectory(dir);
    if (d === null) throw new VmError('corrupted', `CR3 ${hex(dir)} is no known address space`, { frame: dir });
    return this.handle(d);
  }

  /** handle gives the JS handle of a registered space (a new one if RAM holds a space no handle names). */
  private handle(d: SpaceDesc): AddressSpace {
    const h = this.handles.get(d.ref.id);
    if (h?.directory === d.directory && h.counts === d.counts) return h;
    const made = new AddressSpace(this.ctx, d.directory, d.counts, this.core.slot, d.ref);
    this.handles.set(d.ref.id, made);
    return made;
  }

  /** registered tells whether a handle's record is still in the registry in RAM, unchanged. */
  private registered(space: AddressSpace): boolean {
    if (space === this.kernel) return true;
    const d = space.ref === null ? null : this.registry.lookup(space.ref);
    return d !== null && d.directory === space.directory && d.counts === space.counts;
  }

  /** createSpace makes a new address space: an empty user half and the shared kernel half. All or nothing. */
  createSpace(): AddressSpace {
    this.tracker.check();
    const dir = this.mustAlloc('page directory');
    let counts: PhysAddr;
    try {
      counts = this.mustAlloc('page-table count frame');
    } catch (e) {
      this.frames.free(dir);
      throw e;
    }
    const ref = this.register(dir, counts);
    this.pt.initDirectory(dir); // first: the recursive strategy reaches the directory through it
    for (let pdi = KERNEL_PDE_FIRST; pdi <= this.pt.lastMappablePde; pdi++) {
      const pde = this.pt.readPde(this.core.directory, pdi);
      if (pde & PTE_P) this.pt.writePde(dir, pdi, pde);
    }
    const space = new AddressSpace(this.ctx, dir, counts, this.core.slot, ref);
    this.handles.set(ref.id, space);
    return space;
  }

  /** register adds a new space's record; when that fails (no frame, a corrupted registry) it gives both frames back. */
  private register(dir: PhysAddr, counts: PhysAddr): RecordRef {
    let ref: RecordRef | null = null;
    try {
      ref = this.registry.add(dir, counts);
    } finally {
      if (ref === null) {
        this.frames.free(counts);
        this.frames.free(dir);
      }
    }
    if (ref === null) throw new VmError('out-of-memory', 'out of memory for a frame of the address-space registry');
    return ref;
  }

  /** destroySpace frees a space that holds no user mappings and is not current. */
  destroySpace(space: AddressSpace): void {
    this.tracker.check();
    const dir = hex(space.directory);
    if (space === this.kernel)
      throw new VmError('busy', 'the kernel address space cannot be destroyed', { frame: space.directory });
    const d = space.ref === null ? null : this.registry.lookup(space.ref);
    if (d === null || !this.registered(space))
      throw new VmError('destroyed', `address space ${dir} was destroyed already`, { frame: space.directory });
    if (space === this.current)
      throw new VmError('busy', `address space ${dir} is current: switch away first`, { frame: space.directory });
    const held = space.userPdes();
    if (held !== 0)
      throw new VmError(
        'busy',
        `address space ${dir} still has ${held} user mapping(s) in its directory (page tables or 4 MiB pages): unmap first`,
        { frame: space.directory },
      );
    this.registry.remove(d.ref);
    this.handles.delete(d.ref.id);
    this.pt.forget(
      space.directory,
      this.registry.list().map((s) => s.directory),
    );
    this.frames.free(space.directory);
    this.frames.free(space.counts);
  }

  /** switchTo loads CR3 with a space's directory (SDM 4.10.4.1: non-global entries are flushed). */
  switchTo(space: AddressSpace): void {
    this.tracker.check();
    if (!this.registered(space))
      throw new VmError('destroyed', `address space ${hex(space.directory)} was destroyed`, {
        frame: space.directory,
      });
    this.core.machine.mmu.writeCr3(space.directory);
  }

  /** linkKernelPde writes a kernel PDE into every directory the registry lists. */
  private linkKernelPde(pdi: number, pde: number): void {
    for (const d of this.registry.list()) this.pt.writePde(d.directory, pdi, pde);
  }

  /** newTable takes a frame for a page table and zeroes it through the slot; null when none is free. */
  private newTable(): PhysAddr | null {
    const t = this.frames.alloc();
    if (t === null) return null;
    this.core.slot.fillFrame(t, 0); // initialised through the slot before it is linked in
    this.tablesAllocated++;
    return t;
  }

  /** freeTable gives a page table's frame back. */
  private freeTable(frame: PhysAddr): void {
    this.frames.free(frame);
    this.tablesFreed++;
  }

  /** mustAlloc takes a zeroed frame for a directory or a count frame, or throws out-of-memory. */
  private mustAlloc(what: string): PhysAddr {
    const f = this.newTable();
    if (f === null) throw new VmError('out-of-memory', `out of memory for a ${what}`);
    this.tablesAllocated--;
    return f;
  }

  /**
   * audit checks the VM's state in RAM; [] when all holds: the registry reads cleanly (every record,
   * every count), the kernel's record names the kernel's directory and count frame, directories are
   * distinct, every frame a space holds (directory, count frame, user page tables, the registry's
   * frames) is allocated in the frame allocator, each count frame matches its tables' present PTEs,
   * and every directory carries the kernel's PDEs.
   */
  audit(): string[] {
    let spaces: SpaceDesc[];
    try {
      spaces = this.registry.table.records(true).map((r) => this.registry.lookup(r)!);
    } catch (e) {
      if (e instanceof VmError) return [e.message];
      throw e;
    }
    const out: string[] = [];
    const kernel = spaces.find((d) => d.directory === this.core.directory);
    if (kernel === undefined) out.push(`no registered space has the kernel's directory ${hex(this.core.directory)}`);
    else if (kernel.counts !== this.kernel.counts) out.push("the kernel's record names another count frame");
    if (new Set(spaces.map((d) => d.directory)).size !== spaces.length) out.push('two spaces share a directory');
    for (const f of this.registry.table.frameList())
      if (this.frames.isFree(f)) out.push(`registry frame ${hex(f)} is free in the frame allocator`);
    for (const d of spaces) out.push(...this.auditSpace(d));
    return out;
  }

  /** auditSpace checks one registered space's frames, counts and kernel half. */
  private auditSpace(d: SpaceDesc): string[] {
    const out: string[] = [];
    const at = `space ${d.ref.id} (directory ${hex(d.directory)})`;
    if (d.directory !== this.core.directory && this.frames.isFree(d.directory))
      out.push(`${at}: its directory frame is free in the frame allocator`);
    if (this.frames.isFree(d.counts))
      out.push(`${at}: its count frame ${hex(d.counts)} is free in the frame allocator`);
    for (let pdi = 0; pdi < KERNEL_PDE_FIRST; pdi++) {
      const pde = this.pt.readPde(d.directory, pdi);
      const want = this.core.slot.read32(physOffset(d.counts, pdi * 4));
      const table = (pde & (PTE_P | PDE_PS)) === PTE_P ? entryFrame(pde) : null;
      let present = 0;
      if (table !== null) {
        if (this.frames.isFree(table)) out.push(`${at}: page table ${hex(table)} (PDE ${pdi}) is free`);
        for (let pti = 0; pti < 1024; pti++) if (this.pt.readPte(d.directory, pdi, table, pti) & PTE_P) present++;
      }
      if (present !== want) out.push(`${at}: PDE ${pdi} holds ${present} present PTEs, its count says ${want}`);
    }
    for (let pdi = KERNEL_PDE_FIRST; pdi <= this.pt.lastMappablePde; pdi++) {
      // the MMU sets A (and D, through the recursive mapping) in the directory it walked
      const mine = this.pt.readPde(d.directory, pdi) & ~(PTE_A | PTE_D);
      if (mine !== (this.pt.readPde(this.core.directory, pdi) & ~(PTE_A | PTE_D)))
        out.push(`${at}: kernel PDE ${pdi} differs from the kernel directory's`);
    }
    return out;
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
