// kernelMain: the memory manager's bring-up after the boot hand-off, as a C
// kernel's kmain would run it — window and slot, frame allocator, kernel VM,
// heap — then a short demo of each, ending with a page fault provoked on
// purpose. Returns what it did, for the boot log and the boot JSON, and the
// live kernel state for tools (`pagelab translate`).

import type { BootInfo } from '../boot/handoff.js';
import { PAGE_SIZE, hex, lin, type LinAddr } from '../hw/addr.js';
import type { Machine } from '../hw/machine.js';
import { PTE_RW, PTE_US } from '../hw/paging.js';
import { createFrameAllocator } from './frames/allocator.js';
import type { FrameAllocator, FrameStrategy } from './frames/api.js';
import type { LowMemoryPolicy } from './frames/regions.js';
import { frameReport } from './frames/report.js';
import type { HeapKind, KernelHeap } from './heap/api.js';
import { createHeap } from './heap/heap.js';
import { heapDemo } from './heap/report.js';
import { gdtInit, gdtJson, gdtLines, type Gdt } from './gdt.js';
import { KernelHeapBackend } from './heapbackend.js';
import { setupKernelCore, type KernelCore } from './vm/core.js';
import { KernelVm } from './vm/kvm.js';
import { protectKernelImage } from './vm/kimage.js';
import { KernelPanic, installPageFaultHandler } from './vm/panic.js';
import type { PtAccessKind } from './vm/ptaccess.js';
import { TEMP_SLOT } from './vm/layout.js';

export interface KernelOptions {
  readonly frames?: FrameStrategy;
  readonly ptAccess?: PtAccessKind;
  readonly heap?: HeapKind;
  /** The low 1 MiB: hand its free frames out ('use', default) or keep them ('reserve'). */
  readonly lowMemory?: LowMemoryPolicy;
  readonly quiet?: boolean;
  /** Mark the kernel pages global and set CR4.PGE (default true); false: neither (they leave the TLB at CR3 loads). */
  readonly globalKernel?: boolean;
  /**
   * A performance-monitoring counter of TLB misses (page walks), supplied by whoever owns the
   * machine (the CLI). The kernel cannot see into the TLB; with a counter (as a kernel programs
   * a PMC) the VM demo reports what an address-space switch costs, without one it says so.
   */
  readonly tlbMissCounter?: () => number;
}

export interface Kernel {
  readonly core: KernelCore;
  readonly frames: FrameAllocator;
  readonly vm: KernelVm;
  readonly heap: KernelHeap;
  readonly gdt: Gdt;
}

export interface KernelReport {
  readonly sections: { title: string; lines: string[] }[];
  readonly json: Record<string, unknown>;
  readonly kernel: Kernel;
}

/** kernelInit brings up the memory manager: core, frames, VM (with the fault handler), heap, then the GDT. */
export function kernelInit(info: BootInfo, options: KernelOptions = {}): Kernel {
  const core = setupKernelCore(info);
  const frames = createFrameAllocator(core, options.frames ?? 'bitmap', { lowMemory: options.lowMemory ?? 'use' });
  core.early.seal('the frame allocator');
  const vm = new KernelVm(core, frames, {
    ptAccess: options.ptAccess ?? 'slot',
    globalKernel: options.globalKernel ?? true,
  });
  protectKernelImage(vm, info.segments);
  installPageFaultHandler(info.machine);
  const heap = createHeap(new KernelHeapBackend(vm, frames), options.heap ?? 'kr');
  const gdt = gdtInit(info.machine, heap);
  return { core, frames, vm, heap, gdt };
}

/** kernelMain brings up the memory manager on a booted machine and reports each stage. */
export function kernelMain(info: BootInfo, options: KernelOptions = {}): KernelReport {
  const kernel = kernelInit(info, options);
  const quiet = options.quiet ?? false;
  const frames = frameReport(kernel.frames);
  const vm = vmDemo(kernel, quiet, options.tlbMissCounter);
  const heap = heapDemo(kernel.heap);
  const fault = faultDemo(kernel);
  kernel.vm.tracker.check();
  kernel.vm.pt.quiesce(); // leave no window onto another directory (recursive access)
  kernel.core.slot.quiesce(); // leave no temporary mapping behind (a dump shows none)
  const end = frameReport(kernel.frames).json;
  return {
    sections: [
      { title: 'physical memory: frame allocator (at bring-up)', lines: frames.lines },
      { title: 'kernel virtual memory', lines: vm.lines },
      { title: 'kernel heap', lines: quiet ? heap.lines.filter((l) => !l.startsWith('  ')) : heap.lines },
      { title: 'segmentation', lines: gdtLines(kernel.gdt) },
      { title: 'page-fault test', lines: fault.lines },
      {
        title: 'at the end',
        lines: [`frames: ${end.free} free, ${end.used} used (${end.used - frames.json.used} more than at bring-up)`],
      },
    ],
    json: {
      frames: end,
      framesAtBringUp: frames.json,
      vm: vm.json,
      heap: heap.json,
      gdt: gdtJson(kernel.gdt),
      pageFault: fault.json,
    },
    kernel,
  };
}

