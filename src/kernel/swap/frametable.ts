// The frame table of the user-frame budget, a C struct on the kernel heap (little-endian u32s):
//   0x00 magic 'FRMT' | 0x04 n (the budget) | 0x08 used | 0x0C hand (the ring's next candidate)
//   0x10 entry[n] of 12 bytes: frame (0 = empty), pid, page — which process's page each budgeted frame holds.
// The ring and its hand are what fifo and clock sweep (src/kernel/swap/pager.ts).
import type { Machine } from '../../hw/machine.js';
import type { LinAddr } from '../../hw/addr.js';
import type { KernelHeap } from '../heap/api.js';
import { SwapSlotError } from './slots.js';

const MAGIC = 0x544d5246; // 'FRMT'
const H_N = 0x04;
const H_USED = 0x08;
const H_HAND = 0x0c;
const H_ENTRIES = 0x10;
const ENTRY = 12;

/** One entry of the ring: the frame (0: empty), and the process and page it holds. */
export interface FrameEntry {
  frame: number;
  pid: number;
  page: number;
}

/** The budget's frames in kernel RAM: a ring of entries with a hand. */
export class FrameRing {
  private constructor(
    private readonly m: Machine,
    readonly base: number,
  ) {}

  /** create lays out an empty ring of n entries on the kernel heap. */
  static create(m: Machine, heap: KernelHeap, n: number): FrameRing {
    const p: LinAddr | null = heap.kcalloc(1, H_ENTRIES + ENTRY * n);
    if (p === null) throw new SwapSlotError(`no kernel heap for a frame table of ${n} frames`);
    const b = p as number;
    m.write32(b, MAGIC);
    m.write32(b + H_N, n);
    return new FrameRing(m, b);
  }

  /** size is the budget n. */
  size(): number {
    return this.m.read32(this.base + H_N);
  }

  /** used is the number of entries holding a frame. */
  used(): number {
    return this.m.read32(this.base + H_USED);
  }

  /** hand is the index the next sweep starts from. */
  hand(): number {
    return this.m.read32(this.base + H_HAND);
  }

  /** setHand moves the hand to index i (mod n). */
  setHand(i: number): void {
    this.m.write32(this.base + H_HAND, i % this.size());
  }

  /** entry reads entry i. */
  entry(i: number): FrameEntry {
    const at = this.base + H_ENTRIES + ENTRY * i;
    return { frame: this.m.read32(at), pid: this.m.read32(at + 4), page: this.m.read32(at + 8) };
  }

  /** set writes entry i (frame 0 empties it), keeping `used` right. */
  set(i: number, frame: number, pid: number, page: number): void {
    const at = this.base + H_ENTRIES + ENTRY * i;
    const was = this.m.read32(at) !== 0;
    this.m.write32(at, frame);
    this.m.write32(at + 4, pid);
    this.m.write32(at + 8, page);
    const d = (frame !== 0 ? 1 : 0) - (was ? 1 : 0);
    if (d !== 0) this.m.write32(this.base + H_USED, this.used() + d);
  }

  /** lowestEmpty is the lowest empty index, or -1 when the budget is full. */
  lowestEmpty(): number {
    if (this.used() >= this.size()) return -1;
    for (let i = 0; i < this.size(); i++) if (this.m.read32(this.base + H_ENTRIES + ENTRY * i) === 0) return i;
    throw new SwapSlotError(`frame table corrupted (used ${this.used()} < ${this.size()} but no empty entry)`);
  }

  /** indexOf is the index of the entry holding frame, or -1. */
  indexOf(frame: number): number {
    for (let i = 0; i < this.size(); i++) if (this.m.read32(this.base + H_ENTRIES + ENTRY * i) === frame) return i;
    return -1;
  }
}
