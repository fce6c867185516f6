// Branded address types: a physical address and a linear address are both
// numbers at run time, but the type checker keeps them apart at API boundaries.

import { PagelabError } from '../errors.js';

declare const physBrand: unique symbol;
declare const linBrand: unique symbol;

/** A physical address (0 .. 2^36-1 with PSE-36; RAM itself ends at 4 GiB). */
export type PhysAddr = number & { readonly [physBrand]: true };
/** A 32-bit linear (virtual) address, 0 .. 0xFFFFFFFF. */
export type LinAddr = number & { readonly [linBrand]: true };

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const LARGE_PAGE_SIZE = 0x400000;
export const MAX_PHYS_4G = 0x1_0000_0000;

/** phys checks that n is a whole non-negative number below 2^36 and brands it. */
export function phys(n: number): PhysAddr {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 36) {
    throw new PagelabError(`not a physical address: ${n}`);
  }
  return n as PhysAddr;
}

/** physOffset is the physical address `off` bytes past `p` (inside RAM structures whose base is checked already). */
export function physOffset(p: PhysAddr, off: number): PhysAddr {
  return (p + off) as PhysAddr;
}

/** lin takes any 32-bit pattern (signed or unsigned) and brands it as unsigned. */
export function lin(n: number): LinAddr {
  if (!Number.isInteger(n) || n < -0x8000_0000 || n > 0xffff_ffff) {
    throw new PagelabError(`not a 32-bit linear address: ${n}`);
  }
  return (n >>> 0) as LinAddr;
}

/** hex formats a number as 0x followed by `digits` upper-case hex digits. */
export function hex(n: number, digits = 8): string {
  return '0x' + n.toString(16).toUpperCase().padStart(digits, '0');
}

/** pageAlignDown rounds an address down to its 4 KiB page. */
export function pageAlignDown(n: number): number {
  return Math.floor(n / PAGE_SIZE) * PAGE_SIZE; // not n - n % PAGE_SIZE: V8's % on doubles >= 2^31 calls fmod
}

/** pageAlignUp rounds an address up to the next 4 KiB boundary. */
export function pageAlignUp(n: number): number {
  return pageAlignDown(n + PAGE_SIZE - 1);
}
