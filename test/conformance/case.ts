// A conformance case: page tables to write, control-register settings and a
// list of operations (accesses, entry edits, INVLPG, CR3 reloads, CR0.WP
// changes). The same case runs on QEMU (encoded by encodeBatch for the test
// kernel) and on the model (model.ts). Physical layout shared by both sides:
//   0-4 MiB    the test kernel and the batch module (linear 0-8 MiB is the kernel's: PDEs 0-1)
//   4-8 MiB    the cases' page directories and page tables (TABLE_BASE..TABLE_END)
//   8-16 MiB   4 KiB data frames (DATA_BASE..DATA_END)
//   16-252 MiB 4 MiB data frames (LARGE_BASE..LARGE_END)

import type { AccessKind } from '../../src/hw/fault.js';
import { FRAME_MASK, LARGE_FRAME_MASK, PDE_PS, PTE_P } from '../../src/hw/paging.js';

export const KERNEL_PDES = 2;
export const TABLE_BASE = 0x400000;
export const TABLE_END = 0x800000;
export const DATA_BASE = 0x800000;
export const DATA_END = 0x1000000;
export const LARGE_BASE = 0x1000000;
export const LARGE_END = 0xfc00000;
export const QEMU_RAM_MIB = 256;
/** The fill pattern: the dword at physical p is Math.imul(p, FILL_MUL) ^ salt. */
export const FILL_MUL = 0x9e3779b1;
/** Page offsets FETCH_OFFSET .. +RET_BYTES-1 of every filled frame hold RET (0xC3); writes never touch them. */
export const FETCH_OFFSET = 0x800;
export const RET_BYTES = 16;
export const RET = 0xc3;
/**
 * Straddling instruction fetches: the last TAIL_BYTES of every filled frame hold MOV EAX, imm32's opcode (0xB8)
 * and the first HEAD_BYTES hold RET. A fetch at page offset 0xFFD-0xFFF (size 4) executes a 5-byte
 * `mov eax, imm32` whose immediate runs into the next page, then the RET there.
 */
export const MOV_EAX = 0xb8;
export const TAIL_BYTES = 3;
export const HEAD_BYTES = 5;
/** QEMU runs as `-cpu qemu32,+pse36`: CPUID.01H:EDX.PSE-36 (bit 17) = 1, no leaf 80000008H, PAE: MAXPHYADDR 36. */
export const QEMU_CPU = 'qemu32,+pse36';
/** The PAE runs add NX (CPUID.80000001H:EDX.NX) so that WRMSR can set EFER.NXE. */
export const QEMU_CPU_PAE = 'qemu32,+pse36,+nx';
export const CPUID_PSE36 = 1 << 17;
/** Physical addresses from here up need PSE-36 bits 20:17, reserved with MAXPHYADDR 36 (SDM 4.3): never accessed. */
export const MAXPHYADDR_LIMIT = 2 ** 36;
/** RAM ends at 4 GiB on both sides here; reads above it are platform-defined, so their value is not reported. */
export const RAM_LIMIT = 2 ** 32;

export type Cpl = 0 | 3;
export type Size = 1 | 2 | 4;

/**
 * One access. `value` is what a write stores. A read with `discard` still runs, but its value is reported as 0
 * on both sides: it reads a physical address without RAM, which the SDM does not define (the platform does).
 */
