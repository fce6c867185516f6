// One process's valgrind log (lackey --trace-mem=yes --trace-syscalls=yes): the access records in typed arrays
// and, between them, the system calls, the `==PID==` header (Command:, Parent PID:) and the report of a fatal
// signal. Parsed strictly from byte chunks, line by line; the grammar is README.md's "Processes" section.

import { ParseError } from '../../errors.js';
import { KIND_I } from '../replay/trace.js';
import { LineFault, parseSyscallLine, parseContinuation, type SyscallLine } from './syscall-line.js';

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COMMA = 0x2c;
/** The longest line kept (a system call's string arguments make lines long; records are under 30 bytes). */
const MAX_LINE = 1 << 16;

/** HEX[b] is the value of hex digit byte b, or 255. */
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

/** A system call of the log, placed before record `at` (the index of the next access record). */
export interface Syscall {
  readonly line: number;
  readonly at: number;
  readonly nr: number;
  /** valgrind's name (`sys_brk`, `exit_group`, `ni_syscall` for an unimplemented one). */
  readonly name: string;
  readonly args: readonly number[];
  /** The text valgrind shows in parentheses after an argument (a path), or null. */
  readonly strings: readonly (string | null)[];
  /** The value returned (Success) or the error number (Failure); null if the log ends before the result. */
  result: number | null;
  failed: boolean;
  /** For clone(fork): the child's pid. */
  readonly child: number | null;
}

/** How the process died of a signal, from valgrind's "Process terminating" lines. */
export interface SignalDeath {
  readonly line: number;
  readonly signal: number;
  readonly name: string;
  /** The faulting address valgrind names, and whether it said the region was mapped ("Bad permissions"). */
  address: number | null;
  mapped: boolean;
  /** The program counter of the faulting instruction (the first `at 0x...:` line). */
  pc: number | null;
}

/** A parsed log: records (addresses, kind letters, sizes clamped to 255) and what happened between them. */
export interface ProcessLog {
  readonly pid: number;
  readonly parentPid: number | null;
  readonly argv: readonly string[];
  readonly length: number;
  readonly addr: Uint32Array;
  readonly kind: Uint8Array;
  readonly size: Uint8Array;
  readonly calls: readonly Syscall[];
  /** The log begins with the result of the fork that created the process (a child's log). */
  readonly forked: boolean;
  readonly exitCode: number | null;
  readonly death: SignalDeath | null;
  readonly lines: number;
}

/** Parses a process log from chunks: push() each, end() at the end, then log(). */
export class ProcessLogParser {
  private carry: Uint8Array = new Uint8Array(0);
  private line = 0;
  private n = 0;
  private addr = new Uint32Array(1 << 14);
  private kind = new Uint8Array(1 << 14);
  private size = new Uint8Array(1 << 14);
  private readonly calls: Syscall[] = [];
  private pending: Syscall | null = null;
  private pid: number | null = null;
  private parentPid: number | null = null;
  private argv: string[] = [];
  private forked = false;
  private content = false;
  private exitCode: number | null = null;
  private death: SignalDeath | null = null;

  constructor(private readonly name: string) {}

