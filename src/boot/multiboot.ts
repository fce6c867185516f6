// The Multiboot 1 information structure (Multiboot Specification 0.6.96,
// section 3.3) as a boot loader leaves it in physical memory: parsed strictly
// from memory, and built into memory for the default machine.

import { ParseError } from '../errors.js';
import { PAGE_SIZE, MAX_PHYS_4G } from '../hw/addr.js';
import type { MemoryMapEntry } from './handoff.js';

/** EAX at the kernel's entry when a multiboot loader started it. */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

/** Flags of the information structure: which fields are valid. */
export const MBI_MEMORY = 1 << 0;
export const MBI_BOOTDEV = 1 << 1;
export const MBI_CMDLINE = 1 << 2;
export const MBI_MODS = 1 << 3;
export const MBI_AOUT_SYMS = 1 << 4;
export const MBI_ELF_SHDR = 1 << 5;
export const MBI_MMAP = 1 << 6;
export const MBI_DRIVES = 1 << 7;
export const MBI_CONFIG = 1 << 8;
export const MBI_LOADER_NAME = 1 << 9;
export const MBI_APM = 1 << 10;
export const MBI_VBE = 1 << 11;
export const MBI_FRAMEBUFFER = 1 << 12;
const MBI_KNOWN_FLAGS = (1 << 13) - 1;

/** Size of the structure without the framebuffer fields (what QEMU and GRUB legacy fill in). */
export const MBI_SIZE = 88;
/** Size with the framebuffer fields (flag 12). */
export const MBI_SIZE_FRAMEBUFFER = 116;
export const MODULE_ENTRY_SIZE = 16;
/** The `size` field of a memory-map entry counts the 20 bytes after it. */
export const MMAP_ENTRY_SIZE = 20;
/** The longest string (NUL included) the parser accepts: command lines, module strings, the loader's name. */
export const MAX_STRING = 4096;
const MAX_MODULES = 1024;
const MAX_MMAP_LENGTH = 0x10000;

/** Anything that holds physical memory: the machine's RAM. */
export interface PhysicalBytes {
  read8(p: number): number;
  read32(p: number): number;
  isRam(p: number): boolean;
}

/** A string the structure points to. */
export interface MbString {
  readonly addr: number;
  readonly text: string;
}

export interface MbModule {
  readonly start: number;
  readonly end: number;
  readonly string: MbString;
}

export interface MbMmapEntry extends MemoryMapEntry {
  /** Physical address of the entry's `size` field. */
  readonly addr: number;
  readonly size: number;
}

export interface MultibootInfo {
  readonly addr: number;
  readonly flags: number;
  readonly memLower: number | null;
  readonly memUpper: number | null;
  readonly bootDevice: number | null;
  readonly cmdline: MbString | null;
  readonly modsAddr: number | null;
  readonly modules: readonly MbModule[];
  readonly mmapAddr: number | null;
  readonly mmapLength: number;
  readonly mmap: readonly MbMmapEntry[];
  readonly loaderName: MbString | null;
  /** Bytes of the structure itself: 88, or 116 with framebuffer fields. */
  readonly size: number;
}

/** parseMultiboot reads the structure at `addr`; anything malformed or outside RAM is a ParseError. */
export function parseMultiboot(mem: PhysicalBytes, addr: number): MultibootInfo {
  const flags = u32(mem, addr, 'flags');
  if ((flags & ~MBI_KNOWN_FLAGS) !== 0)
    fail(addr, `flags with only bits 0-12 set, got 0x${(flags >>> 0).toString(16)}`);
  if ((flags & MBI_AOUT_SYMS) !== 0 && (flags & MBI_ELF_SHDR) !== 0) fail(addr, 'flags bits 4 and 5 not both set');
  const size = (flags & MBI_FRAMEBUFFER) !== 0 ? MBI_SIZE_FRAMEBUFFER : MBI_SIZE;
  needRam(mem, addr, size, 'the information structure');
  const has = (bit: number): boolean => (flags & bit) !== 0;
  const mods = has(MBI_MODS) ? readModules(mem, addr) : null;
  const mmap = has(MBI_MMAP) ? readMmap(mem, addr) : null;
  return {
    addr,
    flags,
    size,
    memLower: has(MBI_MEMORY) ? mem.read32(addr + 4) : null,
    memUpper: has(MBI_MEMORY) ? mem.read32(addr + 8) : null,
    bootDevice: has(MBI_BOOTDEV) ? mem.read32(addr + 12) : null,
    cmdline: has(MBI_CMDLINE) ? readString(mem, mem.read32(addr + 16), 'cmdline') : null,
    modsAddr: mods === null ? null : mem.read32(addr + 24),
    modules: mods ?? [],
    mmapAddr: mmap === null ? null : mem.read32(addr + 48),
    mmapLength: mmap === null ? 0 : mem.read32(addr + 44),
    mmap: mmap ?? [],
    loaderName: has(MBI_LOADER_NAME) ? readString(mem, mem.read32(addr + 64), 'boot_loader_name') : null,
  };
}

