// QEMU's monitor views of 32-bit paging, reproduced from a memory image:
// `info mem` (linear ranges merged by effective permission) and `info tlb`
// (every present leaf entry). The formats follow QEMU 7.2's
// target/i386/monitor.c (mem_info_32, tlb_info_32, print_pte): addresses as
// 16 lower-case hex digits, flags in the order X G P D A C T U W. Both walk the
// tables in memory, not any TLB; both answer "PG disabled" without CR0.PG.

import {
  CR0_PG,
  CR4_PSE,
  PDE_PS,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PCD,
  PTE_PWT,
  PTE_RW,
  PTE_US,
} from '../../hw/paging.js';
import type { PhysReader } from './image.js';
import type { Registers } from './regs.js';

const PROT_MASK = PTE_US | PTE_RW | PTE_P;
/** tlb_info_32 prints a 4 MiB page's address as the PDE with bits 20:0 cleared. */
const LARGE_ADDR_MASK = ~((1 << 21) - 1) >>> 0;
const NO_START = -1;

const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** hwaddr prints an address below 2^40 as QEMU's TARGET_FMT_plx does: 16 lower-case hex digits. */
function hwaddr(n: number): string {
  const high = Math.floor(n / 0x1_0000_0000);
  const b = BYTE_HEX;
  return '000000' + b[high & 0xff] + b[(n >>> 24) & 0xff] + b[(n >>> 16) & 0xff] + b[(n >>> 8) & 0xff] + b[n & 0xff];
}

/** pagingOff gives QEMU's answer when paging is disabled, or null. */
function pagingOff(regs: Registers): string | null {
  return (regs.cr0 & CR0_PG) === 0 ? 'PG disabled\n' : null;
}

/** isLarge tells whether a present PDE maps a 4 MiB page under these registers. */
export function isLarge(pde: number, regs: Registers): boolean {
  return (pde & PDE_PS) !== 0 && (regs.cr4 & CR4_PSE) !== 0;
}

/** infoTlb prints what `info tlb` prints for this image and these registers. */
export function infoTlb(img: PhysReader, regs: Registers): string {
  const off = pagingOff(regs);
  if (off !== null) return off;
  const out = new TextSink();
  const dir = regs.cr3 & 0xfffff000;
  for (let i = 0; i < 1024; i++) {
    const pde = img.read32(dir + i * 4);
    if ((pde & PTE_P) === 0) continue;
    if (isLarge(pde, regs)) {
      out.pteLine(i * 0x400000, pde, (pde & LARGE_ADDR_MASK) >>> 0);
      continue;
    }
    const table = (pde & 0xfffff000) >>> 0;
    for (let j = 0; j < 1024; j++) {
      const pte = img.read32(table + j * 4);
      if ((pte & PTE_P) !== 0) out.pteLine(i * 0x400000 + j * 0x1000, pte & ~PDE_PS, (pte & 0xfffff000) >>> 0);
    }
  }
  return out.text();
}

/** letters spells bits 8:0 of an entry as print_pte does (X is never set in 32-bit paging). */
function letters(entry: number): string {
  const flag = (bit: number, c: string): string => ((entry & bit) !== 0 ? c : '-');
  return (
    '-' +
    flag(PTE_G, 'G') +
    flag(PDE_PS, 'P') +
    flag(PTE_D, 'D') +
    flag(PTE_A, 'A') +
    flag(PTE_PCD, 'C') +
    flag(PTE_PWT, 'T') +
    flag(PTE_US, 'U') +
    flag(PTE_RW, 'W')
  );
}

const LETTERS: readonly Buffer[] = Array.from({ length: 0x200 }, (_, i) => Buffer.from(letters(i), 'latin1'));
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const LINE_BYTES = 45;

/**
 * info tlb's lines written as bytes into a growing buffer: a million lines
 * as a million strings would cost more in garbage collection than the walk.
 */
class TextSink {
  private buf = Buffer.alloc(1 << 16);
  private len = 0;

  /** pteLine is print_pte: "linear: address flags\n". */
  pteLine(linear: number, entry: number, address: number): void {
    if (this.len + LINE_BYTES > this.buf.length) this.grow();
    this.hex16(linear);
    this.buf[this.len++] = 0x3a; // ':'
    this.buf[this.len++] = 0x20;
    this.hex16(address);
    this.buf[this.len++] = 0x20;
    this.len += LETTERS[entry & 0x1ff].copy(this.buf, this.len);
    this.buf[this.len++] = 0x0a;
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.len);
  }

  /** hex16 writes 16 lower-case hex digits (TARGET_FMT_plx) of an address below 2^40. */
  private hex16(n: number): void {
    const b = this.buf;
    const at = this.len;
    const high = (n / 0x1_0000_0000) | 0;
    const low = n >>> 0;
    for (let i = 0; i < 8; i++) {
      b[at + 7 - i] = HEX_DIGITS[(high >>> (4 * i)) & 0xf]!;
      b[at + 15 - i] = HEX_DIGITS[(low >>> (4 * i)) & 0xf]!;
    }
    this.len = at + 16;
  }

  private grow(): void {
    const bigger = Buffer.alloc(this.buf.length * 2);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
}

/** mem_print's running state: where the current range starts and its permission. */
interface RangeState {
  start: number;
  prot: number;
  readonly out: string[];
}

/** memPrint closes the current range when the permission changes, as mem_print does. */
function memPrint(s: RangeState, end: number, prot: number): void {
  if (prot === s.prot) return;
  if (s.start !== NO_START) {
    const p = s.prot;
    s.out.push(
      `${hwaddr(s.start)}-${hwaddr(end)} ${hwaddr(end - s.start)} ${p & PTE_US ? 'u' : '-'}r${p & PTE_RW ? 'w' : '-'}\n`,
    );
  }
  s.start = prot !== 0 ? end : NO_START;
  s.prot = prot;
}

/**
 * infoMem prints what `info mem` prints: the permission of a 4 KiB page is its
 * PTE's AND its PDE's (U/S, R/W, P); CR0.WP plays no part.
 */
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

/** memTable feeds one page table's entries to memPrint. */
function memTable(img: PhysReader, s: RangeState, base: number, pde: number): void {
  const table = (pde & 0xfffff000) >>> 0;
  for (let j = 0; j < 1024; j++) {
    const pte = img.read32(table + j * 4);
    memPrint(s, base + j * 0x1000, (pte & PTE_P) !== 0 ? pte & pde & PROT_MASK : 0);
  }
}
