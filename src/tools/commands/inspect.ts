// `pagelab inspect DUMP`: read page tables out of a physical memory image (QEMU's
// pmemsave, or `pagelab boot --dump`) and show them as QEMU's monitor does
// (info mem, info tlb), as a tree or JSON, walk one address, or lint them.

import { Option, type Command } from 'commander';
import { createColors } from 'picocolors';
import { colorWanted } from '../term.js';
import { PagelabError } from '../../errors.js';
import { hex, MAX_PHYS_4G, PAGE_SIZE } from '../../hw/addr.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../hw/fault.js';
import { CR0_WP, CR4_PSE } from '../../hw/paging.js';
import { WalkState, largeReservedMask, walk } from '../../hw/walk.js';
import { KERNEL_BASE } from '../../kernel/vm/layout.js';
import { contains, openImage, type PhysReader } from '../inspect/image.js';
import { codeRangesOfElf } from '../inspect/code.js';
import { jsonPieces } from '../inspect/json.js';
import { formatFinding, lint, type AddressRange } from '../inspect/lint.js';
import { infoMem, infoTlb } from '../inspect/qemu.js';
import { checkMode, parseAddress, parseControl, parseRegistersFile, type Registers } from '../inspect/regs.js';
import { parseSize } from '../args.js';
import { scanDirectory } from '../inspect/scan.js';
import { PLAIN, formatTree, sizeText, type TreeStyle } from '../inspect/tree.js';
import { formatWalk, walkJson } from '../walkfmt.js';
import { INPUT_LIMITS, readInputText } from '../io/input.js';
import { jsonDocument } from '../io/json.js';
import { writePieces } from '../io/write.js';

export const FORMATS = ['tree', 'json', 'info-mem', 'info-tlb'] as const;
export type InspectFormat = (typeof FORMATS)[number];

export interface InspectOptions {
  regs?: string;
  cr3?: string;
  cr0?: string;
  cr4?: string;
  format?: InspectFormat;
  json?: boolean;
  crlf?: boolean;
  translate?: string;
  access?: string;
  user?: boolean;
  lint?: boolean;
  code?: string[];
  kernel?: string;
  kernelBase?: string;
  ram?: string;
  size?: string;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'show the page tables in a physical memory dump (QEMU pmemsave or boot --dump), walk an address, or lint them',
    )
    .argument('<dump>', 'memory image: byte i = physical address i (raw, or gzip-compressed)')
    .option(
      '--regs <file>',
      "CR0, CR3, CR4 (and EIP) from QEMU's `info registers` text or from `pagelab boot --json` output",
    )
    .option('--cr3 <value>', 'CR3: the page directory physical address')
    .option('--cr0 <flags>', 'CR0 as a number, or flags such as "wp" (PE and PG implied)')
    .option('--cr4 <flags>', 'CR4 as a number, or flags such as "pse,pge"')
    .addOption(
      new Option(
        '--format <format>',
        'output: tree (default on a TTY), json (default otherwise), info-mem, info-tlb',
      ).choices(FORMATS),
    )
    .option('--json', 'JSON output (same as --format json)')
    .option('--crlf', "end info-mem/info-tlb lines with CR LF, as QEMU's monitor writes them")
    .option('--translate <addr>', 'print the walk of one linear address')
    .addOption(
      new Option('--access <kind>', 'the access --translate checks')
        .choices(['read', 'write', 'fetch'])
        .default('read'),
    )
    .option('--user', 'a CPL-3 access for --translate (default: supervisor)')
    .option('--lint', 'report mistakes in the tables; exit status 1 if any is an error')
    .option(
      '--code <range>',
      'for --lint: linear START-END (or START+LENGTH) that holds code and must be read-only (repeatable)',
      collect,
      [],
    )
    .option('--kernel <elf>', "for --lint: take the code ranges from a kernel ELF's read-only executable segments")
    .option('--kernel-base <addr>', 'for --lint: where the kernel half starts', hex(KERNEL_BASE))
    .option('--ram <size>', 'for --lint: RAM size (default: the image size), e.g. 128M')
    .option('--size <size>', 'the size the image must have (pmemsave SIZE); a shorter file is an error')
    .action(async (dump: string, opts: InspectOptions) => {
      const out = runInspect(dump, opts, process.stdout.isTTY === true);
      await writePieces(process.stdout, out.pieces());
      for (const w of out.warnings) process.stderr.write(`pagelab: warning: ${w}\n`);
      if (out.exitCode !== 0) process.exitCode = out.exitCode;
    });
}

/** collect appends a repeated option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export interface InspectResult {
  /** The whole output as one string (JSON of many full tables can be too long for one: use pieces). */
  readonly text: string;
  /** The output in order, a piece at a time (each call starts again). */
  readonly pieces: () => Iterable<string>;
  readonly warnings: string[];
  readonly exitCode: number;
}

