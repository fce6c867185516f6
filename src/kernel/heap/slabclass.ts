// The slab layer's size classes: which class a request goes to, and how many objects of a class one slab page
// holds (its objects fill the page below the slab header, each followed by a red zone when the option is on).

import { PAGE, UNIT } from './layout.js';

/** The size classes, in bytes; without red zones objects of a class are aligned to its size. */
export const SLAB_CLASSES: readonly number[] = [16, 32, 64, 128, 256, 512];
/** Empty slabs kept per class rather than given back. */
export const SLAB_KEEP_EMPTY = 1;
/** The slab header: the last 64 bytes of the page. */
export const SLAB_HDR = PAGE - 64;
/** Bytes of the red zone after each object when the option is on (keeps objects 16-byte aligned). */
export const RED_ZONE = UNIT;

/** stride is the distance between objects of class `cls`: its size, plus the red zone if any. */
export function stride(cls: number, redZone = false): number {
  return SLAB_CLASSES[cls] + (redZone ? RED_ZONE : 0);
}

/** capacity is how many objects of class `cls` one slab holds. */
export function capacity(cls: number, redZone = false): number {
  return Math.floor(SLAB_HDR / stride(cls, redZone));
}

/** classOf gives the smallest class holding `size` bytes, or -1 when it is too big for a slab. */
export function classOf(size: number): number {
  return SLAB_CLASSES.findIndex((c) => c >= size);
}

/** bitmapWords is how many dwords of the header's bitmap class `cls` uses. */
export function bitmapWords(cls: number, redZone = false): number {
  return Math.ceil(capacity(cls, redZone) / 32);
}
