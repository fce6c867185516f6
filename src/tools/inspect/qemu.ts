// QEMU's monitor views of 32-bit paging, reproduced from a memory image:
// `info mem` (linear ranges merged by effective permission) and `info tlb`
// (every present leaf entry). The formats follow QEMU 7.2's
// target/i386/monitor.c (mem_info_32, tlb_info_32, print_pte): addresses as
// 16 lower-case hex digits, flags in the order X G P D A C T U W. Both walk the
// tables in memory, not any TLB; both answer "PG disabled" without CR0.PG.

import { CR0_PG, CR4_PSE, PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PCD, PTE_PWT, PTE_RW, PTE_US } from '../../hw/paging.js';
import type { PhysReader } from './image.js';
import type { Registers } from './regs.js';

const PROT_MASK = PTE_US | PTE_RW | PTE_P;
/** tlb_info_32 prints a 4 MiB page's address as the PDE with bits 20:0 cleared. */
const LARGE_ADDR_MASK = ~((1 << 21) - 1) >>> 0;
const NO_START = -1;

// hwaddr prints a physical or linear address as QEMU's TARGET_FMT_plx does.
function hwaddr(n: number): string {
  return n.toString(16).padStart(16, '0');
}

// pagingOff gives QEMU's answer when paging is disabled, or null.
function pagingOff(regs: Registers): string | null {
  return (regs.cr0 & CR0_PG) === 0 ? 'PG disabled\n' : null;
}

// isLarge tells whether a present PDE maps a 4 MiB page under these registers.
export function isLarge(pde: number, regs: Registers): boolean {
  return (pde & PDE_PS) !== 0 && (regs.cr4 & CR4_PSE) !== 0;
}

// infoTlb prints what `info tlb` prints for this image and these registers.
export function infoTlb(img: PhysReader, regs: Registers): string {
  const off = pagingOff(regs);
  if (off !== null) return off;
  const out: string[] = [];
  const dir = regs.cr3 & 0xfffff000;
  for (let i = 0; i < 1024; i++) {
    const pde = img.read32(dir + i * 4);
    if ((pde & PTE_P) === 0) continue;
    if (isLarge(pde, regs)) {
      out.push(pteLine(i * 0x400000, pde, (pde & LARGE_ADDR_MASK) >>> 0));
      continue;
    }
    const table = (pde & 0xfffff000) >>> 0;
    for (let j = 0; j < 1024; j++) {
      const pte = img.read32(table + j * 4);
      if ((pte & PTE_P) !== 0) out.push(pteLine(i * 0x400000 + j * 0x1000, pte & ~PDE_PS, (pte & 0xfffff000) >>> 0));
    }
  }
  return out.join('');
}

// pteLine is print_pte: linear address, masked entry, then the flag letters.
function pteLine(linear: number, entry: number, address: number): string {
  const flag = (bit: number, c: string): string => ((entry & bit) !== 0 ? c : '-');
  const letters = '-' + flag(PTE_G, 'G') + flag(PDE_PS, 'P') + flag(PTE_D, 'D') + flag(PTE_A, 'A') +
    flag(PTE_PCD, 'C') + flag(PTE_PWT, 'T') + flag(PTE_US, 'U') + flag(PTE_RW, 'W');
  return `${hwaddr(linear)}: ${hwaddr(address)} ${letters}\n`;
}

/** mem_print's running state: where the current range starts and its permission. */
interface RangeState {
  start: number;
  prot: number;
  readonly out: string[];
}

// memPrint closes the current range when the permission changes, as mem_print does.
function memPrint(s: RangeState, end: number, prot: number): void {
  if (prot === s.prot) return;
  if (s.start !== NO_START) {
    const p = s.prot;
    s.out.push(`${hwaddr(s.start)}-${hwaddr(end)} ${hwaddr(end - s.start)} ${p & PTE_US ? 'u' : '-'}r${p & PTE_RW ? 'w' : '-'}\n`);
  }
  s.start = prot !== 0 ? end : NO_START;
  s.prot = prot;
}

// infoMem prints what `info mem` prints: the permission of a 4 KiB page is its
// PTE's AND its PDE's (U/S, R/W, P); CR0.WP plays no part.
export function infoMem(img: PhysReader, regs: Registers): string {
  const off = pagingOff(regs);
  if (off !== null) return off;
  const s: RangeState = { start: NO_START, prot: 0, out: [] };
  const dir = regs.cr3 & 0xfffff000;
  for (let i = 0; i < 1024; i++) {
    const pde = img.read32(dir + i * 4);
    const base = i * 0x400000;
    if ((pde & PTE_P) === 0) memPrint(s, base, 0);
    else if (isLarge(pde, regs)) memPrint(s, base, pde & PROT_MASK);
    else memTable(img, s, base, pde);
  }
  memPrint(s, 0x1_0000_0000, 0);
  return s.out.join('');
}

// memTable feeds one page table's entries to memPrint.
function memTable(img: PhysReader, s: RangeState, base: number, pde: number): void {
  const table = (pde & 0xfffff000) >>> 0;
  for (let j = 0; j < 1024; j++) {
    const pte = img.read32(table + j * 4);
    memPrint(s, base + j * 0x1000, (pte & PTE_P) !== 0 ? pte & pde & PROT_MASK : 0);
  }
}
