// The K&R heap's control block, the C statics of its malloc: K&R's empty `base` block, then freep, the break
// and the statistics, as dwords at the heap's base, read and written through the MMU. freep, the break and the
// frame count are sealed by a check word, verified as each call enters. This object holds only constant
// addresses and, during a call, the break and whether the arena has holes (read when the call enters).

import { hex } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import type { HeapBackend } from './backend.js';
import { ControlBlock } from './cblock.js';
import { HeapError } from './errors.js';
import { MAGIC_CTRL, checkWord } from './header.js';
import { PAGE, UNIT } from './layout.js';

/** Control block at `base`: K&R's empty `base` block, then the heap's variables. */
export const CB = {
  FREEP: 0x10,
  BRK: 0x14,
  FRAMES: 0x18,
  PEAK_FRAMES: 0x1c,
  BLOCKS: 0x20,
  BYTES: 0x24,
  UNITS: 0x28,
  PEAK_BYTES: 0x2c,
  MALLOCS: 0x30,
  FREES: 0x34,
  MAPPED: 0x38,
  UNMAPPED: 0x3c,
  MAGIC: 0x40,
  GROWS: 0x44,
  TRIMS: 0x48,
  /** Check word over freep, the break and the frames held (the variables a damaged value of would mislead the heap). */
  CHECK: 0x4c,
} as const;
export const CONTROL_SIZE = 0x50;
export const HEAP_MAGIC = 0x4b48454b; // 'KHEK'

/** What the consistency check reads of a K&R heap: its addresses, its control block and the page tables. */
export interface KrView {
  readonly machine: Machine;
  readonly backend: HeapBackend;
  readonly base: number;
  readonly limit: number;
  readonly arena: number;
  readonly brk: number;
  readonly freep: number;
  get(off: number): number;
  controlProblem(): string | null;
}

/** The heap's control block and the variables in it; the layers above add the free list, the break and the calls. */
export class KrControl implements KrView {
  readonly machine: Machine;
  protected readonly cb: ControlBlock;
  /** The first block's address, just past the control block. */
  readonly arena: number;
  /** Per call (set by enter): the break, and whether some page below it is unmapped (a hole). */
  protected top = 0;
  protected holes = true;

  /** The constructor only records addresses: KrHeap.create() or attach() give a usable heap. */
  protected constructor(
    readonly backend: HeapBackend,
    readonly base: number,
    readonly limit: number,
  ) {
    this.machine = backend.machine;
    this.cb = new ControlBlock(backend.machine, base);
    this.arena = base + CONTROL_SIZE;
  }

  /** enter validates the control block's sealed variables and notes the break and whether there are holes. */
  protected enter(): void {
    const bad = this.controlProblem();
    if (bad !== null) throw new HeapError('corrupt-header', this.base, bad);
    this.top = this.get(CB.BRK);
    this.holes = this.get(CB.FRAMES) !== (this.top - this.base) / PAGE;
  }

  /** controlProblem says what is wrong with the control block's sealed variables (null: nothing). */
  controlProblem(): string | null {
    const freep = this.get(CB.FREEP),
      brk = this.get(CB.BRK),
      frames = this.get(CB.FRAMES);
    const pages = (brk - this.base) / PAGE;
    if (
      this.get(CB.CHECK) === seal(this.base, freep, brk, frames) &&
      brk % PAGE === 0 &&
      brk > this.base &&
      brk <= this.limit &&
      freep % UNIT === 0 &&
      freep >= this.base &&
      freep < brk &&
      frames >= 1 &&
      frames <= pages
    )
      return null;
    return `the heap's control block at ${hex(this.base)} is overwritten (freep ${hex(freep)}, break ${hex(brk)}, ${frames} frames fail its check)`;
  }

  /** reseal rewrites the control block's check word after freep, the break or the frame count changed. */
  protected reseal(): void {
    this.cb.set(CB.CHECK, seal(this.base, this.get(CB.FREEP), this.get(CB.BRK), this.get(CB.FRAMES)));
  }

  /** The break: the end of the heap's mapped arena. */
  get brk(): number {
    return this.get(CB.BRK);
  }

  /** The break lives in the control block (sealed). */
  protected set brk(v: number) {
    this.cb.set(CB.BRK, v);
    this.top = v;
    this.reseal();
  }

  /** K&R's roving pointer: where the next first-fit search starts. */
  get freep(): number {
    return this.get(CB.FREEP);
  }

  /** freep lives in the control block (sealed). */
  protected set freep(v: number) {
    this.cb.set(CB.FREEP, v);
    this.reseal();
  }

  /** get reads a variable of the control block (for the checkers too). */
  get(off: number): number {
    return this.cb.get(off);
  }

  /** account adds to the live-block statistics. */
  protected account(dUnits: number, dBytes: number, dBlocks: number): void {
    this.cb.add(CB.UNITS, dUnits);
    this.cb.add(CB.BLOCKS, dBlocks);
    const bytes = this.get(CB.BYTES) + dBytes;
    this.cb.set(CB.BYTES, bytes);
    if (bytes > this.get(CB.PEAK_BYTES)) this.cb.set(CB.PEAK_BYTES, bytes);
  }
}

/** seal is the control block's check word over the variables that steer the heap. */
function seal(base: number, freep: number, brk: number, frames: number): number {
  return checkWord(MAGIC_CTRL, base, freep, brk, frames);
}
