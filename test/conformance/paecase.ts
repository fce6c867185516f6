// The seeded PAE case generator: a PDPT (32-byte aligned, CR3 bits 31:5) whose PDPTE 0 names the page
// directory holding the kernel's PDEs 0-3 and whose PDPTEs 1-3 are present, absent or reserved; page directories
// mixing 2 MiB pages and page tables; 64-bit entries with R/W, U/S, A, D, G, PWT/PCD/PAT, ignored bits, XD and
// reserved bits (62:36, a 2 MiB PDE's 20:13), EFER.NXE on and off; reads, writes and fetches at CPL 0 and 3.
// Every edit is followed by a full TLB flush (CR4.PGE toggled), so no access depends on what either TLB kept.
// Every leaf names a data frame in RAM; each linear page maps one fixed frame, so the case lists its fills.

import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import { PDE_PS, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PCD, PTE_PWT, PTE_RW, PTE_US } from '../../src/hw/paging.js';
import {
  DATA_BASE,
  FETCH_OFFSET,
  HEAD_BYTES,
  LARGE_BASE,
  LARGE_END,
  RET_BYTES,
  TABLE_BASE,
  TAIL_BYTES,
  type Case,
  type Cpl,
  type Op,
  type Size,
} from './case.js';
import { Rng, mixSeed } from './rng.js';

const XD = 0x80000000; // bit 63, in the high dword
const TWO_MIB = 0x200000;
/** Flags an edit may toggle in a low dword (never PS, never the address). */
const EDIT_FLAGS = [PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_G, PTE_PWT, PTE_PCD];

/** A linear page the case may access, and the frame it maps (null: no frame, the access faults). */
interface Page {
  readonly lin: number;
  readonly frame: number | null;
}

/** Builder state of one case. */
interface Build {
  readonly rng: Rng;
  readonly tables: number[];
  readonly entries: Array<[number, number]>;
  readonly pages: Page[];
  /** Low-dword addresses of the entries an edit may change. */
  readonly editable: number[];
  nextTable: number;
  nextData: number;
  nextLarge: number;
}

/** newTable takes the next table frame (zeroed by the kernel). */
function newTable(b: Build): number {
  const t = b.nextTable;
  b.nextTable += 0x1000;
  b.tables.push(t);
  return t;
}

/** lowFlags draws a leaf's or table's low-dword flags (P with probability 0.85). */
function lowFlags(rng: Rng): number {
  let v = rng.chance(0.85) ? PTE_P : 0;
  for (const f of [PTE_RW, PTE_US, PTE_A, PTE_D, PTE_G, PTE_PWT, PTE_PCD]) if (rng.chance(0.5)) v |= f;
  if (rng.chance(0.2)) v |= (1 << (9 + rng.int(3))) >>> 0; // ignored bits 11:9
  return v;
}

/** highDword draws an entry's high dword: XD sometimes, a reserved bit (62:36) rarely. */
function highDword(rng: Rng): number {
  let hi = rng.chance(0.3) ? XD : 0;
  if (rng.chance(0.06)) hi |= (1 << (4 + rng.int(27))) >>> 0;
  return hi >>> 0;
}

/** put records a 64-bit entry as its two dwords. */
function put(b: Build, addr: number, lo: number, hi: number, editable = true): void {
  b.entries.push([addr, lo >>> 0], [addr + 4, hi >>> 0]);
  if (editable) b.editable.push(addr);
}

/** addTable fills a page table: a few PTEs naming 4 KiB data frames, and one index left empty. */
function addTable(b: Build, base: number): void {
  const pt = newTable(b);
  const n = 1 + b.rng.int(4);
  for (let i = 0; i < n; i++) {
    const idx = b.rng.int(512);
    if (b.pages.some((p) => p.lin === (base | (idx << 12)) >>> 0)) continue;
    const frame = b.nextData;
    b.nextData += 0x1000;
    put(b, pt + idx * 8, frame | lowFlags(b.rng), highDword(b.rng));
    b.pages.push({ lin: (base | (idx << 12)) >>> 0, frame });
  }
}

