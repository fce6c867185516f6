// The kernel's virtual layout (32-bit, higher half), as named constants.

import { PAGE_SIZE } from '../../hw/addr.js';

/** Kernel half: PDE 768..1023, linear 0xC0000000 and up. */
export const KERNEL_BASE = 0xc0000000;
export const KERNEL_PDE_FIRST = 768;
/** Linear address of the temporary-mapping slot: PTE 1023 of the kernel's first page table (the seeds). */
export const TEMP_SLOT = 0xc03ff000;
/** Nested temporary mappings take the slots below it: 0xC03FE000, 0xC03FD000, 0xC03FC000. */
export const TEMP_SLOT_DEPTH = 4;
/** Physical memory below this is reachable at KERNEL_BASE + phys through the kernel's first page table. */
export const KERNEL_WINDOW_LIMIT = TEMP_SLOT - (TEMP_SLOT_DEPTH - 1) * PAGE_SIZE - KERNEL_BASE;
/** The kernel heap's region. */
export const HEAP_BASE = 0xd0000000;
export const HEAP_LIMIT = 0xe0000000;
/** With --pt-access recursive: PDE 1023 points at the directory itself. */
export const RECURSIVE_PDE = 1023;
export const RECURSIVE_TABLES = 0xffc00000;
export const RECURSIVE_DIRECTORY = 0xfffff000;
