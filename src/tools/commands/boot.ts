// `pagelab boot`: boot the machine from a multiboot kernel and print the log:
// the memory map, the kernel's extents, each bootstrap step with the control
// registers, the boot page directory, then what the memory manager reports.
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { createColors } from 'picocolors';
import { colorWanted } from '../term.js';
import { boot, type BootOptions, type BootResult } from '../../boot/boot.js';
import { parseCapture } from '../../boot/capture.js';
import { dumpPhysical } from '../../boot/dump.js';
import { checkOutputPath, outputErrors } from '../outfile.js';
import {
  MMAP_ACPI_RECLAIMABLE,
  MMAP_AVAILABLE,
  MMAP_BAD,
  MMAP_NVS,
  MMAP_RESERVED,
  type MemoryMapEntry,
} from '../../boot/handoff.js';
import { hex } from '../../hw/addr.js';
import { parseTlb } from '../../hw/tlb.js';
import { flagNames, FRAME_MASK, LARGE_FRAME_MASK, PDE_PS } from '../../hw/paging.js';
import { kernelMain, type KernelOptions, type KernelReport } from '../../kernel/main.js';
import { formatSize, parseSize } from '../args.js';
import { INPUT_LIMITS, readInput } from '../io/input.js';

/** The options `addBootOptions` declares, as commander hands them over. */
export interface BootCliOptions {
  ram?: string;
  kernel?: string;
  multiboot?: string;
  pse?: boolean;
  tlb?: string;
  cmdline?: string;
  module?: string[];
  frames?: string;
  ptAccess?: string;
  heap?: string;
  lowMemory?: string;
  quiet?: boolean;
}

interface BootCommandOptions extends BootCliOptions {
  json?: boolean;
  dump?: string;
}

/** addBootOptions declares the options that choose and boot a machine (shared with other commands). */
export function addBootOptions(cmd: Command): Command {
  return cmd
    .option('--ram <size>', 'RAM size, e.g. 16M, 3584M, 4G (default 128M, or from --multiboot)')
    .option('--kernel <file>', 'a multiboot ELF32 kernel linked at 0xC0100000 (default kernel/pagelab-kernel.elf)')
    .option('--multiboot <file>', 'use a captured multiboot hand-off (test/fixtures/multiboot/*.txt format)')
    .option('--pse', 'map the kernel with one 4 MiB page (CR4.PSE)')
    .option('--no-pse', 'map the kernel through a 4 KiB page table (default)')
    .option('--tlb <spec>', 'TLB geometry: sa:SETSxWAYS, fa:N, dm:N or none', 'sa:16x4')
    .option('--cmdline <text>', 'kernel command line (after the kernel name)')
    .option('--module <file-and-args>', 'load a boot module: "FILE ARGS..." (repeatable)', collect, [])
    .addOption(
      new Option('--frames <allocator>', 'frame allocator').choices(['bitmap', 'list', 'buddy']).default('bitmap'),
    )
    .addOption(
      new Option('--pt-access <how>', 'how the kernel reaches page tables')
        .choices(['slot', 'recursive'])
        .default('slot'),
    )
    .addOption(
      new Option('--low-memory <policy>', 'free frames below 1 MiB: use them or keep them reserved')
        .choices(['use', 'reserve'])
        .default('use'),
    )
    .addOption(
      new Option('--heap <kind>', 'kernel heap: K&R free list, or size classes on top of it')
        .choices(['kr', 'slab'])
        .default('kr'),
    )
    .option('--quiet', 'less output from the memory manager');
}

