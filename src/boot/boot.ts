// boot(): a multiboot boot of the machine, from the boot loader's hand-off to
// the kernel running in the higher half, ending with the BootInfo the memory
// manager starts from. No CLI here: the caller prints `steps` and `info`.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PagelabError } from '../errors.js';
import { PAGE_SIZE, hex, lin, pageAlignUp, phys, type PhysAddr } from '../hw/addr.js';
import { Machine } from '../hw/machine.js';
import { CR0_ET, CR0_PE } from '../hw/paging.js';
import {
  buildBootDirectory,
  directoryEntries,
  enablePaging,
  jumpHigh,
  recordStep,
  type BootStep,
  type BootTables,
  type IdentityFlush,
} from './bootstrap.js';
import { capturedBytes, type CapturedBoot } from './capture.js';
import { MMAP_AVAILABLE } from './handoff.js';
import { defaultKernelPath } from './default-kernel.js';
import {
  BOOT_MAPPED_BYTES,
  KERNEL_VIRTUAL_BASE,
  type BootInfo,
  type MemoryMapEntry,
  type ReservedRange,
} from './handoff.js';
import { PT_LOAD } from './elf.js';
import { loadKernel, type LoadedKernel } from './kernel-image.js';
import { lowMemory, machineRam, MAX_RAM, MIN_RAM, overlaps, qemuMemoryMap, ramFromMap } from './memmap.js';
import {
  MAX_STRING,
  MBI_SIZE,
  MMAP_ENTRY_SIZE,
  MULTIBOOT_BOOTLOADER_MAGIC,
  parseMultiboot,
  type MultibootInfo,
} from './multiboot.js';
import { QEMU_INFO_ADDR, QEMU_MMAP_ADDR, qemuLayout, writeMultiboot, type ModuleInput } from './multiboot-build.js';
import { multibootRanges, sortRanges } from './ranges.js';

export const DEFAULT_RAM = 128 * 1024 * 1024;

