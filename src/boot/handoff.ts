// What the bootstrap hands to the memory manager (the `kmain(...)` arguments of
// the seed kernels, typed): the machine with paging on and the kernel running in
// the higher half, the firmware's memory map, where the kernel image lies, the
// modules, and every physical range the frame allocator must never hand out.
//
// Contract for the frame allocator: a frame is free only if it lies wholly in a
// memoryMap entry of type MMAP_AVAILABLE and overlaps no range in `reserved`.
// `reserved` already includes the kernel image (with its .bss), the loader's
// boot page directory/table, the multiboot structures and the modules.
// The map may list memory at or above 4 GiB (QEMU moves RAM past 3.5 GiB
// there): the machine does not model it and 32-bit paging cannot reach it, so
// the allocator must clip entries to [0, 4 GiB).

import type { LinAddr, PhysAddr } from '../hw/addr.js';
import type { Machine } from '../hw/machine.js';

/** Where the kernel is linked: 3 GiB. Virtual = physical + KERNEL_VIRTUAL_BASE for the image. */
export const KERNEL_VIRTUAL_BASE = 0xc0000000;
/** The page-directory index that maps the kernel (768 = 0xC0000000 >> 22). */
export const KERNEL_PDE_INDEX = 768;
/** Bytes mapped by the boot page directory at KERNEL_VIRTUAL_BASE (one PDE: 4 MiB). */
export const BOOT_MAPPED_BYTES = 0x400000;

/** Multiboot memory-map entry types (Multiboot 0.6.96, 3.3). */
export const MMAP_AVAILABLE = 1;
export const MMAP_RESERVED = 2;
export const MMAP_ACPI_RECLAIMABLE = 3;
export const MMAP_NVS = 4;
export const MMAP_BAD = 5;

/** One memory-map entry: [base, base + length) of the given type (64-bit values as numbers). */
export interface MemoryMapEntry {
  readonly base: number;
  readonly length: number;
  readonly type: number;
}

/** The kernel image's extents, read from the linker-script labels in its ELF symbol table. */
export interface KernelExtents {
  readonly virtualStart: LinAddr;
  readonly virtualEnd: LinAddr;
  readonly physicalStart: PhysAddr;
  readonly physicalEnd: PhysAddr;
}

/** One loaded kernel segment, as the kernel's memory manager needs it to set page permissions. */
export interface KernelSegment {
  readonly virtualStart: number;
  readonly memorySize: number;
  readonly flags: number;
}

/** A boot module loaded by the boot loader: physical [start, end) and its command line. */
export interface BootModule {
  readonly start: PhysAddr;
  readonly end: PhysAddr;
  readonly cmdline: string;
}

/** A physical range in use at hand-off, with a short name for logs ('kernel image', 'multiboot info', ...). */
export interface ReservedRange {
  readonly base: number;
  readonly length: number;
  readonly what: string;
}

/** Everything the memory manager receives once the kernel runs in the higher half. */
export interface BootInfo {
  /** The machine, CR0.PG|WP on, CR3 = bootDirectory, identity PDE already removed. */
  readonly machine: Machine;
  /** The multiboot memory map (synthesised from mem_lower/mem_upper if the loader gave none). */
  readonly memoryMap: readonly MemoryMapEntry[];
  readonly kernel: KernelExtents;
  readonly modules: readonly BootModule[];
  /** The multiboot information structure: its address and every range it occupies (info, mmap, strings, modules). */
  readonly multiboot: { readonly infoAddr: PhysAddr; readonly ranges: readonly ReservedRange[] };
  /** The boot page directory (physical); it stays the kernel's page directory after boot. */
  readonly bootDirectory: PhysAddr;
  /** The boot page table mapping 0xC0000000..+4 MiB, or null when one 4 MiB PSE page was used. */
  readonly bootPageTable: PhysAddr | null;
  /** Where the kernel reaches the boot directory and table through the MMU (inside PDE 768's 4 MiB). */
  readonly bootDirectoryVirtual: LinAddr;
  readonly bootPageTableVirtual: LinAddr | null;
  /** True if CR4.PSE was set and PDE 768 is a 4 MiB page. */
  readonly pse: boolean;
  /** The kernel's command line from the multiboot info ('' if none). */
  readonly cmdline: string;
  /**
   * Every physical range in use at hand-off, sorted by base: the kernel image,
   * the boot page directory/table when they lie outside the image (for
   * `--kernel FILE` images without boot_page_directory/boot_page_table
   * symbols, they sit in the frames just past kernel.physicalEnd), the
   * multiboot ranges and the modules.
   */
  readonly reserved: readonly ReservedRange[];
  /** The kernel ELF's symbol table (name -> value), for labels beyond the four extents. */
  readonly symbols: ReadonlyMap<string, number>;
  /** The kernel's loaded segments (PT_LOAD): virtual start, size in memory and ELF p_flags (PF_X 1, PF_W 2, PF_R 4). */
  readonly segments: readonly KernelSegment[];
}
