// The generator's view of a case while it runs: the table words, and which
// pages may have a stale TLB entry. A TLB (and the paging-structure caches) may
// keep using an entry after it is edited until INVLPG or a CR3 reload drops it
// (SDM 4.10.4.2); whether it does is not architectural, so a case may only
// access pages no edit has made possibly stale. validateCase checks a whole
// case against that rule and against the layout the test kernel needs.

import { PagelabError } from '../../src/errors.js';
import { hex } from '../../src/hw/addr.js';
import { FRAME_MASK, LARGE_FRAME_MASK, PDE_PS, PTE_G, PTE_P } from '../../src/hw/paging.js';
import {
  DATA_BASE, FETCH_OFFSET, KERNEL_PDES, LARGE_END, RET_BYTES, TABLE_BASE, TABLE_END, directoriesOf, type AccessOp, type Case,
} from './case.js';

/** Where a linear address leads, ignoring permissions: physical address and the leaf's G flag. */
export interface ShadowTranslation {
  readonly phys: number;
  readonly global: boolean;
}

export class Shadow {
  private readonly words = new Map<number, number>();
  /** Possibly stale pages (by page number); true when a global entry may survive a CR3 reload. */
  private readonly stale = new Map<number, boolean>();
  /** The current directory (CR3's frame). */
  pd: number;
  readonly tables: ReadonlySet<number>;
  readonly directories: readonly number[];

  constructor(readonly c: Pick<Case, 'cr3' | 'pse' | 'pge' | 'tables' | 'directories'>) {
    this.pd = (c.cr3 & FRAME_MASK) >>> 0;
    this.tables = new Set(c.tables);
    this.directories = directoriesOf(c);
  }

  // read is the current value of a table word (tables start zeroed).
  read(addr: number): number {
    return this.words.get(addr) ?? 0;
  }

  // write sets a table word without invalidation bookkeeping (the initial entries).
  write(addr: number, value: number): void {
    this.words.set(addr, value >>> 0);
  }

  // translate follows the current tables for `lin`, or returns null when an entry is not present.
  translate(lin: number): ShadowTranslation | null {
    const pde = this.read(this.pd + (lin >>> 22) * 4);
    if ((pde & PTE_P) === 0) return null;
    if ((pde & PDE_PS) !== 0 && this.c.pse) {
      const high = ((pde >>> 13) & 0xff) * 0x1_0000_0000;
      return { phys: high + ((pde & LARGE_FRAME_MASK) >>> 0) + (lin & 0x3fffff), global: (pde & PTE_G) !== 0 };
    }
    const pt = (pde & FRAME_MASK) >>> 0;
    if (!this.tables.has(pt)) throw new PagelabError(`PDE for ${hex(lin)} names page table ${hex(pt)}, which the case does not zero`);
    const pte = this.read(pt + ((lin >>> 12) & 0x3ff) * 4);
    if ((pte & PTE_P) === 0) return null;
    return { phys: ((pte & FRAME_MASK) >>> 0) + (lin & 0xfff), global: (pte & PTE_G) !== 0 };
  }

  // edit writes a table word as the kernel does mid-case: every page whose
  // translation reads that word may now be stale.
  edit(addr: number, value: number): void {
    for (let k = KERNEL_PDES; k < 1024; k++) {
      const pdeAddr = this.pd + k * 4;
      if (pdeAddr === addr) {
        for (let i = 0; i < 1024; i++) this.taint(k * 1024 + i);
        continue;
      }
      const pde = this.read(pdeAddr);
      if ((pde & PTE_P) === 0 || ((pde & PDE_PS) !== 0 && this.c.pse)) continue;
      if (((pde & FRAME_MASK) >>> 0) === ((addr & FRAME_MASK) >>> 0)) this.taint(k * 1024 + ((addr & 0xfff) >>> 2));
    }
    this.write(addr, value);
  }

  // taint marks a page possibly stale, remembering whether its entry may be global.
  private taint(vpn: number): void {
    const t = this.c.pge ? this.safeTranslate(vpn * 4096) : null;
    this.stale.set(vpn, (this.stale.get(vpn) ?? false) || (t !== null && t.global));
  }

  // safeTranslate is translate for bookkeeping: an unlisted page table counts as not present.
  private safeTranslate(lin: number): ShadowTranslation | null {
    try {
      return this.translate(lin);
    } catch {
      return null;
    }
  }

  // invlpg drops the page holding `lin` from the TLB (SDM 4.10.4.1).
  invlpg(lin: number): void {
    this.stale.delete(lin >>> 12);
  }

  // reloadCr3 drops every non-global entry (SDM 4.10.4.1).
  reloadCr3(): void {
    for (const [vpn, global] of [...this.stale]) if (!global) this.stale.delete(vpn);
  }

  // loadCr3 switches directory: non-global entries are dropped, but with CR4.PGE
  // every global translation of the old directory may survive the switch (SDM 4.10.2.4).
  loadCr3(cr3: number): void {
    if (this.c.pge) this.forEachGlobalPage((vpn) => this.stale.set(vpn, true));
    this.reloadCr3();
    this.pd = (cr3 & FRAME_MASK) >>> 0;
  }