export interface KernelImage {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface BootOptions {
  /** RAM in bytes (default 128 MiB); with a captured structure, the default comes from its memory map. */
  readonly ram?: number;
  /** The kernel (default: kernel/pagelab-kernel.elf). */
  readonly kernel?: KernelImage;
  /** A captured multiboot hand-off to use instead of building one. */
  readonly multiboot?: CapturedBoot;
  /** Map the kernel with one 4 MiB page (CR4.PSE) instead of a 4 KiB page table. Default false. */
  readonly pse?: boolean;
  /** TLB geometry spec for the machine (default 'sa:16x4'). */
  readonly tlb?: string;
  /** Kernel command line after the kernel's name (default ''). */
  readonly cmdline?: string;
  /** Boot modules to load after the kernel. */
  readonly modules?: readonly (ModuleInput & { readonly name: string })[];
  readonly identityFlush?: IdentityFlush;
}

export interface BootResult {
  readonly info: BootInfo;
  readonly steps: readonly BootStep[];
  readonly kernelName: string;
  readonly kernel: LoadedKernel;
  readonly multiboot: MultibootInfo;
  /** 'built' by our builder, or 'captured' from a file. */
  readonly multibootSource: 'built' | 'captured';
  readonly ram: number;
  readonly handoff: { readonly eax: number; readonly ebx: number };
  /** Present entries of the boot page directory at the hand-off. */
  readonly directory: readonly { index: number; value: number }[];
}

/** boot performs the whole boot and returns the hand-off and the log. */
export function boot(options: BootOptions = {}): BootResult {
  const kernelImage = options.kernel ?? readDefaultKernel();
  const captured = options.multiboot ? ramOfCapture(options.multiboot) : null;
  const ram = checkRam(options.ram ?? captured ?? DEFAULT_RAM);
  if (captured !== null) checkCaptureOptions(options, ram, captured);
  const m = new Machine({ ram: machineRam(ram), tlb: options.tlb ?? 'sa:16x4' });
  const steps: BootStep[] = [];
  const kernel = loadKernel(m.mem, kernelImage.bytes, kernelImage.name);
  const placed = options.multiboot
    ? placeCaptured(m, options.multiboot, kernel)
    : placeBuilt(m, ram, kernel, kernelImage.name, options);
  m.mmu.writeCr0(CR0_PE | CR0_ET);
  const mbi = parseMultiboot(m.mem, placed.ebx);
  const tables = bootTables(kernel, mbi, options.pse ?? false);
  recordStep(m, steps, "the boot loader's hand-off", handoffLines(placed, kernel, kernelImage.name, mbi));
  buildBootDirectory(m, tables, steps);
  enablePaging(m, tables, kernel.entryPhysical, steps);
  jumpHigh(m, tables, kernel.entryVirtual, kernel.extents.virtualStart, options.identityFlush ?? 'pages', steps);
  const info = bootInfo(m, kernel, mbi, tables);
  recordStep(m, steps, 'hand-off to the memory manager', [
    `${info.memoryMap.length} memory-map entries, ${info.modules.length} modules, ${info.reserved.length} reserved ranges`,
  ]);
  return {
    info,
    steps,
    kernelName: kernelImage.name,
    kernel,
    multiboot: mbi,
    multibootSource: options.multiboot ? 'captured' : 'built',
    ram,
    handoff: placed,
    directory: directoryEntries(m, tables.directory),
  };
}

/** readDefaultKernel reads the committed default kernel. */
function readDefaultKernel(): KernelImage {
  const path = defaultKernelPath();
  return { name: basename(path), bytes: new Uint8Array(readFileSync(path)) };
}

/** checkRam refuses sizes the machine cannot model. */
function checkRam(ram: number): number {
  if (!Number.isInteger(ram) || ram < MIN_RAM || ram > MAX_RAM || ram % PAGE_SIZE !== 0) {
    throw new PagelabError(`RAM size must be a multiple of 4 KiB from 2 MiB to 4 GiB, got ${ram} bytes`);
  }
  return ram;
}

/**
 * checkCaptureOptions refuses options a captured hand-off already decides: the
 * RAM its memory map describes, its modules and its command line.
 */
function checkCaptureOptions(o: BootOptions, ram: number, captured: number): void {
  if (ram !== captured) {
    const mib = (n: number): string => `${+(n / 2 ** 20).toFixed(3)} MiB`;
    throw new PagelabError(
      `a RAM size of ${mib(ram)} contradicts the captured memory map, which describes ${mib(captured)}: leave the RAM size out with a captured structure`,
    );
  }
  if ((o.modules ?? []).length > 0)
    throw new PagelabError('modules cannot be added to a captured multiboot structure: it lists its own');
  if ((o.cmdline ?? '') !== '')
    throw new PagelabError('a command line cannot be given with a captured multiboot structure: it holds its own');
}

/** ramOfCapture sizes the machine from the captured memory map; a structure without a map or RAM is refused. */
function ramOfCapture(c: CapturedBoot): number {
  const mbi = parseMultiboot(capturedBytes(c), c.ebx);
  const where = `the captured multiboot structure at ${hex(c.ebx)}`;
  if (mbi.mmapAddr === null)
    throw new PagelabError(
      `${where} has no memory map (flags bit 6 clear${mbi.memUpper === null ? '' : `; mem_lower ${mbi.memLower} KiB, mem_upper ${mbi.memUpper} KiB only`}): the machine is sized from the map`,
    );
  if (!mbi.mmap.some((e) => e.type === MMAP_AVAILABLE && e.length > 0))
    throw new PagelabError(
      `${where}: its memory map (${mbi.mmap.length} entries at ${hex(mbi.mmapAddr)}) lists no available RAM (type 1)`,
    );
  return ramFromMap(mbi.mmap);
}

/** placeBuilt builds the structure (QEMU's layout) after the kernel and loads the modules. */
function placeBuilt(
  m: Machine,
  ram: number,
  kernel: LoadedKernel,
  name: string,
  o: BootOptions,
): { eax: number; ebx: number } {
  const modules = o.modules ?? [];
  const cmdline = `${name} ${o.cmdline ?? ''}`;
  checkLatin1('the command line', o.cmdline ?? '');
  for (const x of modules) checkLatin1(`module ${x.name}'s string`, x.cmdline);
  for (const [what, text] of [
    ['the command line', cmdline],
    ...modules.map((x) => [`module ${x.name}'s string`, x.cmdline] as const),
  ] as const) {
    if (text.length >= MAX_STRING)
      throw new PagelabError(
        `${what} is ${text.length} bytes long: multiboot strings here are limited to ${MAX_STRING - 1} bytes`,
      );
  }
  const layout = qemuLayout(kernel.extents.physicalEnd, qemuMemoryMap(ram), cmdline, modules);
  checkLowStructures(kernel, name, layout.spec.memoryMap.length);
  if (layout.end > lowMemory(ram))
    throw new PagelabError(
      `the modules need RAM up to ${hex(layout.end)}, beyond the machine's ${hex(lowMemory(ram))}`,
    );
  writeMultiboot(m.mem, layout.spec);
  layout.spec.modules.forEach((mod, i) => m.mem.writeBytes(mod.start, modules[i].bytes));
  return { eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: layout.spec.infoAddr };
}

/**
 * checkLowStructures refuses a kernel with a segment where QEMU puts the memory map (0x9000) and the information
 * structure (0x9500): writing them would overwrite the kernel's bytes.
 */
function checkLowStructures(kernel: LoadedKernel, name: string, mapEntries: number): void {
  const low = [
    { base: QEMU_MMAP_ADDR, length: mapEntries * (MMAP_ENTRY_SIZE + 4), what: 'the multiboot memory map' },
    { base: QEMU_INFO_ADDR, length: MBI_SIZE, what: 'the multiboot information structure' },
  ];
  for (const seg of kernel.segments) {
    const hit = low.find((r) => overlaps(seg.paddr, seg.memsz, r.base, r.length));
    if (hit !== undefined)
      throw new PagelabError(
        `${name}: its PT_LOAD segment at physical [${hex(seg.paddr)}, ${hex(seg.paddr + seg.memsz)}) overlaps ${hit.what} at [${hex(hit.base)}, ${hex(hit.base + hit.length)}), where the boot loader puts it`,
      );
  }
}

/** checkLatin1 refuses a string with a character that is not one Latin-1 byte (a multiboot string is C bytes). */
function checkLatin1(what: string, text: string): void {
  const chars = [...text];
  const at = chars.findIndex((ch) => ch.codePointAt(0)! > 0xff);
  if (at < 0) return;
  const code = chars[at].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  throw new PagelabError(
    `${what} has ${JSON.stringify(chars[at])} (U+${code}) at character ${at + 1}: multiboot strings are stored as Latin-1, one byte per character`,
  );
}

/** placeCaptured writes the captured regions into RAM, refusing any that overlap the kernel. */
function placeCaptured(m: Machine, c: CapturedBoot, kernel: LoadedKernel): { eax: number; ebx: number } {
  const ks = kernel.extents.physicalStart;
  const klen = kernel.extents.physicalEnd - ks;
  for (const r of c.physical) {
    checkInRam(m, r.addr, r.bytes.length);
    if (overlaps(r.addr, r.bytes.length, ks, klen)) {
      throw new PagelabError(
        `the captured multiboot data at ${hex(r.addr)}+${r.bytes.length} overlaps the kernel image [${hex(ks)}, ${hex(kernel.extents.physicalEnd)})`,
      );
    }
    m.mem.writeBytes(r.addr, r.bytes);
  }
  if (c.eax !== MULTIBOOT_BOOTLOADER_MAGIC)
    throw new PagelabError(`the captured EAX is ${hex(c.eax)}, not the multiboot magic 0x2BADB002`);
  return { eax: c.eax, ebx: c.ebx };
}

/** checkInRam refuses a captured region that the machine's RAM (sized by the captured memory map) does not hold. */
function checkInRam(m: Machine, addr: number, length: number): void {
  if (m.mem.ranges.some((r) => addr >= r.base && addr + length <= r.base + r.length)) return;
  const ram = m.mem.ranges.map((r) => `[${hex(r.base)}, ${hex(r.base + r.length)})`).join(' and ');
  throw new PagelabError(
    `the captured multiboot data at ${hex(addr)}+${length} lies outside the machine's RAM ${ram}, which the captured memory map sizes`,
  );
}

/**
 * bootTables uses the image's boot_page_directory/boot_page_table symbols, or
 * the first free frames after the kernel, the multiboot data and the modules.
 */
function bootTables(k: LoadedKernel, mbi: MultibootInfo, pse: boolean): BootTables & { inImage: boolean } {
  const dir = k.symbols.get('boot_page_directory');
  const table = k.symbols.get('boot_page_table');
  if (
    dir !== undefined &&
    table !== undefined &&
    inImage(k, dir) &&
    inImage(k, table) &&
    dir % PAGE_SIZE === 0 &&
    table % PAGE_SIZE === 0
  ) {
    return { directory: phys(dir - KERNEL_VIRTUAL_BASE), table: phys(table - KERNEL_VIRTUAL_BASE), pse, inImage: true };
  }
  const used = [
    k.extents.physicalEnd,
    ...multibootRanges(mbi).map((r) => r.base + r.length),
    ...mbi.modules.map((x) => x.end),
  ];
  const base = pageAlignUp(Math.max(...used.filter((e) => e <= BOOT_MAPPED_BYTES)));
  if (base + 2 * PAGE_SIZE > BOOT_MAPPED_BYTES)
    throw new PagelabError(`no room below 4 MiB for the boot page directory and table after ${hex(base)}`);
  return { directory: phys(base), table: phys(base + PAGE_SIZE), pse, inImage: false };
}

/** inImage tells whether a virtual address lies in the kernel image. */
function inImage(k: LoadedKernel, v: number): boolean {
  return v >= k.extents.virtualStart && v + PAGE_SIZE <= k.extents.virtualEnd;
}

/** handoffLines describes the loader's hand-off for step 1. */
function handoffLines(p: { eax: number; ebx: number }, k: LoadedKernel, name: string, mbi: MultibootInfo): string[] {
  const e = k.extents;
  return [
    `EAX = ${hex(p.eax)} (multiboot), EBX = ${hex(p.ebx)} (the information structure, flags ${hex(mbi.flags)})`,
    `${name}: multiboot header at file offset ${hex(k.headerOffset)}, entry ${hex(k.entryVirtual)} (physical ${hex(k.entryPhysical)})`,
    `kernel virtual  [${hex(e.virtualStart)}, ${hex(e.virtualEnd)}), physical [${hex(e.physicalStart)}, ${hex(e.physicalEnd)}) (from ${k.extentsFrom === 'symbols' ? 'the linker-script labels' : 'the PT_LOAD segments'})`,
    ...k.segments.map(
      (s) =>
        `PT_LOAD p_vaddr ${hex(s.vaddr)} p_paddr ${hex(s.paddr)} filesz ${hex(s.filesz)} memsz ${hex(s.memsz)} (loaded; ${s.memsz - s.filesz} bytes zero-filled)`,
    ),
    'paging off: CR0 = PE | ET',
  ];
}

/** bootInfo assembles the hand-off. */
function bootInfo(m: Machine, k: LoadedKernel, mbi: MultibootInfo, t: BootTables & { inImage: boolean }): BootInfo {
  const mbRanges = multibootRanges(mbi);
  const modules = mbi.modules.map((x) => ({ start: phys(x.start), end: phys(x.end), cmdline: x.string.text }));
  const reserved: ReservedRange[] = [
    { base: k.extents.physicalStart, length: k.extents.physicalEnd - k.extents.physicalStart, what: 'kernel image' },
    ...mbRanges,
    ...modules.map((x, i) => ({ base: x.start, length: x.end - x.start, what: `module ${i} (${x.cmdline})` })),
  ];
  if (!t.inImage) {
    reserved.push({ base: t.directory, length: PAGE_SIZE, what: 'boot page directory' });
    if (!t.pse) reserved.push({ base: t.table, length: PAGE_SIZE, what: 'boot page table' });
  }
  const table: PhysAddr | null = t.pse ? null : t.table;
  return {
    machine: m,
    memoryMap: memoryMapOf(mbi),
    kernel: k.extents,
    modules,
    multiboot: { infoAddr: phys(mbi.addr), ranges: mbRanges },
    bootDirectory: t.directory,
    bootPageTable: table,
    bootDirectoryVirtual: lin(t.directory + KERNEL_VIRTUAL_BASE),
    bootPageTableVirtual: table === null ? null : lin(table + KERNEL_VIRTUAL_BASE),
    pse: t.pse,
    cmdline: mbi.cmdline?.text ?? '',
    reserved: sortRanges(reserved),
    symbols: k.symbols,
    segments: k.segments
      .filter((s) => s.type === PT_LOAD)
      .map((s) => ({ virtualStart: s.vaddr, memorySize: s.memsz, flags: s.flags })),
  };
}

/** memoryMapOf is the map from the structure, or one made of mem_lower/mem_upper without it. */
function memoryMapOf(mbi: MultibootInfo): MemoryMapEntry[] {
  if (mbi.mmap.length > 0) return mbi.mmap.map(({ base, length, type }) => ({ base, length, type }));
  if (mbi.memLower === null || mbi.memUpper === null)
    throw new PagelabError('the multiboot information has neither a memory map nor mem_lower/mem_upper');
  return [
    { base: 0, length: mbi.memLower * 1024, type: 1 },
    { base: 0x100000, length: mbi.memUpper * 1024, type: 1 },
  ];
}