/** collect appends repeated option values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** bootFromCliOptions boots the machine the options describe. */
export function bootFromCliOptions(o: BootCliOptions): { result: BootResult; kernelOptions: KernelOptions } {
  const tlb = o.tlb ?? 'sa:16x4';
  parseTlb(tlb);
  const options: BootOptions = {
    ...(o.ram === undefined ? {} : { ram: parseSize(o.ram) }),
    ...(o.kernel === undefined
      ? {}
      : { kernel: { name: basename(o.kernel), bytes: readInput(o.kernel, '--kernel', INPUT_LIMITS.kernel) } }),
    ...(o.multiboot === undefined ? {} : { multiboot: parseCapture(readText(o.multiboot), o.multiboot) }),
    pse: o.pse ?? false,
    tlb,
    cmdline: o.cmdline ?? '',
    modules: (o.module ?? []).map(readModule),
  };
  const kernelOptions: KernelOptions = {
    frames: (o.frames ?? 'bitmap') as KernelOptions['frames'],
    ptAccess: (o.ptAccess ?? 'slot') as KernelOptions['ptAccess'],
    heap: (o.heap ?? 'kr') as KernelOptions['heap'],
    lowMemory: (o.lowMemory ?? 'use') as KernelOptions['lowMemory'],
    quiet: o.quiet ?? false,
  };
  const result = boot(options);
  const mmu = result.info.machine.mmu; // the CLI owns the machine: it lends the kernel a TLB-miss counter
  return { result, kernelOptions: { ...kernelOptions, tlbMissCounter: () => mmu.counters().misses } };
}

/** readModule reads "FILE ARGS...": the whole text is the module's string, as QEMU's -initrd gives it. */
function readModule(spec: string): { name: string; bytes: Uint8Array; cmdline: string } {
  const file = spec.split(' ')[0];
  return { name: file, bytes: readInput(file, '--module', INPUT_LIMITS.module), cmdline: spec };
}

/** readText reads a text file. */
function readText(path: string): string {
  return Buffer.from(readInput(path, '--multiboot', INPUT_LIMITS.multiboot)).toString('latin1');
}

export function registerBoot(program: Command): void {
  const cmd = program
    .command('boot')
    .description('boot the machine from a multiboot kernel into the higher half and bring up the memory manager');
  addBootOptions(cmd)
    .option('--json', 'print the facts as one JSON document (see docs/boot.schema.json)')
    .option('--dump <file>', 'write physical memory [0, top of RAM) as a raw image at the end')
    .action((o: BootCommandOptions) =>
      runBoot(o, (s) => process.stdout.write(s + '\n'), process.stdout.isTTY === true),
    );
}

/** runBoot boots, runs the memory manager and prints the log (or JSON). */
export function runBoot(o: BootCommandOptions, out: (line: string) => void, tty: boolean): void {
  if (o.dump !== undefined) checkOutputPath(o.dump, '--dump', bootInputs(o));
  const { result, kernelOptions } = bootFromCliOptions(o);
  const report = kernelMain(result.info, kernelOptions);
  if (o.json === true) out(JSON.stringify(bootJson(result, report), null, 2));
  else printLog(result, report, out, tty);
  if (o.dump !== undefined) {
    const size = outputErrors(o.dump, '--dump', () => dumpPhysical(result.info.machine.mem, o.dump!));
    if (o.json !== true) out(`\nwrote physical memory [0, ${hex(size)}) to ${o.dump}`);
  }
}

/** printLog prints the human-readable boot log. */
function printLog(r: BootResult, report: KernelReport, out: (line: string) => void, tty: boolean): void {
  const c = createColors(colorWanted(tty));
  const head = (t: string): void => out(`\n${c.bold(c.cyan(t))}`);
  out(
    c.bold(
      `pagelab boot: ${r.kernelName}, ${formatSize(r.ram)} RAM, multiboot information ${r.multibootSource === 'built' ? 'built as QEMU lays it out' : 'captured'}`,
    ),
  );
  head('memory map (multiboot)');
  for (const l of memoryMapTable(r.info.memoryMap)) out(l);
  if (r.info.memoryMap.some((e) => e.base + e.length > 2 ** 32 && e.type === MMAP_AVAILABLE)) {
    out(c.dim('  (memory at 4 GiB and above is not modelled: 32-bit paging without PAE cannot reach it)'));
  }
  head('kernel');
  const k = r.info.kernel;
  out(`  virtual  ${hex(k.virtualStart)} - ${hex(k.virtualEnd)}  (${k.virtualEnd - k.virtualStart} bytes)`);
  out(`  physical ${hex(k.physicalStart)} - ${hex(k.physicalEnd)}`);
  r.info.modules.forEach((m, i) => out(`  module ${i}: ${hex(m.start)} - ${hex(m.end)}  ${m.cmdline}`));
  r.steps.forEach((s, i) => {
    head(`step ${i + 1}: ${s.name}`);
    for (const l of s.lines) out(`  ${l}`);
    out(c.dim(`  CR0=${hex(s.cr0)} CR3=${hex(s.cr3)} CR4=${hex(s.cr4)}`));
  });
  head('boot page directory (present entries)');
  for (const l of directoryLines(r)) out(l);
  head('reserved at hand-off');
  for (const x of r.info.reserved) out(`  ${hex(x.base)} - ${hex(x.base + x.length)}  ${x.what}`);
  for (const s of report.sections) {
    head(s.title);
    for (const l of s.lines) out(`  ${l}`);
  }
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [MMAP_AVAILABLE]: 'available',
  [MMAP_RESERVED]: 'reserved',
  [MMAP_ACPI_RECLAIMABLE]: 'ACPI reclaimable',
  [MMAP_NVS]: 'ACPI NVS',
  [MMAP_BAD]: 'bad memory',
};

