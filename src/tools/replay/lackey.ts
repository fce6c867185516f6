// The text trace of valgrind's lackey tool (--trace-mem=yes), parsed as a
// stream of byte chunks: `I  ADDR,SIZE`, ` L ADDR,SIZE`, ` S ADDR,SIZE`,
// ` M ADDR,SIZE` (ADDR 1-16 hex digits, SIZE decimal); lines starting with
// `==` are valgrind's own and skipped, and so are the system-call lines of
// --trace-syscalls=yes (`SYSCALL[` and their ` --> ` continuations; the
// `pagelab run` log parser reads them). Anything else is a ParseError naming
// its line, or, when lenient, counted.

import { ParseError } from '../../errors.js';
import { KIND_I, type RecordSink } from './trace.js';

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COMMA = 0x2c;
const EQ = 0x3d;
/** `SYSCALL[` and ` --> `: the prefixes of valgrind's system-call lines. */
const SYSCALL_PREFIX = new TextEncoder().encode('SYSCALL[');
const CONTINUATION_PREFIX = new TextEncoder().encode(' --> ');
const MAX_SIZE_DIGITS = 9;
/**
 * A record line is at most 29 bytes; a longer unfinished line is kept only up
 * to this many bytes (enough to tell a `==` line or the error).
 */
const MAX_CARRY = 256;
/** No line of a lackey log (a `==` or system-call line included) comes near this: past it the input is refused. */
const MAX_LINE = 1 << 20;

/** HEX[b] is the value of hex digit byte b, or 255. */
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

/** What a line that is not a record nor a `==` line did wrong (for the message). */
interface LineFault {
  column: number;
  expected: string;
}

export interface LackeyOptions {
  /** Count malformed lines instead of failing on the first. */
  readonly lenient?: boolean;
  /** Called for `==` lines and, when lenient, for malformed ones. */
  readonly onSkip?: (line: number, malformed: boolean) => void;
}

export class LackeyParser {
  private readonly sink: RecordSink;
  private readonly lenient: boolean;
  private readonly onSkip: ((line: number, malformed: boolean) => void) | undefined;
  private carry: Uint8Array = new Uint8Array(0);
  /** Bytes of the unfinished line so far (the carry keeps only its first MAX_CARRY). */
  private carried = 0;
  private line = 0;
  private fault: LineFault = { column: 0, expected: '' };
  records = 0;

  constructor(sink: RecordSink, options: LackeyOptions = {}) {
    this.sink = sink;
    this.lenient = options.lenient ?? false;
    this.onSkip = options.onSkip;
  }

  /** Lines seen so far. */
  get lines(): number {
    return this.line;
  }