/** streamed is the result whose output `pieces` gives; its text is joined only when asked for. */
function streamed(pieces: () => Iterable<string>, warnings: string[], exitCode: number): InspectResult {
  return {
    get text() {
      return [...pieces()].join('');
    },
    pieces,
    warnings,
    exitCode,
  };
}

/** whole is the result of an output made as one string. */
function whole(text: string, warnings: string[], exitCode: number): InspectResult {
  return { text, pieces: () => [text], warnings, exitCode };
}

/** runInspect does the work of the command and returns what it prints. */
export function runInspect(dump: string, opts: InspectOptions, tty = false): InspectResult {
  checkCombination(opts);
  const regs = registersFrom(opts);
  const img = openImage(dump, opts.size === undefined ? {} : { expectedSize: positiveSize(opts.size, '--size') });
  try {
    if (opts.translate !== undefined) return translate(img, regs, opts);
    if (opts.lint === true) return lintImage(img, regs, opts);
    return show(img, regs, opts, tty);
  } finally {
    if ('close' in img) img.close();
  }
}

/** positiveSize reads a size option that must not be zero. */
function positiveSize(text: string, option: string): number {
  const n = parseSize(text, option);
  if (n === 0) throw new PagelabError(`${option} ${text}: a size of 0 means nothing here`);
  return n;
}

/** ramSize reads --lint's --ram: a whole number of pages, from one page to the 4 GiB that 32-bit frames reach. */
function ramSize(text: string): number {
  const n = positiveSize(text, '--ram');
  if (n > MAX_PHYS_4G || n % PAGE_SIZE !== 0)
    throw new PagelabError(`--ram ${text}: expected a multiple of 4 KiB up to 4 GiB, got ${n} bytes`);
  return n;
}

/** checkCombination refuses options that the chosen mode would silently ignore. */
function checkCombination(o: InspectOptions): void {
  const refuse = (why: string): never => {
    throw new PagelabError(why);
  };
  const textFormat = o.format !== undefined && o.format !== 'json';
  if (o.translate !== undefined && o.lint === true)
    refuse('--translate and --lint are separate modes: run them one at a time');
  if (o.translate !== undefined && textFormat)
    refuse(`--format ${o.format} does not apply to --translate (it prints the walk; --json for JSON)`);
  if (o.lint === true && textFormat)
    refuse(`--format ${o.format} does not apply to --lint (it prints findings; --json for JSON)`);
  if (o.json === true && textFormat) refuse(`--json and --format ${o.format} contradict each other`);
  if (o.translate === undefined && (o.user === true || (o.access !== undefined && o.access !== 'read')))
    refuse('--user and --access only apply to --translate');
  if (o.crlf === true && o.format !== 'info-mem' && o.format !== 'info-tlb')
    refuse('--crlf only applies to --format info-mem and info-tlb');
  const lintOnly = [
    o.kernel !== undefined && '--kernel',
    o.ram !== undefined && '--ram',
    (o.code ?? []).length > 0 && '--code',
  ].filter((x) => x !== false);
  if (o.lint !== true && lintOnly.length > 0) refuse(`${lintOnly.join(', ')}: only for --lint`);
}

/** registersFrom combines --regs with --cr0/--cr3/--cr4 (the options win). */
export function registersFrom(opts: InspectOptions): Registers {
  let base: Registers | null = null;
  if (opts.regs !== undefined) base = parseRegistersFile(readText(opts.regs), opts.regs);
  if (base === null && opts.cr3 === undefined)
    throw new PagelabError(
      "inspect needs --cr3 ADDR, or --regs FILE (QEMU's info registers, or pagelab boot --json output)",
    );
  const cr3 = opts.cr3 !== undefined ? parseAddress(opts.cr3, '--cr3') : base!.cr3;
  const cr0 = opts.cr0 !== undefined ? parseControl(opts.cr0, 'cr0') : (base?.cr0 ?? parseControl('', 'cr0'));
  const cr4 = opts.cr4 !== undefined ? parseControl(opts.cr4, 'cr4') : (base?.cr4 ?? 0);
  return checkMode({ cr0, cr3, cr4, ...(base?.eip === undefined ? {} : { eip: base.eip }) });
}

/** readText reads a register file (a file, a pipe or `-`), within its bound. */
function readText(path: string): string {
  return readInputText(path, '--regs', INPUT_LIMITS.registers);
}

