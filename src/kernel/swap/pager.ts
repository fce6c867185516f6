// The pager: a budget of user frames (all processes together), eviction when it is full, and the swap-in of a
// swapped-out page. A dirty victim (PTE.D) is written to a slot of the swap file and its PTE becomes a swap entry
// (P = 0, the slot in bits 31:12); a clean one is unmapped and comes back as it first came (its ELF page, zeros).
// A swapped-in page gives its slot back and is mapped dirty (as Linux's pte_mkdirty when it drops the swap cache),
// so it is written again when it goes. INVLPG in the current space; other spaces are flushed at their next CR3
// load (SDM 4.10.4.1). A frame shared after fork (reference count > 1) is never evicted: without a reverse map the
// kernel cannot find every PTE mapping it. State in kernel RAM: the frame ring, the slot map, the checksums and
// the counters below. When every budgeted frame is shared, a fault takes a frame beyond the budget (overBudget)
// rather than fail. Only fifo and clock are implemented in the kernel.
import { PAGE_SIZE, type LinAddr, type PhysAddr } from '../../hw/addr.js';
import { FRAME_MASK, PDE_PS, PTE_A, PTE_D, PTE_P, PTE_RW, PTE_US } from '../../hw/paging.js';
import { kadd, kread, kwrite, type ProcCtx, type ProcHandle } from '../proc/ctx.js';
import { G_PAGE_INS, P_MAX_RESIDENT, P_PAGE_INS, P_PID, P_RESIDENT } from '../proc/layout.js';
import { settle, userPte } from '../proc/pages.js';
import { KERNEL_PDE_FIRST } from '../vm/layout.js';
import { SwapChecksums } from './checksum.js';
import { SwapFile } from './file.js';
import { FrameRing } from './frametable.js';
import { isSwapEntry, swapEntry, swapSlot } from './pte.js';
import { SwapSlots } from './slots.js';

/** The in-kernel replacement policies. */
export type PagerPolicy = 'fifo' | 'clock';
export const PAGER_POLICIES: readonly PagerPolicy[] = ['fifo', 'clock'];

/** What the pager is built with. */
export interface PagerOptions {
  /** The budget: user frames of all processes together. */
  readonly userFrames: number;
  readonly policy: PagerPolicy;
  /** The swap file (null: a temporary one removed at close) and its size in slots. */
  readonly file: string | null;
  readonly slots: number;
}

/** The pager's counters, read from RAM. */
export interface PagerCounters {
  zeroFills: number;
  fileReads: number;
  swapIns: number;
  pageOuts: number;
  evictions: number;
  majorFaults: number;
  minorFaults: number;
  clockInvlpgs: number;
  /** Frames taken beyond the budget because every budgeted frame was shared after fork. */
  overBudget: number;
  swap: { slots: number; used: number; peakUsed: number; bytesWritten: number; bytesRead: number };
}

// struct pager_stats on the kernel heap: magic 'PAGR' then u32 counters (bytes are pages times PAGE_SIZE).
const C_MAGIC = 0x52474150;
const C = {
  zeroFills: 4,
  fileReads: 8,
  swapIns: 12,
  pageOuts: 16,
  evictions: 20,
  majorFaults: 24,
  minorFaults: 28,
  clockInvlpgs: 32,
  peakUsed: 36,
  pagesWritten: 40,
  pagesRead: 44,
  overBudget: 48,
} as const;
const C_SIZE = 52;

/** The pager of one process kernel. */
export class Pager {
  /** The page being written out, and the one being read in (an eviction happens between read and map). */
  private readonly buf = new Uint8Array(PAGE_SIZE);
  private readonly inBuf = new Uint8Array(PAGE_SIZE);

  private constructor(
    readonly ring: FrameRing,
    readonly slots: SwapSlots,
    readonly sums: SwapChecksums,
    readonly file: SwapFile,
    readonly policy: PagerPolicy,
    private readonly stats: number,
  ) {}

  /** create lays the pager's structures out on the kernel heap and opens the swap file. */
  static create(k: ProcCtx, o: PagerOptions): Pager {
    const ring = FrameRing.create(k.machine, k.heap, o.userFrames);
    const slots = SwapSlots.create(k.machine, k.heap, o.slots);
    const sums = SwapChecksums.create(k.machine, k.heap, o.slots);
    const stats = k.heap.kcalloc(1, C_SIZE);
    if (stats === null) throw new Error('no kernel heap for the pager counters');
    k.machine.write32(stats, C_MAGIC);
    return new Pager(ring, slots, sums, new SwapFile(o.file, o.slots), o.policy, stats);
  }

  /** count adds one to a counter. */
  count(k: ProcCtx, c: keyof typeof C): void {
    kadd(k, this.stats + C[c], 1);
  }

