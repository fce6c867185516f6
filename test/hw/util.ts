// Page-table builders for hw tests: write entries straight into physical memory.
import { Machine, type MachineOptions } from '../../src/hw/machine.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, PDE_PS, PTE_P, PTE_RW, PTE_US } from '../../src/hw/paging.js';

export const DIR = 0x1000;
export const URW = PTE_P | PTE_RW | PTE_US;

export interface PagingSetup extends MachineOptions {
  wp?: boolean;
  pse?: boolean;
  pge?: boolean;
}

/** paged returns a machine with an empty page directory at DIR and paging on. */
export function paged(opts: PagingSetup = {}): Machine {
  const m = new Machine({ ram: 64 << 20, ...opts });
  m.mmu.writeCr3(DIR);
  m.mmu.writeCr4(((opts.pse ?? true) ? CR4_PSE : 0) | (opts.pge ? CR4_PGE : 0));
  m.mmu.writeCr0(CR0_PE | CR0_PG | ((opts.wp ?? true) ? CR0_WP : 0));
  return m;
}

/** tableFor gives the page table used for a PDE index: 0x100000 + index * 4 KiB. */
export function tableFor(pdi: number): number {
  return 0x100000 + pdi * 4096;
}

/** map4k writes PDE (pdeFlags) and PTE (pteFlags) so `linear` maps `physical`. */
export function map4k(m: Machine, linear: number, physical: number, pteFlags = URW, pdeFlags = URW): void {
  const pdi = linear >>> 22;
  const table = tableFor(pdi);
  m.mem.write32(DIR + pdi * 4, table | pdeFlags);
  m.mem.write32(table + ((linear >>> 12) & 0x3ff) * 4, (physical & 0xfffff000) | pteFlags);
}

/** map4m writes a 4 MiB PDE mapping `linear` (4 MiB-aligned) to `physical`. */
export function map4m(m: Machine, linear: number, physical: number, flags = URW): void {
  m.mem.write32(DIR + (linear >>> 22) * 4, (physical & 0xffc00000) | flags | PDE_PS);
}

export function pteAddr(linear: number): number {
  return tableFor(linear >>> 22) + ((linear >>> 12) & 0x3ff) * 4;
}

export function pdeAddr(linear: number): number {
  return DIR + (linear >>> 22) * 4;
}

/** faultOf runs fn and returns the thrown PageFault's [linear, errorCode], or null. */
export function faultOf(fn: () => unknown): [number, number] | null {
  try {
    fn();
    return null;
  } catch (e) {
    const f = e as { linear?: number; errorCode?: number };
    if (typeof f.linear !== 'number' || typeof f.errorCode !== 'number') throw e;
    return [f.linear, f.errorCode];
  }
}
