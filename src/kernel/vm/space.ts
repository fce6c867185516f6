// An address space: a page directory in RAM and the operations on it — map,
// unmap, protect, translate, walk — for any space, current or not, through
// the chosen page-table access strategy. User page tables are allocated on
// demand and freed when their last entry goes; kernel page tables (PDE 768
// and up) are shared by every space and kept for good (see kvm.ts).
// Every rejected call changes nothing.

import { PAGE_SIZE, hex, lin, phys, type LinAddr, type PhysAddr } from '../../hw/addr.js';
import { PDE_PS, PTE_G, PTE_P, PTE_PCD, PTE_PWT, PTE_RW, PTE_US } from '../../hw/paging.js';
import { entryAddr, entryFrame, largeFrame } from './entry.js';
import { VmError } from './error.js';
import type { RecordRef } from './ramtable.js';

export { VmError, type VmErrorKind } from './error.js';
import { Flush, type FlushTracker } from './flush.js';
import type { PtAccess } from './ptaccess.js';
import { KERNEL_BASE, KERNEL_PDE_FIRST, KERNEL_WINDOW_LIMIT, TEMP_SLOT } from './layout.js';

/** The temporary-mapping slots (TEMP_SLOT and the nested ones below it) belong to slot.ts alone. */
const SLOTS_FIRST = KERNEL_BASE + KERNEL_WINDOW_LIMIT;
const SLOTS_END = TEMP_SLOT + PAGE_SIZE;

/** Flags a caller may ask for; P is implied. */
export const MAP_FLAGS = PTE_RW | PTE_US | PTE_G | PTE_PWT | PTE_PCD;

/** What an address space needs from the kernel around it. */
export interface SpaceContext {
  readonly pt: PtAccess;
  readonly tracker: FlushTracker;
  readonly pse: () => boolean;
  /** A zeroed frame for a page table (zeroed before it is linked in), or null. */
  newTable(): PhysAddr | null;
  freeTable(frame: PhysAddr): void;
  /** Installs a kernel PDE in every address space. */
  linkKernelPde(pdi: number, pde: number): void;
  /** Extra flags for kernel-half leaves (G when global kernel pages are on). */
  readonly kernelLeafFlags: number;
  /** Whether the registry in RAM still holds this space's record (same id, directory and count frame). */
  registered(space: AddressSpace): boolean;
}

export interface Unmapped {
  readonly frame: PhysAddr;
  readonly large: boolean;
  readonly flush: Flush;
}

export interface SpaceWalk {
  readonly linear: LinAddr;
  readonly pde: { readonly index: number; readonly value: number };
  readonly pte: { readonly index: number; readonly value: number } | null;
  readonly physical: PhysAddr | null;
}

export class AddressSpace {
  /**
   * `counts` is a frame of 1024 u32: present PTEs per user page table (C layout, in RAM).
   * `ref` names the space's record in the registry (checked on every operation);
   * null for the kernel's own space, which is static (a C kernel's kpgdir) and never destroyed.
   */
  constructor(
    private readonly ctx: SpaceContext,
    readonly directory: PhysAddr,
    readonly counts: PhysAddr,
    private readonly countAccess: { read32(p: PhysAddr): number; write32(p: PhysAddr, v: number): void },
    readonly ref: RecordRef | null = null,
  ) {}

  /** map maps one 4 KiB page to a frame with the given flags (P implied). */
  map(page: LinAddr, frame: PhysAddr, flags: number): Flush {
    this.enter();
    const pdi = this.checkTarget(page, frame, flags, PAGE_SIZE);
    const pde = this.ctx.pt.readPde(this.directory, pdi);
    if (pde & PTE_P && pde & PDE_PS && this.ctx.pse())
      throw new VmError('already-mapped', `map ${hex(page)}: inside a 4 MiB page`, { address: page });
    const pti = (page >>> 12) & 0x3ff;
    if (pde & PTE_P && this.ctx.pt.readPte(this.directory, pdi, entryFrame(pde), pti) & PTE_P) {
      throw new VmError('already-mapped', `map ${hex(page)}: already mapped`, { address: page });
    }
    const table = pde & PTE_P ? entryFrame(pde) : this.linkNewTable(page, pdi);
    this.ctx.pt.writePte(this.directory, pdi, table, pti, frame | PTE_P | flags | this.leafExtra(pdi));
    if (pdi < KERNEL_PDE_FIRST) this.addCount(pdi, 1);
    return this.obligation([page], pdi);
  }

