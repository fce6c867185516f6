// The generator's view of a case while it runs: the table words, and which
// pages may have a stale TLB entry. A TLB (and the paging-structure caches) may
// keep using an entry after it is edited until INVLPG or a CR3 reload drops it
// (SDM 4.10.4.2); whether it does is not architectural, so a case may only
// access pages no edit has made possibly stale. The same holds after MOV to
// CR4 changes PSE without changing PGE: only a change of PGE invalidates the
// TLB (SDM 4.10.4.1), so every page under a PDE with PS=1 may keep its old
// translation until INVLPG or a CR3 reload. validateCase checks a whole
// case against these rules and against the layout the test kernel needs.

import { PagelabError } from '../../src/errors.js';
import { hex } from '../../src/hw/addr.js';
import { FRAME_MASK, LARGE_FRAME_MASK, PDE_LARGE_RSVD_BIT21, PDE_PS, PTE_G, PTE_P } from '../../src/hw/paging.js';
import {
  DATA_BASE,
  FETCH_OFFSET,
  HEAD_BYTES,
  KERNEL_PDES,
  LARGE_END,
  MAXPHYADDR_LIMIT,
  RAM_LIMIT,
  RET_BYTES,
  TABLE_BASE,
  TABLE_END,
  TAIL_BYTES,
  directoriesOf,
  type AccessOp,
  type Case,
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
  /** CR4.PSE and CR4.PGE now. */
  pse: boolean;
  pge: boolean;
  /**
   * Physical frames whose straddle code bytes (head: first HEAD_BYTES, tail: last TAIL_BYTES) a write may have changed.
   */
  readonly clobberedHeads = new Set<number>();
  readonly clobberedTails = new Set<number>();
  readonly tables: ReadonlySet<number>;
  readonly directories: readonly number[];

  constructor(readonly c: Pick<Case, 'cr3' | 'pse' | 'pge' | 'tables' | 'directories'>) {
    this.pd = (c.cr3 & FRAME_MASK) >>> 0;
    this.pse = c.pse;
    this.pge = c.pge;
    this.tables = new Set(c.tables);
    this.directories = directoriesOf(c);
  }

  /** read is the current value of a table word (tables start zeroed). */
  read(addr: number): number {
    return this.words.get(addr) ?? 0;
  }

  /** write sets a table word without invalidation bookkeeping (the initial entries). */
  write(addr: number, value: number): void {
    this.words.set(addr, value >>> 0);
  }

  /**
   * translate follows the current tables for `lin`, or returns null when the
   * walk faults without reading memory (an entry not present, bit 21 set in a 4 MiB PDE).
   */
  translate(lin: number): ShadowTranslation | null {
    const pde = this.read(this.pd + (lin >>> 22) * 4);
    if ((pde & PTE_P) === 0) return null;
    if ((pde & PDE_PS) !== 0 && this.pse) {
      if ((pde & PDE_LARGE_RSVD_BIT21) !== 0) return null;
      const high = ((pde >>> 13) & 0xff) * 0x1_0000_0000;
      return { phys: high + ((pde & LARGE_FRAME_MASK) >>> 0) + (lin & 0x3fffff), global: (pde & PTE_G) !== 0 };
    }
    const pt = (pde & FRAME_MASK) >>> 0;
    if (!this.tables.has(pt))
      throw new PagelabError(`PDE for ${hex(lin)} names page table ${hex(pt)}, which the case does not zero`);
    const pte = this.read(pt + ((lin >>> 12) & 0x3ff) * 4);
    if ((pte & PTE_P) === 0) return null;
    return { phys: ((pte & FRAME_MASK) >>> 0) + (lin & 0xfff), global: (pte & PTE_G) !== 0 };
  }

  /**
   * edit writes a table word as the kernel does mid-case: every page whose
   * translation reads that word may now be stale.
   */
  edit(addr: number, value: number): void {
    for (let k = KERNEL_PDES; k < 1024; k++) {
      const pdeAddr = this.pd + k * 4;
      if (pdeAddr === addr) {
        for (let i = 0; i < 1024; i++) this.taint(k * 1024 + i);
        continue;
      }
      const pde = this.read(pdeAddr);
      if ((pde & PTE_P) === 0 || ((pde & PDE_PS) !== 0 && this.pse)) continue;
      if ((pde & FRAME_MASK) >>> 0 === (addr & FRAME_MASK) >>> 0) this.taint(k * 1024 + ((addr & 0xfff) >>> 2));
    }
    this.write(addr, value);
  }

  /** taint marks a page possibly stale, remembering whether its entry may be global. */
  private taint(vpn: number): void {
    const t = this.pge ? this.safeTranslate(vpn * 4096) : null;
    this.stale.set(vpn, (this.stale.get(vpn) ?? false) || (t !== null && t.global));
  }

  /** safeTranslate is translate for bookkeeping: an unlisted page table counts as not present. */
  private safeTranslate(lin: number): ShadowTranslation | null {
    try {
      return this.translate(lin);
    } catch {
      return null;
    }
  }

  /** invlpg drops the page holding `lin` from the TLB (SDM 4.10.4.1). */
  invlpg(lin: number): void {
    this.stale.delete(lin >>> 12);
  }

  /** reloadCr3 drops every non-global entry (SDM 4.10.4.1). */
  reloadCr3(): void {
    for (const [vpn, global] of [...this.stale]) if (!global) this.stale.delete(vpn);
  }

  /**
   * loadCr3 switches directory: non-global entries are dropped, but with CR4.PGE
   * every global translation of the old directory may survive the switch (SDM 4.10.2.4).
   */
  loadCr3(cr3: number): void {
    if (this.pge) this.forEachGlobalPage((vpn) => this.stale.set(vpn, true));
    this.reloadCr3();
    this.pd = (cr3 & FRAME_MASK) >>> 0;
  }

  /** forEachGlobalPage calls fn with each page the current directory maps with G=1. */
  private forEachGlobalPage(fn: (vpn: number) => void): void {
    for (let k = KERNEL_PDES; k < 1024; k++) {
      const pde = this.read(this.pd + k * 4);
      if ((pde & PTE_P) === 0) continue;
      if ((pde & PDE_PS) !== 0 && this.pse) {
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

  /**
   * setCr4 is MOV to CR4. A change of PGE invalidates every TLB entry, global
   * ones included (SDM 4.10.4.1). A change of PSE alone invalidates nothing
   * architecturally (SDM 4.10.4.1 does not list it; Vol. 2 MOV CR calls the
   * flush implementation-specific): each page under a PDE with PS=1, whose
   * translation PSE decides, may keep its old one (as global, if PGE is on).
   */
  setCr4(pse: boolean, pge: boolean): void {
    if (pge !== this.pge) this.stale.clear();
    else if (pse !== this.pse) {
      for (let k = KERNEL_PDES; k < 1024; k++) {
        const pde = this.read(this.pd + k * 4);
        if ((pde & PTE_P) === 0 || (pde & PDE_PS) === 0) continue;
        for (let i = 0; i < 1024; i++) this.stale.set(k * 1024 + i, pge || (this.stale.get(k * 1024 + i) ?? false));
      }
    }
    this.pse = pse;
    this.pge = pge;
  }

  /** noteWrite records which straddle code bytes a write may change (it may fault: counted anyway). */
  noteWrite(lin: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const t = this.safeTranslate((lin + i) >>> 0);
      if (t === null) continue;
      const off = t.phys % 4096;
      if (off < HEAD_BYTES) this.clobberedHeads.add(t.phys - off);
      if (off >= 4096 - TAIL_BYTES) this.clobberedTails.add(t.phys - off);
    }
  }

  /** fresh tells whether every page an access touches is free of possibly stale entries. */
  fresh(lin: number, size: number): boolean {
    return !this.stale.has(lin >>> 12) && !this.stale.has(((lin + size - 1) >>> 0) >>> 12);
  }

  get staleCount(): number {
    return this.stale.size;
  }
}

/** refuse throws the validation error for case c. */
function refuse(c: Case, what: string): never {
  throw new PagelabError(`case ${c.name}: ${what}`);
}

/** checkTableWord refuses an entry address outside the listed tables or in the kernel's PDEs. */
function checkTableWord(c: Case, s: Shadow, addr: number): void {
  if (addr % 4 !== 0 || !s.tables.has((addr & FRAME_MASK) >>> 0))
    refuse(c, `entry address ${hex(addr)} is not in a listed table`);
  if (s.directories.includes((addr & FRAME_MASK) >>> 0) && (addr & 0xfff) < KERNEL_PDES * 4) {
    refuse(c, `entry address ${hex(addr)} is one of the kernel's PDEs`);
  }
}

/** isStraddleFetch tells whether a fetch is the straddling `mov eax, imm32; ret` (page offset 0xFFD-0xFFF, size 4). */
function isStraddleFetch(op: AccessOp): boolean {
  return op.kind === 2 && op.size === 4 && (op.lin & 0xfff) > 4096 - op.size;
}

/** fetchProblem explains why a fetch cannot run, or returns null. */
function fetchProblem(op: AccessOp): string | null {
  const off = op.lin & 0xfff;
  if (op.size === 1 && off >= FETCH_OFFSET && off < FETCH_OFFSET + RET_BYTES) return null;
  if (isStraddleFetch(op)) return null;
  return `fetch at ${hex(op.lin)} must be 1 byte at page offset ${hex(FETCH_OFFSET, 3)}-${hex(FETCH_OFFSET + RET_BYTES - 1, 3)} or 4 bytes at 0xffd-0xfff`;
}

/**
 * targetProblem explains why an access may not reach the physical address t.phys
 * of one of its pages, or returns null.
 */
function targetProblem(s: Shadow, op: AccessOp, page: number, t: ShadowTranslation): string | null {
  if (t.phys >= MAXPHYADDR_LIMIT)
    return `${hex(page)} maps above 2^36: PSE-36 bits 20:17 are reserved with MAXPHYADDR 36 (SDM 4.3), QEMU ignores them`;
  if (t.phys >= RAM_LIMIT) {
    if (op.kind === 0 && op.discard !== true)
      return `read at ${hex(op.lin)} of ${hex(t.phys, 9)} (no RAM, platform-defined) must discard its value`;
    return op.kind === 2 ? `fetch at ${hex(op.lin)} from ${hex(t.phys, 9)}, where no RAM holds code` : null;
  }
  const lowest = op.kind === 0 ? TABLE_BASE : DATA_BASE;
  if (t.phys < lowest || t.phys >= LARGE_END) return `${hex(page)} maps to ${hex(t.phys)}, outside the data area`;
  if (t.phys < DATA_BASE && !s.tables.has(t.phys - (t.phys % 4096)))
    return `${hex(page)} maps to ${hex(t.phys)}, a table frame the case does not zero`;
  return null;
}

/**
 * accessProblem explains why an access cannot run or has an outcome the
 * architecture leaves open, or returns null when it may run.
 */
export function accessProblem(s: Shadow, op: AccessOp): string | null {
  const last = op.lin + op.size - 1;
  if (op.lin < KERNEL_PDES * 0x400000 || last > 0xffffffff)
    return `access at ${hex(op.lin)} is outside the cases' linear range`;
  if (op.discard === true && op.kind !== 0) return `only a read may discard its value (access at ${hex(op.lin)})`;
  if (op.kind === 2) {
    const p = fetchProblem(op);
    if (p !== null) return p;
  }
  const off = op.lin & 0xfff;
  const straddle = op.lin >>> 12 !== last >>> 12;
  if (op.kind === 1 && !straddle && off < FETCH_OFFSET + RET_BYTES && (last & 0xfff) >= FETCH_OFFSET) {
    return `write at ${hex(op.lin)} touches the RET bytes at page offset ${hex(FETCH_OFFSET, 3)}`;
  }
  if (!s.fresh(op.lin, op.size)) return `access at ${hex(op.lin)} may use a stale TLB entry (SDM 4.10.4.2)`;
  const pages = straddle ? [op.lin, last - (last & 0xfff)] : [op.lin];
  for (const page of pages) {
    let t: ShadowTranslation | null;
    try {
      t = s.translate(page);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    if (t === null) continue;
    const p = targetProblem(s, op, page, t);
    if (p !== null) return p;
    if (isStraddleFetch(op)) {
      const frame = t.phys - (t.phys % 4096);
      if ((page === op.lin ? s.clobberedTails : s.clobberedHeads).has(frame))
        return `fetch at ${hex(op.lin)} runs code bytes a write changed`;
    }
  }
  return null;
}

/** checkAccess refuses an access the test kernel cannot run or whose outcome is not architectural. */
function checkAccess(c: Case, s: Shadow, op: AccessOp): void {
  const p = accessProblem(s, op);
  if (p !== null) refuse(c, p);
  if (op.kind === 1) s.noteWrite(op.lin, op.size);
}

/** validateCase checks the layout rules and that no access depends on a stale TLB entry. */
export function validateCase(c: Case): void {
  const s = new Shadow(c);
  for (const t of c.tables)
    if (t % 4096 !== 0 || t < TABLE_BASE || t >= TABLE_END) refuse(c, `table ${hex(t)} is outside the table area`);
  for (const d of s.directories) if (!s.tables.has(d)) refuse(c, `directory ${hex(d)} is not one of the listed tables`);
  for (const [a, v] of c.entries) {
    checkTableWord(c, s, a);
    s.write(a, v);
  }
  for (const op of c.ops) {
    switch (op.op) {
      case 'access':
        checkAccess(c, s, op);
        break;
      case 'edit':
        checkTableWord(c, s, op.addr);
        s.edit(op.addr, op.value);
        break;
      case 'invlpg':
        s.invlpg(op.lin);
        break;
      case 'reload-cr3':
        s.reloadCr3();
        break;
      case 'set-wp':
        break; // the TLB caches R/W and U/S, not rights: WP applies at once (SDM 4.10.2.2)
      case 'set-cr4':
        s.setCr4(op.pse, op.pge);
        break;
      case 'load-cr3':
        if (!s.directories.includes((op.cr3 & FRAME_MASK) >>> 0))
          refuse(c, `load-cr3 ${hex(op.cr3)} is not one of the case's directories`);
        s.loadCr3(op.cr3);
        break;
    }
  }
}
