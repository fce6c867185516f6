// The driver of `pagelab run`: it stands in for the CPU and the system-call entry. It execs the first log's
// program, then runs every process's records (each an access at CPL 3 through the kernel) and system calls
// round-robin, a quantum of records per time slice; wait4 blocks its caller until that child has ended.

import { PagelabError } from '../../errors.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../hw/fault.js';
import { PAGE_SIZE } from '../../hw/addr.js';
import { ACCESS_KILLED, type ProcessEvent, type ProcessKernel } from '../../kernel/proc/api.js';
import { KIND_I, KIND_L, KIND_M, KIND_S } from '../replay/trace.js';
import { copyOutOf, patternFor, WAIT_CALLS } from './copyout.js';
import type { ProcessLog, Syscall } from './log.js';
import type { Program } from './program.js';
import { Shadow } from './shadow.js';

const NR_EXIT = 1;
const NR_BRK = 45;
const NR_MUNMAP = 91;
const NR_MPROTECT = 125;
const NR_MMAP2 = 192;
const NR_EXIT_GROUP = 252;
const MAP_ANONYMOUS = 0x20;
const SIGSEGV = 11;

/** One process as the driver runs it: its log, where it is in it, its kernel pid. */
export interface RunProc {
  readonly log: ProcessLog;
  readonly name: string;
  readonly kpid: number;
  /** The next record and the next system call of the log. */
  pos: number;
  call: number;
  state: 'ready' | 'waiting' | 'done';
  /** Records run so far. */
  records: number;
  exitCode: number | null;
  killed: boolean;
  readonly shadow: Shadow | null;
}

/** What the driver noticed that differs from the log (a kernel answer unlike Linux's, a log it cannot follow). */
export interface Divergence {
  readonly process: string;
  readonly line: number;
  readonly what: string;
}

export interface DriverOptions {
  readonly quantum: number;
  readonly verify: boolean;
  /** Called for each kernel event with the record number (in its process's log) it happened at. */
  readonly onEvent?: (e: ProcessEvent, record: number, logPid: number) => void;
  /** Called after each time slice with the records run and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** A log with the name it is reported by (its file). */
export interface NamedLog {
  readonly name: string;
  readonly log: ProcessLog;
}

export class Driver {
  readonly procs: RunProc[] = [];
  readonly divergences: Divergence[] = [];
  private readonly byLogPid = new Map<number, NamedLog>();
  private readonly procByLogPid = new Map<number, RunProc>();
  private readonly byKpid = new Map<number, RunProc>();
  private running: RunProc | null = null;
  private done = 0;
  private readonly total: number;
  private readonly root: NamedLog;
  stackPointer = 0;
  readonly stackTop: number;

  constructor(
    private readonly kernel: ProcessKernel,
    private readonly program: Program,
    logs: readonly NamedLog[],
    private readonly options: DriverOptions,
  ) {
    for (const l of logs) {
      if (this.byLogPid.has(l.log.pid)) throw new PagelabError(`${l.name}: a second log of process ${l.log.pid}`);
      this.byLogPid.set(l.log.pid, l);
    }
    this.total = logs.reduce((n, l) => n + l.log.length, 0);
    this.root = this.rootLog(); // the logs are read and placed before run(), which is timed from the exec
    this.stackTop = stackTopOf(this.root.log);
    kernel.onEvent = (e) => this.event(e);
  }

  /** run execs the root log's program and runs every process to its end. */
  run(): void {
    const root = this.root;
    const argv = root.log.argv.length > 0 ? root.log.argv : [this.program.path];
    const brk = root.log.calls.find((c) => c.nr === NR_BRK && c.args[0] === 0)?.result ?? null;
    const r = this.kernel.exec(this.program.bytes, argv, [], {
      stackTop: this.stackTop,
      ...(brk === null ? {} : { brk }),
    });
    this.stackPointer = r.stackPointer;
    const shadow = this.options.verify
      ? new Shadow(this.program, [Math.floor(r.stackPointer / PAGE_SIZE) * PAGE_SIZE, this.stackTop])
      : null;
    this.addProc(root, r.pid, shadow);
    this.schedule();
  }