  /** mapLarge maps one 4 MiB page (needs CR4.PSE; both addresses 4 MiB-aligned). */
  mapLarge(page: LinAddr, frame: PhysAddr, flags: number): Flush {
    this.enter();
    if (!this.ctx.pse())
      throw new VmError('no-pse', `map 4 MiB page at ${hex(page)}: CR4.PSE is off`, { address: page });
    const pdi = this.checkTarget(page, frame, flags, 0x400000);
    if (this.ctx.pt.readPde(this.directory, pdi) & PTE_P)
      throw new VmError('already-mapped', `map 4 MiB page at ${hex(page)}: PDE ${pdi} in use`, { address: page });
    const pde = frame | PTE_P | PDE_PS | flags | this.leafExtra(pdi);
    if (pdi >= KERNEL_PDE_FIRST) this.ctx.linkKernelPde(pdi, pde);
    else this.ctx.pt.writePde(this.directory, pdi, pde);
    return this.obligation([page], pdi);
  }

  /**
   * mapRange maps [page, page+length) to consecutive frames from `frame`, using
   * 4 MiB pages where both sides are aligned and PSE is on. All or nothing:
   * on failure it unmaps what it mapped and frees the kernel tables it made.
   */
  mapRange(page: LinAddr, frame: PhysAddr, length: number, flags: number): Flush {
    this.enter();
    checkRange(page, frame, length);
    const parts: Flush[] = [];
    const absent = this.absentKernelPdes(page, length);
    try {
      for (let off = 0; off < length;) {
        const large =
          this.ctx.pse() && (page + off) % 0x400000 === 0 && (frame + off) % 0x400000 === 0 && length - off >= 0x400000;
        const at = lin(page + off);
        const f = phys(frame + off);
        parts.push(this.ctx.tracker.suspended(() => (large ? this.mapLarge(at, f, flags) : this.map(at, f, flags))));
        off += large ? 0x400000 : PAGE_SIZE;
      }
    } catch (e) {
      this.undoRange(parts, absent);
      throw e;
    }
    return Flush.combine(this.ctx.tracker, parts, this.directory);
  }

  /** absentKernelPdes lists the kernel PDEs over [page, page+length) that are not present yet. */
  private absentKernelPdes(page: number, length: number): number[] {
    const out: number[] = [];
    for (let pdi = Math.max(page >>> 22, KERNEL_PDE_FIRST); length > 0 && pdi <= (page + length - 1) >>> 22; pdi++) {
      if (!(this.ctx.pt.readPde(this.directory, pdi) & PTE_P)) out.push(pdi);
    }
    return out;
  }

  /** undoRange unmaps a failed mapRange's pages, then unlinks and frees the kernel tables it created. */
  private undoRange(parts: Flush[], absent: number[]): void {
    const undo = parts.map((f) => lin(f.pages[0]));
    Flush.combine(this.ctx.tracker, parts, this.directory).flush();
    for (const p of undo) this.unmap(p).flush.flush();
    for (const pdi of absent) {
      const pde = this.ctx.pt.readPde(this.directory, pdi);
      if (!(pde & PTE_P)) continue;
      this.ctx.linkKernelPde(pdi, 0);
      if (!(pde & PDE_PS)) this.ctx.freeTable(entryFrame(pde));
    }
  }

  /** unmap removes the mapping of one page (4 KiB, or the whole 4 MiB page holding it). */
  unmap(page: LinAddr): Unmapped {
    this.enter();
    checkPage('unmap', page);
    const pdi = page >>> 22;
    const pde = this.ctx.pt.readPde(this.directory, pdi);
    if (!(pde & PTE_P))
      throw new VmError('not-mapped', `unmap ${hex(page)}: not mapped (PDE ${pdi} not present)`, { address: page });
    if (pde & PDE_PS && this.ctx.pse()) return this.unmapLarge(page, pdi, pde);
    const table = entryFrame(pde);
    const pti = (page >>> 12) & 0x3ff;
    const pte = this.ctx.pt.readPte(this.directory, pdi, table, pti);
    if (!(pte & PTE_P))
      throw new VmError('not-mapped', `unmap ${hex(page)}: not mapped (PTE ${pti} not present)`, { address: page });
    this.ctx.pt.writePte(this.directory, pdi, table, pti, 0);
    let release = (): void => {};
    if (pdi < KERNEL_PDE_FIRST && this.addCount(pdi, -1) === 0) {
      this.ctx.pt.writePde(this.directory, pdi, 0);
      release = () => this.ctx.freeTable(table);
    }
    const flush = this.ctx.tracker.track(
      new Flush(this.ctx.tracker, [page & ~0xfff], this.directory, pdi >= KERNEL_PDE_FIRST, release),
    );
    return { frame: entryFrame(pte), large: false, flush };
  }

