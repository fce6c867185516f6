// A decoded trace: one record per access, held in typed arrays (the low 32
// bits of each address and the machine's access kind), built once and then
// replayed any number of times without allocation.

import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../hw/fault.js';

/** Record kinds as they appear in both trace formats (ASCII letters). */
export const KIND_I = 0x49; // instruction fetch
export const KIND_L = 0x4c; // load
export const KIND_S = 0x53; // store
export const KIND_M = 0x4d; // modify: load and store, one translation as a write

/** How many records of each kind a trace holds. */
export interface KindCounts {
  I: number;
  L: number;
  S: number;
  M: number;
}

/** Lines a text parser skipped: valgrind's `==` lines and, with --lenient, malformed ones (the first noted). */
export interface SkipStats {
  commentLines: number;
  badLines: number;
  firstBadLine: number;
}

/** A trace decoded into typed arrays. `addr[i]` is the low 32 bits of record i's address. */
export interface Trace {
  readonly length: number;
  readonly addr: Uint32Array;
  readonly kind: Uint8Array;
  readonly counts: KindCounts;
  /** valgrind's own `==` lines skipped (text input). */
  readonly commentLines: number;
  /** Malformed lines skipped with --lenient, and the first of them (0 if none). */
  readonly badLines: number;
  readonly firstBadLine: number;
}

/** Where a parser delivers records: the address as two 32-bit halves, the kind letter and the size. */
export interface RecordSink {
  record(lo: number, hi: number, kind: number, size: number): void;
}

/** accessKindOf maps a record kind letter to the MMU access it makes (S and M write). */
export function accessKindOf(kind: number): AccessKind {
  if (kind === KIND_I) return ACCESS_FETCH;
  return kind === KIND_L ? ACCESS_READ : ACCESS_WRITE;
}

/** isKindLetter tells whether a byte is one of I, L, S, M. */
export function isKindLetter(b: number): boolean {
  return b === KIND_I || b === KIND_L || b === KIND_S || b === KIND_M;
}

/** Collects records into growing typed arrays; finish() gives the Trace. */
export class TraceBuilder implements RecordSink, SkipStats {
  private addr = new Uint32Array(1 << 16);
  private kind = new Uint8Array(1 << 16);
  private n = 0;
  readonly counts: KindCounts = { I: 0, L: 0, S: 0, M: 0 };
  commentLines = 0;
  badLines = 0;
  firstBadLine = 0;

  /** record appends one access (the high half of the address is dropped: the bare model is 32-bit). */
  record(lo: number, _hi: number, kind: number, _size: number): void {
    if (this.n === this.addr.length) this.grow();
    this.addr[this.n] = lo;
    this.kind[this.n] = accessKindOf(kind);
    this.n++;
    if (kind === KIND_I) this.counts.I++;
    else if (kind === KIND_L) this.counts.L++;
    else if (kind === KIND_S) this.counts.S++;
    else this.counts.M++;
  }

  /** finish returns the trace built so far (views on the builder's arrays, no copy). */
  finish(): Trace {
    return {
      length: this.n,
      addr: this.addr.subarray(0, this.n),
      kind: this.kind.subarray(0, this.n),
      counts: { ...this.counts },
      commentLines: this.commentLines,
      badLines: this.badLines,
      firstBadLine: this.firstBadLine,
    };
  }

  private grow(): void {
    const addr = new Uint32Array(this.addr.length * 2);
    addr.set(this.addr);
    const kind = new Uint8Array(this.kind.length * 2);
    kind.set(this.kind);
    this.addr = addr;
    this.kind = kind;
  }
}

/** traceFromRecords builds a trace from [address, kind letter] pairs (tests, small tools). */
export function traceFromRecords(records: ReadonlyArray<readonly [number, string]>): Trace {
  const b = new TraceBuilder();
  for (const [a, k] of records) {
    if (k.length !== 1 || !isKindLetter(k.charCodeAt(0)))
      throw new RangeError(`record kind must be I, L, S or M, got '${k}'`);
    b.record(a >>> 0, Math.floor(a / 2 ** 32), k.charCodeAt(0), 1);
  }
  return b.finish();
}
