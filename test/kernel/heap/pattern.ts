// Contents written into live heap blocks by the tests, and read back through
// the MMU: every dword a function of the block's seed and its offset.

import type { Machine } from '../../../src/hw/machine.js';

/** word is the pattern's dword at byte offset `off` (a multiple of 4) for `seed`. */
function word(seed: number, off: number): number {
  return (Math.imul(seed ^ off, 0x9e3779b1) ^ (off >>> 2)) >>> 0;
}

/** fillPattern writes `size` bytes of the seed's pattern at linear `ptr`. */
export function fillPattern(m: Machine, ptr: number, size: number, seed: number): void {
  const words = size - (size % 4);
  for (let off = 0; off < words; off += 4) m.write32(ptr + off, word(seed, off));
  for (let off = words; off < size; off++) m.write8(ptr + off, word(seed, off - (off % 4)) >>> (8 * (off % 4)));
}

/** findDamage returns the first offset below `size` where the pattern differs, or -1. */
export function findDamage(m: Machine, ptr: number, size: number, seed: number): number {
  const words = size - (size % 4);
  for (let off = 0; off < words; off += 4) if (m.read32(ptr + off) !== word(seed, off)) return off;
  for (let off = words; off < size; off++) {
    if (m.read8(ptr + off) !== ((word(seed, off - (off % 4)) >>> (8 * (off % 4))) & 0xff)) return off;
  }
  return -1;
}
