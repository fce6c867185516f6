// The frame allocator interface the kernel codes against, and the factory
// that builds one of three strategies (bitmap, free list, buddy) over the
// usable frames of the boot hand-off, with its metadata in the machine's RAM.

import type { PhysAddr } from '../../hw/addr.js';
import type { KernelCore } from '../vm/core.js';
import type { FrameRegions, LowMemoryPolicy } from './regions.js';
import { BitmapAllocator } from './bitmap.js';
import { FreeListAllocator } from './freelist.js';
import { BuddyAllocator } from './buddy.js';
import { prepare } from './setup.js';

export type FrameStrategy = 'bitmap' | 'list' | 'buddy';
export const FRAME_STRATEGIES: readonly FrameStrategy[] = ['bitmap', 'list', 'buddy'];

export interface FrameAllocatorOptions {
  /** The low 1 MiB: 'use' (default) or 'reserve'. */
  readonly lowMemory?: LowMemoryPolicy;
  /** Fill every freed frame with POISON_BYTE (link words excepted). Default off; on in tests. */
  readonly poison?: boolean;
}

export interface AllocOptions {
  /** Zero the frame(s) before returning them. */
  readonly zero?: boolean;
}

export interface FrameStats {
  /** Whole frames in type-1 memory-map regions. */
  readonly total: number;
  /** Frames the allocator manages (total minus reserved). */
  readonly usable: number;
  readonly free: number;
  readonly used: number;
  /** Withheld frames per reason. */
  readonly reserved: Readonly<Record<string, number>>;
}

/** Where the allocator's metadata lives: frames from the early allocator, inside the kernel window. */
export interface FrameMetadata {
  readonly base: PhysAddr;
  readonly frames: number;
  /** Bytes actually used (header, range table, map). */
  readonly bytes: number;
}

export interface FrameAllocator {
  readonly strategy: FrameStrategy;
  readonly regions: FrameRegions;
  readonly metadata: FrameMetadata;
  readonly options: Required<FrameAllocatorOptions>;
  /** One frame, or null when no frame is free (nothing changes then). */
  alloc(opts?: AllocOptions): PhysAddr | null;
  /** Returns a frame; throws FrameError naming the address (state unchanged) if it is not an allocated frame. */
  free(frame: PhysAddr): void;
  /** 2^order contiguous frames aligned to their size (order 0..10), or null. The list strategy supports order 0 only. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null;
  /** Returns a block from allocContiguous with the same order. */
  freeContiguous(frame: PhysAddr, order: number): void;
  /** Whether the frame at this address is currently free (false for reserved or non-RAM). */
  isFree(frame: PhysAddr): boolean;
  stats(): FrameStats;
  /** Compares the JS accelerators with the state in RAM and checks the strategy's invariants; [] when all hold. */
  audit(): string[];
}

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
      return new BitmapAllocator(prepare(core, opts, BitmapAllocator.mapBytes), opts);
    case 'list':
      return new FreeListAllocator(prepare(core, opts, FreeListAllocator.mapBytes), opts);
    case 'buddy':
      return new BuddyAllocator(prepare(core, opts, BuddyAllocator.mapBytes), opts);
  }
}