export interface AccessOp {
  readonly op: 'access';
  readonly kind: AccessKind;
  readonly size: Size;
  readonly cpl: Cpl;
  readonly lin: number;
  readonly value: number;
  readonly discard?: boolean;
}
export interface EditOp {
  readonly op: 'edit';
  readonly addr: number;
  readonly value: number;
}
export interface InvlpgOp {
  readonly op: 'invlpg';
  readonly lin: number;
}
export interface ReloadCr3Op {
  readonly op: 'reload-cr3';
}
export interface SetWpOp {
  readonly op: 'set-wp';
  readonly on: boolean;
}
/** MOV to CR3 of one of the case's directories (a switch of address space). */
export interface LoadCr3Op {
  readonly op: 'load-cr3';
  readonly cr3: number;
}
/** MOV to CR4 with these PSE and PGE values (mid-case; the case's pse/pge are the initial ones). */
export interface SetCr4Op {
  readonly op: 'set-cr4';
  readonly pse: boolean;
  readonly pge: boolean;
}
export type Op = AccessOp | EditOp | InvlpgOp | ReloadCr3Op | SetWpOp | LoadCr3Op | SetCr4Op;

export interface Case {
  readonly name: string;
  /** For named cases: the SDM section of the rule under test. */
  readonly sdm?: string;
  readonly wp: boolean;
  readonly pse: boolean;
  readonly pge: boolean;
  /** CR3: the page directory's physical address (in the table area). */
  readonly cr3: number;
  readonly salt: number;
  /** 4 KiB table frames zeroed before the entries are written (the directories among them). */
  readonly tables: readonly number[];
  /** Directories besides CR3's that load-cr3 ops switch to (each also in tables). */
  readonly directories?: readonly number[];
  /** PAE paging (paecase.ts): CR3 names a PDPT, the directory flag marks the PD of linear 0-1 GiB, 64-bit
   * entries are written as two dword entries (low, high). */
  readonly pae?: boolean;
  /** EFER.NXE (PAE cases only: the kernel writes EFER only when asked for PAE). */
  readonly nxe?: boolean;
  /** The data frames to fill, when the case lists them itself (PAE cases); else fillFrames derives them. */
  readonly fills?: readonly number[];
  /** Initial entries: [physical address, value]. */
  readonly entries: ReadonlyArray<readonly [number, number]>;
  readonly ops: readonly Op[];
}

/** What one access did: the value read (0 for writes and fetches) or the page fault. */
export type AccessOutcome =
  | { readonly fault: false; readonly value: number }
  | { readonly fault: true; readonly cr2: number; readonly code: number };

/** A case's outcome: one entry per access op, then the final value of each reportAddrs() entry. */
export interface CaseOutcome {
  readonly accesses: readonly AccessOutcome[];
  readonly entries: readonly number[];
}

export const OP_CODES = {
  access: 1,
  edit: 2,
  invlpg: 3,
  'reload-cr3': 4,
  'set-wp': 5,
  'load-cr3': 6,
  'set-cr4': 7,
} as const;
export const BATCH_MAGIC = 0x42434750; // 'PGCB'

/** directoriesOf lists the frames of the case's page directories, CR3's first. */
export function directoriesOf(c: Pick<Case, 'cr3' | 'directories'>): number[] {
  return [(c.cr3 & FRAME_MASK) >>> 0, ...(c.directories ?? [])];
}

/** reportAddrs lists every entry address the case writes (initially or by an edit), ascending. */
export function reportAddrs(c: Case): number[] {
  const set = new Set<number>(c.entries.map(([a]) => a));
  for (const op of c.ops) if (op.op === 'edit') set.add(op.addr);
  return [...set].sort((a, b) => a - b);
}

/** accessCount is the number of access ops (one outcome each). */
export function accessCount(c: Case): number {
  return c.ops.reduce((n, op) => n + (op.op === 'access' ? 1 : 0), 0);
}

/** everPse tells whether CR4.PSE is 1 at some point of the case. */
export function everPse(c: Case): boolean {
  return c.pse || c.ops.some((op) => op.op === 'set-cr4' && op.pse);
}

/**
 * fillFrames lists the data frames the case can reach: every 4 KiB frame a PTE
 * names, and each touched 4 KiB piece of every 4 MiB frame a PDE names.
 */
