// The PAE conformance cases: named scenarios, one per rule measured, each run on QEMU (kernel.asm) and on the
// model (model.ts). Physical layout as kernel.asm sets it up: the PDPT at 0x400000, page directories at
// 0x401000 + i * 4 KiB (PD 0 is the kernel's), page tables from 0x405000, data frames 0x600000-0x7FFFFF.

import { Rng, mixSeed } from '../rng.js';

export const PDPT = 0x400000;
export const PD = [0x401000, 0x402000, 0x403000, 0x404000] as const;
export const PT0 = 0x405000;
export const EFER_NXE = 0x800;
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;
const XD = 0x80000000;
const P = 1;
const RW = 2;
const US = 4;
const PS = 0x80;

/** One op: 1 read32, 2 write32 of `value`, 3 fetch (call), 4 MOV CR3 <- arg, 5 edit (a store), 6 INVLPG. */
export interface PaeOp {
  readonly kind: 1 | 2 | 3 | 4 | 5 | 6;
  readonly arg: number;
  readonly value: number;
}
/** A paging-structure entry the case writes: its physical address and both dwords. */
export type PaeEntry = readonly [addr: number, lo: number, hi: number];

export interface PaeCase {
  readonly name: string;
  /** CR4 bits besides PAE. */
  readonly cr4: number;
  readonly efer: number;
  readonly entries: readonly PaeEntry[];
  readonly ops: readonly PaeOp[];
}

export interface PaeOpOutcome {
  vector: number;
  code: number;
  cr2: number;
  value: number;
}
export interface PaeOutcome {
  ops: PaeOpOutcome[];
  /** Final [lo, hi] of each entry. */
  finals: [number, number][];
}

/** What a write stores: its low byte is `ret`, so a later fetch of that dword returns at once. */
const WRITTEN = 0xa5c396c3;
const read = (arg: number): PaeOp => ({ kind: 1, arg, value: 0 });
const write = (arg: number): PaeOp => ({ kind: 2, arg, value: WRITTEN });
const fetch = (arg: number): PaeOp => ({ kind: 3, arg, value: 0 });
const cr3 = (): PaeOp => ({ kind: 4, arg: PDPT, value: 0 });
const edit = (arg: number, value: number): PaeOp => ({ kind: 5, arg, value });
const invlpg = (arg: number): PaeOp => ({ kind: 6, arg, value: 0 });

/** The linear address of PDPTE i, PDE j, PTE k. */
const linear = (i: number, j: number, k = 0): number => (i * 0x40000000 + j * 0x200000 + k * 0x1000) >>> 0;
const pdpte = (i: number, lo = PD[i] | P, hi = 0): PaeEntry => [PDPT + i * 8, lo, hi];
const pde = (i: number, j: number, lo: number, hi = 0): PaeEntry => [PD[i] + j * 8, lo, hi];
const pte = (t: number, k: number, lo: number, hi = 0): PaeEntry => [PT0 + t * 0x1000 + k * 8, lo, hi];
/** table4k: PDPTE 1, its PDE 0 -> page table 0, and that table's PTE 3 mapping frame 0x603000 (`lo`, `hi`). */
const table4k = (lo = P | RW | US, hi = 0, pdeHi = 0, pdpteLo = PD[1] | P, pdpteHi = 0): PaeEntry[] => [
  pdpte(1, pdpteLo, pdpteHi),
  pde(1, 0, PT0 | P | RW | US, pdeHi),
  pte(0, 3, 0x603000 | lo, hi),
];
const L4K = linear(1, 0, 3);
const L2M = linear(1, 1);