  /** protect changes the flags of a mapped page, keeping its frame and A/D. */
  protect(page: LinAddr, flags: number): Flush {
    this.enter();
    const pdi = this.checkTarget(page, phys(0), flags, PAGE_SIZE);
    const pde = this.ctx.pt.readPde(this.directory, pdi);
    if (!(pde & PTE_P)) throw new VmError('not-mapped', `protect ${hex(page)}: not mapped`, { address: page });
    const keep = (e: number): number => e & ~(MAP_FLAGS | PTE_P);
    if (pde & PDE_PS && this.ctx.pse()) {
      const v = keep(pde) | PTE_P | flags | this.leafExtra(pdi);
      if (pdi >= KERNEL_PDE_FIRST) this.ctx.linkKernelPde(pdi, v);
      else this.ctx.pt.writePde(this.directory, pdi, v);
      return this.obligation([page & ~0xfff], pdi);
    }
    const table = entryFrame(pde);
    const pti = (page >>> 12) & 0x3ff;
    const pte = this.ctx.pt.readPte(this.directory, pdi, table, pti);
    if (!(pte & PTE_P)) throw new VmError('not-mapped', `protect ${hex(page)}: not mapped`, { address: page });
    this.ctx.pt.writePte(this.directory, pdi, table, pti, keep(pte) | PTE_P | flags | this.leafExtra(pdi));
    return this.obligation([page & ~0xfff], pdi);
  }

  /** translate is the seeds' vmem_get_phys_addr: the physical address, or null if not mapped. */
  translate(linear: LinAddr): PhysAddr | null {
    this.alive();
    return this.walk(linear).physical;
  }

  /** walk reads the PDE and PTE for a linear address, as tools print them. */
  walk(linear: LinAddr): SpaceWalk {
    this.alive();
    const pdi = linear >>> 22;
    const pdeValue = this.ctx.pt.readPde(this.directory, pdi);
    const pde = { index: pdi, value: pdeValue };
    if (!(pdeValue & PTE_P)) return { linear, pde, pte: null, physical: null };
    if (pdeValue & PDE_PS && this.ctx.pse()) {
      return { linear, pde, pte: null, physical: phys(largeFrame(pdeValue) + (linear & 0x3fffff)) };
    }
    const pti = (linear >>> 12) & 0x3ff;
    const pteValue = this.ctx.pt.readPte(this.directory, pdi, entryFrame(pdeValue), pti);
    const physical = pteValue & PTE_P ? phys(entryFrame(pteValue) + (linear & 0xfff)) : null;
    return { linear, pde, pte: { index: pti, value: pteValue }, physical };
  }

  /** userTables counts the user page tables this space holds. */
  userTables(): number {
    let n = 0;
    for (let pdi = 0; pdi < KERNEL_PDE_FIRST; pdi++)
      if ((this.ctx.pt.readPde(this.directory, pdi) & (PTE_P | PDE_PS)) === PTE_P) n++;
    return n;
  }

  /** userPdes counts the present user PDEs: page tables and 4 MiB pages. */
  userPdes(): number {
    let n = 0;
    for (let pdi = 0; pdi < KERNEL_PDE_FIRST; pdi++) if (this.ctx.pt.readPde(this.directory, pdi) & PTE_P) n++;
    return n;
  }

  /** enter starts a mapping operation: the space must be live and no flush outstanding. */
  private enter(): void {
    this.alive();
    this.ctx.tracker.check();
  }

  /** alive refuses a space the registry in RAM no longer holds (its directory frame may belong to someone else now). */
  private alive(): void {
    if (this.ref !== null && !this.ctx.registered(this))
      throw new VmError('destroyed', `address space ${hex(this.directory)} was destroyed`, { frame: this.directory });
  }

  private unmapLarge(page: LinAddr, pdi: number, pde: number): Unmapped {
    if (pdi >= KERNEL_PDE_FIRST) this.ctx.linkKernelPde(pdi, 0);
    else this.ctx.pt.writePde(this.directory, pdi, 0);
    return {
      frame: largeFrame(pde),
      large: true,
      flush: this.obligation([page & ~0xfff], pdi),
    };
  }

