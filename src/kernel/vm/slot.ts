// The temporary-mapping slot (the seeds' answer to "what if all page tables
// are full?"): PTE 1023 of the kernel's first page table maps any physical
// frame at 0xC03FF000, so the kernel can initialise a page table before
// linking it in, or touch any frame. Nested use takes the next slot down
// (0xC03FE000, ...), a small stack like Linux's kmap_atomic; deeper nesting
// than TEMP_SLOT_DEPTH is a kernel error.
//
// unmap() is lazy, as i386 Linux's kunmap_atomic without DEBUG_HIGHMEM: the
// PTE stays, so mapping the same frame again costs nothing. map() of another
// frame rewrites the PTE and issues INVLPG when the TLB may hold an older
// translation. quiesce() clears every slot's PTE (the kernel calls it when it
// is done, so no stale mapping is left for a memory dump); forget() also
// drops what the TLB may hold. Entries are written with A and D preset, so a
// stale TLB entry and the PTE never disagree on anything but P.

import { PAGE_SIZE, hex, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { FRAME_MASK, PTE_A, PTE_D, PTE_P, PTE_RW } from '../../hw/paging.js';
import { VmError } from './error.js';
import type { PhysAccess } from '../physaccess.js';
import { TEMP_SLOT, TEMP_SLOT_DEPTH } from './layout.js';
import { fillLinearPage } from './window.js';

const SLOT_FLAGS = PTE_P | PTE_RW | PTE_A | PTE_D;

export class TempSlot implements PhysAccess {
  private depth = 0;
  /** Per slot: the frame its PTE maps (-1: PTE clear). A JS copy of RAM; audit() checks it. */
  private readonly mapped = new Float64Array(TEMP_SLOT_DEPTH).fill(-1);
  /** Per slot: the frame its TLB entry may still translate to (-1: none). */
  private readonly cached = new Float64Array(TEMP_SLOT_DEPTH).fill(-1);
  maps = 0;
  invlpgs = 0;

  /**
   * The slot's PTEs are written at `tableLinear` (where the kernel reaches its
   * first page table). Whatever the boot mapping left there is cleared and flushed.
   */
  constructor(
    private readonly machine: Machine,
    private readonly tableLinear: number,
  ) {
    for (let d = 0; d < TEMP_SLOT_DEPTH; d++) {
      machine.write32(this.pteLinear(d), 0);
      machine.mmu.invlpg(TEMP_SLOT - d * PAGE_SIZE);
    }
  }

  /** map maps a frame into the next free slot and returns its linear address; pair with unmap(). */
  map(frame: PhysAddr): number {
    if (frame % PAGE_SIZE !== 0)
      throw new VmError('misaligned', `temporary mapping of ${hex(frame)}: not a frame address`, { frame });
    if (this.depth === TEMP_SLOT_DEPTH)
      throw new VmError(
        'slot-exhausted',
        `temporary mapping of ${hex(frame)}: all ${TEMP_SLOT_DEPTH} slots in use (nested too deep)`,
        { frame },
      );
    const d = this.depth++;
    const linear = TEMP_SLOT - d * PAGE_SIZE;
    this.maps++;
    if (this.mapped[d] === frame) return linear;
    this.machine.write32(this.pteLinear(d), frame | SLOT_FLAGS);
    this.mapped[d] = frame;
    if (this.cached[d] !== frame) {
      if (this.cached[d] !== -1) {
        this.machine.mmu.invlpg(linear);
        this.invlpgs++;
      }
      this.cached[d] = frame;
    }
    return linear;
  }

  /** unmap releases the most recent slot (its PTE stays until another frame or quiesce()). */
  unmap(): void {
    if (this.depth === 0) throw new VmError('slot-unbalanced', 'temporary mapping: unmap without a matching map');
    this.depth--;
  }

  /** How many slots are in use. */
  get inUse(): number {
    return this.depth;
  }

  /** quiesce clears the PTE of every slot not in use (the TLB may keep it: re-mapping that frame needs no INVLPG). */
  quiesce(): void {
    for (let d = this.depth; d < TEMP_SLOT_DEPTH; d++) {
      if (this.mapped[d] === -1) continue;
      this.machine.write32(this.pteLinear(d), 0);
      this.mapped[d] = -1;
    }
  }

  /** forget clears the slots not in use and drops any TLB entry they may still hold. */
  forget(): void {
    this.quiesce();
    for (let d = this.depth; d < TEMP_SLOT_DEPTH; d++) {
      if (this.cached[d] !== -1) this.machine.mmu.invlpg(TEMP_SLOT - d * PAGE_SIZE);
      this.cached[d] = -1;
    }
  }

  /** audit compares the JS copy of each slot's PTE with RAM; [] when they agree. */
  audit(): string[] {
    const out: string[] = [];
    for (let d = 0; d < TEMP_SLOT_DEPTH; d++) {
      const pte = this.machine.read32(this.pteLinear(d));
      const frame = pte & PTE_P ? (pte & FRAME_MASK) >>> 0 : -1;
      if (frame !== this.mapped[d])
        out.push(
          `slot ${d}: PTE maps ${frame === -1 ? 'nothing' : hex(frame)}, JS copy says ${this.mapped[d] === -1 ? 'nothing' : hex(this.mapped[d])}`,
        );
    }
    return out;
  }

  read32(p: PhysAddr): number {
    const page = this.map((p - (p % PAGE_SIZE)) as PhysAddr);
    try {
      return this.machine.read32(page + (p % PAGE_SIZE));
    } finally {
      this.unmap();
    }
  }

  write32(p: PhysAddr, v: number): void {
    const page = this.map((p - (p % PAGE_SIZE)) as PhysAddr);
    try {
      this.machine.write32(page + (p % PAGE_SIZE), v);
    } finally {
      this.unmap();
    }
  }

  fillFrame(frame: PhysAddr, byte: number): void {
    const page = this.map(frame);
    try {
      fillLinearPage(this.machine, page, byte);
    } finally {
      this.unmap();
    }
  }

  private pteLinear(d: number): number {
    return this.tableLinear + (1023 - d) * 4;
  }
}
