// Loading a multiboot ELF32 kernel as a boot loader does: find and check the
// multiboot header in the first 8 KiB, copy each PT_LOAD segment to its
// physical address (p_paddr), zero-fill the rest of its memsz (.bss), and
// read the kernel's extents from the linker-script labels in its symbol table.

import { ParseError } from '../errors.js';
import { PAGE_SIZE, lin, phys, type LinAddr, type PhysAddr } from '../hw/addr.js';
import type { PhysicalMemory } from '../hw/memory.js';
import { PT_LOAD, parseElf32, symbolMap, type Elf32, type ProgramHeader } from './elf.js';
import { BOOT_MAPPED_BYTES, KERNEL_VIRTUAL_BASE, type KernelExtents } from './handoff.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
const HEADER_SEARCH = 8192;
/** Header flags this loader honours: 0 page-align modules, 1 memory info, 2 video mode (ignored: text mode). */
const HEADER_FLAGS_UNDERSTOOD = 0x7;
const EXTENT_SYMBOLS = [
  'kernel_virtual_start',
  'kernel_virtual_end',
  'kernel_physical_start',
  'kernel_physical_end',
] as const;

export interface LoadedKernel {
  readonly elf: Elf32;
  readonly symbols: ReadonlyMap<string, number>;
  readonly headerOffset: number;
  readonly headerFlags: number;
  readonly entryVirtual: LinAddr;
  readonly entryPhysical: PhysAddr;
  readonly extents: KernelExtents;
  /** Where the extents came from: the four labels, or the PT_LOAD segments when a label is missing. */
  readonly extentsFrom: 'symbols' | 'segments';
  readonly segments: readonly ProgramHeader[];
}

/** findMultibootHeader returns the offset of a valid header (magic, flags, checksum) in the first 8 KiB. */
export function findMultibootHeader(bytes: Uint8Array, what: string): { offset: number; flags: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(bytes.length, HEADER_SEARCH) - 12;
  for (let o = 0; o <= limit; o += 4) {
    if (dv.getUint32(o, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = dv.getUint32(o + 4, true);
    if ((MULTIBOOT_HEADER_MAGIC + flags + dv.getUint32(o + 8, true)) >>> 0 !== 0) continue;
    if ((flags & 0xffff & ~HEADER_FLAGS_UNDERSTOOD) !== 0) {
      throw new ParseError(
        what,
        o + 4,
        `multiboot header flags without required bits 3-15 (this loader does not support them), got 0x${flags.toString(16)}`,
      );
    }
    return { offset: o, flags };
  }
  throw new ParseError(
    what,
    0,
    'a multiboot header (magic 0x1BADB002, flags, checksum) 4-byte aligned in the first 8192 bytes',
  );
}

/** loadKernel parses the image, loads it into physical memory and reads its extents. */
export function loadKernel(mem: PhysicalMemory, bytes: Uint8Array, what = 'kernel ELF'): LoadedKernel {
  const elf = parseElf32(bytes, what); // first: a truncated ELF is named as such, not as a missing multiboot header
  const header = findMultibootHeader(bytes, what);
  const segments = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  if (segments.length === 0) throw new ParseError(what, 28, 'at least one PT_LOAD program header');
  for (const s of segments) checkSegment(mem, s, what);
  for (const s of segments) copySegment(mem, bytes, s);
  const symbols = symbolMap(elf);
  const { extents, from } = kernelExtents(symbols, segments);
  const entryPhysical = entryToPhysical(elf.entry, segments, what);
  return {
    elf,
    symbols,
    headerOffset: header.offset,
    headerFlags: header.flags,
    entryVirtual: lin(elf.entry),
    entryPhysical,
    extents,
    extentsFrom: from,
    segments,
  };
}

/** checkSegment requires a higher-half segment (p_vaddr = p_paddr + 3 GiB) loaded in RAM below 4 MiB. */
function checkSegment(mem: PhysicalMemory, s: ProgramHeader, what: string): void {
  const end = s.paddr + s.memsz;
  for (let p = s.paddr; p < end; p = (Math.floor(p / PAGE_SIZE) + 1) * PAGE_SIZE) {
    if (!mem.isRam(p) || !mem.isRam(end - 1)) {
      throw new ParseError(
        what,
        s.headerOffset + 12,
        `program header ${s.index}'s segment [0x${s.paddr.toString(16)}, 0x${end.toString(16)}) inside RAM (${ramText(mem)})`,
      );
    }
  }
  if (s.vaddr !== s.paddr + KERNEL_VIRTUAL_BASE) {
    throw new ParseError(
      what,
      s.headerOffset + 8,
      `a higher-half segment: p_vaddr = p_paddr + 0xC0000000 (0x${((s.paddr + KERNEL_VIRTUAL_BASE) >>> 0).toString(16)}), got 0x${s.vaddr.toString(16)}`,
    );
  }
  if (end > BOOT_MAPPED_BYTES) {
    throw new ParseError(
      what,
      s.headerOffset + 12,
      `program header ${s.index} to end by 4 MiB (the boot mapping's size), got 0x${end.toString(16)}`,
    );
  }
}

/** ramText lists the RAM ranges for messages. */
function ramText(mem: PhysicalMemory): string {
  return mem.ranges.map((r) => `0x${r.base.toString(16)}-0x${(r.base + r.length).toString(16)}`).join(', ');
}

/** copySegment copies p_filesz bytes to p_paddr and zero-fills up to p_memsz. */
function copySegment(mem: PhysicalMemory, bytes: Uint8Array, s: ProgramHeader): void {
  mem.writeBytes(s.paddr, bytes.subarray(s.offset, s.offset + s.filesz));
  mem.fill(s.paddr + s.filesz, s.memsz - s.filesz, 0);
}

/** kernelExtents reads the four labels; without them, the segments' lowest and highest addresses. */
function kernelExtents(
  symbols: ReadonlyMap<string, number>,
  segs: readonly ProgramHeader[],
): { extents: KernelExtents; from: 'symbols' | 'segments' } {
  const [vs, ve, ps, pe] = EXTENT_SYMBOLS.map((n) => symbols.get(n));
  if (vs !== undefined && ve !== undefined && ps !== undefined && pe !== undefined && vs <= ve && ps <= pe) {
    return {
      extents: { virtualStart: lin(vs), virtualEnd: lin(ve), physicalStart: phys(ps), physicalEnd: phys(pe) },
      from: 'symbols',
    };
  }
  const lo = Math.min(...segs.map((s) => s.paddr));
  const hi = Math.max(...segs.map((s) => s.paddr + s.memsz));
  return {
    extents: {
      virtualStart: lin(lo + KERNEL_VIRTUAL_BASE),
      virtualEnd: lin(hi + KERNEL_VIRTUAL_BASE),
      physicalStart: phys(lo),
      physicalEnd: phys(hi),
    },
    from: 'segments',
  };
}

/** entryToPhysical finds the segment holding e_entry (virtual, or already physical) and gives its load address. */
function entryToPhysical(entry: number, segs: readonly ProgramHeader[], what: string): PhysAddr {
  for (const s of segs) {
    if (entry >= s.vaddr && entry < s.vaddr + s.memsz) return phys(entry - s.vaddr + s.paddr);
    if (entry >= s.paddr && entry < s.paddr + s.memsz) return phys(entry);
  }
  throw new ParseError(what, 24, `e_entry inside a PT_LOAD segment, got 0x${entry.toString(16)}`);
}