export function fillFrames(c: Case): number[] {
  if (c.fills !== undefined) return [...c.fills];
  const pieces = new Set<number>();
  for (const op of c.ops) {
    if (op.op !== 'access') continue;
    pieces.add(op.lin & 0x3ff000);
    pieces.add(((op.lin + op.size - 1) >>> 0) & 0x3ff000);
  }
  const dirs = directoriesOf(c);
  const pse = everPse(c);
  const frames = new Set<number>();
  const values: Array<readonly [number, number]> = [...c.entries];
  for (const op of c.ops) if (op.op === 'edit') values.push([op.addr, op.value]);
  for (const [addr, value] of values) {
    if ((value & PTE_P) === 0) continue;
    const isPde = dirs.includes((addr & FRAME_MASK) >>> 0);
    if (!isPde) frames.add((value & FRAME_MASK) >>> 0);
    else if ((value & PDE_PS) !== 0 && pse && (value & 0x3fe000) === 0) {
      for (const piece of pieces) frames.add(((value & LARGE_FRAME_MASK) >>> 0) + piece);
    }
  }
  return [...frames].filter((f) => f >= DATA_BASE && f + 4096 <= LARGE_END).sort((a, b) => a - b);
}

/** fillWord is the pattern's dword at physical address p (4-aligned). */
export function fillWord(p: number, salt: number): number {
  return (Math.imul(p, FILL_MUL) ^ salt) >>> 0;
}

/**
 * opWords packs an op for the kernel: [op | size << 8 | cpl << 16 | kind << 24, a, b]
 * (for an access, b is the value to write, or for a read 1 when its value is discarded).
 */
function opWords(op: Op): [number, number, number] {
  switch (op.op) {
    case 'access': {
      const b = op.kind === 0 ? (op.discard === true ? 1 : 0) : op.value >>> 0;
      return [(OP_CODES.access | (op.size << 8) | (op.cpl << 16) | (op.kind << 24)) >>> 0, op.lin >>> 0, b];
    }
    case 'edit':
      return [OP_CODES.edit, op.addr >>> 0, op.value >>> 0];
    case 'invlpg':
      return [OP_CODES.invlpg, op.lin >>> 0, 0];
    case 'reload-cr3':
      return [OP_CODES['reload-cr3'], 0, 0];
    case 'set-wp':
      return [OP_CODES['set-wp'], op.on ? 1 : 0, 0];
    case 'load-cr3':
      return [OP_CODES['load-cr3'], op.cr3 >>> 0, 0];
    case 'set-cr4':
      return [OP_CODES['set-cr4'], (op.pse ? 1 : 0) | (op.pge ? 2 : 0), 0];
  }
}

/**
 * caseWords encodes one case in the kernel's order: flags, cr3, salt, tables
 * (directories with bit 0 set), entries, fill frames, ops, report addresses
 * (each list preceded by its length).
 */
function caseWords(c: Case): number[] {
  const flags =
    (c.wp ? 1 : 0) | (c.pse ? 2 : 0) | (c.pge ? 4 : 0) | (c.pae === true ? 8 : 0) | (c.nxe === true ? 16 : 0);
  const w: number[] = [flags, c.cr3 >>> 0, c.salt >>> 0];
  const dirs = directoriesOf(c);
  w.push(c.tables.length, ...c.tables.map((t) => (dirs.includes(t) ? t | 1 : t)));
  w.push(c.entries.length);
  for (const [a, v] of c.entries) w.push(a >>> 0, v >>> 0);
  const fills = fillFrames(c);
  w.push(fills.length, ...fills);
  w.push(c.ops.length);
  for (const op of c.ops) w.push(...opWords(op));
  const report = reportAddrs(c);
  w.push(report.length, ...report);
  return w;
}

/** encodeBatch is the multiboot module the test kernel reads: 'PGCB', case count, cases. */
export function encodeBatch(cases: readonly Case[]): Uint8Array {
  const words: number[] = [BATCH_MAGIC, cases.length];
  for (const c of cases) words.push(...caseWords(c));
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}