  /** rootLog is the one log no other log forks (its process is exec'ed; the others are forked children). */
  private rootLog(): NamedLog {
    const children = new Set<number>();
    for (const { log } of this.byLogPid.values())
      for (const c of log.calls) if (c.child !== null) children.add(c.child);
    const roots = [...this.byLogPid.values()].filter((l) => !children.has(l.log.pid));
    if (roots.length !== 1) {
      const names = roots.map((l) => l.name).join(', ') || 'none';
      throw new PagelabError(`the logs must be one process tree: one log no other forks, found ${names}`);
    }
    if (roots[0].log.forked) throw new PagelabError(`${roots[0].name}: a forked child's log, but no parent's`);
    return roots[0];
  }

  private addProc(l: NamedLog, kpid: number, shadow: Shadow | null): RunProc {
    const p: RunProc = {
      log: l.log,
      name: l.name,
      kpid,
      pos: 0,
      call: 0,
      state: 'ready',
      records: 0,
      exitCode: null,
      killed: false,
      shadow,
    };
    this.procs.push(p);
    this.procByLogPid.set(l.log.pid, p);
    this.byKpid.set(kpid, p);
    return p;
  }

  /** schedule runs ready processes in turn (in creation order, round-robin), a quantum each, until all are done. */
  private schedule(): void {
    for (let cur = 0; ; cur++) {
      const n = this.procs.length;
      let k = 0;
      while (k < n && this.procs[(cur + k) % n].state !== 'ready') k++;
      if (k === n) {
        const live = this.procs.filter((p) => p.state !== 'done');
        if (live.length === 0) return;
        throw new PagelabError(`every process waits: ${live.map((p) => p.name).join(', ')}`);
      }
      cur = (cur + k) % n;
      const p = this.procs[cur];
      this.kernel.switchTo(p.kpid);
      this.running = p;
      this.slice(p, this.options.quantum);
      this.options.onProgress?.(this.done, this.total);
    }
  }

  /** slice runs p's records and system calls until its quantum is used, it blocks or it ends. */
  private slice(p: RunProc, quantum: number): void {
    let budget = quantum;
    const calls = p.log.calls;
    while (p.state === 'ready') {
      const limit = p.call < calls.length ? calls[p.call].at : p.log.length;
      if (p.pos < limit) {
        if (budget <= 0) return;
        const end = Math.min(limit, p.pos + budget);
        const ran = this.records(p, end);
        budget -= ran;
        if ((p.state as RunProc['state']) !== 'ready') return; // records() may have ended it
        continue;
      }
      if (p.call < calls.length) this.syscall(p, calls[p.call]);
      else this.endOfLog(p);
    }
  }

  /** records runs p's records [pos, end) (stopping if one kills it) and returns how many ran. */
  private records(p: RunProc, end: number): number {
    const { addr, kind, size } = p.log;
    const k = this.kernel;
    const kpid = p.kpid;
    const sh = p.shadow;
    const start = p.pos;
    let i = start;
    for (; i < end; i++) {
      const a = addr[i];
      const kd = kind[i];
      const n = size[i];
      let r: number;
      if (kd === KIND_I) {
        r = k.access(kpid, a, 1, ACCESS_FETCH);
        if (r !== ACCESS_KILLED && ((a + n - 1) ^ a) >= PAGE_SIZE) r = k.access(kpid, a + n - 1, 1, ACCESS_FETCH);
      } else if (n === 1 || n === 2 || n === 4) {
        r = kd === KIND_L || kd === KIND_M ? k.access(kpid, a, n, ACCESS_READ) : 0;
        if (sh !== null && r !== ACCESS_KILLED && kd !== KIND_S) sh.check(a, n, r, i);
        if (r !== ACCESS_KILLED && kd !== KIND_L) r = this.store(p, a, n, i);
      } else r = this.pieces(p, a, n, kd, i);
      if (r === ACCESS_KILLED) break;
    }
    const ran = i - start + (i < end ? 1 : 0);
    p.pos = i < end ? i + 1 : i;
    p.records += ran;
    this.done += ran;
    if (i < end) this.killedByKernel(p, i);
    return ran;
  }

