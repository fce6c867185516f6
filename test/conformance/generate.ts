// The seeded case generator: random directories mixing 4 KiB and 4 MiB pages,
// present and absent entries, R/W, U/S, G, PWT/PCD/PAT and ignored bits, CR0.WP
// and CR4.PSE/PGE on and off; reads, writes and fetches of 1, 2 and 4 bytes at
// CPL 0 and 3, some straddling two pages or two 4 MiB regions, and
// instruction fetches that straddle two pages; entry edits followed by INVLPG
// or a CR3 reload; changes of CR4.PSE, CR4.PGE and CR0.WP between accesses.
// With PSE turned on mid-case, a PDE with PS set that named a page table maps a
// 4 MiB page whose PSE-36 bits are the table address's bits 20:13 (a read above
// 4 GiB then discards its value). Pages an edit or a PSE change may have made
// stale are not accessed until invalidated, nor is anything else shadow.ts
// refuses. generateCase(seed, i) depends on nothing but its arguments.

import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/fault.js';
import {
  FRAME_MASK,
  PDE_PAT_LARGE,
  PDE_LARGE_RSVD_BIT21,
  PDE_PS,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PAT,
  PTE_PCD,
  PTE_PWT,
  PTE_RW,
  PTE_US,
} from '../../src/hw/paging.js';
import {
  DATA_BASE,
  FETCH_OFFSET,
  KERNEL_PDES,
  LARGE_BASE,
  RET_BYTES,
  TABLE_BASE,
  type AccessOp,
  type Case,
  type Cpl,
  type Op,
  type Size,
} from './case.js';
import { Rng, mixSeed } from './rng.js';
import { Shadow, accessProblem } from './shadow.js';

const DATA_FRAMES = 24; // a small pool, so linear pages alias
const LARGE_FRAMES = 6;

interface Draft {
  readonly rng: Rng;
  readonly pse: boolean;
  /** The directories: CR3's first, sometimes a second one that load-cr3 switches to. */
  readonly dirs: number[];
  readonly pts: number[];
  /** Linear page numbers worth accessing. */
  readonly pages: number[];
  /** Entry addresses worth editing. */
  readonly entryAddrs: number[];
}

/** bits ORs in each flag with its probability. */
function bits(rng: Rng, table: ReadonlyArray<readonly [number, number]>): number {
  let v = 0;
  for (const [flag, p] of table) if (rng.chance(p)) v |= flag;
  return v;
}

/** randomPte is a 4 KiB PTE naming a pool frame. */
function randomPte(rng: Rng): number {
  const frame = DATA_BASE + rng.int(DATA_FRAMES) * 4096;
  const flags = bits(rng, [
    [PTE_P, 0.9],
    [PTE_RW, 0.65],
    [PTE_US, 0.7],
    [PTE_A, 0.3],
    [PTE_D, 0.3],
    [PTE_G, 0.25],
    [PTE_PWT, 0.1],
    [PTE_PCD, 0.1],
    [PTE_PAT, 0.1],
    [0x200, 0.1],
    [0x800, 0.1],
  ]);
  return (frame | flags) >>> 0;
}

/** randomPtPde is a PDE naming one of the case's page tables; PS (ignored without CR4.PSE) only then. */
function randomPtPde(d: Pick<Draft, 'rng' | 'pse' | 'pts'>): number {
  const { rng } = d;
  const flags = bits(rng, [
    [PTE_P, 0.92],
    [PTE_RW, 0.75],
    [PTE_US, 0.8],
    [PTE_A, 0.3],
    [PTE_D, 0.1],
    [PTE_G, 0.1],
    [PTE_PWT, 0.1],
    [PTE_PCD, 0.1],
    [0x400, 0.1],
  ]);
  const ps = !d.pse && rng.chance(0.25) ? PDE_PS : 0;
  return (rng.pick(d.pts) | flags | ps) >>> 0;
}

/**
 * randomLargePde is a PDE mapping a 4 MiB page (bit 21, reserved, rarely set;
 * sometimes PSE-36 bits 16:13, a page above 4 GiB where no RAM is).
 */
function randomLargePde(rng: Rng): number {
  const frame = LARGE_BASE + rng.int(LARGE_FRAMES) * 0x400000 + (rng.chance(0.08) ? (1 + rng.int(15)) << 13 : 0);
  const flags = bits(rng, [
    [PTE_P, 0.9],
    [PTE_RW, 0.65],
    [PTE_US, 0.7],
    [PTE_A, 0.3],
    [PTE_D, 0.3],
    [PTE_G, 0.25],
    [PTE_PWT, 0.1],
    [PTE_PCD, 0.1],
    [PDE_PAT_LARGE, 0.1],
    [PDE_LARGE_RSVD_BIT21, 0.03],
  ]);
  return (frame | flags | PDE_PS) >>> 0;
}

