// --verify's model of one process's memory, kept by the driver beside the kernel and independent of it: the
// bytes each store and copy-out wrote, page by page (0xFFFF: never written since the page came in). A load is
// checked byte by byte against it, or, for a byte never written, against the program file's bytes or zero;
// bytes of the initial stack (written by the kernel at exec: argv, envp, auxv) are learned at their first load.

import { PAGE_SIZE } from '../../hw/addr.js';
import type { Program } from './program.js';

const UNKNOWN = 0xffff;

/** One byte a load read that was not what the model expected. */
export interface Mismatch {
  readonly address: number;
  readonly expected: number;
  readonly got: number;
  readonly record: number;
}

export class Shadow {
  private readonly pages: Map<number, Uint16Array>;
  loads = 0;
  mismatches = 0;
  first: Mismatch | null = null;

  constructor(
    private readonly program: Program,
    /** [low, high): the initial stack the kernel wrote at exec. */
    private readonly stack: readonly [number, number],
    pages?: Map<number, Uint16Array>,
  ) {
    this.pages = pages ?? new Map<number, Uint16Array>();
  }

  /** fork gives the child's model: a copy of every page (counters start at zero). */
  fork(): Shadow {
    const copy = new Map<number, Uint16Array>();
    for (const [k, v] of this.pages) copy.set(k, v.slice());
    return new Shadow(this.program, this.stack, copy);
  }

  /** store notes `size` bytes of value (little-endian) written at address. */
  store(address: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) this.setByte(address + i, (value >>> (8 * i)) & 0xff);
  }

  /** storeBytes notes a copy-out. */
  storeBytes(address: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.setByte(address + i, bytes[i]);
  }

  /** check compares a load of `size` bytes that returned `value` with the model (record: for the report). */
  check(address: number, size: number, value: number, record: number): void {
    this.loads++;
    for (let i = 0; i < size; i++) {
      const a = (address + i) >>> 0;
      const got = (value >>> (8 * i)) & 0xff;
      const expected = this.expected(a, got);
      if (expected === got) continue;
      this.mismatches++;
      this.first ??= { address: a, expected, got, record };
    }
  }

  /** drop forgets the pages of [start, end) (unmapped, or freed by a shrinking brk): they come back zeroed. */
  drop(start: number, end: number): void {
    const first = Math.ceil(start / PAGE_SIZE);
    for (let p = first; p * PAGE_SIZE + PAGE_SIZE <= end; p++) this.pages.delete(p);
  }

  /** expected is the byte the model says `a` holds (learning a never-written initial-stack byte as `got`). */
  private expected(a: number, got: number): number {
    const page = this.pages.get(Math.floor(a / PAGE_SIZE));
    const known = page === undefined ? UNKNOWN : page[a % PAGE_SIZE];
    if (known !== UNKNOWN) return known;
    if (a >= this.stack[0] && a < this.stack[1]) {
      this.setByte(a, got);
      return got;
    }
    const b = this.program.initialByte(a);
    return b < 0 ? 0 : b;
  }

  private setByte(a: number, v: number): void {
    a >>>= 0;
    const key = Math.floor(a / PAGE_SIZE);
    let page = this.pages.get(key);
    if (page === undefined) {
      page = new Uint16Array(PAGE_SIZE).fill(UNKNOWN);
      this.pages.set(key, page);
    }
    page[a % PAGE_SIZE] = v;
  }
}
