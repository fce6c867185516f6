// A control block: a heap's variables as dwords at a fixed kernel address
// (C's statics), always read and written through the MMU.

import type { Machine } from '../../hw/machine.js';

export class ControlBlock {
  constructor(
    private readonly machine: Machine,
    readonly base: number,
  ) {}

  /** get reads the dword at offset `off`. */
  get(off: number): number {
    return this.machine.read32(this.base + off);
  }

  /** set writes the dword at offset `off`. */
  set(off: number, v: number): void {
    this.machine.write32(this.base + off, v);
  }

  /** add adds `d` to the counter at offset `off`. */
  add(off: number, d: number): void {
    this.set(off, this.get(off) + d);
  }
}
