// The factory: builds one of three strategies (bitmap, free list, buddy)
// over the usable frames of the boot hand-off, with its metadata in the
// machine's RAM. The interface they implement is api.ts, imported from there:
// imports run one way, factory -> strategies -> api.

import type { KernelCore } from '../vm/core.js';
import type { FrameAllocator, FrameAllocatorOptions, FrameStrategy } from './api.js';
import { BitmapAllocator } from './bitmap.js';
import { FreeListAllocator } from './freelist.js';
import { BuddyAllocator } from './buddy.js';
import { prepare } from './setup.js';

/**
 * createFrameAllocator builds the chosen allocator over the frames the boot hand-off leaves free.
 * Call it after every other early allocation: frames the early allocator gives out later are not withheld.
 */
export function createFrameAllocator(
  core: KernelCore,
  strategy: FrameStrategy = 'bitmap',
  options: FrameAllocatorOptions = {},
): FrameAllocator {
  const opts: Required<FrameAllocatorOptions> = {
    lowMemory: options.lowMemory ?? 'use',
    poison: options.poison ?? false,
  };
  switch (strategy) {
    case 'bitmap':
      return new BitmapAllocator(
        prepare(core, opts, (n) => BitmapAllocator.mapBytes(n)),
        opts,
      );
    case 'list':
      return new FreeListAllocator(
        prepare(core, opts, (n) => FreeListAllocator.mapBytes(n)),
        opts,
      );
    case 'buddy':
      return new BuddyAllocator(
        prepare(core, opts, (n) => BuddyAllocator.mapBytes(n)),
        opts,
      );
  }
}
