// One slab page: its objects below, its header in the last 64 bytes (class word, count, partial-list links,
// the bitmap of objects in use, sealed by a check word), and the red-zone pattern after each object when the
// option is on. Reading a header validates it; writing one reseals it.

import { hex } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { checkWord } from './header.js';
import { PAGE } from './layout.js';
import { RED_ZONE, SLAB_CLASSES, SLAB_HDR, bitmapWords, capacity, stride } from './slabclass.js';

/** Offsets in the slab header (at SLAB_HDR in the page). */
export const SH = { CHECK: 0, CLASS: 4, INUSE: 8, NEXT: 12, PREV: 16, BITMAP: 32 } as const;
/** Bit of a slab header's class word: the slab's objects have red zones. */
export const SH_RED_ZONE = 0x100;
const SLAB_MAGIC = 0x534c4142; // 'SLAB'
const RED_MAGIC = 0x5245445a; // 'REDZ'

/** A slab header as read (and validated) from memory. */
export interface Slab {
  readonly page: number;
  readonly cls: number;
  /** Whether its objects have red zones (bit 8 of the header's class word). */
  readonly rz: boolean;
  inuse: number;
  next: number;
  prev: number;
  readonly bits: number[];
}

/** slabSeal is the check word of a slab header: its page, class, count, links and bitmap. */
export function slabSeal(s: Slab): number {
  let h = checkWord(SLAB_MAGIC, s.page, s.cls | (s.rz ? SH_RED_ZONE : 0), s.inuse, s.next);
  h = checkWord(SLAB_MAGIC, h, s.prev, s.bits.length, 0);
  for (let i = 0; i < s.bits.length; i += 2) h = checkWord(SLAB_MAGIC, h, s.bits[i], s.bits[i + 1] ?? 0, i);
  return h;
}

/** redWord is the red-zone pattern's dword at linear `addr`. */
export function redWord(addr: number): number {
  return checkWord(RED_MAGIC, addr, 0, 0, 0);
}

/** readSlabHeader reads the header of slab page `page` (in use and mapped), returning it or what is wrong with it. */
export function readSlabHeader(m: Machine, page: number): Slab | string {
  const h = page + SLAB_HDR;
  const word = m.read32(h + SH.CLASS);
  const cls = word & ~SH_RED_ZONE,
    rz = (word & SH_RED_ZONE) !== 0;
  if (cls >= SLAB_CLASSES.length) return `the header of slab ${hex(page)} is overwritten (class word ${hex(word)})`;
  const bits: number[] = [];
  for (let w = 0; w < bitmapWords(cls, rz); w++) bits.push(m.read32(h + SH.BITMAP + w * 4));
  const s: Slab = {
    page,
    cls,
    rz,
    inuse: m.read32(h + SH.INUSE),
    next: m.read32(h + SH.NEXT),
    prev: m.read32(h + SH.PREV),
    bits,
  };
  if (m.read32(h + SH.CHECK) !== slabSeal(s))
    return `the header of slab ${hex(page)} is overwritten (a buffer overrun from its last object?)`;
  const cap = capacity(cls, rz);
  let count = 0;
  for (const b of bits) count += popcount(b);
  const tail = bits.length === 0 ? 0 : bits[bits.length - 1] >>> (cap % 32 === 0 ? 32 : cap % 32);
  if (count !== s.inuse || (cap % 32 !== 0 && tail !== 0) || s.next % PAGE !== 0 || s.prev % PAGE !== 0) {
    return `the header of slab ${hex(page)} is inconsistent (count ${s.inuse}, bitmap ${count}, links ${hex(s.next)}/${hex(s.prev)}): forged?`;
  }
  return s;
}

/** storeSlab writes a slab's count, bitmap word `w` (if >= 0), links (if asked) and check word. */
export function storeSlab(m: Machine, s: Slab, w: number, links: boolean): void {
  const h = s.page + SLAB_HDR;
  m.write32(h + SH.INUSE, s.inuse);
  if (w >= 0) m.write32(h + SH.BITMAP + w * 4, s.bits[w]);
  if (links) {
    m.write32(h + SH.NEXT, s.next);
    m.write32(h + SH.PREV, s.prev);
  }
  m.write32(h + SH.CHECK, slabSeal(s));
}

/** redZoneDamage returns the first overwritten byte of the red zone after object `obj` of class `cls`, or -1. */
export function redZoneDamage(m: Machine, obj: number, cls: number): number {
  const z = obj + SLAB_CLASSES[cls];
  for (let off = 0; off < RED_ZONE; off += 4) {
    const v = m.read32(z + off) ^ redWord(z + off);
    if (v !== 0) return z + off + ((31 - Math.clz32(v & -v)) >>> 3);
  }
  return -1;
}

/** paintRedZones writes the red-zone pattern after every object slot of a new slab. */
export function paintRedZones(m: Machine, page: number, cls: number): void {
  for (let i = 0; i < capacity(cls, true); i++) {
    const z = page + i * stride(cls, true) + SLAB_CLASSES[cls];
    for (let off = 0; off < RED_ZONE; off += 4) m.write32(z + off, redWord(z + off));
  }
}

/** popcount counts the set bits of a dword. */
function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export /** firstClear gives the index of the first clear bit of a bitmap (the caller knows there is one). */
function firstClear(bits: readonly number[]): number {
  for (let w = 0; ; w++) {
    const b = bits[w];
    if (b !== 0xffffffff) return w * 32 + 31 - Math.clz32(~b & (b + 1));
  }
}