/** show prints the mappings in the chosen format. */
function show(img: PhysReader, regs: Registers, opts: InspectOptions, tty: boolean): InspectResult {
  const format: InspectFormat = opts.json === true ? 'json' : (opts.format ?? (tty ? 'tree' : 'json'));
  const view = scanDirectory(img, regs);
  const warnings = structureWarnings(img, view.pdes, regs);
  if (format === 'info-mem' || format === 'info-tlb') {
    const text = format === 'info-mem' ? infoMem(img, regs) : infoTlb(img, regs);
    return whole(opts.crlf === true ? text.replace(/\n/g, '\r\n') : text, warnings, 0);
  }
  if (format === 'json') return streamed(() => jsonPieces(view), [], 0);
  const pc = createColors(colorWanted(tty));
  const style: TreeStyle = tty ? { heading: pc.bold, dim: pc.dim, warn: pc.yellow } : PLAIN;
  const lines = formatTree(view, style);
  return streamed(() => lines.map((l) => `${l}\n`), [], 0);
}

/** structureWarnings names the paging structures the image does not hold (they read as 0, as in QEMU). */
function structureWarnings(img: PhysReader, pdes: ReturnType<typeof scanDirectory>['pdes'], regs: Registers): string[] {
  const dir = (regs.cr3 & 0xfffff000) >>> 0;
  if (!contains(img, dir, 4096))
    return [
      `CR3 ${hex(regs.cr3)} points past the end of the ${sizeText(img.size)} image: the directory reads as empty`,
    ];
  return pdes
    .filter((p) => p.table !== null && p.ptes === null)
    .map(
      (p) =>
        `PDE ${p.index}'s page table at ${hex(p.table!)} is past the end of the ${sizeText(img.size)} image: its entries read as not present`,
    );
}

const ACCESS: Readonly<Record<string, AccessKind>> = { read: ACCESS_READ, write: ACCESS_WRITE, fetch: ACCESS_FETCH };

/** translate prints the walk of one address, as `pagelab translate` does. */
function translate(img: PhysReader, regs: Registers, opts: InspectOptions): InspectResult {
  const linear = parseAddress(opts.translate!, '--translate');
  const kind = ACCESS[opts.access ?? 'read'] ?? ACCESS_READ;
  const user = opts.user === true;
  const pse = (regs.cr4 & CR4_PSE) !== 0;
  const w = new WalkState();
  walk(
    img,
    {
      cr3: regs.cr3,
      pse,
      wp: (regs.cr0 & CR0_WP) !== 0,
      accessedOrder: 'qemu',
      rsvdErrorCode: 'sdm',
      largeReserved: largeReservedMask(40),
    },
    linear,
    kind,
    user,
    false,
    w,
  );
  if (opts.json === true || opts.format === 'json') return whole(JSON.stringify(walkJson(w, linear)) + '\n', [], 0);
  const annotate = (addr: number): string | undefined =>
    contains(img, addr, 4) ? undefined : `past the end of the ${sizeText(img.size)} image: read as 0`;
  return whole(formatWalk(w, linear, { kind, user, pse, annotate }).join('\n') + '\n', [], 0);
}

/** parseRange reads START-END (inclusive) or START+LENGTH. */
export function parseRange(spec: string): AddressRange {
  const m = /^\s*([^-+\s]+)\s*([-+])\s*(\S+)\s*$/.exec(spec);
  if (m === null) throw new PagelabError(`--code ${spec}: expected START-END or START+LENGTH`);
  const start = parseAddress(m[1], '--code');
  const length = m[2] === '+' ? parseSize(m[3], '--code') : null;
  if (length === 0) throw new PagelabError(`--code ${spec}: a length of 0 holds no code`);
  const end = length === null ? parseAddress(m[3], '--code') : start + length - 1;
  if (end < start) throw new PagelabError(`--code ${spec}: the range ends before it starts`);
  if (end > 0xffffffff)
    throw new PagelabError(`--code ${spec}: the range ends at ${hex(end, 9)}, past the 4 GiB linear address space`);
  return { start, end };
}

/** lintImage prints the findings; exit status 1 when one is an error. */
function lintImage(img: PhysReader, regs: Registers, opts: InspectOptions): InspectResult {
  const view = scanDirectory(img, regs);
  const findings = lint(view, {
    ramSize: opts.ram !== undefined ? ramSize(opts.ram) : img.size,
    kernelBase: parseAddress(opts.kernelBase ?? hex(KERNEL_BASE), '--kernel-base'),
    code: [...(opts.code ?? []).map(parseRange), ...(opts.kernel === undefined ? [] : codeRangesOfElf(opts.kernel))],
  });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const exitCode = errors > 0 ? 1 : 0;
  if (opts.json === true || opts.format === 'json') {
    const doc = { findings, errors, warnings: findings.length - errors };
    return streamed(() => jsonDocument(doc), [], exitCode);
  }
  const lines = findings.map(formatFinding);
  lines.push(findings.length === 0 ? 'no findings' : `${errors} error(s), ${findings.length - errors} warning(s)`);
  return streamed(() => lines.map((l) => `${l}\n`), [], exitCode);
}
