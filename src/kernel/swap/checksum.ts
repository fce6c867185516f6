// Per-slot page checksums in kernel RAM: a u32 array on the kernel heap, FNV-1a (32-bit) of the page as it was
// written to the swap file, checked when the slot is read back, so bytes changed on the disk are caught.
import type { Machine } from '../../hw/machine.js';
import type { LinAddr } from '../../hw/addr.js';
import type { KernelHeap } from '../heap/api.js';
import { FNV_OFFSET, fnvStep } from '../../hw/fnv.js';
import { SwapIoError } from './file.js';

/** fnv1a is the 32-bit FNV-1a hash of the bytes, one fnvStep per byte. */
export function fnv1a(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) h = fnvStep(h, bytes[i]);
  return h;
}

/** The checksum array: record on swap-out, verify on swap-in. */
export class SwapChecksums {
  private constructor(
    private readonly m: Machine,
    readonly base: number,
    readonly slots: number,
  ) {}

  /** create allocates one u32 per slot on the kernel heap. */
  static create(m: Machine, heap: KernelHeap, slots: number): SwapChecksums {
    const p: LinAddr | null = heap.kmalloc(4 * slots);
    if (p === null) throw new SwapIoError(`no kernel heap for ${slots} swap checksums`);
    return new SwapChecksums(m, p, slots);
  }

  /** record stores the checksum of the page written to slot s. */
  record(s: number, page: Uint8Array): void {
    this.m.write32(this.base + 4 * s, fnv1a(page));
  }

  /** verify throws naming the slot when the page read back differs from what was written. */
  verify(s: number, page: Uint8Array): void {
    const want = this.m.read32(this.base + 4 * s);
    const got = fnv1a(page);
    if (got !== want) {
      const hx = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;
      throw new SwapIoError(`swap slot ${s} changed on disk (checksum ${hx(got)}, written ${hx(want)})`);
    }
  }
}
