// The kernel's entry code (kernel/entry.asm), performed on the machine step by
// step: the boot page directory, CR3/CR4/CR0, the jump to the higher half and
// the removal of the identity mapping. Before paging it writes physical memory
// directly; once CR0.PG is set every access goes through the MMU, as the
// assembly's would. Each step is recorded for the boot log.

import { PAGE_SIZE, hex, lin, type LinAddr, type PhysAddr } from '../hw/addr.js';
import type { Machine } from '../hw/machine.js';
import { CR0_PG, CR0_WP, CR4_PSE, PDE_PS, PTE_P, PTE_RW } from '../hw/paging.js';
import { KERNEL_PDE_INDEX, KERNEL_VIRTUAL_BASE } from './handoff.js';

/** One step of the bootstrap: what it did and the control registers after it. */
export interface BootStep {
  readonly name: string;
  readonly lines: readonly string[];
  readonly cr0: number;
  readonly cr3: number;
  readonly cr4: number;
}

/** Where the boot page directory and table live (physical), and whether to use one 4 MiB page. */
export interface BootTables {
  readonly directory: PhysAddr;
  /** The 4 KiB page table; ignored (and reported as null) with pse. */
  readonly table: PhysAddr;
  readonly pse: boolean;
}

/**
 * After clearing PDE 0: 'invlpg0' issues only INVLPG 0, as the seed code does;
 * 'pages' also invalidates every identity page the entry code used (with 4 KiB
 * pages, INVLPG 0 alone leaves the code page's identity translation cached).
 */
export type IdentityFlush = 'pages' | 'invlpg0';

/** Flags of the boot mappings: present and writable, supervisor only. */
const BOOT_FLAGS = PTE_P | PTE_RW;

/** recordStep appends a step with the current control registers. */
export function recordStep(m: Machine, steps: BootStep[], name: string, lines: string[]): void {
  steps.push({ name, lines, cr0: m.mmu.cr0, cr3: m.mmu.cr3, cr4: m.mmu.cr4 });
}

/**
 * buildBootDirectory writes PDE 0 and PDE 768 (physical writes, paging off): one 4 MiB
 * page with PSE, else a page table mapping [0, 4 MiB) that both PDEs point to.
 */
export function buildBootDirectory(m: Machine, t: BootTables, steps: BootStep[]): void {
  const mem = m.mem;
  for (let i = 0; i < 1024; i++) mem.write32(t.directory + i * 4, 0);
  const lines = [`boot page directory at ${hex(t.directory)} (physical), cleared`];
  let pde: number;
  if (t.pse) {
    pde = 0 | PDE_PS | BOOT_FLAGS;
    lines.push(`one 4 MiB page: PDE = ${hex(pde)} (frame 0x00000000, PS P RW)`);
  } else {
    for (let i = 0; i < 1024; i++) mem.write32(t.table + i * 4, (i * PAGE_SIZE) | BOOT_FLAGS);
    pde = t.table | BOOT_FLAGS;
    lines.push(`boot page table at ${hex(t.table)}: PTE i = i * 0x1000 | P RW for i = 0..1023 (maps [0, 4 MiB))`);
  }
  mem.write32(t.directory, pde);
  mem.write32(t.directory + KERNEL_PDE_INDEX * 4, pde);
  lines.push(`PDE 0   (0x00000000) = ${hex(pde)}  identity`, `PDE 768 (0xC0000000) = ${hex(pde)}  higher half`);
  recordStep(m, steps, 'build the boot page directory', lines);
}

/**
 * enablePaging loads CR3, sets CR4.PSE if used, then CR0.PG | CR0.WP, and fetches
 * the next instruction at its identity address (EIP is still physical).
 */
export function enablePaging(m: Machine, t: BootTables, entryPhysical: PhysAddr, steps: BootStep[]): void {
  m.mmu.writeCr3(t.directory);
  const lines = [`mov cr3, ${hex(t.directory)}`];
  if (t.pse) {
    m.mmu.writeCr4(m.mmu.cr4 | CR4_PSE);
    lines.push(`CR4 |= PSE -> ${hex(m.mmu.cr4)}`);
  }
  m.mmu.writeCr0(m.mmu.cr0 | CR0_PG | CR0_WP);
  lines.push(`CR0 |= PG | WP -> ${hex(m.mmu.cr0)}: from here every access goes through the MMU`);
  m.fetch(entryPhysical);
  lines.push(`the next instruction is fetched at its identity address ${hex(entryPhysical)} (through PDE 0)`);
  recordStep(m, steps, 'enable paging', lines);
}

/**
 * jumpHigh jumps to the entry's higher-half address, clears PDE 0 through the MMU,
 * invalidates the identity translations and checks the kernel reads at 3 GiB.
 */
export function jumpHigh(
  m: Machine,
  t: BootTables,
  entryVirtual: LinAddr,
  kernelStart: LinAddr,
  flush: IdentityFlush,
  steps: BootStep[],
): void {
  m.fetch(entryVirtual);
  const dirVirtual = lin(t.directory + KERNEL_VIRTUAL_BASE);
  const lines = [`jmp ${hex(entryVirtual)}: now running in the higher half (through PDE 768)`];
  m.write32(dirVirtual, 0);
  lines.push(`mov dword [${hex(dirVirtual)}], 0: PDE 0 cleared through the MMU`);
  m.mmu.invlpg(0);
  lines.push('invlpg [0x00000000]');
  const entryPage = lin((entryVirtual - KERNEL_VIRTUAL_BASE) & ~0xfff);
  if (flush === 'pages' && entryPage !== 0) {
    m.mmu.invlpg(entryPage);
    lines.push(`invlpg [${hex(entryPage)}]: the entry code's identity page (INVLPG 0 alone would leave it cached)`);
  }
  lines.push(`read32 ${hex(kernelStart)} = ${hex(m.read32(kernelStart))} (the kernel's first bytes)`);
  recordStep(m, steps, 'jump to the higher half, remove the identity mapping', lines);
}

/** directoryEntries lists the present entries of a page directory (physical read). */
export function directoryEntries(m: Machine, directory: PhysAddr): { index: number; value: number }[] {
  const out: { index: number; value: number }[] = [];
  for (let i = 0; i < 1024; i++) {
    const v = m.mem.read32(directory + i * 4);
    if ((v & PTE_P) !== 0) out.push({ index: i, value: v });
  }
  return out;
}