/**
 * vmDemo maps, translates and unmaps a few pages through the slot, and shows
 * what an address-space switch costs in TLB misses with global kernel pages.
 */
function vmDemo(
  k: Kernel,
  quiet: boolean,
  misses: (() => number) | undefined,
): { lines: string[]; json: Record<string, unknown> } {
  const { vm, frames, core } = k;
  const m = core.machine;
  const lines = [
    `page directory ${hex(core.directory)}; first kernel page table ${hex(core.firstTable)}; page tables reached via ${vm.pt.kind === 'slot' ? 'the temporary-mapping slot' : 'the recursive mapping (PDE 1023, tables at 0xFFC00000)'}`,
    `temporary-mapping slot at ${hex(TEMP_SLOT)} (PTE 1023 of the first kernel table; 3 more below it for nesting)`,
    `kernel pages global (CR4.PGE=${m.mmu.pge ? 1 : 0}); kernel half shared by every address space, new kernel page tables copied into all directories`,
    `kernel image: read-only segments (${core.info.segments.filter((s) => !(s.flags & 2)).length}) mapped read-only, writable ones read-write`,
  ];
  const user = vm.createSpace();
  const pages = [0x08048000, 0x08049000, 0x0804a000].map((p) => lin(p));
  const mapped = pages.map((p) => {
    const f = frames.alloc({ zero: true })!;
    user.map(p, f, PTE_RW | PTE_US).ignore(); // not current: no TLB holds it
    return f;
  });
  if (!quiet)
    pages.forEach((p, i) =>
      lines.push(
        `map ${hex(p)} -> frame ${hex(mapped[i])} in address space ${hex(user.directory)}; translate: ${hex(user.translate(lin(p + 0x123))!)}`,
      ),
    );
  const cost = switchCost(k, user, pages[0], misses);
  lines.push(
    cost === null
      ? `switch to ${hex(user.directory)} and back: TLB misses not measured (no performance counter given)`
      : `switch to ${hex(user.directory)} and back: ${cost.kernelMisses} TLB misses on 8 kernel pages (${switchWhy(m, cost.kernelMisses)}), ${cost.userMisses} on the user page`,
  );
  vm.switchTo(vm.kernel);
  for (const p of pages) {
    const u = user.unmap(p);
    u.flush.ignore();
    frames.free(u.frame);
  }
  vm.destroySpace(user);
  if (!quiet)
    lines.push(
      `unmapped them: ${hex(user.directory)} destroyed, its page table and directory back in the frame allocator`,
    );
  lines.push(
    `slot: ${core.slot.maps} temporary mappings, ${core.slot.invlpgs} INVLPGs on retarget; ${vm.tablesAllocated} page tables allocated, ${vm.tablesFreed} freed`,
  );
  return {
    lines,
    json: {
      ptAccess: vm.pt.kind,
      slot: TEMP_SLOT,
      globalKernel: m.mmu.pge,
      switchCost: cost,
      tablesAllocated: vm.tablesAllocated,
      tablesFreed: vm.tablesFreed,
    },
  };
}

/**
 * switchCost touches 8 kernel pages and one user page, switches away and back, and counts the
 * misses with the given performance counter; null without one (the switch is still made).
 */
function switchCost(
  k: Kernel,
  user: ReturnType<KernelVm['createSpace']>,
  page: LinAddr,
  misses: (() => number) | undefined,
): { kernelMisses: number; userMisses: number } | null {
  const m = k.core.machine;
  const kernelPages = Array.from({ length: 8 }, (_, i) => 0xc0100000 + i * PAGE_SIZE);
  const count = misses ?? (() => 0);
  k.vm.switchTo(user);
  const touch = (): number => {
    const before = count();
    for (const p of kernelPages) m.read32(p);
    return count() - before;
  };
  touch();
  m.read32(page);
  k.vm.switchTo(k.vm.kernel);
  k.vm.switchTo(user);
  const kernelMisses = touch();
  const before = count();
  m.read32(page);
  return misses === undefined ? null : { kernelMisses, userMisses: count() - before };
}

/** switchWhy explains the kernel pages' misses from what the kernel knows: CR4.PGE, which it set. */
function switchWhy(m: Machine, misses: number): string {
  if (!m.mmu.pge) return 'CR4.PGE is off: a CR3 load flushes every entry';
  return misses === 0
    ? 'global entries survive CR3 loads'
    : 'global entries survive CR3 loads; the misses are evictions (a small TLB, or none)';
}

/** faultDemo reads an unmapped kernel address on purpose, as the seeds' author tested. */
function faultDemo(k: Kernel): { lines: string[]; json: Record<string, unknown> } {
  const target = 0xd8000000;
  try {
    k.core.machine.read32(target);
  } catch (e) {
    if (!(e instanceof KernelPanic)) throw e;
    return {
      lines: [`read32 ${hex(target)} (never mapped) on purpose:`, ...e.lines()],
      json: { cr2: e.cr2, errorCode: e.fault.errorCode, description: e.message },
    };
  }
  throw new Error(`read of ${hex(target)} did not fault`);
}
