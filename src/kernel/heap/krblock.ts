// The geometry of K&R blocks: the whole pages inside a block (those a free block may give back), and where an
// allocation of n units lands in a free block.

import { UNIT, pageDown, pageUp } from './layout.js';

/**
 * The header unit as a module constant, for code run at every step of a walk: an imported binding may be read
 * through an accessor, which the walk would pay at each block (krlist.ts keeps its own copy for that reason).
 */
const U = UNIT;

/** interior gives the whole pages strictly inside block [a, end): past its header's page, before its last one. */
export function interior(a: number, end: number): [number, number] {
  const i0 = pageUp(a + UNIT);
  return [i0, Math.max(i0, pageDown(end))];
}

/** fit places n units in free block [p, p + size units): as high as the aligned payload allows; -1 if no fit. */
export function fit(p: number, size: number, n: number, align: number): number {
  const payload = Math.floor((p + (size - n + 1) * U) / align) * align;
  return payload - U >= p ? payload - U : -1;
}

/** hasInterior says whether block [a, end) has a whole page strictly inside it. */
export function hasInterior(a: number, end: number): boolean {
  const [i0, i1] = interior(a, end);
  return i1 > i0;
}