/** pickPdeIndices chooses 1-4 directory slots, often neighbours (accesses then straddle 4 MiB). */
function pickPdeIndices(rng: Rng): number[] {
  const out = new Set<number>();
  const n = 1 + rng.int(4);
  while (out.size < n) {
    const k = rng.chance(0.1) ? 1023 : KERNEL_PDES + rng.int(1024 - KERNEL_PDES);
    out.add(k);
    if (rng.chance(0.4) && k < 1023) out.add(k + 1);
  }
  return [...out];
}

/** pickPteIndices chooses 1-5 table slots, often neighbours and the table's ends. */
function pickPteIndices(rng: Rng): number[] {
  const out = new Set<number>();
  const n = 1 + rng.int(5);
  while (out.size < n) {
    const j = rng.chance(0.2) ? rng.pick([0, 1023]) : rng.int(1024);
    out.add(j);
    if (rng.chance(0.4) && j < 1023) out.add(j + 1);
  }
  return [...out];
}

/** buildTables writes a directory's initial entries and its tables' into the shadow and the entry list. */
function buildTables(d: Draft, pd: number, shadow: Shadow, entries: Array<readonly [number, number]>): void {
  const set = (addr: number, value: number): void => {
    entries.push([addr, value]);
    shadow.write(addr, value);
    d.entryAddrs.push(addr);
  };
  for (const k of pickPdeIndices(d.rng)) {
    const large = d.pse && d.rng.chance(0.4);
    const pde = large ? randomLargePde(d.rng) : randomPtPde(d);
    set(pd + k * 4, pde);
    if (large) {
      for (let i = 0; i < 4; i++) d.pages.push(k * 1024 + d.rng.pick([0, 1023, d.rng.int(1024)]));
      continue;
    }
    const pt = (pde & FRAME_MASK) >>> 0;
    for (const j of pickPteIndices(d.rng)) {
      if (!d.entryAddrs.includes(pt + j * 4)) set(pt + j * 4, randomPte(d.rng));
      d.pages.push(k * 1024 + j, k * 1024 + j); // twice: mapped pages are accessed more often
    }
  }
  // A page nothing maps: its PDE or PTE is zero.
  d.pages.push(KERNEL_PDES * 1024 + d.rng.int((1024 - KERNEL_PDES) * 1024));
}

/**
 * randomOffset picks where in the page an access starts; fetches hit the RET bytes,
 * writes avoid them, some accesses straddle into the next page.
 */
function randomOffset(rng: Rng, kind: AccessKind, size: Size): number {
  if (kind === ACCESS_FETCH) return size === 4 ? 0xffd + rng.int(3) : FETCH_OFFSET + rng.int(RET_BYTES);
  if (size > 1 && rng.chance(0.25)) return 4096 - 1 - rng.int(size - 1);
  for (;;) {
    const off = rng.chance(0.3) ? rng.int(4096 / size) * size : rng.int(4096 - size + 1);
    if (kind !== ACCESS_WRITE || off + size <= FETCH_OFFSET || off >= FETCH_OFFSET + RET_BYTES) return off;
  }
}

/**
 * randomAccess builds an access to a page of interest that shadow.ts accepts
 * (a read above 4 GiB discards its value), or null if eight tries found none.
 * A fetch is a RET, or 3 times in 10 a `mov eax, imm32` straddling two pages.
 */
function randomAccess(d: Draft, shadow: Shadow): AccessOp | null {
  const { rng } = d;
  const kind = rng.pick<AccessKind>([ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_WRITE, ACCESS_FETCH]);
  const size: Size = kind === ACCESS_FETCH ? (rng.chance(0.3) ? 4 : 1) : rng.pick<Size>([1, 2, 4, 4]);
  const cpl: Cpl = rng.chance(0.5) ? 3 : 0;
  for (let tries = 0; tries < 8; tries++) {
    const lin = (rng.pick(d.pages) * 4096 + randomOffset(rng, kind, size)) >>> 0;
    if (lin + size - 1 > 0xffffffff) continue;
    const value = size === 4 ? rng.u32() : rng.int(1 << (8 * size));
    const op: AccessOp = { op: 'access', kind, size, cpl, lin, value };
    if (accessProblem(shadow, op) === null) return op;
    const blind: AccessOp = { ...op, discard: true };
    if (kind === ACCESS_READ && accessProblem(shadow, blind) === null) return blind;
  }
  return null;
}

