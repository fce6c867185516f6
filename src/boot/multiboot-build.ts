// Writing a Multiboot 1 information structure into physical memory, and the
// layout QEMU's multiboot loader uses (hw/i386/multiboot.c, measured in
// test/fixtures/multiboot): the memory map at 0x9000, the structure at 0x9500,
// then, in the first page after the kernel image, the module list, the module
// strings, the command line and the boot loader name; each module at the next
// page boundary after that.

import { pageAlignUp } from '../hw/addr.js';
import type { MemoryMapEntry } from './handoff.js';
import {
  MBI_BOOTDEV,
  MBI_CMDLINE,
  MBI_LOADER_NAME,
  MBI_MEMORY,
  MBI_MMAP,
  MBI_MODS,
  MBI_SIZE,
  MMAP_ENTRY_SIZE,
  MODULE_ENTRY_SIZE,
  type MbModule,
  type MbString,
} from './multiboot.js';
import { MMAP_AVAILABLE } from './handoff.js';

export const QEMU_MMAP_ADDR = 0x9000;
export const QEMU_INFO_ADDR = 0x9500;
/** BIOS boot device QEMU reports: drive 0x80, no partitions. */
export const QEMU_BOOT_DEVICE = 0x8000ffff;
export const QEMU_LOADER_NAME = 'qemu';

export interface PhysicalWriter {
  write8(p: number, v: number): void;
  write32(p: number, v: number): void;
}

/** Everything the structure holds, at the addresses where it goes. */
export interface MultibootSpec {
  readonly infoAddr: number;
  readonly mmapAddr: number;
  readonly memoryMap: readonly MemoryMapEntry[];
  readonly bootDevice: number;
  readonly cmdline: MbString;
  readonly modsAddr: number;
  readonly modules: readonly MbModule[];
  readonly loaderName: MbString;
}

/** A module to place: its contents and its string. */
export interface ModuleInput {
  readonly bytes: Uint8Array;
  readonly cmdline: string;
}

/**
 * writeMultiboot writes the structure, the memory map, the strings and the module list.
 * Flags: memory, boot device, command line, modules, memory map, boot loader name (0x24F).
 */
export function writeMultiboot(mem: PhysicalWriter, spec: MultibootSpec): void {
  const a = spec.infoAddr;
  for (let i = 0; i < MBI_SIZE; i += 4) mem.write32(a + i, 0);
  mem.write32(a, MBI_MEMORY | MBI_BOOTDEV | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
  const { lower, upper } = memLowerUpper(spec.memoryMap);
  mem.write32(a + 4, lower);
  mem.write32(a + 8, upper);
  mem.write32(a + 12, spec.bootDevice);
  mem.write32(a + 16, spec.cmdline.addr);
  mem.write32(a + 20, spec.modules.length);
  mem.write32(a + 24, spec.modsAddr);
  mem.write32(a + 44, spec.memoryMap.length * (MMAP_ENTRY_SIZE + 4));
  mem.write32(a + 48, spec.mmapAddr);
  mem.write32(a + 64, spec.loaderName.addr);
  writeMmap(mem, spec.mmapAddr, spec.memoryMap);
  writeModuleList(mem, spec.modsAddr, spec.modules);
  for (const s of [spec.cmdline, spec.loaderName]) writeString(mem, s);
}

/**
 * memLowerUpper gives mem_lower and mem_upper in KiB: the available memory
 * from 0 and from 1 MiB, as the BIOS calls report them.
 */
export function memLowerUpper(map: readonly MemoryMapEntry[]): { lower: number; upper: number } {
  const at = (base: number): number => map.find((e) => e.type === MMAP_AVAILABLE && e.base === base)?.length ?? 0;
  return { lower: Math.floor(at(0) / 1024), upper: Math.floor(at(0x100000) / 1024) };
}

/** writeMmap writes the entries back to back, each with size = 20. */
function writeMmap(mem: PhysicalWriter, p: number, map: readonly MemoryMapEntry[]): void {
  for (const [i, e] of map.entries()) {
    const q = p + i * (MMAP_ENTRY_SIZE + 4);
    mem.write32(q, MMAP_ENTRY_SIZE);
    mem.write32(q + 4, e.base % 2 ** 32);
    mem.write32(q + 8, Math.floor(e.base / 2 ** 32));
    mem.write32(q + 12, e.length % 2 ** 32);
    mem.write32(q + 16, Math.floor(e.length / 2 ** 32));
    mem.write32(q + 20, e.type);
  }
}

/** writeModuleList writes {mod_start, mod_end, string, 0} per module and the strings. */
function writeModuleList(mem: PhysicalWriter, p: number, modules: readonly MbModule[]): void {
  for (const [i, m] of modules.entries()) {
    const q = p + i * MODULE_ENTRY_SIZE;
    mem.write32(q, m.start);
    mem.write32(q + 4, m.end);
    mem.write32(q + 8, m.string.addr);
    mem.write32(q + 12, 0);
    writeString(mem, m.string);
  }
}

/** writeString writes the string's bytes and its NUL. */
function writeString(mem: PhysicalWriter, s: MbString): void {
  for (let i = 0; i < s.text.length; i++) mem.write8(s.addr + i, s.text.charCodeAt(i) & 0xff);
  mem.write8(s.addr + s.text.length, 0);
}

/** Where qemuLayout put things: the spec, and each module's [start, end) for its contents. */
export interface QemuLayout {
  readonly spec: MultibootSpec;
  /** One past the last byte used (module contents included). */
  readonly end: number;
}

/**
 * qemuLayout places the structure as QEMU does for a kernel whose image ends at
 * `kernelEnd`: strings and module list in the next page, modules page-aligned after.
 */
export function qemuLayout(
  kernelEnd: number,
  memoryMap: readonly MemoryMapEntry[],
  cmdline: string,
  modules: readonly ModuleInput[],
): QemuLayout {
  const buf = pageAlignUp(kernelEnd);
  let p = buf + modules.length * MODULE_ENTRY_SIZE;
  const place = (text: string): MbString => {
    const s = { addr: p, text };
    p += text.length + 1;
    return s;
  };
  const strings = modules.map((m) => place(m.cmdline));
  const cmd = place(cmdline);
  const loaderName = place(QEMU_LOADER_NAME);
  const placed: MbModule[] = [];
  let next = pageAlignUp(p);
  for (const [i, m] of modules.entries()) {
    placed.push({ start: next, end: next + m.bytes.length, string: strings[i] });
    next = pageAlignUp(next + m.bytes.length);
  }
  const spec: MultibootSpec = {
    infoAddr: QEMU_INFO_ADDR,
    mmapAddr: QEMU_MMAP_ADDR,
    memoryMap,
    bootDevice: QEMU_BOOT_DEVICE,
    cmdline: cmd,
    modsAddr: buf,
    modules: placed,
    loaderName,
  };
  return { spec, end: placed.length > 0 ? placed[placed.length - 1].end : p };
}
