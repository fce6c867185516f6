// The process kernel's interface: what a driver (`pagelab run`, tests) calls to
// run user processes on the booted kernel. The driver stands in for the CPU and
// for the system-call entry: it says which process runs (switchTo), makes each
// of its memory accesses (access, at CPL 3 through the MMU) and makes the
// system calls the log shows (brk, mmap2, ..., fork, exit). The kernel keeps
// what a C kernel keeps in RAM: descriptors and region lists on the kernel
// heap, the process table beside the address-space registry, per-frame
// reference counts in an array of frames, and each process's page directory.
//
// Conventions: pids are positive integers, never reused. A call on a pid that
// is not live throws ProcError('no-process'); a rejected call changes nothing.
// System calls return what Linux's would: a result >= 0, or -errno.

import type { PagerCounters, PagerOptions } from '../swap/pager.js';
import type { LinAddr } from '../../hw/addr.js';
import type { AccessKind } from '../../hw/fault.js';
import { PagelabError } from '../../errors.js';

/** What access() returns when the access killed the process (its report: stats(pid).killed). */
export const ACCESS_KILLED = -1;

/** Region rights (mmap's PROT_*), as the region list in RAM stores them. */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** errno values the system calls return negated. */
export const EFAULT = 14;
export const ENOMEM = 12;
export const EINVAL = 22;

/** What a region is: from the ELF file (or a mapped file), anonymous, the stack, the brk heap. */
export type RegionKind = 'file' | 'anon' | 'stack' | 'brk';

/** How a page fault was resolved; 'protection' is an unresolvable fault (the process was killed). */
/** 'swap': a swapped-out page read back (a major fault; not in FAULT_KINDS, struct proc has no count of it). */
export type FaultKind = 'zero' | 'file' | 'stack' | 'cow' | 'protection' | 'swap';
export const FAULT_KINDS: readonly FaultKind[] = ['zero', 'file', 'stack', 'cow', 'protection'];

/** A process's state in its descriptor. */
export type ProcState = 'runnable' | 'exited' | 'killed';

/** Why a fault killed a process. */
export type KillReason =
  | 'kernel address' // a CPL-3 access to 0xC0000000 and up (#PF with U/S set, P=1)
  | 'no region' // no region holds the address (below 0x08048000 included), nor stack growth
  | 'stack limit' // below the stack region, more than 8 MiB under the stack top
  | 'write to read-only' // a write to a region without PROT_WRITE
  | 'no access' // a PROT_NONE region
  | 'out of memory'; // no frame for the page (or its page table)

/** One region of a process's address space, as its list in RAM says. */
export interface RegionInfo {
  readonly start: number;
  /** Exclusive, page-aligned. */
  readonly end: number;
  /** PROT_READ | PROT_WRITE | PROT_EXEC bits. */
  readonly prot: number;
  readonly kind: RegionKind;
  /** For 'file' regions: the file offset of `start`, and where the file's bytes stop (linear; zero after). */
  readonly fileOffset: number;
  readonly fileEnd: number;
}

/** The report of a killed process. */
export interface KillReport {
  /** CR2: the faulting linear address. */
  readonly address: number;
  /** The page-fault error code as the hardware gave it (PF_P | PF_W | PF_U ...). */
  readonly errorCode: number;
  readonly reason: KillReason;
  /** The region holding the address ("0x08048000-0x08049000 r-x file"), or "no region". */
  readonly region: string;
}

export interface FaultCounts {
  zero: number;
  file: number;
  stack: number;
  cow: number;
  protection: number;
}

/** A process's statistics (read from its descriptor; kept after exit as an accounting record). */
export interface ProcessStats {
  readonly pid: number;
  /** The parent's pid; 0 for the first process. */
  readonly parent: number;
  readonly state: ProcState;
  /** exit()'s code; null while running or when killed. */
  readonly exitCode: number | null;
  readonly killed: KillReport | null;
  /** Accesses made through access() (copy-outs not included). */
  readonly accesses: number;
  readonly faults: Readonly<FaultCounts>;
  /** Times a user page was made resident (zero fill, file read, stack growth; not COW copies). */
  readonly pageIns: number;
  /** Present user pages now (0 after exit) and at most. */
  readonly resident: number;
  readonly maxResident: number;
}

export interface KernelTotals {
  readonly accesses: number;
  /** Every user page fault, resolved or not (copy-outs' faults included). */
  readonly pageFaults: number;
  readonly pageIns: number;
  /** COW write faults that copied a page (take-overs of a count-1 frame not included). */
  readonly cowCopies: number;
  /** COW write faults on a frame with count 1: made writable in place. */
  readonly cowTakeovers: number;
  /** switchTo() calls that loaded CR3 with another directory. */
  readonly contextSwitches: number;
}

export interface FrameFigures {
  /** Frames the allocator manages (its usable count). */
  readonly total: number;
  /** Free frames once the process kernel was up, before the first exec. */
  readonly freeBefore: number;
  /** Free frames now. */
  readonly freeNow: number;
}

/** What the kernel tells the driver as it happens (faults, switches, forks, exits, kills). */
export type ProcessEvent =
  | { readonly type: 'exec'; readonly pid: number; readonly entry: number; readonly stackPointer: number }
  | {
      readonly type: 'fault';
      readonly pid: number;
      readonly address: number;
      readonly errorCode: number;
      readonly kind: FaultKind;
      /** true for a fault taken in a kernel copy-out (CPL 0). */
      readonly kernel: boolean;
    }
  | { readonly type: 'switch'; readonly from: number; readonly to: number }
  | { readonly type: 'fork'; readonly parent: number; readonly child: number }
  | { readonly type: 'exit'; readonly pid: number; readonly code: number }
  | ({ readonly type: 'kill'; readonly pid: number } & KillReport);