  /** push parses every complete line in chunk (plus what an earlier chunk left unfinished). */
  push(chunk: Uint8Array): void {
    let start = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.carry = concat(this.carry, chunk).subarray(0, MAX_CARRY);
        this.carried += chunk.length;
        this.checkUnfinished();
        return;
      }
      const joined = concat(this.carry, chunk.subarray(0, nl));
      this.carry = new Uint8Array(0);
      this.carried = 0;
      this.parseLine(joined, 0, joined.length);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last < start) {
      this.carry = chunk.slice(start, start + MAX_CARRY);
      this.carried = chunk.length - start;
      this.checkUnfinished();
      return;
    }
    this.parseLines(chunk, start, last);
    this.carry = chunk.slice(last + 1, last + 1 + MAX_CARRY);
    this.carried = chunk.length - last - 1;
    this.checkUnfinished();
  }

  /**
   * checkUnfinished judges a line still waiting for its newline as soon as it is longer than any record: a line
   * that cannot be a `==` or system-call line is refused at its first wrong byte now (so `/dev/zero` ends at once),
   * and no line may exceed MAX_LINE.
   */
  private checkUnfinished(): void {
    if (this.carried > MAX_LINE)
      throw new ParseError('lackey trace', this.line + 1, `a newline within ${MAX_LINE} bytes`, 'line');
    if (this.carried < MAX_CARRY || this.lenient) return;
    const b = this.carry;
    if ((b[0] === EQ && b[1] === EQ) || isSyscallLine(b, 0, b.length)) return;
    this.parseRecord(b, 0, b.length); // fails (a record is at most 32 bytes) and records where the line goes wrong
    throw new ParseError('lackey trace', this.line + 1, `${this.fault.expected} (column ${this.fault.column})`, 'line');
  }

  /** end parses a last line that had no newline. */
  end(): void {
    if (this.carry.length > 0) this.parseLine(this.carry, 0, this.carry.length);
    this.carry = new Uint8Array(0);
  }

  /** parseLines parses the newline-terminated lines in b[start, last] (b[last] is a newline). */
  private parseLines(b: Uint8Array, start: number, last: number): void {
    let s = start;
    while (s <= last) {
      const e = b.indexOf(NL, s);
      this.parseLine(b, s, e);
      s = e + 1;
    }
  }

  /** parseLine handles one line b[s, e) (no newline; a CR before it is dropped: files that went through Windows). */
  private parseLine(b: Uint8Array, s: number, e: number): void {
    this.line++;
    if (e > s && b[e - 1] === CR) e--;
    if ((e - s >= 2 && b[s] === EQ && b[s + 1] === EQ) || isSyscallLine(b, s, e)) {
      this.onSkip?.(this.line, false);
      return;
    }
    if (this.parseRecord(b, s, e)) return;
    if (!this.lenient) {
      throw new ParseError('lackey trace', this.line, `${this.fault.expected} (column ${this.fault.column})`, 'line');
    }
    this.onSkip?.(this.line, true);
  }

  /**
   * parseRecord reads `I  ADDR,SIZE` or ` K ADDR,SIZE` from b[s, e) and
   * delivers it; false (with this.fault set) if the line is malformed.
   */
  private parseRecord(b: Uint8Array, s: number, e: number): boolean {
    let kind: number;
    if (e - s >= 3 && b[s] === KIND_I && b[s + 1] === SPACE && b[s + 2] === SPACE) kind = KIND_I;
    else if (e - s >= 3 && b[s] === SPACE && isDataKind(b[s + 1]) && b[s + 2] === SPACE) kind = b[s + 1]!;
    else return this.fail(1, "'I  ', ' L ', ' S ', ' M ' or '=='");
    let i = s + 3;
    let lo = 0;
    let hi = 0;
    const hexStart = i;
    for (; i < e && HEX[b[i]] !== 255; i++) {
      if (i - hexStart === 16) return this.fail(i - s + 1, 'at most 16 hex digits of address');
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | HEX[b[i]]) >>> 0;
    }
    if (i === hexStart) return this.fail(i - s + 1, 'a hex address');
    if (i >= e || b[i] !== COMMA) return this.fail(i - s + 1, "',' after the address");
    const sizeStart = ++i;
    let size = 0;
    for (; i < e && b[i] >= 0x30 && b[i] <= 0x39; i++) size = size * 10 + b[i] - 0x30;
    if (i === sizeStart) return this.fail(i - s + 1, 'a decimal size');
    if (i - sizeStart > MAX_SIZE_DIGITS)
      return this.fail(sizeStart - s + 1, `a size of at most ${MAX_SIZE_DIGITS} digits`);
    if (i !== e) return this.fail(i - s + 1, 'the end of the line after the size');
    this.sink.record(lo, hi, kind, size);
    this.records++;
    return true;
  }

  private fail(column: number, expected: string): false {
    this.fault.column = column;
    this.fault.expected = expected;
    return false;
  }
}

/** isSyscallLine tells whether b[s, e) starts with `SYSCALL[` or ` --> ` (a record starts `I  ` or ` K `). */
function isSyscallLine(b: Uint8Array, s: number, e: number): boolean {
  const prefix = b[s] === 0x53 ? SYSCALL_PREFIX : b[s] === SPACE && b[s + 1] === 0x2d ? CONTINUATION_PREFIX : null;
  if (prefix === null || e - s < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[s + i] !== prefix[i]) return false;
  return true;
}

function isDataKind(b: number): boolean {
  return b === 0x4c || b === 0x53 || b === 0x4d;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