  /** alloc gives a frame for h's page, evicting a victim when the budget is full; null: nothing evictable. */
  alloc(k: ProcCtx, h: ProcHandle, page: number, zero: boolean): PhysAddr | null {
    let i = this.ring.lowestEmpty();
    let frame: PhysAddr | null;
    if (i >= 0) {
      frame = k.frames.alloc({ zero });
      if (frame === null) return null;
    } else {
      i = this.victim(k);
      if (i < 0) return this.overBudget(k, zero);
      frame = this.evict(k, i);
      if (frame === null) return null;
      if (zero) zeroFrame(k, frame);
    }
    this.ring.set(i, frame, h.pid, page);
    this.ring.setHand(i + 1);
    return frame;
  }

  /** overBudget: every budgeted frame is shared (or stale): a frame outside the ring, never evicted, counted. */
  private overBudget(k: ProcCtx, zero: boolean): PhysAddr | null {
    this.count(k, 'overBudget');
    return k.frames.alloc({ zero });
  }

  /** release takes a freed frame out of the ring (a no-op for a frame it does not hold). */
  release(frame: PhysAddr): void {
    const i = this.ring.indexOf(frame);
    if (i >= 0) this.ring.set(i, 0, 0, 0);
  }

  /** victim sweeps the hand: fifo takes the first evictable entry, clock clears A (with INVLPG) past set ones. */
  private victim(k: ProcCtx): number {
    const n = this.ring.size();
    let i = this.ring.hand();
    for (let steps = 0; steps < 2 * n + 1; steps++, i = (i + 1) % n) {
      const e = this.ring.entry(i);
      const h = evictable(k, e.frame, e.pid, e.page);
      if (h === null) continue;
      const pte = userPte(k, h.space, e.page);
      if (this.policy === 'clock' && pte & PTE_A) {
        this.writePte(k, h, e.page, (pte & ~PTE_A) >>> 0);
        if (current(k, h)) this.count(k, 'clockInvlpgs');
        continue;
      }
      this.ring.setHand(i);
      return i;
    }
    return -1;
  }

  /** evict takes entry i's page away from its process (written to a slot when dirty); returns its frame. */
  private evict(k: ProcCtx, i: number): PhysAddr | null {
    const e = this.ring.entry(i);
    const h = k.table.open(e.pid);
    const pte = userPte(k, h.space, e.page);
    const frame = e.frame as PhysAddr;
    if (pte & PTE_D) {
      const slot = this.slots.alloc();
      if (slot === null) return null;
      readFrame(k, frame, this.buf);
      this.file.writeSlot(slot, this.buf);
      this.sums.record(slot, this.buf);
      this.writePte(k, h, e.page, swapEntry(slot));
      this.count(k, 'pageOuts');
      this.count(k, 'pagesWritten');
      const used = this.slots.size() - this.slots.nfree();
      if (used > kread(k, this.stats + C.peakUsed)) kwrite(k, this.stats + C.peakUsed, used);
    } else {
      settle(k, h.space, h.space.unmap(e.page as LinAddr).flush);
    }
    kadd(k, h.desc + P_RESIDENT, -1);
    k.refs.set(frame, 0);
    this.ring.set(i, 0, 0, 0);
    this.count(k, 'evictions');
    return frame;
  }

  /** swapIn reads a swapped-out page back (checksum verified) into a frame of the budget; false: no frame. */
  swapIn(k: ProcCtx, h: ProcHandle, page: number, pte: number, writable: boolean): boolean {
    const slot = swapSlot(pte);
    this.file.readSlot(slot, this.inBuf);
    this.sums.verify(slot, this.inBuf);
    const frame = this.alloc(k, h, page, false);
    if (frame === null) return false;
    writeFrame(k, frame, this.inBuf);
    this.writePte(k, h, page, frame | PTE_P | PTE_US | PTE_D | (writable ? PTE_RW : 0));
    k.refs.set(frame, 1);
    const n = kadd(k, h.desc + P_RESIDENT, 1);
    if (n > kread(k, h.desc + P_MAX_RESIDENT)) kwrite(k, h.desc + P_MAX_RESIDENT, n);
    this.slots.put(slot);
    kadd(k, h.desc + P_PAGE_INS, 1); // a page-in like the others: pageIns = zeroFills + fileReads + swapIns
    kadd(k, k.globals + G_PAGE_INS, 1);
    this.count(k, 'swapIns');
    this.count(k, 'majorFaults');
    this.count(k, 'pagesRead');
    return true;
  }

  /** dropSwap frees the slots of h's swap entries in [start, end) and clears them (tables freed when emptied). */
  dropSwap(k: ProcCtx, h: ProcHandle, start: number, end: number): void {
    for (const [page, pte] of swapPages(k, h, start, end)) {
      this.slots.put(swapSlot(pte));
      this.writePte(k, h, page, PTE_P); // a placeholder so that unmap keeps the table's count right
      settle(k, h.space, h.space.unmap(page as LinAddr).flush);
    }
  }