/** readModules reads mods_count entries of {mod_start, mod_end, string, reserved} at mods_addr. */
function readModules(mem: PhysicalBytes, info: number): MbModule[] {
  const count = mem.read32(info + 20);
  const base = mem.read32(info + 24);
  if (count > MAX_MODULES) fail(info + 20, `mods_count at most ${MAX_MODULES}, got ${count}`);
  needRam(mem, base, count * MODULE_ENTRY_SIZE, `the module list (mods_addr, ${count} entries)`);
  const out: MbModule[] = [];
  for (let i = 0; i < count; i++) {
    const e = base + i * MODULE_ENTRY_SIZE;
    const start = mem.read32(e);
    const end = mem.read32(e + 4);
    if (end < start)
      fail(e + 4, `module ${i}: mod_end >= mod_start (0x${start.toString(16)}), got 0x${end.toString(16)}`);
    out.push({ start, end, string: readString(mem, mem.read32(e + 8), `module ${i} string`) });
  }
  return out;
}

/**
 * readMmap reads the memory map: entries of {size, base_addr (64), length (64), type}
 * packed back to back, each starting `size + 4` bytes after the previous one.
 */
function readMmap(mem: PhysicalBytes, info: number): MbMmapEntry[] {
  const length = mem.read32(info + 44);
  const base = mem.read32(info + 48);
  if (length > MAX_MMAP_LENGTH)
    fail(info + 44, `mmap_length at most 0x${MAX_MMAP_LENGTH.toString(16)}, got 0x${length.toString(16)}`);
  needRam(mem, base, length, `the memory map (mmap_addr, mmap_length ${length})`);
  const out: MbMmapEntry[] = [];
  for (let p = base; p < base + length;) {
    if (p + 4 > base + length) fail(p, `a 4-byte entry size field inside mmap_length (${length})`);
    const size = mem.read32(p);
    if (size < MMAP_ENTRY_SIZE) fail(p, `an entry size of at least ${MMAP_ENTRY_SIZE}, got ${size}`);
    if (p + 4 + size > base + length) {
      fail(
        p,
        `an entry (size ${size}) that ends inside mmap_length: it runs ${p + 4 + size - base - length} bytes past the map's end at 0x${(base + length).toString(16)}`,
      );
    }
    out.push(readMmapEntry(mem, p, size));
    p += 4 + size;
  }
  return out;
}

/** readMmapEntry decodes one entry at p whose size field says `size`. */
function readMmapEntry(mem: PhysicalBytes, p: number, size: number): MbMmapEntry {
  const entryBase = mem.read32(p + 4) + mem.read32(p + 8) * MAX_PHYS_4G;
  const length = mem.read32(p + 12) + mem.read32(p + 16) * MAX_PHYS_4G;
  if (mem.read32(p + 8) >= 0x200000 || mem.read32(p + 16) >= 0x200000 || entryBase + length > 2 ** 53) {
    fail(p + 4, 'base_addr + length below 2^53');
  }
  return { addr: p, size, base: entryBase, length, type: mem.read32(p + 20) };
}

/** readString reads a NUL-terminated string of at most MAX_STRING bytes at p. */
function readString(mem: PhysicalBytes, p: number, field: string): MbString {
  let text = '';
  for (let i = 0; i < MAX_STRING; i++) {
    if (!mem.isRam(p + i)) fail(p + i, `${field}: a NUL-terminated string in RAM`);
    const c = mem.read8(p + i);
    if (c === 0) return { addr: p, text };
    text += String.fromCharCode(c);
  }
  return fail(p, `${field}: a NUL-terminated string of at most ${MAX_STRING} bytes`);
}

/** u32 reads a dword that must be in RAM. */
function u32(mem: PhysicalBytes, p: number, field: string): number {
  needRam(mem, p, 4, field);
  return mem.read32(p);
}

/** needRam checks that [p, p + length) is RAM (page by page, then the last byte). */
function needRam(mem: PhysicalBytes, p: number, length: number, what: string): void {
  if (length === 0) return;
  const end = p + length;
  for (let q = p; q < end; q = (Math.floor(q / PAGE_SIZE) + 1) * PAGE_SIZE) {
    if (!mem.isRam(q)) fail(q, `${what} in RAM: [0x${p.toString(16)}, 0x${end.toString(16)}) is not all RAM`);
  }
  if (!mem.isRam(end - 1)) fail(end - 1, `${what} in RAM`);
}

/** fail throws the multiboot ParseError at physical address p. */
function fail(p: number, expected: string): never {
  throw new ParseError('multiboot information', p, expected);
}