/** memoryMapTable formats the map as aligned columns. */
export function memoryMapTable(map: readonly MemoryMapEntry[]): string[] {
  const rows = map.map((e) => [
    hex(e.base, 9),
    hex(e.base + e.length, 9),
    formatSize(e.length),
    `${e.type} ${TYPE_NAMES[e.type] ?? 'reserved (unknown type)'}`,
  ]);
  const all = [['base', 'end', 'size', 'type'], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => '  ' + r.map((f, i) => (i < 3 ? f.padEnd(widths[i]) : f)).join('  '));
}

/** directoryLines describes each present PDE: index, linear range, target and flags. */
function directoryLines(r: BootResult): string[] {
  return r.directory.map(({ index, value }) => {
    const large = (value & PDE_PS) !== 0 && r.info.pse;
    const target = large
      ? `4 MiB page at ${hex(value & LARGE_FRAME_MASK)}`
      : `page table at ${hex((value & FRAME_MASK) >>> 0)}`;
    return `  PDE ${String(index).padStart(4)}  ${hex((index << 22) >>> 0)}  ${hex(value)}  ${target}  [${flagNames(value, true).join(' ')}]`;
  });
}

/** bootJson gathers the facts of a boot as one JSON document (docs/boot.schema.json). */
export function bootJson(r: BootResult, report: KernelReport): Record<string, unknown> {
  const i = r.info;
  const mmu = r.info.machine.mmu;
  return {
    ram: r.ram,
    kernelFile: r.kernelName,
    kernel: {
      ...i.kernel,
      entry: r.kernel.entryVirtual,
      entryPhysical: r.kernel.entryPhysical,
      extentsFrom: r.kernel.extentsFrom,
    },
    memoryMap: i.memoryMap.map(({ base, length, type }) => ({ base, length, type })),
    modules: i.modules,
    multiboot: {
      source: r.multibootSource,
      infoAddr: i.multiboot.infoAddr,
      flags: r.multiboot.flags,
      ranges: i.multiboot.ranges,
    },
    cmdline: i.cmdline,
    cr0: mmu.cr0,
    cr3: mmu.cr3,
    cr4: mmu.cr4, // at the end: the state a --dump captures
    pse: i.pse,
    bootDirectory: i.bootDirectory,
    bootPageTable: i.bootPageTable,
    directory: r.directory,
    reserved: i.reserved,
    steps: r.steps.map((s) => ({ name: s.name, cr0: s.cr0, cr3: s.cr3, cr4: s.cr4, lines: s.lines })),
    ...report.json,
  };
}

/** bootInputs lists the files a boot reads (kernel, modules, captured multiboot), which no output may overwrite. */
function bootInputs(o: BootCliOptions): string[] {
  const modules = (o.module ?? []).map((spec) => spec.split(' ')[0]);
  return [o.kernel, o.multiboot, ...modules].filter((p): p is string => p !== undefined);
}