  /** checkTarget validates an operation's addresses and flags; returns the PDE index. */
  private checkTarget(page: LinAddr, frame: PhysAddr, flags: number, size: number): number {
    checkPage('map', page);
    if (!Number.isInteger(frame) || frame < 0 || frame >= 2 ** 32)
      throw new VmError('bad-address', `map ${hex(page)}: frame ${String(frame)} is not a 32-bit physical address`, {
        address: page,
        frame,
      });
    if (page % size !== 0)
      throw new VmError(
        'misaligned',
        `${targetName(page, size)}: not ${size === PAGE_SIZE ? '4 KiB' : '4 MiB'}-aligned`,
        {
          address: page,
        },
      );
    if (frame % size !== 0)
      throw new VmError('misaligned', `${targetName(page, size)}: frame ${hex(frame)} not aligned`, {
        address: page,
        frame,
      });
    if ((flags & ~MAP_FLAGS) !== 0)
      throw new VmError(
        'bad-flags',
        `${targetName(page, size)}: flags ${hex(flags, 3)} include bits outside RW|US|G|PWT|PCD`,
        {
          address: page,
        },
      );
    const pdi = page >>> 22;
    if (pdi > this.ctx.pt.lastMappablePde)
      throw new VmError(
        'reserved',
        `${targetName(page, size)}: PDE ${pdi} is reserved for recursive page-table access`,
        {
          address: page,
        },
      );
    if (pdi >= KERNEL_PDE_FIRST && flags & PTE_US)
      throw new VmError(
        'bad-flags',
        `${targetName(page, size)}: kernel pages (0xC0000000 and up) must not be user-accessible`,
        {
          address: page,
        },
      );
    return pdi;
  }

  /** linkNewTable allocates a zeroed table and links it at pdi (kernel PDEs into every space). */
  private linkNewTable(page: LinAddr, pdi: number): PhysAddr {
    const table = this.ctx.newTable();
    if (table === null)
      throw new VmError('out-of-memory', `map ${hex(page)}: out of memory for a page table`, { address: page });
    const kernel = pdi >= KERNEL_PDE_FIRST;
    const pde = table | PTE_P | PTE_RW | (kernel ? 0 : PTE_US);
    if (!kernel) {
      this.ctx.pt.writePde(this.directory, pdi, pde);
      return table;
    }
    try {
      this.ctx.linkKernelPde(pdi, pde); // reads the whole registry before it writes a PDE
    } catch (e) {
      this.ctx.freeTable(table);
      throw e;
    }
    return table;
  }

  private leafExtra(pdi: number): number {
    return pdi >= KERNEL_PDE_FIRST ? this.ctx.kernelLeafFlags : 0;
  }

  private obligation(pages: number[], pdi: number): Flush {
    return this.ctx.tracker.track(new Flush(this.ctx.tracker, pages, this.directory, pdi >= KERNEL_PDE_FIRST));
  }

  /** addCount adjusts the present-PTE count of user table pdi and returns the new count. */
  private addCount(pdi: number, delta: number): number {
    const at = entryAddr(this.counts, pdi);
    const n = this.countAccess.read32(at) + delta;
    this.countAccess.write32(at, n);
    return n;
  }
}

/**
 * checkPage refuses a linear address that is not a 4 KiB-aligned 32-bit address,
 * or one of the temporary-mapping slots (slot.ts owns them).
 */
function checkPage(op: string, page: number): void {
  if (!Number.isInteger(page) || page < 0 || page >= 2 ** 32)
    throw new VmError('bad-address', `${op} ${String(page)}: not a 32-bit linear address`, { address: page });
  if (page % PAGE_SIZE !== 0)
    throw new VmError('misaligned', `${op} ${hex(page)}: not 4 KiB-aligned`, { address: page });
  if (page >= SLOTS_FIRST && page < SLOTS_END)
    throw new VmError('reserved', `${op} ${hex(page)}: a temporary-mapping slot, reserved for the slot itself`, {
      address: page,
    });
}

/** checkRange refuses a range that is empty, not whole pages, or runs past 4 GiB. */
function checkRange(page: number, frame: number, length: number): void {
  if (!Number.isInteger(length) || length <= 0 || length % PAGE_SIZE !== 0)
    throw new VmError(
      'bad-address',
      `map range at ${String(page)}: length ${length} is not a positive multiple of 4 KiB`,
      {
        address: page,
      },
    );
  checkPage('map', page);
  if (page + length > 2 ** 32)
    throw new VmError('bad-address', `map range ${hex(page)}+${hex(length)}: runs past 4 GiB`, { address: page });
  if (!Number.isInteger(frame) || frame < 0 || frame + length > 2 ** 32)
    throw new VmError('bad-address', `map range ${hex(page)}: frames ${String(frame)}+${hex(length)} run past 4 GiB`, {
      address: page,
      frame,
    });
}

/** targetName names a mapping operation's page in its error (built only when one is thrown). */
function targetName(page: LinAddr, size: number): string {
  return `${size === PAGE_SIZE ? '' : '4 MiB '}page ${hex(page)}`;
}
