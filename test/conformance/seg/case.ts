// Segmentation conformance cases: a GDT (the kernel's null, code and data
// descriptors, then the case's own from index 4) with a limit, and ops that
// load ES, SS, FS or GS or access memory through ES, FS or GS. The same batch
// runs on QEMU (kernel.asm beside this file) and on src/hw/segments.ts.

import { encodeDescriptor } from '../../../src/hw/segdesc.js';
import { Rng, mixSeed } from '../rng.js';

/** The first GDT index a case owns, and how many it may own. */
export const FIRST = 4;
export const MAX_ENTRIES = 28;
/** The kernel's own descriptors at indexes 1 and 2 (code 0x08, data 0x10). */
export const KERNEL_CODE: readonly [number, number] = [0x0000ffff, 0x00cf9a00];
export const KERNEL_DATA: readonly [number, number] = [0x0000ffff, 0x00cf9200];
/** The test area: byte p holds (p ^ p>>8 ^ p>>16) & 0xFF when the kernel starts. */
export const AREA_START = 0x800000;
export const AREA_END = 0x900000;
/** The value a write op stores. */
export const WRITE_VALUE = 0xa5c3961e;

export const OP_LOAD = 1;
export const OP_READ = 2;
export const OP_WRITE = 3;
/** Registers by their encoding: ES 0, SS 2, FS 4, GS 5 (loads); accesses use ES, FS, GS. */
export type LoadReg = 0 | 2 | 4 | 5;
export type AccessReg = 0 | 4 | 5;

export type SegOp =
  | { readonly op: typeof OP_LOAD; readonly reg: LoadReg; readonly selector: number }
  | { readonly op: typeof OP_READ; readonly reg: AccessReg; readonly offset: number; readonly size: 1 | 2 | 4 }
  | { readonly op: typeof OP_WRITE; readonly reg: AccessReg; readonly offset: number };

export interface SegCase {
  readonly name: string;
  /** GDTR's limit while the case runs (at least 0x17: the kernel's code and data stay reachable). */
  readonly limit: number;
  /** The case's descriptors, [low, high], at GDT indexes FIRST, FIRST + 1, ... */
  readonly entries: readonly (readonly [number, number])[];
  readonly ops: readonly SegOp[];
}

/** What one op did: vector 0 when nothing faulted, else 11, 12 or 13 with the error code; a read's value. */
export interface OpOutcome {
  readonly vector: number;
  readonly code: number;
  readonly value: number;
}

export interface SegOutcome {
  readonly ops: OpOutcome[];
  /** The high doubleword of each case descriptor at the end (the accessed bits). */
  readonly highs: number[];
}

/** encodeSegBatch lays cases out as the kernel reads them (little-endian doublewords). */
export function encodeSegBatch(cases: readonly SegCase[]): Uint8Array {
  const words: number[] = [cases.length];
  for (const c of cases) {
    words.push(c.limit, c.entries.length, ...c.entries.flat(), c.ops.length);
    for (const o of c.ops) {
      if (o.op === OP_LOAD) words.push(o.op, o.reg, o.selector, 0);
      else if (o.op === OP_READ) words.push(o.op, o.reg, o.offset, o.size);
      else words.push(o.op, o.reg, o.offset, 4);
    }
  }
  return new Uint8Array(Uint32Array.from(words).buffer);
}

/** parseSegResults splits the kernel's output into one outcome per case; a fatal record throws. */
export function parseSegResults(bytes: Uint8Array, cases: readonly SegCase[]): SegOutcome[] {
  const w = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4));
  let i = 0;
  const next = (): number => {
    if (i >= w.length) throw new Error(`the segmentation kernel's output ends at word ${i}`);
    if (w[i] === 0xdeaddead)
      throw new Error(
        `the segmentation kernel died: vector ${w[i + 1]}, error ${w[i + 2]}, EIP 0x${w[i + 3].toString(16)}`,
      );
    return w[i++];
  };
  return cases.map((c) => ({
    ops: c.ops.map(() => ({ vector: next(), code: next(), value: next() })),
    highs: c.entries.map(() => next()),
  }));
}

/** A descriptor as the generator draws it: a base inside the test area, any type, mostly present code or data. */
function randomEntry(r: Rng): [number, number] {
  const granular = r.chance(0.2);
  const limit = granular ? r.int(8) : r.pick([0, 1, 0xff, 0xfff, 0x1000, 0x7fff, r.int(0x8000)]);
  return encodeDescriptor({
    base: AREA_START + r.int(0xf000) * 16,
    limit,
    type: r.int(16),
    codeOrData: r.chance(0.9),
    dpl: r.chance(0.6) ? 0 : r.int(4),
    present: r.chance(0.85),
    big: r.chance(0.5),
    granular,
  });
}

/** randomOp draws a load of a selector near the case's entries, or an access through a data register. */
function randomOp(r: Rng, entries: number): SegOp {
  if (r.chance(0.45)) {
    const index = r.chance(0.1) ? r.int(3) : FIRST + r.int(entries + 2);
    const selector = (index << 3) | (r.chance(0.05) ? 4 : 0) | (r.chance(0.7) ? 0 : r.int(4));
    return { op: OP_LOAD, reg: r.pick([0, 2, 4, 5] as const), selector };
  }
  const reg = r.pick([0, 4, 5] as const);
  const offset = r.pick([0, 1, 0xffe, 0xfff, 0x1000, 0x7ffc, r.int(0x8000)]);
  if (r.chance(0.3)) return { op: OP_WRITE, reg, offset };
  return { op: OP_READ, reg, offset, size: r.pick([1, 2, 4] as const) };
}

/** generateSegCases makes `count` cases; case i depends only on `seed` and i. */
export function generateSegCases(seed: number, count: number): SegCase[] {
  return Array.from({ length: count }, (_, i) => {
    const r = new Rng(mixSeed(seed, i));
    const entries = [encodeDescriptor(SAFE_DATA), ...Array.from({ length: 1 + r.int(8) }, () => randomEntry(r))];
    const n = entries.length;
    const full = (FIRST + n) * 8 - 1;
    const limit = r.chance(0.2) ? Math.max(0x17, full - r.int(24)) : full;
    const ops = [
      // every register starts on a case segment, so that accesses land in the test area
      ...([0, 4, 5] as const).map((reg): SegOp => ({ op: OP_LOAD, reg, selector: FIRST << 3 })),
      ...Array.from({ length: 4 + r.int(12) }, () => randomOp(r, n)),
    ];
    return { name: `seg:${seed}:${i}`, limit, entries, ops };
  });
}

/** The first entry of every generated case: read/write data over the test area, so registers start inside it. */
const SAFE_DATA = { base: AREA_START, limit: 0xffff, type: 0x2, big: true } as const;
