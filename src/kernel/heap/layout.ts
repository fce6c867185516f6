// The kernel heap's place in the kernel half and its tuning constants.
// The heap region 0xD0000000-0xE0000000 (vm/layout.ts) is split in two:
// the K&R heap below, the size-class (slab) layer's pages above.

import { HEAP_BASE, HEAP_LIMIT } from '../vm/layout.js';

/** The K&R heap: control block at KR_BASE, blocks above it, the break at most KR_LIMIT (192 MiB). */
export const KR_BASE = HEAP_BASE;
export const KR_LIMIT = 0xdc000000;
/** The slab layer's pages: control page at SLAB_BASE, slabs above (64 MiB). */
export const SLAB_BASE = KR_LIMIT;
export const SLAB_LIMIT = HEAP_LIMIT;

/** Header unit (K&R's `Header`): 16 bytes, so every block and payload is 16-byte aligned. */
export const UNIT = 16;
export { PAGE_SIZE as PAGE } from '../../hw/addr.js';

/**
 * NALLOC (K&R's minimum sbrk request): the heap grows by at least 4 pages
 * (16 KiB = 1024 units, K&R's own figure) so that many small kmallocs do not
 * each map a page.
 */
export const NALLOC_PAGES = 4;

/**
 * TRIM_PAGES, the give-back threshold: after a free, a free block whose whole
 * interior pages (those holding neither its header nor a neighbour's bytes)
 * number at least TRIM_PAGES (8 pages, 32 KiB = twice NALLOC) has them unmapped
 * and their frames returned. At the top of the heap the break is lowered to
 * just past the block's header page; inside the heap the pages become a hole
 * in the free block (re-mapped when an allocation takes them). Below the
 * threshold pages stay mapped, so a kmalloc/kfree pair of a few pages does not
 * map and unmap every time.
 */
export const TRIM_PAGES = 2 * NALLOC_PAGES;

/**
 * The documented minimum: once every block is freed the K&R heap holds at most
 * this many frames: the control page plus fewer than TRIM_PAGES free pages above it.
 */
export const HEAP_RETAIN_FRAMES = TRIM_PAGES;

/** Page rounding of linear addresses: the machine's own helpers. */
export { pageAlignUp as pageUp, pageAlignDown as pageDown } from '../../hw/addr.js';