/** namedPaeCases: the scenarios, one rule each (SDM 4.4 and where QEMU 7.2 departs from it). */
export function namedPaeCases(smep: boolean): PaeCase[] {
  const c = (name: string, entries: PaeEntry[], ops: PaeOp[], cr4 = 0, efer = 0): PaeCase => ({
    name,
    cr4,
    efer,
    entries,
    ops,
  });
  const cases = [
    c('4k: read, write, read back; A/D in the 64-bit entries', table4k(), [
      read(L4K + 0x10),
      write(L4K + 0x20),
      read(L4K + 0x20),
    ]),
    c('4k: fetch', table4k(), [fetch(L4K + 0x40)]),
    c(
      '2m: read, write, fetch',
      [pdpte(1), pde(1, 1, 0x600000 | P | RW | PS)],
      [read(L2M + 0x12340), write(L2M + 0x100), fetch(L2M + 0x1ff000)],
    ),
    c(
      'not present: PDPTE, PDE, PTE',
      [...table4k(), pdpte(2, 0)],
      [read(linear(2, 0)), read(linear(1, 5)), write(linear(1, 0, 4))],
    ),
    c('PDPTE bits 2:1 set', table4k(P | RW | US, 0, 0, PD[1] | P | 6), [read(L4K)]),
    c('PDPTE bits 8:5 set', table4k(P | RW | US, 0, 0, PD[1] | P | 0x1e0), [read(L4K)]),
    c('PDPTE bit 36 (above MAXPHYADDR 36)', table4k(P | RW | US, 0, 0, PD[1] | P, 0x10), [read(L4K), write(L4K)]),
    c('PDE bit 36', table4k(P | RW | US, 0, 0x10), [read(L4K), fetch(L4K)]),
    c('PTE bit 40', table4k(P | RW | US, 0x100), [write(L4K)]),
    c('PTE bit 63 without NXE', table4k(P | RW | US, XD), [read(L4K), fetch(L4K)]),
    c('NXE: XD in the PTE', table4k(P | RW | US, XD), [read(L4K), fetch(L4K), write(L4K)], 0, EFER_NXE),
    c('NXE: XD in the PDE', table4k(P | RW | US, 0, XD), [fetch(L4K), read(L4K)], 0, EFER_NXE),
    c('NXE: not-present fetch', [pdpte(1)], [fetch(linear(1, 7)), read(linear(1, 7))], 0, EFER_NXE),
    c('2m: PDE bit 13', [pdpte(1), pde(1, 1, 0x600000 | P | RW | PS | 0x2000)], [read(L2M), write(L2M)]),
    c('read-only write with CR0.WP', table4k(P | US), [read(L4K), write(L4K)]),
    c(
      '2m: INVLPG of another piece drops the page',
      [pdpte(1), pde(1, 1, 0x600000 | P | RW | PS)],
      [read(L2M), edit(PD[1] + 8, 0x600000 | P | PS), invlpg(L2M + 0x5000), write(L2M)],
    ),
    c('MOV CR3 after an edit of a PTE', table4k(), [read(L4K), edit(PT0 + 3 * 8, 0x604000 | P | RW), cr3(), read(L4K)]),
    c('MOV CR3 with reserved PDPTE bits (no #GP in QEMU)', table4k(), [
      edit(PDPT + 8, PD[1] | P | 2),
      cr3(),
      read(L4K),
    ]),
    c(
      'PDPTE made present without MOV CR3',
      [...table4k(), pdpte(2, 0), pde(2, 0, PT0 | P | RW | US)],
      [read(linear(2, 0, 3)), edit(PDPT + 16, PD[2] | P), read(linear(2, 0, 3))],
    ),
  ];
  if (!smep) return cases;
  return [
    ...cases,
    c('SMEP: supervisor fetch from a user page', table4k(), [fetch(L4K), read(L4K)], CR4_SMEP),
    c('SMEP: not-present fetch', [pdpte(1)], [fetch(linear(1, 7))], CR4_SMEP),
    c(
      'SMAP: supervisor read and write of a user page (AC=0)',
      table4k(),
      [read(L4K), write(L4K), fetch(L4K)],
      CR4_SMAP,
    ),
    c('SMAP: a supervisor page', table4k(P | RW), [read(L4K), write(L4K)], CR4_SMAP | CR4_SMEP),
  ];
}

/** encodePaeBatch lays the cases out as kernel.asm reads them. */
export function encodePaeBatch(cases: readonly PaeCase[]): Uint8Array {
  const w: number[] = [cases.length];
  for (const c of cases) {
    w.push(c.cr4, c.efer, c.entries.length);
    for (const e of c.entries) w.push(...e);
    w.push(c.ops.length);
    for (const o of c.ops) w.push(o.kind, o.arg, o.value);
  }
  // QEMU loads the module after the kernel, at about 1 MiB; it must end below the table area at 4 MiB.
  if (w.length * 4 > MAX_BATCH_BYTES)
    throw new Error(`a PAE batch of ${w.length * 4} bytes: at most ${MAX_BATCH_BYTES}`);
  return new Uint8Array(Uint32Array.from(w, (x) => x >>> 0).buffer);
}

/** The largest batch kernel.asm can take (see encodePaeBatch). */
export const MAX_BATCH_BYTES = 2 << 20;