  /** forkSwap gives the child the parent's swap entries, each slot one more sharer. */
  forkSwap(k: ProcCtx, parent: ProcHandle, child: ProcHandle): void {
    for (const [page, pte] of swapPages(k, parent, 0, 0xc0000000)) {
      settle(k, child.space, child.space.map(page as LinAddr, 0 as PhysAddr, PTE_US)); // makes the table
      this.writePte(k, child, page, pte);
      this.slots.dup(swapSlot(pte));
    }
  }

  /** counters reads the counters from RAM. */
  counters(k: ProcCtx): PagerCounters {
    const r = (o: number): number => kread(k, this.stats + o);
    const slots = this.slots.size();
    return {
      zeroFills: r(C.zeroFills),
      fileReads: r(C.fileReads),
      swapIns: r(C.swapIns),
      pageOuts: r(C.pageOuts),
      evictions: r(C.evictions),
      majorFaults: r(C.majorFaults),
      minorFaults: r(C.minorFaults),
      clockInvlpgs: r(C.clockInvlpgs),
      overBudget: r(C.overBudget),
      swap: {
        slots,
        used: slots - this.slots.nfree(),
        peakUsed: r(C.peakUsed),
        bytesWritten: r(C.pagesWritten) * PAGE_SIZE,
        bytesRead: r(C.pagesRead) * PAGE_SIZE,
      },
    };
  }

  /** close closes the swap file (a temporary one is removed). */
  close(): void {
    this.file.close();
  }

  /** writePte rewrites one user PTE in place (the table's present count unchanged), INVLPG when current. */
  private writePte(k: ProcCtx, h: ProcHandle, page: number, value: number): void {
    const dir = h.space.directory;
    const pdi = page >>> 22;
    const table = ((k.vm.pt.readPde(dir, pdi) & FRAME_MASK) >>> 0) as PhysAddr;
    k.vm.pt.writePte(dir, pdi, table, (page >>> 12) & 0x3ff, value >>> 0);
    if (current(k, h)) {
      k.machine.mmu.invlpg(page); // SDM 4.10.4.1: INVLPG drops the page's TLB entry
      k.vm.tracker.invlpgs++;
    }
  }
}

/** evictable opens the entry's process when its page still maps the frame alone; null otherwise (shared, stale). */
function evictable(k: ProcCtx, frame: number, pid: number, page: number): ProcHandle | null {
  if (frame === 0 || !k.table.has(pid) || k.refs.get(frame) !== 1) return null;
  const h = k.table.open(pid);
  if (kread(k, h.desc + P_PID) !== pid) return null;
  const pte = userPte(k, h.space, page);
  return pte & PTE_P && (pte & FRAME_MASK) >>> 0 === frame ? h : null;
}

/** current: h's directory is in CR3. */
function current(k: ProcCtx, h: ProcHandle): boolean {
  return (k.machine.mmu.cr3 & FRAME_MASK) >>> 0 === h.space.directory;
}

/** swapPages lists h's swap entries in [start, end) (visiting only present tables). */
export function swapPages(k: ProcCtx, h: ProcHandle, start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  const dir = h.space.directory;
  const last = Math.min(KERNEL_PDE_FIRST, Math.ceil(end / 0x400000));
  for (let pdi = Math.floor(start / 0x400000); pdi < last; pdi++) {
    const pde = k.vm.pt.readPde(dir, pdi);
    if ((pde & (PTE_P | PDE_PS)) !== PTE_P) continue;
    const table = ((pde & FRAME_MASK) >>> 0) as PhysAddr;
    for (let pti = 0; pti < 1024; pti++) {
      const page = pdi * 0x400000 + pti * PAGE_SIZE;
      if (page < start || page >= end) continue;
      const pte = k.vm.pt.readPte(dir, pdi, table, pti);
      if (!(pte & PTE_P) && pte !== 0 && isSwapEntry(pte)) out.push([page, pte]);
    }
  }
  return out;
}

/** readFrame copies a frame into buf through a temporary mapping. */
function readFrame(k: ProcCtx, frame: PhysAddr, buf: Uint8Array): void {
  const at = k.vm.core.slot.map(frame);
  try {
    buf.set(k.machine.readBytes(at, PAGE_SIZE));
  } finally {
    k.vm.core.slot.unmap();
  }
}

/** writeFrame copies buf into a frame through a temporary mapping. */
function writeFrame(k: ProcCtx, frame: PhysAddr, buf: Uint8Array): void {
  const at = k.vm.core.slot.map(frame);
  try {
    k.machine.writeBytes(at, buf);
  } finally {
    k.vm.core.slot.unmap();
  }
}

/** zeroFrame clears a reused frame, as the frame allocator's zeroing would. */
function zeroFrame(k: ProcCtx, frame: PhysAddr): void {
  const at = k.vm.core.slot.map(frame);
  try {
    k.machine.fill(at, PAGE_SIZE, 0);
  } finally {
    k.vm.core.slot.unmap();
  }
}
