// createProcessKernel: the process kernel's bring-up over a booted kernel
// (kernelInit's result) — the reference-count array, the process table, the
// totals in RAM — and the ProcessKernel the driver calls (api.ts). The access
// path is here: a TLB hit is two typed-array reads and no allocation.

import { hex, type LinAddr } from '../../hw/addr.js';
import { ACCESS_WRITE, type AccessKind } from '../../hw/fault.js';
import type { PhysicalMemory } from '../../hw/memory.js';
import type { Mmu } from '../../hw/mmu.js';
import { CR0_WP, FRAME_MASK } from '../../hw/paging.js';
import { topOfRam } from '../vm/core.js';
import type { Kernel } from '../main.js';
import {
  ACCESS_KILLED,
  ProcError,
  type ExecOptions,
  type ExecResult,
  type FrameFigures,
  type KernelTotals,
  type MmapFile,
  type ProcessEvent,
  type ProcessKernel,
  type ProcessKernelOptions,
  type ProcessStats,
  type RegionInfo,
} from './api.js';
import { auditProcesses } from './audit.js';
import { copyOut } from './copyout.js';
import { emit, kadd, kadd64, kread, kwrite, read64, type ProcCtx, type ProcHandle } from './ctx.js';
import { execProcess } from './exec.js';
import { exitProcess, killProcess } from './exit.js';
import { handleFault } from './fault.js';
import { forkProcess } from './fork.js';
import {
  G_ACCESSES_LO,
  G_COW_COPIES,
  G_COW_TAKEOVERS,
  G_FREE_BEFORE,
  G_MAGIC,
  G_PAGE_FAULTS,
  G_PAGE_INS,
  G_SWITCHES,
  GLOBALS_SIZE,
  P_ACCESSES_LO,
} from './layout.js';
import { ProcTable } from './proctable.js';
import { RefCounts } from './refcount.js';
import { readStats } from './stats.js';
import { sysBrk, sysMmap2, sysMprotect, sysMunmap } from './syscalls.js';
import { describeRegion, regionInfo, regionList } from './vma.js';
import { Pager, type PagerCounters } from '../swap/pager.js';

/** createProcessKernel brings up processes on a kernel from kernelInit (frames taken here count as "before"). */
export function createProcessKernel(kernel: Kernel, options: ProcessKernelOptions = {}): ProcessKernel {
  const { vm, frames, heap, core } = kernel;
  const machine = core.machine;
  if (!(machine.mmu.cr0 & CR0_WP)) machine.mmu.writeCr0(machine.mmu.cr0 | CR0_WP); // copy-outs must fault on RO
  const refs = RefCounts.create(vm, frames, Math.floor(topOfRam(core.info) / 4096));
  const table = ProcTable.create(core.slot, frames, machine);
  if (table === null) throw new ProcError('out-of-memory', 'out of memory for the process table');
  const globals = heap.kcalloc(1, GLOBALS_SIZE);
  if (globals === null) throw new ProcError('out-of-memory', 'out of kernel heap for the process totals');
  const k: ProcCtx = {
    machine,
    vm,
    frames,
    heap,
    refs,
    table,
    files: [],
    globals,
    ended: new Map(),
    onEvent: null,
    pager: null,
  };
  if (options.swap !== undefined) k.pager = Pager.create(k, options.swap);
  kwrite(k, globals, G_MAGIC);
  kwrite(k, globals + G_FREE_BEFORE, frames.stats().free);
  const pk = new Processes(k);
  pk.onEvent = options.onEvent ?? null;
  return pk;
}

class Processes implements ProcessKernel {
  private readonly mmu: Mmu;
  private readonly mem: PhysicalMemory;
  /** The running pid (0: none) and the accesses it made since it was switched in (folded in at switch/exit). */
  private cur = 0;
  private run = 0;

  constructor(private readonly k: ProcCtx) {
    this.mmu = k.machine.mmu;
    this.mem = k.machine.mem;
  }

  get onEvent(): ((e: ProcessEvent) => void) | null {
    return this.k.onEvent;
  }