/** parsePaeResults splits the kernel's output into one outcome per case; a fatal record throws. */
export function parsePaeResults(bytes: Uint8Array, cases: readonly PaeCase[]): PaeOutcome[] {
  const w = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4));
  let i = 0;
  const next = (): number => {
    if (i >= w.length) throw new Error(`the PAE kernel's output ends at word ${i}`);
    if (w[i] === 0xdeaddead)
      throw new Error(`the PAE kernel died: vector ${w[i + 1]}, error ${w[i + 2]}, EIP 0x${w[i + 3].toString(16)}`);
    return w[i++];
  };
  return cases.map((c) => ({
    ops: c.ops.map(() => ({ vector: next(), code: next(), cr2: next(), value: next() })),
    finals: c.entries.map((): [number, number] => [next(), next()]),
  }));
}

/** flagsOf draws an entry's low flags: mostly present, R/W and U/S often, A and D sometimes. */
function flagsOf(r: Rng): number {
  return (
    (r.chance(0.9) ? P : 0) |
    (r.chance(0.7) ? RW : 0) |
    (r.chance(0.7) ? US : 0) |
    (r.chance(0.3) ? 0x20 : 0) |
    (r.chance(0.3) ? 0x40 : 0)
  );
}

/** highOf draws an entry's high dword: XD a quarter of the time, a reserved bit (36 or 51) rarely. */
function highOf(r: Rng): number {
  return ((r.chance(0.25) ? XD : 0) | (r.chance(0.04) ? r.pick([0x10, 0x80000]) : 0)) >>> 0;
}

/**
 * randomTables draws PDPTEs 1-3 and, under the present ones, PDEs 0-7 (2 MiB pages at 0x600000 or page tables
 * at PT0 + (i * 8 + j) * 4 KiB) and PTEs 0-7 mapping the data area's first 16 frames (the ones cases write).
 */
function randomTables(r: Rng, targets: number[]): PaeEntry[] {
  const out: PaeEntry[] = [];
  for (let i = 1; i < 4; i++) {
    if (r.chance(0.15)) continue;
    const rsvd = r.chance(0.05) ? r.pick([2, 4, 0x20, 0x100]) : 0;
    out.push(pdpte(i, PD[i] | (r.chance(0.95) ? P : 0) | rsvd, r.chance(0.04) ? 0x10 : 0));
    for (let n = 1 + r.int(3); n > 0; n--) {
      const j = r.int(8);
      if (r.chance(0.3)) {
        out.push(pde(i, j, 0x600000 | flagsOf(r) | PS | (r.chance(0.05) ? 0x2000 : 0), highOf(r)));
        targets.push(linear(i, j, r.int(8)));
        continue;
      }
      const t = i * 8 + j;
      out.push(pde(i, j, (PT0 + t * 0x1000) | flagsOf(r), highOf(r)));
      for (let n2 = 1 + r.int(3); n2 > 0; n2--) {
        const k = r.int(8);
        out.push(pte(t, k, (0x600000 + r.int(16) * 0x1000) | flagsOf(r), highOf(r)));
        targets.push(linear(i, j, k));
      }
    }
  }
  // One entry per address, the last drawn (kernel.asm reports and zeroes each listed entry once).
  return [...new Map(out.map((e) => [e[0], e])).values()];
}

/**
 * randomOp draws an access (read, write, fetch), an INVLPG or a MOV CR3: mostly at a page the tables map
 * (`targets`), else anywhere in PDPTE 1-3, PDE 0-7, page 0-7.
 */
function randomOp(r: Rng, targets: readonly number[]): PaeOp {
  const page = targets.length > 0 && r.chance(0.8) ? r.pick(targets) : linear(1 + r.int(3), r.int(8), r.int(8));
  const at = (page + r.int(1024) * 4) >>> 0;
  const x = r.int(100);
  if (x < 40) return read(at);
  if (x < 65) return write(at);
  if (x < 90) return fetch(at);
  return x < 95 ? invlpg(at) : cr3();
}

/** generatePaeCases makes `count` cases; case i depends only on `seed` and i. CPL 0 only. */
export function generatePaeCases(seed: number, count: number): PaeCase[] {
  return Array.from({ length: count }, (_, i) => {
    const r = new Rng(mixSeed(seed, i));
    const cr4 = (r.chance(0.3) ? CR4_SMEP : 0) | (r.chance(0.3) ? CR4_SMAP : 0) | (r.chance(0.3) ? 0x80 : 0);
    const efer = r.chance(0.5) ? EFER_NXE : 0;
    const targets: number[] = [];
    const entries = randomTables(r, targets);
    const ops = Array.from({ length: 4 + r.int(8) }, () => randomOp(r, targets));
    return { name: `pae:${seed}:${i}`, cr4, efer, entries, ops };
  });
}
