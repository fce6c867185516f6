// Block headers of the K&R heap, four dwords in simulated RAM just below each
// block's payload (K&R's `union header`, grown to 16 bytes):
//
//   +0  next      free block: linear address of the next free block (address order, circular)
//                 allocated block: 0
//   +4  size      the block's size in 16-byte units, header included
//   +8  check     a hash of the address and the other three words, keyed by the
//                 block's state (free, allocated); a stale header is overwritten
//                 with the dead key when its block is merged into another
//   +12 aux       free block: HOLE_FLAG if its interior pages are unmapped
//                 allocated block: the size kmalloc was asked for, in bytes
//
// A header whose check fails was not written by the heap for that address in
// that state: a double free, a foreign pointer or an overwritten header.

import type { Machine } from '../../hw/machine.js';

export const MAGIC_FREE = 0x46524545; // 'FREE'
export const MAGIC_USED = 0x55534544; // 'USED'
export const MAGIC_DEAD = 0x44454144; // 'DEAD'
/** Key of a control block's check word (the K&R heap's freep, break and frames; the slab layer's variables). */
export const MAGIC_CTRL = 0x4354524c; // 'CTRL'
/** aux bit of a free block: every whole page strictly inside it is unmapped (a hole). */
export const HOLE_FLAG = 1;

export interface FreeHeader {
  readonly next: number;
  readonly size: number;
  readonly holed: boolean;
}

export interface UsedHeader {
  readonly size: number;
  readonly requested: number;
}

/** checkWord mixes a header's address and words into its check value (murmur3-style finaliser). */
export function checkWord(magic: number, addr: number, w0: number, size: number, aux: number): number {
  let h = Math.imul(addr ^ magic, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ size, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ aux, 0x27d4eb2f);
  return (h ^ (h >>> 15) ^ magic) >>> 0;
}

/** writeFree writes a free block's header at `addr`. */
export function writeFree(m: Machine, addr: number, next: number, size: number, holed: boolean): void {
  const aux = holed ? HOLE_FLAG : 0;
  m.write32(addr, next);
  m.write32(addr + 4, size);
  m.write32(addr + 8, checkWord(MAGIC_FREE, addr, next, size, aux));
  m.write32(addr + 12, aux);
}

/** writeUsed writes an allocated block's header at `addr`. */
export function writeUsed(m: Machine, addr: number, size: number, requested: number): void {
  m.write32(addr, 0);
  m.write32(addr + 4, size);
  m.write32(addr + 8, checkWord(MAGIC_USED, addr, 0, size, requested));
  m.write32(addr + 12, requested);
}

/** poison marks the header at `addr` dead: its block was merged into another. */
export function poison(m: Machine, addr: number): void {
  m.write32(addr + 8, checkWord(MAGIC_DEAD, addr, 0, 0, 0));
}

/** readFree returns the free header at `addr`, or null if none was written there. */
export function readFree(m: Machine, addr: number): FreeHeader | null {
  const next = m.read32(addr);
  const size = m.read32(addr + 4);
  const aux = m.read32(addr + 12);
  if (m.read32(addr + 8) !== checkWord(MAGIC_FREE, addr, next, size, aux)) return null;
  return { next, size, holed: (aux & HOLE_FLAG) !== 0 };
}

/** readUsed returns the allocated header at `addr`, or null if none was written there. */
export function readUsed(m: Machine, addr: number): UsedHeader | null {
  const w0 = m.read32(addr);
  const size = m.read32(addr + 4);
  const requested = m.read32(addr + 12);
  if (size === 0 || m.read32(addr + 8) !== checkWord(MAGIC_USED, addr, w0, size, requested)) return null;
  return { size, requested };
}

/** isDead says whether the header at `addr` was poisoned by a merge. */
export function isDead(m: Machine, addr: number): boolean {
  return m.read32(addr + 8) === checkWord(MAGIC_DEAD, addr, 0, 0, 0);
}