  set onEvent(fn: ((e: ProcessEvent) => void) | null) {
    this.k.onEvent = fn;
  }

  get current(): number {
    return this.cur;
  }

  kernelMode(): void {
    this.enter();
  }

  /** enter is the kernel entry: CPL 0. */
  private enter(): void {
    if (this.mmu.cpl !== 0) this.mmu.setCpl(0);
  }

  pids(): number[] {
    this.enter();
    return this.k.table.pids();
  }

  exec(elf: Uint8Array, argv: readonly string[], envp: readonly string[], opts: ExecOptions): ExecResult {
    this.enter();
    return execProcess(this.k, elf, argv, envp, opts);
  }

  switchTo(pid: number): void {
    this.enter();
    const h = this.k.table.open(pid);
    if ((this.mmu.cr3 & FRAME_MASK) >>> 0 === h.space.directory && this.cur === pid) return;
    this.foldAccesses();
    const from = this.cur;
    this.k.vm.switchTo(h.space);
    this.cur = pid;
    kadd(this.k, this.k.globals + G_SWITCHES, 1);
    emit(this.k, { type: 'switch', from, to: pid });
  }

  access(pid: number, linear: number, size: 1 | 2 | 4, kind: AccessKind, value = 0): number {
    if (pid !== this.cur || pid === 0) throw this.notCurrent(pid);
    const mmu = this.mmu;
    if (mmu.cpl !== 3) mmu.setCpl(3);
    this.run++;
    const l = linear >>> 0;
    if ((l & 0xfff) + size > 4096) return this.accessSplit(l, size, kind, value);
    let p = mmu.translate(l, kind);
    if (p < 0) {
      p = this.userFault(l, kind);
      if (p < 0) return ACCESS_KILLED;
    }
    if (kind === ACCESS_WRITE) {
      this.mem.write(p, value, size);
      return 0;
    }
    return this.mem.read(p, size);
  }

  /** accessSplit makes an access that straddles two pages: both translated first (as the machine does). */
  private accessSplit(l: number, size: 1 | 2 | 4, kind: AccessKind, value: number): number {
    let p1 = this.userTranslate(l, kind);
    const second = ((l + size) & ~0xfff) >>> 0;
    let p2 = p1 < 0 ? -1 : this.userTranslate(second, kind);
    // p2's fault may have evicted p1's page (a frame budget): translate both again until they stand
    for (let i = 0; i < 4 && p2 >= 0 && this.k.pager !== null; i++) {
      const again = this.userTranslate(l, kind);
      const q2 = again < 0 ? -1 : this.userTranslate(second, kind);
      if (again === p1 && q2 === p2) break;
      [p1, p2] = [again, q2];
    }
    if (p2 < 0) return ACCESS_KILLED;
    const n1 = 4096 - (l & 0xfff);
    if (kind === ACCESS_WRITE) {
      for (let i = 0; i < size; i++) this.mem.write8(i < n1 ? p1 + i : p2 + i - n1, (value >>> (8 * i)) & 0xff);
      return 0;
    }
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.mem.read8(i < n1 ? p1 + i : p2 + i - n1);
    return v;
  }

  /** userTranslate translates a CPL-3 access, resolving faults; -1 when the process was killed. */
  private userTranslate(l: number, kind: AccessKind): number {
    const p = this.mmu.translate(l, kind);
    return p >= 0 ? p : this.userFault(l, kind);
  }

  /** userFault is the #PF from CPL 3 (CR2, error code): resolved and retried, or the process killed (-1). */
  private userFault(l: number, kind: AccessKind): number {
    const mmu = this.mmu;
    for (let tries = 0; tries < 3; tries++) {
      const cr2 = mmu.cr2;
      const code = mmu.faultCode;
      mmu.setCpl(0);
      const h = this.k.table.open(this.cur);
      const out = handleFault(this.k, h, cr2, code);
      if (!out.ok) {
        this.foldAccesses();
        this.cur = 0;
        killProcess(this.k, h, {
          address: cr2,
          errorCode: code,
          reason: out.reason,
          region: describeRegion(out.region),
        });
        return -1;
      }
      mmu.setCpl(3);
      const p = mmu.translate(l, kind);
      if (p >= 0) return p;
    }
    throw new ProcError('corrupted', `the fault at ${hex(l)} persists after the handler resolved it`);
  }