/** randomEdit rewrites an entry (or fills a new PTE slot) and usually invalidates what it touched. */
function randomEdit(d: Draft, shadow: Shadow, ops: Op[]): void {
  const { rng } = d;
  const addr = rng.chance(0.8) ? rng.pick(d.entryAddrs) : rng.pick(d.pts) + rng.int(1024) * 4;
  const isPde = d.dirs.includes((addr & FRAME_MASK) >>> 0);
  const value = !isPde
    ? randomPte(rng)
    : shadow.pse && rng.chance(0.4)
      ? randomLargePde(rng)
      : randomPtPde({ ...d, pse: shadow.pse });
  shadow.edit(addr, value);
  ops.push({ op: 'edit', addr, value });
  if (!d.entryAddrs.includes(addr)) d.entryAddrs.push(addr);
  if (isPde) d.pages.push(((addr & 0xfff) / 4) * 1024 + rng.int(1024));
  const r = rng.u32() / 0x1_0000_0000;
  if (r < 0.5) {
    const page = rng.pick(d.pages);
    ops.push({ op: 'invlpg', lin: page * 4096 + rng.int(4096) });
    shadow.invlpg(page * 4096);
  } else if (r < 0.8) {
    ops.push({ op: 'reload-cr3' });
    shadow.reloadCr3();
  }
}

/** randomOps is the case's operation list. */
function randomOps(d: Draft, shadow: Shadow): Op[] {
  const { rng } = d;
  const ops: Op[] = [];
  const n = 4 + rng.int(21);
  while (ops.length < n) {
    const r = rng.u32() / 0x1_0000_0000;
    if (r < 0.7) {
      const a = randomAccess(d, shadow);
      if (a !== null) {
        ops.push(a);
        if (a.kind === ACCESS_WRITE) shadow.noteWrite(a.lin, a.size);
      } else {
        ops.push({ op: 'reload-cr3' });
        shadow.reloadCr3();
      }
    } else if (r < 0.84) randomEdit(d, shadow, ops);
    else if (r < 0.9) {
      const page = rng.pick(d.pages);
      ops.push({ op: 'invlpg', lin: page * 4096 + rng.int(4096) });
      shadow.invlpg(page * 4096);
    } else if (r < 0.93) {
      ops.push({ op: 'reload-cr3' });
      shadow.reloadCr3();
    } else if (r < 0.95 && d.dirs.length > 1) {
      const cr3 = rng.pick(d.dirs);
      ops.push({ op: 'load-cr3', cr3 });
      shadow.loadCr3(cr3);
    } else if (r < 0.975) randomCr4(d, shadow, ops);
    else ops.push({ op: 'set-wp', on: rng.chance(0.5) });
  }
  return ops;
}

/** randomCr4 flips CR4.PSE or CR4.PGE (rarely both), after a PSE change often reloading CR3. */
function randomCr4(d: Draft, shadow: Shadow, ops: Op[]): void {
  const { rng } = d;
  const which = rng.int(5);
  const pse = which < 3 ? !shadow.pse : which === 4 ? !shadow.pse : shadow.pse;
  const pge = which >= 3 ? !shadow.pge : shadow.pge;
  const pseChanged = pse !== shadow.pse;
  ops.push({ op: 'set-cr4', pse, pge });
  shadow.setCr4(pse, pge);
  if (pseChanged && rng.chance(0.5)) {
    ops.push({ op: 'reload-cr3' });
    shadow.reloadCr3();
  }
}

/** generateCase builds case `index` of the run with this seed. */
export function generateCase(seed: number, index: number): Case {
  const rng = new Rng(mixSeed(seed, index));
  const wp = rng.chance(0.5);
  const pse = rng.chance(0.6);
  const pge = rng.chance(0.3);
  const frames = [...Array(64).keys()].map((i) => TABLE_BASE + i * 4096);
  const take = (): number => frames.splice(rng.int(frames.length), 1)[0];
  const dirs = rng.chance(0.3) ? [take(), take()] : [take()];
  const pts = [take(), take(), take()];
  const d: Draft = { rng, pse, dirs, pts, pages: [], entryAddrs: [] };
  const shape = { cr3: dirs[0], pse, pge, tables: [...dirs, ...pts], directories: dirs.slice(1) };
  const shadow = new Shadow(shape);
  const entries: Array<readonly [number, number]> = [];
  for (const pd of dirs) buildTables(d, pd, shadow, entries);
  const ops = randomOps(d, shadow);
  return { name: `gen:${seed}:${index}`, wp, ...shape, salt: rng.u32(), entries, ops };
}

/** generateCases is cases 0..n-1 of a seed. */
export function generateCases(seed: number, n: number): Case[] {
  return Array.from({ length: n }, (_, i) => generateCase(seed, i));
}