  // forEachGlobalPage calls fn with each page the current directory maps with G=1.
  private forEachGlobalPage(fn: (vpn: number) => void): void {
    for (let k = KERNEL_PDES; k < 1024; k++) {
      const pde = this.read(this.pd + k * 4);
      if ((pde & PTE_P) === 0) continue;
      if ((pde & PDE_PS) !== 0 && this.c.pse) {
        if ((pde & PTE_G) !== 0) for (let i = 0; i < 1024; i++) fn(k * 1024 + i);
        continue;
      }
      const pt = (pde & FRAME_MASK) >>> 0;
      for (let j = 0; j < 1024; j++) {
        const pte = this.read(pt + j * 4);
        if ((pte & PTE_P) !== 0 && (pte & PTE_G) !== 0) fn(k * 1024 + j);
      }
    }
  }

  // fresh tells whether every page an access touches is free of possibly stale entries.
  fresh(lin: number, size: number): boolean {
    return !this.stale.has(lin >>> 12) && !this.stale.has(((lin + size - 1) >>> 0) >>> 12);
  }

  get staleCount(): number {
    return this.stale.size;
  }
}

// refuse throws the validation error for case c.
function refuse(c: Case, what: string): never {
  throw new PagelabError(`case ${c.name}: ${what}`);
}

// checkTableWord refuses an entry address outside the listed tables or in the kernel's PDEs.
function checkTableWord(c: Case, s: Shadow, addr: number): void {
  if (addr % 4 !== 0 || !s.tables.has((addr & FRAME_MASK) >>> 0)) refuse(c, `entry address ${hex(addr)} is not in a listed table`);
  if (s.directories.includes((addr & FRAME_MASK) >>> 0) && (addr & 0xfff) < KERNEL_PDES * 4) {
    refuse(c, `entry address ${hex(addr)} is one of the kernel's PDEs`);
  }
}

// checkAccess refuses an access the test kernel cannot run or whose outcome is not architectural.
function checkAccess(c: Case, s: Shadow, op: AccessOp): void {
  const last = op.lin + op.size - 1;
  if (op.lin < KERNEL_PDES * 0x400000 || last > 0xffffffff) refuse(c, `access at ${hex(op.lin)} is outside the cases' linear range`);
  const off = op.lin & 0xfff;
  if (op.kind === 2 && (op.size !== 1 || off < FETCH_OFFSET || off >= FETCH_OFFSET + RET_BYTES)) {
    refuse(c, `fetch at ${hex(op.lin)} must be 1 byte at page offset ${hex(FETCH_OFFSET, 3)}-${hex(FETCH_OFFSET + RET_BYTES - 1, 3)}`);
  }
  const straddle = op.lin >>> 12 !== last >>> 12;
  if (op.kind === 1 && !straddle && off < FETCH_OFFSET + RET_BYTES && (last & 0xfff) >= FETCH_OFFSET) {
    refuse(c, `write at ${hex(op.lin)} touches the RET bytes at page offset ${hex(FETCH_OFFSET, 3)}`);
  }
  if (!s.fresh(op.lin, op.size)) refuse(c, `access at ${hex(op.lin)} may use a stale TLB entry (SDM 4.10.4.2)`);
  for (const page of straddle ? [op.lin, last - (last & 0xfff)] : [op.lin]) {
    const t = s.translate(page);
    if (t === null) continue;
    const lowest = op.kind === 1 ? DATA_BASE : TABLE_BASE;
    if (t.phys < lowest || t.phys >= LARGE_END) refuse(c, `${hex(page)} maps to ${hex(t.phys)}, outside the data area`);
  }
}

// validateCase checks the layout rules and that no access depends on a stale TLB entry.
export function validateCase(c: Case): void {
  const s = new Shadow(c);
  for (const t of c.tables) if (t % 4096 !== 0 || t < TABLE_BASE || t >= TABLE_END) refuse(c, `table ${hex(t)} is outside the table area`);
  for (const d of s.directories) if (!s.tables.has(d)) refuse(c, `directory ${hex(d)} is not one of the listed tables`);
  for (const [a, v] of c.entries) {
    checkTableWord(c, s, a);
    s.write(a, v);
  }
  for (const op of c.ops) {
    switch (op.op) {
      case 'access': checkAccess(c, s, op); break;
      case 'edit': checkTableWord(c, s, op.addr); s.edit(op.addr, op.value); break;
      case 'invlpg': s.invlpg(op.lin); break;
      case 'reload-cr3': s.reloadCr3(); break;
      case 'set-wp': break;
      case 'load-cr3':
        if (!s.directories.includes(op.cr3)) refuse(c, `load-cr3 ${hex(op.cr3)} is not one of the case's directories`);
        s.loadCr3(op.cr3);
        break;
    }
  }
}
