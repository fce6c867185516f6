// The bare model: a trace replayed through the machine's own MMU and TLB
// with a minimal demand-mapping fault handler. Frames are handed out in order
// from frame 1 (the page directory, CR3 = 0x1000) and never freed; a missing
// page table and then a missing page each take the next frame, mapped
// P|RW|US. The walk itself (A in PDE and PTE, D on writes) is the machine's.

import { PagelabError } from '../../errors.js';
import { type AccessKind } from '../../hw/fault.js';
import { Machine } from '../../hw/machine.js';
import { FNV_OFFSET, fnvStep } from '../../hw/fnv.js';
import { CR0_PE, CR0_PG, FRAME_MASK, PTE_D, PTE_P, PTE_RW, PTE_US, pdIndex, ptIndex } from '../../hw/paging.js';
import type { TlbGeometry } from '../../hw/tlb.js';
import type { Trace } from './trace.js';

export const DIRECTORY = 0x1000;
export { FNV_OFFSET, FNV_PRIME } from '../../hw/fnv.js';
const ENTRY_FLAGS = PTE_P | PTE_RW | PTE_US;
export const DEFAULT_REPLAY_RAM = 256 * 1024 * 1024;
/** Records per call of the MMU's digest loop. */
const RUN = 65536;

/** The counters of one replay, as the `--json` output names them (seconds aside). */
export interface BareCounters {
  records: number;
  hits: number;
  misses: number;
  walks: number;
  demand_faults: number;
  page_tables: number;
  frames_used: number;
  dirty_pages: number;
  dirty_sets: number;
  phys_hash: string;
}

export class BareModel {
  readonly machine: Machine;
  /** Frames of RAM: frame numbers 1 .. frameCount-1 can be handed out. */
  readonly frameCount: number;
  private nextFrame = 2;
  private readonly tables: number[] = [];
  demandFaults = 0;
  records = 0;
  hash = FNV_OFFSET;

  constructor(ram: number, tlb: TlbGeometry | string) {
    if (!Number.isInteger(ram) || ram % 4096 !== 0 || ram < 2 * 4096 || ram > 2 ** 32) {
      throw new PagelabError(`--ram must be a multiple of 4 KiB from 8 KiB to 4 GiB, got ${ram}`);
    }
    // Flat RAM from 0: frames are numbered straight through, with no PC hole.
    this.machine = new Machine({ ram: [{ base: 0, length: ram }], tlb });
    this.frameCount = ram / 4096;
    const mmu = this.machine.mmu;
    mmu.writeCr3(DIRECTORY);
    mmu.writeCr0(CR0_PE | CR0_PG);
    mmu.resetCounters();
  }

  /**
   * run replays records [start, end) of the trace: translate until a page
   * fault, map the page on demand, resume at the faulting record (the retry).
   */
  run(trace: Trace, start = 0, end = trace.length): void {
    for (let i = this.translateUntilFault(trace, start, end); i < end; i = this.translateUntilFault(trace, i, end)) {
      this.demandMap(trace.addr[i]);
    }
    this.records += end - start;
  }

  /**
   * translateUntilFault is the hot loop: translates records from `start`,
   * folding each physical address into the hash, up to `end` or the first
   * fault; returns the index it stopped at. Runs of TLB hits go through the
   * MMU's call-free digest loop; any other access through its translate().
   */
  private translateUntilFault(trace: Trace, start: number, end: number): number {
    const mmu = this.machine.mmu;
    const addr = trace.addr;
    const kind = trace.kind;
    let h = this.hash;
    let i = start;
    while (i < end) {
      /**
       * Bounded runs: V8 then runs the digest loop in its fully optimized
       * code rather than in the code it swapped in mid-loop (OSR).
       */
      const stop = Math.min(end, i + RUN);
      i = mmu.translateDigest(addr, kind, i, stop, h);
      h = mmu.digest;
      if (i === end) break;
      if (i === stop) continue;
      const p = mmu.translate(addr[i], kind[i] as AccessKind);
      if (p < 0) break;
      h = fnvStep(h, p);
      i++;
    }
    this.hash = h;
    return i;
  }

  /** demandMap handles the fault at linear address a: maps its page table and page as needed. */
  private demandMap(a: number): void {
    const mem = this.machine.mem;
    const pdeAddr = DIRECTORY + pdIndex(a) * 4;
    let pde = mem.read32(pdeAddr);
    if ((pde & PTE_P) === 0) {
      const table = this.takeFrame();
      this.tables.push(table);
      pde = (table * 4096 + ENTRY_FLAGS) >>> 0;
      mem.write32(pdeAddr, pde);
    }
    const pteAddr = ((pde & FRAME_MASK) >>> 0) + ptIndex(a) * 4;
    if ((mem.read32(pteAddr) & PTE_P) !== 0) {
      throw new Error(
        `bare model: page fault at 0x${a.toString(16)} on a present page (error code ${this.machine.mmu.faultCode})`,
      );
    }
    mem.write32(pteAddr, (this.takeFrame() * 4096 + ENTRY_FLAGS) >>> 0);
    this.demandFaults++;
  }

  /**
   * takeFrame hands out the next frame. RAM the replay never wrote reads as
   * zero, and frames are never reused, so a new frame is already zeroed.
   */
  private takeFrame(): number {
    if (this.nextFrame >= this.frameCount) {
      throw new PagelabError(`out of physical memory after ${this.nextFrame - 1} frames: give a larger --ram`);
    }
    return this.nextFrame++;
  }

  /** dirtyPages counts present PTEs with D set, over every page table. */
  dirtyPages(): number {
    const mem = this.machine.mem;
    let n = 0;
    for (const t of this.tables) {
      for (let i = 0; i < 1024; i++) {
        const pte = mem.read32(t * 4096 + i * 4);
        if ((pte & PTE_P) !== 0 && (pte & PTE_D) !== 0) n++;
      }
    }
    return n;
  }

  /**
   * counters reports the replay so far in the spec's terms. The MMU counts a
   * demand fault's retry as a second miss and walk; the spec counts one.
   */
  counters(): BareCounters {
    const c = this.machine.mmu.counters();
    return {
      records: this.records,
      hits: c.hits,
      misses: c.misses - this.demandFaults,
      walks: c.walks - this.demandFaults,
      demand_faults: this.demandFaults,
      page_tables: this.tables.length,
      frames_used: this.nextFrame - 1,
      dirty_pages: this.dirtyPages(),
      dirty_sets: c.dirtySets,
      phys_hash: this.hash.toString(16).padStart(8, '0'),
    };
  }
}