  /** store writes n bytes of a value derived from the record number (noted in the model with --verify). */
  private store(p: RunProc, a: number, n: 1 | 2 | 4, record: number): number {
    const v = storeValue(record, a) & (n === 4 ? 0xffffffff : (1 << (8 * n)) - 1);
    const r = this.kernel.access(p.kpid, a, n, ACCESS_WRITE, v >>> 0);
    if (r !== ACCESS_KILLED) p.shadow?.store(a, n, v);
    return r;
  }

  /** pieces makes a record wider than 4 bytes (or 3) as 4-byte pieces and a 1- or 2-byte rest. */
  private pieces(p: RunProc, a: number, n: number, kd: number, record: number): number {
    for (let off = 0; off < n;) {
      const w: 1 | 2 | 4 = n - off >= 4 ? 4 : n - off >= 2 ? 2 : 1;
      let r = kd === KIND_S ? 0 : this.kernel.access(p.kpid, a + off, w, ACCESS_READ);
      if (r === ACCESS_KILLED) return r;
      if (kd !== KIND_S) p.shadow?.check(a + off, w, r, record);
      if (kd !== KIND_L) r = this.store(p, a + off, w, record);
      if (r === ACCESS_KILLED) return r;
      off += w;
    }
    return 0;
  }

  /** syscall makes one system call of the log (a wait that must block leaves the call to be made again). */
  private syscall(p: RunProc, c: Syscall): void {
    if (WAIT_CALLS.has(c.nr) && !this.waitDone(p, c)) return;
    p.call++;
    if (c.child !== null) return this.fork(p, c);
    switch (c.nr) {
      case NR_EXIT:
      case NR_EXIT_GROUP:
        return this.exit(p, c.args[0] ?? 0);
      case NR_BRK:
        return this.brk(p, c);
      case NR_MMAP2:
        return this.mmap2(p, c);
      case NR_MUNMAP:
        if (!c.failed) this.expect(p, c, this.kernel.munmap(p.kpid, c.args[0], c.args[1]), 0);
        p.shadow?.drop(c.args[0], c.args[0] + pageUp(c.args[1]));
        return;
      case NR_MPROTECT:
        if (!c.failed) this.expect(p, c, this.kernel.mprotect(p.kpid, c.args[0], c.args[1], c.args[2]), 0);
        return;
    }
    const out = copyOutOf(c);
    if (out !== null) this.copyOut(p, c, out[0], patternFor(c.line, out[1]));
  }

  /** copyOut writes bytes into p's memory through the kernel (and the model). */
  private copyOut(p: RunProc, c: Syscall, addr: number, bytes: Uint8Array): void {
    if (this.kernel.copyOut(p.kpid, addr, bytes) === 0) p.shadow?.storeBytes(addr, bytes);
    else this.diverge(p, c.line, `the kernel refused the copy-out of ${bytes.length} bytes at 0x${hex(addr)}`);
  }

  /** waitDone tells whether the child a wait4 reaps (its result) has ended, copying its status out if so. */
  private waitDone(p: RunProc, c: Syscall): boolean {
    if (c.failed || c.result === null) return true;
    const child = this.procByLogPid.get(c.result);
    if (child === undefined) throw new PagelabError(`${p.name} line ${c.line}: waits for ${c.result}, never forked`);
    if (child.state !== 'done') {
      p.state = 'waiting';
      return false;
    }
    const status = child.killed ? SIGSEGV : ((child.exitCode ?? 0) & 0xff) << 8;
    const addr = c.args[1] ?? 0;
    if (addr !== 0) this.copyOut(p, c, addr >>> 0, new Uint8Array(new Uint32Array([status]).buffer));
    return true;
  }

  /** fork makes the child the log names; its own log then runs from its start. */
  private fork(p: RunProc, c: Syscall): void {
    const l = this.byLogPid.get(c.child!);
    if (l === undefined) throw new PagelabError(`${p.name} line ${c.line}: forks ${c.child}, whose log is not given`);
    const kchild = this.kernel.fork(p.kpid);
    if (kchild < 0) throw new PagelabError(`${p.name} line ${c.line}: fork failed (${kchild}): out of memory`);
    this.addProc(l, kchild, p.shadow?.fork() ?? null);
  }

