// Kernel VM bring-up, step one: make sure the kernel's first 4 MiB
// (PDE 768) is mapped by a 4 KiB page table, so that PTE 1023 can serve as the
// temporary-mapping slot, and give the kernel its two ways to reach physical
// memory: the window (low memory at 0xC0000000) and the slot (any frame).

import { PAGE_SIZE, type PhysAddr, physOffset } from '../../hw/addr.js';
import { PTE_P, PTE_RW } from '../../hw/paging.js';
import type { Machine } from '../../hw/machine.js';
import { MMAP_AVAILABLE, type BootInfo } from '../../boot/handoff.js';
import { EarlyAllocator } from '../early.js';
import { KERNEL_BASE, KERNEL_PDE_FIRST, KERNEL_WINDOW_LIMIT } from './layout.js';
import { TempSlot } from './slot.js';
import { KernelWindow } from './window.js';

export interface KernelCore {
  readonly machine: Machine;
  readonly info: BootInfo;
  readonly window: KernelWindow;
  readonly slot: TempSlot;
  readonly early: EarlyAllocator;
  /** The kernel's page directory (the boot directory) and its first page table. */
  readonly directory: PhysAddr;
  readonly firstTable: PhysAddr;
}

/** setupKernelCore prepares the window, the slot and the early allocator from the boot hand-off. */
export function setupKernelCore(info: BootInfo): KernelCore {
  const machine = info.machine;
  const limit = Math.min(KERNEL_WINDOW_LIMIT, topOfRam(info));
  const window = new KernelWindow(machine, limit);
  const early = new EarlyAllocator(info, limit);
  const firstTable = info.bootPageTable ?? splitLargeKernelPage(machine, window, info.bootDirectory, early);
  trimWindow(machine, window, firstTable);
  const slot = new TempSlot(machine, KERNEL_BASE + firstTable);
  return { machine, info, window, slot, early, directory: info.bootDirectory, firstTable };
}

/**
 * topOfRam is where the memory map's available (type-1) memory ends: the end of
 * its highest type-1 entry (0 with none). The kernel learns its RAM from the
 * boot loader's map, never from the machine.
 */
export function topOfRam(info: BootInfo): number {
  let top = 0;
  for (const e of info.memoryMap) if (e.type === MMAP_AVAILABLE) top = Math.max(top, e.base + e.length);
  return top;
}

/**
 * trimWindow unmaps the first table's pages between the top of a small
 * machine's RAM and the slots (the boot mapped 4 MiB whatever the RAM),
 * each with its INVLPG: no kernel address may lead to memory that is not there.
 */
function trimWindow(machine: Machine, window: KernelWindow, table: PhysAddr): void {
  const first = Math.ceil(window.limit / PAGE_SIZE);
  const last = KERNEL_WINDOW_LIMIT / PAGE_SIZE;
  for (let i = first; i < last; i++) {
    window.write32(physOffset(table, i * 4), 0);
    machine.mmu.invlpg(KERNEL_BASE + i * PAGE_SIZE);
  }
}

/**
 * splitLargeKernelPage replaces the 4 MiB PSE page at PDE 768 by a 4 KiB page
 * table mapping the same memory, then INVLPG drops every piece of the old
 * translation (SDM 4.10.4.1). Returns the new table's frame.
 */
function splitLargeKernelPage(
  machine: Machine,
  window: KernelWindow,
  directory: PhysAddr,
  early: EarlyAllocator,
): PhysAddr {
  const table = early.alloc(1, 'kernel page table (PDE 768)');
  for (let i = 0; i < 1024; i++) window.write32(physOffset(table, i * 4), (i * PAGE_SIZE) | PTE_P | PTE_RW);
  window.write32(physOffset(directory, KERNEL_PDE_FIRST * 4), table | PTE_P | PTE_RW);
  machine.mmu.invlpg(KERNEL_BASE);
  return table;
}