export interface ExecOptions {
  /** Where the initial stack ends (exclusive; page-aligned): the top the trace's stack uses, e.g. 0xBF000000. */
  readonly stackTop: number;
  /** The program break to start at (the log's first brk(0) answer); default: the page after the last segment. */
  readonly brk?: number;
  /** The parent's pid for the accounting record (0: none). */
  readonly parent?: number;
}

/** A file-backed mapping's file: its bytes (the "disk") and the offset of the mapping's first byte. */
export interface MmapFile {
  readonly bytes: Uint8Array;
  readonly offset: number;
  /** What messages call it (a path). */
  readonly name?: string;
}

export interface ExecResult {
  readonly pid: number;
  readonly entry: number;
  /** ESP at entry: the address of argc on the initial stack. */
  readonly stackPointer: number;
  /** The initial program break. */
  readonly brk: number;
}

export interface ProcessKernel {
  /** The live pids, in creation order (read from the process table in RAM). */
  pids(): number[];
  /** The pid whose directory is in CR3, or 0 when the kernel's own space is current. */
  readonly current: number;

  /**
   * exec creates a process from an ELF32 i386 ET_EXEC image (checked strictly: ParseError naming the
   * offset): PT_LOAD segments become file regions (nothing copied up front), a brk region after them, a
   * stack region below opts.stackTop holding argv, envp and auxv written through the MMU. Returns the
   * new pid; the process is not current until switchTo.
   */
  exec(elf: Uint8Array, argv: readonly string[], envp: readonly string[], opts: ExecOptions): ExecResult;
  /** switchTo makes pid current: loads CR3 with its directory (no-op when it already is). */
  switchTo(pid: number): void;
  /**
   * access makes one user access (CPL 3) of `size` bytes (1, 2 or 4; any alignment) by the current
   * process `pid`, resolving page faults; returns the value read (unsigned), 0 for a write, or
   * ACCESS_KILLED when an unresolvable fault killed the process (it has then exited: nothing is
   * current). Allocates nothing on a TLB hit.
   */
  access(pid: number, linear: number, size: 1 | 2 | 4, kind: AccessKind, value?: number): number;
  /** fork copies parent's address space copy-on-write into a new process; returns the child's pid (or -ENOMEM). */
  fork(parent: number): number;
  /** exit ends a process with a code: frees every user frame, page table, its directory and descriptor. */
  exit(pid: number, code: number): void;

  /** brk sets the program break (0: query); returns the new break, or the old one if refused (as Linux). */
  brk(pid: number, addr: number): number;
  /**
   * mmap2 maps [addr, addr + length) (MAP_FIXED: whatever was there is unmapped first), anonymous or
   * from a file; returns addr or -errno. Pages come in on first touch.
   */
  mmap2(pid: number, addr: number, length: number, prot: number, file?: MmapFile): number;
  /** munmap removes the pages of [addr, addr + length) (splitting regions), with their INVLPGs; 0 or -errno. */
  munmap(pid: number, addr: number, length: number): number;
  /** mprotect changes the rights of [addr, addr + length) (splitting regions) and its PTEs; 0 or -errno. */
  mprotect(pid: number, addr: number, length: number, prot: number): number;
  /**
   * copyOut writes bytes into pid's memory as a C kernel's copy_to_user does: at CPL 0 through the user
   * mapping (pid must be current), faulting pages in and breaking COW; 0, or -EFAULT (nothing killed).
   */
  copyOut(pid: number, addr: LinAddr | number, bytes: Uint8Array): number;

  /** stats reads a process's statistics (a live one from RAM, an ended one from its accounting record). */
  stats(pid: number): ProcessStats;
  /** regions lists a live process's regions from its list in RAM. */
  regions(pid: number): RegionInfo[];
  totals(): KernelTotals;
  frames(): FrameFigures;
  /** The event hook: called synchronously for each event (null: none). */
  onEvent: ((e: ProcessEvent) => void) | null;
  /**
   * kernelMode returns the CPU to CPL 0 (access() leaves it at CPL 3, as a CPU running user code is;
   * every other call here enters the kernel itself). Call it before using the kernel's own objects
   * (kernel.vm, kernel.heap, machine.read32 of kernel addresses) directly.
   */
  kernelMode(): void;
  /** audit checks the process kernel's state in RAM (table, descriptors, regions, reference counts vs PTEs). */
  audit(): string[];
  /** The pager's counters (null without a budget); swap.used is 0 again once every process has ended. */
  swapCounters(): PagerCounters | null;
  /** closeSwap closes the swap file (a temporary one is removed); the process kernel must not page after it. */
  closeSwap(): void;
}

/** What went wrong in a process-kernel call (the driver's mistake or corrupted kernel memory). */
export type ProcErrorKind = 'no-process' | 'not-current' | 'bad-argument' | 'corrupted' | 'out-of-memory';

export class ProcError extends PagelabError {
  constructor(
    readonly kind: ProcErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface ProcessKernelOptions {
  /** The event hook to start with. */
  readonly onEvent?: (e: ProcessEvent) => void;
  /** A budget of user frames with a swap file and a policy (src/kernel/swap/pager.ts); none: no budget. */
  readonly swap?: PagerOptions;
}