  private brk(p: RunProc, c: Syscall): void {
    const before = p.shadow === null ? 0 : this.kernel.brk(p.kpid, 0);
    const got = this.kernel.brk(p.kpid, c.args[0]);
    if (c.result !== null) this.expect(p, c, got, c.result);
    if (got < before) p.shadow?.drop(got, pageUp(before));
  }

  private mmap2(p: RunProc, c: Syscall): void {
    if (c.failed || c.result === null) return;
    if ((c.args[3] & MAP_ANONYMOUS) === 0) this.diverge(p, c.line, 'a file mapping, made anonymous (no files)');
    const got = this.kernel.mmap2(p.kpid, c.result, c.args[1], c.args[2]);
    this.expect(p, c, got, c.result);
    p.shadow?.drop(c.result, c.result + pageUp(c.args[1]));
  }

  private exit(p: RunProc, code: number): void {
    this.kernel.exit(p.kpid, code);
    p.exitCode = code;
    this.finish(p);
  }

  /** endOfLog ends a process whose log is over: the fatal signal it names, else an exit without exit_group. */
  private endOfLog(p: RunProc): void {
    const d = p.log.death;
    if (d?.address !== null && d?.address !== undefined) {
      const how = d.pc === null ? null : this.program.faultingAccess(d.pc, d.mapped);
      if (d.pc !== null && this.kernel.access(p.kpid, d.pc, 1, ACCESS_FETCH) === ACCESS_KILLED)
        return this.killedByKernel(p, p.log.length);
      const r = this.kernel.access(p.kpid, d.address, how?.size ?? 4, how?.kind ?? ACCESS_READ, 0);
      if (r === ACCESS_KILLED) return this.killedByKernel(p, p.log.length);
      this.diverge(p, d.line, `valgrind reports ${d.name} at 0x${hex(d.address)}, but the kernel allowed it`);
      return this.exit(p, 128 + d.signal);
    }
    this.diverge(p, p.log.lines, 'the log ends without exit_group');
    this.exit(p, 0);
  }

  private killedByKernel(p: RunProc, record: number): void {
    p.killed = true;
    if (p.log.death === null) this.diverge(p, 0, `killed by the kernel at record ${record}, which valgrind ran on`);
    this.finish(p);
  }

  /** finish marks p done and wakes a parent waiting for it. */
  private finish(p: RunProc): void {
    p.state = 'done';
    for (const q of this.procs) if (q.state === 'waiting') q.state = 'ready';
  }

  private expect(p: RunProc, c: Syscall, got: number, want: number): void {
    if (got !== want) this.diverge(p, c.line, `${c.name} returned 0x${hex(got)}, the log says 0x${hex(want)}`);
  }

  private diverge(p: RunProc, line: number, what: string): void {
    this.divergences.push({ process: p.name, line, what });
  }

  /** event passes a kernel event on with the record number of the process it concerns. */
  private event(e: ProcessEvent): void {
    if (this.options.onEvent === undefined) return;
    const pid = 'pid' in e ? e.pid : 'parent' in e ? e.parent : e.to;
    const p = this.byKpid.get(pid) ?? this.running;
    this.options.onEvent(e, p === null ? 0 : p.pos, p === null ? 0 : p.log.pid);
  }
}

/**
 * stackTopOf is where the initial stack ends: the page above the highest address the log touches within
 * 256 KiB above its first data access (the load of argc at the entry's stack pointer).
 */
export function stackTopOf(log: ProcessLog): number {
  let first = -1;
  for (let i = 0; i < log.length && first < 0; i++) if (log.kind[i] !== KIND_I) first = log.addr[i]!;
  if (first < 0) throw new PagelabError('the log has no data access to place the stack by');
  let top = first + 4;
  for (let i = 0; i < log.length; i++) {
    const a = log.addr[i];
    if (log.kind[i] !== KIND_I && a >= first && a < first + (1 << 18)) top = Math.max(top, a + log.size[i]);
  }
  return pageUp(top);
}

/** storeValue is the value a store of record `record` writes (a hash of the record number and address). */
export function storeValue(record: number, address: number): number {
  return Math.imul(record + 1, 0x9e3779b1) ^ address;
}

function pageUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

function hex(n: number): string {
  return (n >>> 0).toString(16);
}
