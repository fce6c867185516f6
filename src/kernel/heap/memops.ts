// memset and memcpy for heap blocks, through the MMU at kernel linear
// addresses: dwords for the bulk, bytes for the ragged end.

import type { Machine } from '../../hw/machine.js';

/** zeroBytes clears n bytes at linear `dst`. */
export function zeroBytes(m: Machine, dst: number, n: number): void {
  const words = n - (n % 4);
  for (let i = 0; i < words; i += 4) m.write32(dst + i, 0);
  for (let i = words; i < n; i++) m.write8(dst + i, 0);
}

/** copyBytes copies n bytes from linear `src` to a non-overlapping linear `dst`. */
export function copyBytes(m: Machine, dst: number, src: number, n: number): void {
  const words = n - (n % 4);
  for (let i = 0; i < words; i += 4) m.write32(dst + i, m.read32(src + i));
  for (let i = words; i < n; i++) m.write8(dst + i, m.read8(src + i));
}