/** addLarge maps a 2 MiB page (a reserved bit 20:13 rarely) and a few 4 KiB pieces of it. */
function addLarge(b: Build, pd: number, idx: number, base: number): void {
  const frame = b.nextLarge;
  b.nextLarge += TWO_MIB;
  const rsvd = b.rng.chance(0.05) ? 1 << (13 + b.rng.int(8)) : 0;
  const pat = b.rng.chance(0.3) ? 1 << 12 : 0;
  put(b, pd + idx * 8, frame | PDE_PS | pat | rsvd | lowFlags(b.rng), highDword(b.rng));
  for (let i = 0, n = 1 + b.rng.int(3); i < n; i++) {
    const piece = b.rng.int(512) << 12;
    b.pages.push({ lin: (base | piece) >>> 0, frame: frame + piece });
  }
}

/** addDirectory fills a page directory of PDPTE `p`: 2 MiB pages and page tables, never the kernel's PDEs. */
function addDirectory(b: Build, pd: number, p: number): void {
  const n = 1 + b.rng.int(3);
  for (let i = 0; i < n; i++) {
    const idx = (p === 0 ? 4 : 0) + b.rng.int(p === 0 ? 508 : 512);
    const base = ((p << 30) | (idx << 21)) >>> 0;
    if (b.pages.some((x) => (x.lin & ~(TWO_MIB - 1)) >>> 0 === base)) continue;
    if (b.nextLarge + TWO_MIB <= LARGE_END && b.rng.chance(0.4)) addLarge(b, pd, idx, base);
    else addTableAt(b, pd, idx, base);
  }
  // A hole: a PDE left zero (not present).
  const hole = (p === 0 ? 4 : 0) + b.rng.int(p === 0 ? 508 : 512);
  const at = ((p << 30) | (hole << 21)) >>> 0;
  if (b.pages.some((x) => (x.lin & ~(TWO_MIB - 1)) >>> 0 === at)) return; // that PDE is in use: no hole
  b.pages.push({ lin: (at | (b.rng.int(512) << 12)) >>> 0, frame: null });
}

/** addTableAt writes a PDE naming a new page table and fills it. */
function addTableAt(b: Build, pd: number, idx: number, base: number): void {
  const pt = b.nextTable;
  put(b, pd + idx * 8, pt | (lowFlags(b.rng) & ~PDE_PS), highDword(b.rng));
  addTable(b, base);
}

/** pdpteLow draws a present PDPTE's low flags: PWT/PCD, rarely bits QEMU ignores (2:1, 8:5) or 11:9. */
function pdpteLow(rng: Rng): number {
  let v = PTE_P;
  if (rng.chance(0.3)) v |= PTE_PWT;
  if (rng.chance(0.3)) v |= PTE_PCD;
  if (rng.chance(0.1)) v |= rng.pick([PTE_RW, PTE_US, PTE_A, PTE_D, PDE_PS, 1 << 8, 1 << 9]);
  return v;
}

/** access draws one access to a page of the case (never the RET/MOV bytes for writes). */
function access(b: Build): Op {
  const rng = b.rng;
  const page = rng.pick(b.pages);
  const kind = rng.pick<AccessKind>([ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_WRITE, ACCESS_FETCH]);
  const cpl = rng.pick<Cpl>([0, 3]);
  if (kind === ACCESS_FETCH)
    return { op: 'access', kind, size: 1, cpl, lin: page.lin + FETCH_OFFSET + rng.int(RET_BYTES), value: 0 };
  const size = rng.pick<Size>([1, 2, 4]);
  let off = rng.int(4096 - size + 1);
  if (kind === ACCESS_WRITE) {
    // Below the RET bytes (after the head) or above them (before the tail), inside the page.
    const low = FETCH_OFFSET - HEAD_BYTES - size + 1;
    const high = 4096 - TAIL_BYTES - size - (FETCH_OFFSET + RET_BYTES) + 1;
    off = rng.int(2) === 0 ? HEAD_BYTES + rng.int(low) : FETCH_OFFSET + RET_BYTES + rng.int(high);
  }
  return { op: 'access', kind, size, cpl, lin: page.lin + off, value: rng.u32() };
}