  fork(parent: number): number {
    this.enter();
    return forkProcess(this.k, this.k.table.open(parent));
  }

  exit(pid: number, code: number): void {
    this.enter();
    const h = this.k.table.open(pid);
    if (pid === this.cur) {
      this.foldAccesses();
      this.cur = 0;
    }
    exitProcess(this.k, h, code);
  }

  brk(pid: number, addr: number): number {
    this.enter();
    return sysBrk(this.k, this.k.table.open(pid), addr >>> 0);
  }

  mmap2(pid: number, addr: number, length: number, prot: number, file?: MmapFile): number {
    this.enter();
    return sysMmap2(this.k, this.k.table.open(pid), addr, length, prot, file);
  }

  munmap(pid: number, addr: number, length: number): number {
    this.enter();
    return sysMunmap(this.k, this.k.table.open(pid), addr, length);
  }

  mprotect(pid: number, addr: number, length: number, prot: number): number {
    this.enter();
    return sysMprotect(this.k, this.k.table.open(pid), addr, length, prot);
  }

  copyOut(pid: number, addr: LinAddr | number, bytes: Uint8Array): number {
    this.enter();
    if (pid !== this.cur || pid === 0) throw this.notCurrent(pid);
    return copyOut(this.k, this.k.table.open(pid), addr, bytes);
  }

  stats(pid: number): ProcessStats {
    this.enter();
    const ended = this.k.ended.get(pid);
    if (ended !== undefined) return ended;
    const h: ProcHandle = this.k.table.open(pid);
    return readStats(this.k, h.desc, pid, '', pid === this.cur ? this.run : 0);
  }

  regions(pid: number): RegionInfo[] {
    this.enter();
    return regionList(this.k, this.k.table.open(pid).desc).map(regionInfo);
  }

  totals(): KernelTotals {
    this.enter();
    const g = this.k.globals;
    const r = (o: number): number => kread(this.k, g + o);
    return {
      accesses: read64(this.k, g + G_ACCESSES_LO) + this.run,
      pageFaults: r(G_PAGE_FAULTS),
      pageIns: r(G_PAGE_INS),
      cowCopies: r(G_COW_COPIES),
      cowTakeovers: r(G_COW_TAKEOVERS),
      contextSwitches: r(G_SWITCHES),
    };
  }

  frames(): FrameFigures {
    this.enter();
    const s = this.k.frames.stats();
    return { total: s.usable, freeBefore: kread(this.k, this.k.globals + G_FREE_BEFORE), freeNow: s.free };
  }

  swapCounters(): PagerCounters | null {
    this.enter();
    return this.k.pager === null ? null : this.k.pager.counters(this.k);
  }

  closeSwap(): void {
    this.k.pager?.close();
  }

  audit(): string[] {
    this.enter();
    return auditProcesses(this.k);
  }

  /** foldAccesses adds the running process's accesses to its descriptor and the totals. */
  private foldAccesses(): void {
    if (this.cur === 0 || this.run === 0) return;
    this.enter();
    const h = this.k.table.open(this.cur);
    kadd64(this.k, h.desc + P_ACCESSES_LO, this.run);
    kadd64(this.k, this.k.globals + G_ACCESSES_LO, this.run);
    this.run = 0;
  }

  /** notCurrent is the error for an access or copy-out by a process that is not running. */
  private notCurrent(pid: number): ProcError {
    this.enter();
    return new ProcError(
      this.k.table.has(pid) || pid === 0 ? 'not-current' : 'no-process',
      `process ${pid} is not current (current: ${this.cur === 0 ? 'none' : this.cur}); switchTo it first`,
    );
  }
}
