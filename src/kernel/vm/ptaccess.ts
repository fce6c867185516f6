// How the kernel reaches page directories and tables (--pt-access):
//  - 'slot': every directory and table frame through the temporary-mapping
//    slot (works for any address space, current or not);
//  - 'recursive': PDE 1023 of every directory points at the directory itself,
//    so the current space's tables appear at 0xFFC00000 + pdi*4 KiB and its
//    directory at 0xFFFFF000. Another space is reached through PDE 1022 of
//    the current directory, pointed at the other directory: its tables appear
//    at 0xFF800000 + pdi*4 KiB and its directory at 0xFFBFF000.
// New tables are zeroed through the slot before they are linked in, in both.

import { PAGE_SIZE, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { FRAME_MASK, PTE_A, PTE_P, PTE_RW } from '../../hw/paging.js';
import type { TempSlot } from './slot.js';
import { entryAddr } from './entry.js';
import { RECURSIVE_DIRECTORY, RECURSIVE_PDE, RECURSIVE_TABLES } from './layout.js';

export type PtAccessKind = 'slot' | 'recursive';

export interface PtAccess {
  readonly kind: PtAccessKind;
  /** Highest PDE index usable for mappings (1023 with the slot; 1021 when 1022/1023 are recursive). */
  readonly lastMappablePde: number;
  readPde(dir: PhysAddr, pdi: number): number;
  writePde(dir: PhysAddr, pdi: number, v: number): void;
  readPte(dir: PhysAddr, pdi: number, table: PhysAddr, pti: number): number;
  writePte(dir: PhysAddr, pdi: number, table: PhysAddr, pti: number, v: number): void;
  /** Prepares a freshly zeroed directory (recursive: its self-reference). */
  initDirectory(dir: PhysAddr): void;
  /** Before `dir` is freed: no directory in `others` may keep a window onto it (recursive: PDE 1022). */
  forget(dir: PhysAddr, others: readonly PhysAddr[]): void;
  /** Closes any window left open onto another directory (the kernel calls it when bring-up ends, like the slot's). */
  quiesce(): void;
}

/** createPtAccess builds the chosen strategy. */
export function createPtAccess(kind: PtAccessKind, machine: Machine, slot: TempSlot): PtAccess {
  return kind === 'slot' ? new SlotPtAccess(slot) : new RecursivePtAccess(machine, slot);
}

class SlotPtAccess implements PtAccess {
  readonly kind = 'slot';
  readonly lastMappablePde = 1023;
  constructor(private readonly slot: TempSlot) {}

  readPde(dir: PhysAddr, pdi: number): number {
    return this.slot.read32(entryAddr(dir, pdi));
  }

  writePde(dir: PhysAddr, pdi: number, v: number): void {
    this.slot.write32(entryAddr(dir, pdi), v);
  }

  readPte(_dir: PhysAddr, _pdi: number, table: PhysAddr, pti: number): number {
    return this.slot.read32(entryAddr(table, pti));
  }

  writePte(_dir: PhysAddr, _pdi: number, table: PhysAddr, pti: number, v: number): void {
    this.slot.write32(entryAddr(table, pti), v);
  }

  initDirectory(): void {}

  forget(): void {}

  quiesce(): void {}
}

const FOREIGN_PDE = RECURSIVE_PDE - 1;
const FOREIGN_TABLES = FOREIGN_PDE * 0x400000; // 0xFF800000
const FOREIGN_DIRECTORY = FOREIGN_TABLES + RECURSIVE_PDE * PAGE_SIZE; // 0xFFBFF000

class RecursivePtAccess implements PtAccess {
  readonly kind = 'recursive';
  readonly lastMappablePde = FOREIGN_PDE - 1;
  /** Pages of the foreign window touched since PDE 1022 last changed (to INVLPG on retarget). */
  private readonly touched = new Set<number>();

  constructor(
    private readonly machine: Machine,
    private readonly slot: TempSlot,
  ) {}

  readPde(dir: PhysAddr, pdi: number): number {
    return this.machine.read32(this.directoryBase(dir) + pdi * 4);
  }

  /** writePde also drops the TLB entry of the table window it changes. */
  writePde(dir: PhysAddr, pdi: number, v: number): void {
    const current = this.isCurrent(dir);
    this.machine.write32(this.directoryBase(dir) + pdi * 4, v);
    const window = (current ? RECURSIVE_TABLES : FOREIGN_TABLES) + pdi * PAGE_SIZE;
    this.machine.mmu.invlpg(window);
  }

  readPte(dir: PhysAddr, pdi: number, _table: PhysAddr, pti: number): number {
    return this.machine.read32(this.tableBase(dir, pdi) + pti * 4);
  }

  writePte(dir: PhysAddr, pdi: number, _table: PhysAddr, pti: number, v: number): void {
    this.machine.write32(this.tableBase(dir, pdi) + pti * 4, v);
  }

  /**
   * initDirectory writes the self-reference into a new directory, through the
   * slot: until it exists the directory cannot be reached recursively.
   */
  initDirectory(dir: PhysAddr): void {
    this.slot.write32(entryAddr(dir, RECURSIVE_PDE), dir | PTE_P | PTE_RW);
  }

  /**
   * forget clears PDE 1022 in every directory of `others` that points at `dir`
   * (through the slot: they need not be current), flushing the window if it is
   * the current directory's. Otherwise a freed directory frame, reused as data,
   * would be walked as page tables at 0xFF800000.
   */
  forget(dir: PhysAddr, others: readonly PhysAddr[]): void {
    for (const d of others) {
      const at = entryAddr(d, FOREIGN_PDE);
      if ((this.slot.read32(at) & FRAME_MASK) >>> 0 !== dir) continue;
      this.slot.write32(at, 0);
      if (this.isCurrent(d)) this.flushWindow();
    }
  }

  /** quiesce clears the current directory's PDE 1022, if set. */
  quiesce(): void {
    const pdeLinear = RECURSIVE_DIRECTORY + FOREIGN_PDE * 4;
    if (this.machine.read32(pdeLinear) === 0) return;
    this.machine.write32(pdeLinear, 0);
    this.flushWindow();
  }

  private isCurrent(dir: PhysAddr): boolean {
    return (this.machine.mmu.cr3 & 0xfffff000) >>> 0 === dir;
  }

  private directoryBase(dir: PhysAddr): number {
    if (this.isCurrent(dir)) return RECURSIVE_DIRECTORY;
    this.withForeign(dir);
    this.touched.add(FOREIGN_DIRECTORY);
    return FOREIGN_DIRECTORY;
  }

  private tableBase(dir: PhysAddr, pdi: number): number {
    if (this.isCurrent(dir)) return RECURSIVE_TABLES + pdi * PAGE_SIZE;
    this.withForeign(dir);
    const page = FOREIGN_TABLES + pdi * PAGE_SIZE;
    this.touched.add(page);
    return page;
  }

  /** withForeign points the current directory's PDE 1022 at `dir`, flushing the old window. */
  private withForeign(dir: PhysAddr): void {
    const pdeLinear = RECURSIVE_DIRECTORY + FOREIGN_PDE * 4;
    const want = dir | PTE_P | PTE_RW;
    if ((this.machine.read32(pdeLinear) & ~PTE_A) === want) return;
    this.machine.write32(pdeLinear, want);
    this.flushWindow();
  }

  /** flushWindow drops the TLB entries of PDE 1022's window: its table page and every page of it used. */
  private flushWindow(): void {
    this.machine.mmu.invlpg(RECURSIVE_TABLES + FOREIGN_PDE * PAGE_SIZE);
    for (const p of this.touched) this.machine.mmu.invlpg(p);
    this.touched.clear();
  }
}