  /** push parses every complete line in chunk (plus what an earlier chunk left unfinished). */
  push(chunk: Uint8Array): void {
    let start = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.keepCarry(concat(this.carry, chunk));
        return;
      }
      const joined = concat(this.carry, chunk.subarray(0, nl));
      this.carry = new Uint8Array(0);
      this.parseLine(joined, 0, joined.length);
      start = nl + 1;
    }
    for (let e = chunk.indexOf(NL, start); e >= 0; e = chunk.indexOf(NL, start)) {
      this.parseLine(chunk, start, e);
      start = e + 1;
    }
    this.keepCarry(chunk.slice(start));
  }

  /** end parses a last line that had no newline. */
  end(): void {
    if (this.carry.length > 0) this.parseLine(this.carry, 0, this.carry.length);
    this.carry = new Uint8Array(0);
  }

  /** log returns what was parsed (views on the parser's arrays); a log without a `==PID==` line is an error. */
  log(): ProcessLog {
    if (this.pid === null) throw new ParseError(this.name, this.line, "a '==PID== Command:' header", 'line');
    return {
      pid: this.pid,
      parentPid: this.parentPid,
      argv: this.argv,
      length: this.n,
      addr: this.addr.subarray(0, this.n),
      kind: this.kind.subarray(0, this.n),
      size: this.size.subarray(0, this.n),
      calls: this.calls,
      forked: this.forked,
      exitCode: this.exitCode,
      death: this.death,
      lines: this.line,
    };
  }

  private keepCarry(rest: Uint8Array): void {
    if (rest.length > MAX_LINE) throw this.error(MAX_LINE, `a line of at most ${MAX_LINE} bytes`);
    this.carry = rest;
  }

  private error(column: number, expected: string): ParseError {
    return new ParseError(this.name, this.line + 1, `${expected} (column ${column})`, 'line');
  }

  /** parseLine handles one line b[s, e) (no newline; a CR before it is dropped). */
  private parseLine(b: Uint8Array, s: number, e: number): void {
    if (e > s && b[e - 1] === CR) e--;
    try {
      if (!this.parseRecord(b, s, e)) this.parseText(new TextDecoder().decode(b.subarray(s, e)));
    } catch (err) {
      if (err instanceof LineFault) throw this.error(err.column, err.expected);
      throw err;
    }
    this.line++;
  }

  /** parseRecord reads `I  ADDR,SIZE` or ` K ADDR,SIZE`; false if the line does not start like a record. */
  private parseRecord(b: Uint8Array, s: number, e: number): boolean {
    let kind: number;
    if (e - s >= 3 && b[s] === KIND_I && b[s + 1] === SPACE && b[s + 2] === SPACE) kind = KIND_I;
    else if (e - s >= 3 && b[s] === SPACE && isDataKind(b[s + 1]) && b[s + 2] === SPACE) kind = b[s + 1]!;
    else return false;
    let i = s + 3;
    let lo = 0;
    const hexStart = i;
    for (; i < e && HEX[b[i]] !== 255; i++) {
      if (i - hexStart === 8) throw new LineFault(i - s + 1, 'at most 8 hex digits of address (a 32-bit program)');
      lo = ((lo << 4) | HEX[b[i]]) >>> 0;
    }
    if (i === hexStart) throw new LineFault(i - s + 1, 'a hex address');
    if (i >= e || b[i] !== COMMA) throw new LineFault(i - s + 1, "',' after the address");
    const sizeStart = ++i;
    let size = 0;
    for (; i < e && b[i] >= 0x30 && b[i] <= 0x39 && i - sizeStart < 6; i++) size = size * 10 + b[i] - 0x30;
    if (i === sizeStart) throw new LineFault(i - s + 1, 'a decimal size');
    if (i !== e) throw new LineFault(i - s + 1, 'the end of the line after a size of at most 6 digits');
    if (size === 0) throw new LineFault(sizeStart - s + 1, 'a size of at least 1');
    this.append(lo, kind, size);
    return true;
  }

  private append(lo: number, kind: number, size: number): void {
    if (this.n === this.addr.length) this.grow();
    this.addr[this.n] = lo;
    this.kind[this.n] = kind;
    this.size[this.n] = size > 255 ? 255 : size;
    this.n++;
  }

  /** parseText handles a line that is not a record: `==PID==`, `SYSCALL[`, a ` --> ` continuation. */
  private parseText(text: string): void {
    if (text.startsWith('==')) return this.parseValgrindLine(text);
    if (text.startsWith('SYSCALL[')) return this.takeSyscall(parseSyscallLine(text));
    if (text.startsWith(' --> ')) return this.takeContinuation(text);
    throw new LineFault(1, "'I  ', ' L ', ' S ', ' M ', '==PID==', 'SYSCALL[' or ' --> '");
  }

  /** parseValgrindLine reads `==PID== ...`: the header fields and the fatal-signal report; others are skipped. */
  private parseValgrindLine(text: string): void {
    const m = /^==(\d{1,10})==/.exec(text);
    if (m === null) throw new LineFault(3, "a pid and '==' after '=='");
    const pid = Number(m[1]);
    if (this.pid === null) this.pid = pid;
    else if (pid !== this.pid) throw new LineFault(3, `the pid ${this.pid} of the log's first line`);
    const rest = text.slice(m[0].length);
    let f: RegExpExecArray | null;
    if ((f = /^ Command: (.+)$/.exec(rest)) !== null) this.argv = f[1].split(' ').filter((a) => a !== '');
    else if ((f = /^ Parent PID: (\d{1,10})$/.exec(rest)) !== null) this.parentPid = Number(f[1]);
    else if ((f = /^ Process terminating with default action of signal (\d+) \((\w+)\)/.exec(rest)) !== null)
      this.death = { line: this.line + 1, signal: Number(f[1]), name: f[2], address: null, mapped: false, pc: null };
    else if (this.death !== null) this.deathDetail(rest);
  }

  /** deathDetail reads the address and program counter lines that follow "Process terminating". */
  private deathDetail(rest: string): void {
    const d = this.death!;
    const a = /^ {2}(Access not within|Bad permissions for) mapped region at address 0x([0-9A-Fa-f]{1,8})$/.exec(rest);
    if (a !== null && d.address === null) {
      d.address = parseInt(a[2], 16);
      d.mapped = a[1] === 'Bad permissions for';
      return;
    }
    const pc = /^ {4}at 0x([0-9A-Fa-f]{1,8}):/.exec(rest);
    if (pc !== null && d.pc === null) d.pc = parseInt(pc[1], 16);
  }

  /** takeSyscall records a system call line (an async completion finishes the pending call instead). */
  private takeSyscall(s: SyscallLine): void {
    this.checkPid(s.pid);
    this.content = true;
    if (s.completes) {
      const p = this.pending;
      if (p === null || p.nr !== s.nr) throw new LineFault(1, `a pending call ${s.nr} that this result finishes`);
      this.finish(p, s.result!, s.failed);
      return;
    }
    if (this.pending !== null) throw new LineFault(1, `the result of the call on line ${this.pending.line} first`);
    const call: Syscall = {
      line: this.line + 1,
      at: this.n,
      nr: s.nr,
      name: s.name,
      args: s.args,
      strings: s.strings,
      result: s.result,
      failed: s.failed,
      child: s.child,
    };
    this.calls.push(call);
    if (s.result === null) this.pending = call;
    if (s.name === 'exit_group') this.exitCode = s.args[0] ?? null;
  }

  /** takeContinuation reads ` --> [state] Success(0x...)`: the result of the pending call, or a child's fork. */
  private takeContinuation(text: string): void {
    const r = parseContinuation(text);
    if (this.pending !== null) {
      this.finish(this.pending, r.result, r.failed);
      return;
    }
    if (this.content || this.n > 0) throw new LineFault(1, 'a system call line before this result');
    this.forked = true;
    this.content = true;
  }

  private finish(p: Syscall, result: number, failed: boolean): void {
    p.result = result;
    p.failed = failed;
    this.pending = null;
  }

  private checkPid(pid: number): void {
    if (this.pid === null) this.pid = pid;
    else if (pid !== this.pid) throw new LineFault(9, `the pid ${this.pid} of the log's header`);
  }

  private grow(): void {
    const n = this.addr.length * 2;
    this.addr = growTo(this.addr, new Uint32Array(n));
    this.kind = growTo(this.kind, new Uint8Array(n));
    this.size = growTo(this.size, new Uint8Array(n));
  }
}

function growTo<T extends Uint8Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function isDataKind(b: number | undefined): boolean {
  return b === 0x4c || b === 0x53 || b === 0x4d;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
