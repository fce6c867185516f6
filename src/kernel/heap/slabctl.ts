// The slab layer's control page: a sealed descriptor per size class (its partial list, empty and total slabs),
// the layer's counters and flags, and the bitmap of slab pages in use, as dwords at SLAB_BASE.

import { hex } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { MAGIC_CTRL, checkWord } from './header.js';
import { PAGE } from './layout.js';
import { SLAB_CLASSES } from './slabclass.js';

/** Control page: a 32-byte descriptor per class, counters, then the page bitmap. */
export const SC = {
  PARTIAL: 0,
  EMPTY: 4,
  SLABS: 8,
  OBJECTS: 12,
  DCHECK: 16,
  MAGIC: 0x100,
  FRAMES: 0x104,
  PEAK_FRAMES: 0x108,
  MALLOCS: 0x10c,
  FREES: 0x110,
  MAPPED: 0x114,
  UNMAPPED: 0x118,
  HINT: 0x11c,
  PEAK_BYTES: 0x120,
  BYTES: 0x124,
  FLAGS: 0x128,
  CHECK: 0x12c,
  PAGEMAP: 0x800,
} as const;
/** FLAGS bit: every object is followed by a red zone. */
export const FLAG_RED_ZONE = 1;
export const CONTROL_MAGIC = 0x4b534c42; // 'KSLB'
const DESC_MAGIC = 0x44455343; // 'DESC'

/** A class descriptor as read (and validated) from the control page. */
export interface Desc {
  partial: number;
  empty: number;
  slabs: number;
}

/** controlSeal is the control page's check word over the search hint and the flags. */
export function controlSeal(base: number, hint: number, flags: number): number {
  return checkWord(MAGIC_CTRL, base, hint, flags, CONTROL_MAGIC);
}

/** readClassDesc reads class `cls`'s descriptor at `a`, or says what is wrong with it. */
export function readClassDesc(m: Machine, a: number, cls: number): Desc | string {
  const partial = m.read32(a + SC.PARTIAL),
    empty = m.read32(a + SC.EMPTY),
    slabs = m.read32(a + SC.SLABS);
  if (m.read32(a + SC.DCHECK) === checkWord(DESC_MAGIC, a, partial, empty, slabs) && partial % PAGE === 0)
    return { partial, empty, slabs };
  return `the descriptor of the ${SLAB_CLASSES[cls]}-byte class at ${hex(a)} is overwritten`;
}

/** writeClassDesc writes a class descriptor at `a` and its check word. */
export function writeClassDesc(m: Machine, a: number, d: Desc): void {
  m.write32(a + SC.PARTIAL, d.partial);
  m.write32(a + SC.EMPTY, d.empty);
  m.write32(a + SC.SLABS, d.slabs);
  m.write32(a + SC.DCHECK, checkWord(DESC_MAGIC, a, d.partial, d.empty, d.slabs));
}