/** ops draws the case's operations; an edit is followed by a full flush (PGE off, then back). */
function ops(b: Build, pge: boolean): Op[] {
  const out: Op[] = [];
  const n = 6 + b.rng.int(18);
  for (let i = 0; i < n; i++) {
    const r = b.rng.int(100);
    if (r < 75 || b.editable.length === 0) out.push(access(b));
    else if (r < 87) {
      const addr = b.rng.pick(b.editable);
      const old = b.entries.find(([a]) => a === addr)![1];
      const hiAddr = addr + 4;
      if (b.rng.chance(0.8)) out.push({ op: 'edit', addr, value: (old ^ b.rng.pick(EDIT_FLAGS)) >>> 0 });
      else out.push({ op: 'edit', addr: hiAddr, value: highDword(b.rng) });
      out.push({ op: 'set-cr4', pse: false, pge: !pge }, { op: 'set-cr4', pse: false, pge });
    } else if (r < 92) out.push({ op: 'invlpg', lin: b.rng.pick(b.pages).lin });
    else if (r < 96) out.push({ op: 'reload-cr3' });
    else out.push({ op: 'set-wp', on: b.rng.chance(0.5) });
  }
  return out;
}

/**
 * generatePaeCase builds case `index` of `seed`: it depends on nothing but its arguments. Each case uses its own
 * slice of the table and data areas (by index modulo the batch), so frames never alias within a case.
 */
export function generatePaeCase(seed: number, index: number): Case {
  const rng = new Rng(mixSeed(seed ^ 0x50414500, index));
  const b: Build = {
    rng,
    tables: [],
    entries: [],
    pages: [],
    editable: [],
    nextTable: TABLE_BASE + rng.int(60) * 0x10000,
    nextData: DATA_BASE + rng.int(16) * 0x80000,
    nextLarge: LARGE_BASE + rng.int(40) * TWO_MIB,
  };
  const pdptFrame = newTable(b);
  const cr3 = pdptFrame + rng.int(128) * 32;
  const pd0 = newTable(b);
  put(b, cr3, pd0 | pdpteLow(rng), 0, false);
  addDirectory(b, pd0, 0);
  for (let p = 1; p < 4; p++) addPdpte(b, cr3, p);
  const pge = rng.chance(0.5);
  const caseOps = ops(b, pge);
  return {
    name: `pae-${seed}-${index}`,
    wp: rng.chance(0.5),
    pse: false,
    pge,
    pae: true,
    nxe: rng.chance(0.6),
    cr3,
    salt: rng.u32(),
    tables: b.tables,
    directories: [pd0],
    entries: b.entries,
    fills: [...new Set(b.pages.flatMap((p) => (p.frame === null ? [] : [p.frame])))].sort((x, y) => x - y),
    ops: caseOps,
  };
}

/** addPdpte writes PDPTE p: present with a directory (0.75), absent with junk, or present with a reserved bit. */
function addPdpte(b: Build, cr3: number, p: number): void {
  const r = b.rng.int(100);
  if (r < 75) {
    const pd = newTable(b);
    put(b, cr3 + p * 8, pd | pdpteLow(b.rng), b.rng.chance(0.05) ? highDword(b.rng) : 0);
    addDirectory(b, pd, p);
  } else if (r < 90) {
    put(b, cr3 + p * 8, b.rng.u32() & ~PTE_P, b.rng.u32(), false); // never made present: it names anything
    b.pages.push({ lin: ((p << 30) | (b.rng.int(1 << 18) << 12)) >>> 0, frame: null });
  } else {
    put(b, cr3 + p * 8, PTE_P, (1 << (4 + b.rng.int(27))) >>> 0, false);
    b.pages.push({ lin: ((p << 30) | (b.rng.int(1 << 18) << 12)) >>> 0, frame: null });
  }
}

/** generatePaeCases is cases 0..count-1 of `seed`. */
export function generatePaeCases(seed: number, count: number): Case[] {
  return Array.from({ length: count }, (_, i) => generatePaeCase(seed, i));
}
